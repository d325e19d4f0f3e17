//! A rule: what every kind shares ([`Core`]: id, severity, title, matcher,
//! grouping, cooldown, hourly alert budget) and the kind's own state.
//! Count-based kinds judge on every matching event; absence judges on ticks.

mod absence;
mod new_fingerprint;
mod spike;
mod threshold;

use sluice_plugin_sdk::{Alert, Attribute, ConfigError, Event, Output, Severity, Value};

use crate::config::{KindSpec, RuleSpec};
use crate::group::{GroupBy, MISSING_LABEL};
use crate::matcher::{Matcher, parse_fingerprint};
use crate::title::{Title, Vars};
use crate::window::Clock;

use absence::Absence;
use new_fingerprint::NewFingerprint;
use spike::Spike;
use threshold::Threshold;

const HOUR_NS: i64 = 3_600 * 1_000_000_000;

/// One configured rule with its state.
#[derive(Debug)]
pub struct Rule {
    core: Core,
    kind: KindState,
}

#[derive(Debug)]
enum KindState {
    Threshold(Threshold),
    Spike(Spike),
    NewFingerprint(NewFingerprint),
    Absence(Absence),
}

impl Rule {
    /// Build a rule from its validated spec.
    pub fn new(spec: RuleSpec) -> Result<Self, ConfigError> {
        let RuleSpec {
            id,
            severity,
            title,
            matcher,
            mut group_by,
            cooldown_ns,
            max_alerts_per_hour,
            max_groups,
            kind,
        } = spec;
        if matches!(kind, KindSpec::NewFingerprint { .. }) {
            // One alert stream per fingerprint: the key names it.
            group_by = GroupBy::Fingerprint;
        }
        let title = match title {
            Some(title) => title,
            None => Title::parse(&default_title(&kind, &group_by, &matcher))
                .map_err(|e| ConfigError::msg(format!("rule {id:?}: default title: {e}")))?,
        };
        let kind = match kind {
            KindSpec::Threshold {
                threshold,
                window_ns,
            } => KindState::Threshold(Threshold::new(threshold, window_ns, max_groups)),
            KindSpec::Spike {
                window_ns,
                factor,
                baseline_windows,
                min_count,
            } => KindState::Spike(Spike::new(
                window_ns,
                factor,
                baseline_windows,
                min_count,
                max_groups,
            )),
            KindSpec::NewFingerprint {
                warmup_ns,
                max_fingerprints,
            } => KindState::NewFingerprint(NewFingerprint::new(warmup_ns, max_fingerprints)),
            KindSpec::Absence {
                window_ns,
                forget_after_ns,
            } => KindState::Absence(Absence::new(window_ns, forget_after_ns, max_groups)),
        };
        Ok(Rule {
            core: Core {
                budget: Budget::new(max_alerts_per_hour),
                id: id.into(),
                severity,
                title,
                matcher,
                group_by,
                cooldown_ns,
            },
            kind,
        })
    }

    /// Look at one event at event time `time`.
    #[inline]
    pub fn observe(&mut self, event: &Event, time: i64, clock: &Clock, out: &mut Output) {
        if !self.core.matcher.matches(event) {
            return;
        }
        let core = &mut self.core;
        match &mut self.kind {
            KindState::Threshold(t) => t.observe(core, event, time, clock, out),
            KindState::Spike(s) => s.observe(core, event, time, clock, out),
            KindState::NewFingerprint(n) => n.observe(core, event, clock, out),
            KindState::Absence(a) => a.observe(core, event, time, clock),
        }
    }

    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.core.id
    }

    /// Groups (or, for new-fingerprint, known fingerprints) the rule holds.
    pub fn tracked(&self) -> usize {
        match &self.kind {
            KindState::Threshold(t) => t.tracked(),
            KindState::Spike(s) => s.tracked(),
            KindState::NewFingerprint(n) => n.tracked(),
            KindState::Absence(a) => a.tracked(),
        }
    }

    /// The host's periodic tick at wall-clock `now_ns`.
    pub fn tick(&mut self, now_ns: i64, clock: &Clock, out: &mut Output) {
        let core = &mut self.core;
        match &mut self.kind {
            KindState::Threshold(t) => t.tick(core, clock),
            KindState::Spike(s) => s.tick(core, clock),
            KindState::NewFingerprint(_) => {}
            KindState::Absence(a) => a.tick(core, now_ns, clock, out),
        }
    }
}

/// The default title of a rule without one.
fn default_title(kind: &KindSpec, group_by: &GroupBy, matcher: &Matcher) -> String {
    let level = match matcher.min_level() {
        Some(_) => "{level} ",
        None => "",
    };
    let place = match group_by {
        GroupBy::Service => " from {service}".to_owned(),
        GroupBy::Fingerprint => " with fingerprint {fingerprint}".to_owned(),
        GroupBy::Attribute(key) => {
            let key = key.replace('{', "{{").replace('}', "}}");
            format!(" with {key}={{group}}")
        }
        GroupBy::None if matcher.pinned_service().is_some() => " from {service}".to_owned(),
        GroupBy::None => String::new(),
    };
    match kind {
        KindSpec::Threshold { .. } => format!("{{count}} {level}{{events}}{place} in {{window}}"),
        KindSpec::Spike { .. } => format!(
            "Spike in {level}events{place}: {{count}} in {{window}} (baseline {{baseline}} per {{window}})"
        ),
        KindSpec::NewFingerprint { .. } => {
            let what = if matcher.min_level().is_some() {
                "{level} log template"
            } else {
                "log template"
            };
            format!("New {what} from {{service}}: {{template}}")
        }
        KindSpec::Absence { .. } => format!("No {level}events{place} in the last {{window}}"),
    }
}

/// What every rule kind shares.
#[derive(Debug)]
pub struct Core {
    id: Box<str>,
    severity: Severity,
    title: Title,
    matcher: Matcher,
    group_by: GroupBy,
    cooldown_ns: i64,
    budget: Budget,
}

/// What a firing rule reports, beyond its core.
#[derive(Debug, Default)]
pub struct Firing<'a> {
    /// The group's text, when the rule groups.
    pub group: Option<&'a str>,
    /// Service of the event that made the rule fire, if one did.
    pub event_service: Option<&'a str>,
    pub count: u64,
    pub window_ns: i64,
    pub baseline: Option<f64>,
    pub threshold: Option<u64>,
    pub template: Option<&'a str>,
    pub silent_ns: Option<i64>,
    pub samples: Vec<String>,
    pub attributes: Vec<Attribute>,
}

impl Core {
    /// Whether a group that last fired at `last_fired` is still cooling down.
    fn cooling(&self, last_fired: Option<i64>, now: i64) -> bool {
        last_fired.is_some_and(|fired| now < fired.saturating_add(self.cooldown_ns))
    }

    /// The alert record for a firing.
    fn alert(&self, firing: Firing<'_>) -> Alert {
        let group = firing.group.filter(|g| *g != MISSING_LABEL);
        let service = match self.group_by {
            GroupBy::Service => group,
            GroupBy::Fingerprint => self.matcher.pinned_service().or(firing.event_service),
            _ => self.matcher.pinned_service(),
        };
        let fingerprint = match self.group_by {
            GroupBy::Fingerprint => group.and_then(parse_fingerprint),
            _ => self.matcher.pinned_fingerprint(),
        };
        let severity = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        };
        let title = self.title.render(&Vars {
            rule: &self.id,
            severity,
            count: firing.count,
            window_ns: firing.window_ns,
            group: firing.group,
            service,
            fingerprint,
            template: firing.template,
            baseline: firing.baseline,
            threshold: firing.threshold,
            level: self.matcher.min_level().map(|l| l.as_str()),
            silent_ns: firing.silent_ns,
        });
        let key = match firing.group {
            Some(group) => format!("{}:{group}", self.id),
            None => self.id.to_string(),
        };
        let mut attributes = Vec::with_capacity(firing.attributes.len() + 2);
        if let Some(group) = firing.group {
            attributes.push(text_attr("group_by", self.group_by.name()));
            attributes.push(text_attr("group", group));
        }
        attributes.extend(firing.attributes);
        Alert {
            rule: self.id.to_string(),
            severity: self.severity,
            title,
            key,
            fingerprint,
            service: service.map(str::to_owned),
            window_count: firing.count,
            window_ns: firing.window_ns,
            baseline: firing.baseline,
            sample_event_ids: firing.samples,
            attributes,
        }
    }
}

/// A text attribute.
pub fn text_attr(key: &str, value: impl Into<String>) -> Attribute {
    Attribute {
        key: key.to_owned(),
        value: Value::Text(value.into()),
    }
}

/// At most `per_hour` alerts per hour of the rule's clock, across all groups:
/// the last guard against storms (thousands of new templates after a deploy,
/// a group table churning under the cap).
#[derive(Debug)]
struct Budget {
    per_hour: u32,
    hour: i64,
    used: u32,
    suppressed: u64,
}

impl Budget {
    fn new(per_hour: u32) -> Self {
        Budget {
            per_hour,
            hour: i64::MIN,
            used: 0,
            suppressed: 0,
        }
    }

    /// Spend one alert at `now`; false (and a log line, once an hour) when spent out.
    fn take(&mut self, now: i64, rule: &str) -> bool {
        let hour = now.div_euclid(HOUR_NS);
        if hour > self.hour {
            if self.suppressed > 0 {
                sluice_plugin_sdk::log::warn(&format!(
                    "rule {rule:?}: {} alerts over max_alerts_per_hour were dropped",
                    self.suppressed
                ));
            }
            self.hour = hour;
            self.used = 0;
            self.suppressed = 0;
        }
        if self.used < self.per_hour {
            self.used += 1;
            return true;
        }
        if self.suppressed == 0 {
            sluice_plugin_sdk::log::warn(&format!(
                "rule {rule:?} reached max_alerts_per_hour ({}); further alerts this hour are dropped",
                self.per_hour
            ));
        }
        self.suppressed += 1;
        false
    }
}
