//! Sluice's standard `alert` plugin: rules over event-time windows.
//!
//! It runs last in the default chain (normalize → redact → fingerprint →
//! alert), so events arrive with level, service, fingerprint, template and
//! event time set. It never changes an event (every outcome is `Pass`, which
//! costs nothing at the boundary); it raises alerts while processing events
//! (threshold, spike, new fingerprint) and on the host's ticks (absence).
//!
//! Modules: [`config`] parses and validates rules; [`matcher`] decides which
//! events a rule looks at; [`window`] holds event time and bucketed counts;
//! [`group`] keeps per-group state under a cap; `rules` holds the four kinds;
//! [`title`] and [`duration`] render alert titles.

pub mod config;
pub mod duration;
pub mod group;
pub mod matcher;
mod rules;
pub mod title;
pub mod window;

use sluice_plugin_sdk::{
    ConfigError, Event, InitContext, Output, Plugin, PluginError, Verdict, export_plugin,
};

use crate::config::Config;
use crate::rules::Rule;
use crate::window::{Clock, event_time};

/// The alert step: its rules and the instance's clock.
#[derive(Debug)]
pub struct AlertPlugin {
    clock: Clock,
    rules: Vec<Rule>,
}

impl AlertPlugin {
    /// Judge one event without taking it: what `process` does, minus
    /// dropping the event (lets benchmarks time the rules alone).
    #[inline]
    pub fn observe(&mut self, event: &Event, out: &mut Output) {
        let time = event_time(event.timestamp_ns, event.received_ns);
        self.clock.observe(time, event.received_ns);
        for rule in &mut self.rules {
            rule.observe(event, time, &self.clock, out);
        }
    }

    /// For each rule, its id and how many groups (or known fingerprints) it
    /// holds: memory is bounded by the rule's `max_groups` /
    /// `max_fingerprints`.
    pub fn tracked(&self) -> Vec<(&str, usize)> {
        self.rules.iter().map(|r| (r.id(), r.tracked())).collect()
    }
}

impl Plugin for AlertPlugin {
    type Config = Config;

    fn new(config: Config, _context: &InitContext) -> Result<Self, ConfigError> {
        let rules = config::compile(config)?
            .into_iter()
            .map(Rule::new)
            .collect::<Result<_, _>>()?;
        Ok(AlertPlugin {
            clock: Clock::default(),
            rules,
        })
    }

    #[inline]
    fn process(&mut self, event: &mut Event, out: &mut Output) -> Result<Verdict, PluginError> {
        self.observe(event, out);
        Ok(Verdict::Unchanged)
    }

    fn tick(&mut self, now_ns: i64, out: &mut Output) {
        self.clock.observe_tick(now_ns);
        for rule in &mut self.rules {
            rule.tick(now_ns, &self.clock, out);
        }
    }
}

export_plugin!(AlertPlugin);
