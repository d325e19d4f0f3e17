//! A native harness for unit-testing plugins with plain `cargo test`.
//!
//! It drives the plugin through the same adapter the wasm export uses (its
//! entry for owned events; the packed entry is tested to answer the same),
//! so config parsing, per-event error isolation and outcomes behave exactly
//! as they will in the host (limits and the sandbox aside: test those with
//! `sluice plugin test`). In a debug build it also panics when a plugin
//! changes an event but answers `Verdict::Unchanged`.
//!
//! ```
//! use sluice_plugin_sdk::{testing::Harness, Event, NoConfig, Plugin, Output,
//!     PluginError, ConfigError, InitContext, Verdict};
//!
//! struct Shout;
//! impl Plugin for Shout {
//!     type Config = NoConfig;
//!     fn new(_: NoConfig, _: &InitContext) -> Result<Self, ConfigError> { Ok(Shout) }
//!     fn process(&mut self, e: &mut Event, _: &mut Output) -> Result<Verdict, PluginError> {
//!         e.message = e.message.to_uppercase();
//!         Ok(Verdict::Changed)
//!     }
//! }
//!
//! let mut harness = Harness::<Shout>::new("").unwrap();
//! let kept = harness.kept(vec![Event::new("hi")]);
//! assert_eq!(kept[0].message, "HI");
//! ```
#![cfg(not(target_family = "wasm"))]

use std::cell::RefCell;

use crate::export::Instance;
use crate::log::Level as LogLevel;
use crate::{Alert, BatchResult, Event, InitContext, Outcome, Plugin};

thread_local! {
    static CAPTURED: RefCell<Option<Vec<(LogLevel, String)>>> = const { RefCell::new(None) };
}

/// Called by [`crate::log`] on native targets.
pub(crate) fn capture_log(level: LogLevel, message: &str) {
    CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(lines) => lines.push((level, message.to_owned())),
        None => eprintln!("[plugin {level:?}] {message}"),
    });
}

/// Runs a [`Plugin`] natively, as the host would.
pub struct Harness<P> {
    instance: Instance<P>,
}

impl<P: Plugin> Harness<P> {
    /// Build the plugin from a step config written as TOML (the body of the
    /// step's `config` table), as an operator would write it.
    pub fn new(config_toml: &str) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(config_toml).map_err(|e| e.to_string())?;
        let json = serde_json::to_string(&table).map_err(|e| e.to_string())?;
        Self::from_json(&json)
    }

    /// Build the plugin from a config already encoded as JSON.
    pub fn from_json(config_json: &str) -> Result<Self, String> {
        Self::with_context(config_json, Self::default_context())
    }

    /// Build the plugin for a given tenant, pipeline and step.
    pub fn with_context(config_json: &str, context: InitContext) -> Result<Self, String> {
        CAPTURED.with(|c| c.borrow_mut().get_or_insert_with(Vec::new).clear());
        let mut instance = Instance::<P>::default();
        instance.init(config_json, &context)?;
        Ok(Self { instance })
    }

    fn default_context() -> InitContext {
        InitContext {
            tenant: "test-tenant".to_owned(),
            pipeline: "test".to_owned(),
            step: "test-step".to_owned(),
        }
    }

    /// Run one batch and return the full result.
    pub fn process(&mut self, batch: Vec<Event>) -> BatchResult {
        self.instance.process(batch)
    }

    /// Run one batch and return the events that continue down the chain
    /// (unchanged ones included), as the host would pass them on.
    pub fn kept(&mut self, batch: Vec<Event>) -> Vec<Event> {
        let originals = batch.clone();
        let result = self.instance.process(batch);
        originals
            .into_iter()
            .zip(result.outcomes)
            .filter_map(|(original, outcome)| match outcome {
                Outcome::Pass => Some(original),
                Outcome::Keep(changed) => Some(changed),
                Outcome::Drop | Outcome::Fail(_) => None,
            })
            .collect()
    }

    /// Run the periodic tick at `now_ns`.
    pub fn tick(&mut self, now_ns: i64) -> Vec<Alert> {
        self.instance.tick(now_ns)
    }

    /// Log lines the plugin wrote on this thread since the harness was built.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        CAPTURED.with(|c| c.borrow().clone().unwrap_or_default())
    }
}
