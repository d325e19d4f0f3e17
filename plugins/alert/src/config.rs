//! The step config as operators write it: a list of rules. Each rule is
//! deserialised on its own, so every error names the rule by index and id and
//! the field (`rules[2] (id "db-timeouts"): field `window`: ...`); then it is
//! checked against its kind and compiled into a [`RuleSpec`].

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::Value as Json;
use sluice_plugin_sdk::{ConfigError, Severity};

use crate::duration::Duration;
use crate::group::GroupBy;
use crate::matcher::{MatchConfig, Matcher};
use crate::title::Title;

/// Most rules in one step: every rule's matcher runs on every event.
pub const MAX_RULES: usize = 100;
/// Largest `max_groups`: bounds the memory one rule may take (a spike group
/// with 48 baseline windows holds about 2 KiB).
pub const MAX_GROUPS_LIMIT: usize = 100_000;
/// Largest `max_fingerprints` (about 40 bytes each).
pub const MAX_FINGERPRINTS_LIMIT: usize = 1_000_000;
/// Largest `baseline_windows`: the spike ring holds this many windows of buckets.
pub const MAX_BASELINE_WINDOWS: u32 = 48;
/// Shortest window: a bucket must span at least 100 ms to mean anything.
pub const MIN_WINDOW: Duration = Duration(1_000_000_000);
/// Longest window or warm-up.
pub const MAX_SPAN: Duration = Duration(30 * 86_400 * 1_000_000_000);

const DEFAULT_COOLDOWN: Duration = Duration::minutes(10);
const DEFAULT_WINDOW: Duration = Duration::minutes(5);
const DEFAULT_ABSENCE_WINDOW: Duration = Duration::minutes(15);
const DEFAULT_FORGET_AFTER: Duration = Duration::minutes(24 * 60);
const DEFAULT_WARMUP: Duration = Duration::minutes(60);
const DEFAULT_FACTOR: f64 = 3.0;
const DEFAULT_BASELINE_WINDOWS: u32 = 6;
const DEFAULT_MIN_COUNT: u64 = 10;
const DEFAULT_MAX_GROUPS: usize = 1_000;
const DEFAULT_MAX_FINGERPRINTS: usize = 50_000;
const DEFAULT_MAX_ALERTS_PER_HOUR: u32 = 100;

/// The rule set used when the step's config has no `rules` key.
pub const DEFAULT_RULES: &str = r#"[
  {"id": "error-spike", "kind": "spike", "severity": "error",
   "match": {"level": "error"}, "group_by": "service",
   "window": "5m", "baseline_windows": 6, "factor": 3.0, "min_count": 10},
  {"id": "fatal-events", "kind": "threshold", "severity": "critical",
   "match": {"level": "fatal"}, "group_by": "service",
   "threshold": 1, "window": "5m"},
  {"id": "new-error-fingerprint", "kind": "new-fingerprint", "severity": "warning",
   "match": {"level": "error"}, "warmup": "1h"}
]"#;

/// The step's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The rules. Absent: the default rule set ([`DEFAULT_RULES`]); an empty
    /// list: no rules at all.
    #[serde(default)]
    pub rules: Option<Vec<Json>>,
}

/// What a rule watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// At least `threshold` matching events in `window`.
    Threshold,
    /// The count in `window` is at least `factor` times the mean of the
    /// `baseline_windows` windows before it.
    Spike,
    /// A fingerprint seen for the first time after `warmup`.
    NewFingerprint,
    /// No matching event for `window`, checked on every host tick.
    Absence,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Threshold => "threshold",
            Kind::Spike => "spike",
            Kind::NewFingerprint => "new-fingerprint",
            Kind::Absence => "absence",
        }
    }
}

/// Alert severity as written in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    /// info
    Info,
    /// warning
    Warning,
    /// error
    Error,
    /// critical
    Critical,
}

/// One rule as written in config. Which keys apply depends on `kind`; a key
/// that does not apply is an error, so a misplaced setting is never ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Names the rule in alerts and incident keys; unique within the step.
    pub id: String,
    /// `threshold`, `spike`, `new-fingerprint` or `absence`.
    pub kind: Kind,
    /// `info`, `warning`, `error` or `critical`.
    pub severity: SeverityName,
    /// Title template (`{count} errors from {service} in {window}`); default
    /// depends on the kind.
    pub title: Option<String>,
    /// Which events the rule looks at; default: all.
    #[serde(rename = "match", default)]
    pub matcher: MatchConfig,
    /// `none` (default), `service`, `fingerprint` or `attribute:KEY`: one
    /// alert stream per group. Not for `new-fingerprint`.
    pub group_by: Option<String>,
    /// At most one alert per rule and group within this time. Default `10m`.
    pub cooldown: Option<Duration>,
    /// At most this many alerts from the rule per hour of event time, across
    /// all groups. Default 100.
    pub max_alerts_per_hour: Option<u32>,
    /// Groups tracked at once; beyond, stale then least recently seen groups
    /// are forgotten. Default 1000. Not for `new-fingerprint`.
    pub max_groups: Option<usize>,
    /// threshold: matching events in `window` that fire the rule. Required.
    pub threshold: Option<u64>,
    /// threshold, spike: length of the sliding window (default `5m`);
    /// absence: silence that fires the rule (default `15m`).
    pub window: Option<Duration>,
    /// spike: how many times the baseline the window must reach. Default 3.
    pub factor: Option<f64>,
    /// spike: windows before the current one whose mean is the baseline. Default 6.
    pub baseline_windows: Option<u32>,
    /// spike: fewest events in the window for a spike (1 → 3 is no spike). Default 10.
    pub min_count: Option<u64>,
    /// new-fingerprint: fingerprints seen this long after (re)start are
    /// learned silently. Default `1h`.
    pub warmup: Option<Duration>,
    /// new-fingerprint: known fingerprints remembered; beyond, the least
    /// recently seen are forgotten. Default 50000.
    pub max_fingerprints: Option<usize>,
    /// absence: stop watching a group silent this long. Default `24h`.
    pub forget_after: Option<Duration>,
}

/// Kind-specific settings of a validated rule, times in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum KindSpec {
    /// See [`Kind::Threshold`].
    Threshold { threshold: u64, window_ns: i64 },
    /// See [`Kind::Spike`].
    Spike {
        window_ns: i64,
        factor: f64,
        baseline_windows: u32,
        min_count: u64,
    },
    /// See [`Kind::NewFingerprint`].
    NewFingerprint {
        warmup_ns: i64,
        max_fingerprints: usize,
    },
    /// See [`Kind::Absence`].
    Absence {
        window_ns: i64,
        forget_after_ns: i64,
    },
}

/// A validated, compiled rule.
#[derive(Debug)]
pub struct RuleSpec {
    pub id: String,
    pub severity: Severity,
    /// `None`: the kind's default title.
    pub title: Option<Title>,
    pub matcher: Matcher,
    pub group_by: GroupBy,
    pub cooldown_ns: i64,
    pub max_alerts_per_hour: u32,
    pub max_groups: usize,
    pub kind: KindSpec,
}

/// Validate the whole config into rule specs.
pub fn compile(config: Config) -> Result<Vec<RuleSpec>, ConfigError> {
    let rules = match config.rules {
        Some(rules) => rules,
        None => serde_json::from_str(DEFAULT_RULES)
            .map_err(|e| ConfigError::msg(format!("default rules: {e}")))?,
    };
    if rules.len() > MAX_RULES {
        return Err(ConfigError::msg(format!(
            "`rules`: {} rules, at most {MAX_RULES} allowed",
            rules.len()
        )));
    }
    let mut ids = HashSet::new();
    let mut specs = Vec::with_capacity(rules.len());
    for (index, value) in rules.into_iter().enumerate() {
        let id = value
            .get("id")
            .and_then(Json::as_str)
            .map_or_else(|| "(no id)".to_owned(), |s| format!("{s:?}"));
        let fail = |field: &str, message: String| {
            ConfigError::msg(format!(
                "rules[{index}] (id {id}): field `{field}`: {message}"
            ))
        };
        let rule: RuleConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "-" } else { path.as_str() };
            fail(field, e.inner().to_string())
        })?;
        if !ids.insert(rule.id.clone()) {
            return Err(fail("id", "another rule has the same id".to_owned()));
        }
        specs.push(validate(rule).map_err(|(field, message)| fail(&field, message))?);
    }
    Ok(specs)
}

type FieldError = (String, String);

fn err<T>(field: &str, message: impl Into<String>) -> Result<T, FieldError> {
    Err((field.to_owned(), message.into()))
}

/// Check a rule against its kind and compile it.
fn validate(rule: RuleConfig) -> Result<RuleSpec, FieldError> {
    if rule.id.trim().is_empty() {
        return err("id", "must not be empty");
    }
    let kind = rule.kind;
    let allowed: &[&str] = match kind {
        Kind::Threshold => &["threshold", "window", "group_by", "max_groups"],
        Kind::Spike => &[
            "window",
            "factor",
            "baseline_windows",
            "min_count",
            "group_by",
            "max_groups",
        ],
        Kind::NewFingerprint => &["warmup", "max_fingerprints"],
        Kind::Absence => &["window", "forget_after", "group_by", "max_groups"],
    };
    let given = [
        ("threshold", rule.threshold.is_some()),
        ("window", rule.window.is_some()),
        ("factor", rule.factor.is_some()),
        ("baseline_windows", rule.baseline_windows.is_some()),
        ("min_count", rule.min_count.is_some()),
        ("warmup", rule.warmup.is_some()),
        ("max_fingerprints", rule.max_fingerprints.is_some()),
        ("forget_after", rule.forget_after.is_some()),
        ("group_by", rule.group_by.is_some()),
        ("max_groups", rule.max_groups.is_some()),
    ];
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            return err(field, format!("does not apply to kind `{}`", kind.name()));
        }
    }

    let cooldown = rule.cooldown.unwrap_or(DEFAULT_COOLDOWN);
    if cooldown.0 < MIN_WINDOW.0 || cooldown.0 > MAX_SPAN.0 {
        return err("cooldown", "must be between 1s and 30d");
    }
    let max_alerts_per_hour = rule
        .max_alerts_per_hour
        .unwrap_or(DEFAULT_MAX_ALERTS_PER_HOUR);
    if max_alerts_per_hour == 0 {
        return err("max_alerts_per_hour", "must be at least 1");
    }
    let max_groups = rule.max_groups.unwrap_or(DEFAULT_MAX_GROUPS);
    if max_groups == 0 || max_groups > MAX_GROUPS_LIMIT {
        return err("max_groups", format!("must be 1 to {MAX_GROUPS_LIMIT}"));
    }
    let group_by = match &rule.group_by {
        Some(text) => GroupBy::parse(text).or_else(|e| err("group_by", e))?,
        None => GroupBy::None,
    };
    let span = |field: &str, value: Option<Duration>, default: Duration| {
        let d = value.unwrap_or(default);
        if d.0 < MIN_WINDOW.0 || d.0 > MAX_SPAN.0 {
            return err(field, "must be between 1s and 30d");
        }
        Ok(d.0)
    };

    let kind_spec = match kind {
        Kind::Threshold => {
            let threshold = match rule.threshold {
                Some(0) => return err("threshold", "must be at least 1"),
                Some(n) => n,
                None => return err("threshold", "required for kind `threshold`"),
            };
            KindSpec::Threshold {
                threshold,
                window_ns: span("window", rule.window, DEFAULT_WINDOW)?,
            }
        }
        Kind::Spike => {
            let factor = rule.factor.unwrap_or(DEFAULT_FACTOR);
            if !factor.is_finite() || factor <= 1.0 {
                return err("factor", "must be a number above 1");
            }
            let baseline_windows = rule.baseline_windows.unwrap_or(DEFAULT_BASELINE_WINDOWS);
            if baseline_windows == 0 || baseline_windows > MAX_BASELINE_WINDOWS {
                return err(
                    "baseline_windows",
                    format!("must be 1 to {MAX_BASELINE_WINDOWS}"),
                );
            }
            let min_count = rule.min_count.unwrap_or(DEFAULT_MIN_COUNT);
            if min_count == 0 {
                return err("min_count", "must be at least 1");
            }
            let window_ns = span("window", rule.window, DEFAULT_WINDOW)?;
            if window_ns.saturating_mul(i64::from(baseline_windows) + 1) > MAX_SPAN.0 {
                return err("window", "window × (baseline_windows + 1) must fit in 30d");
            }
            KindSpec::Spike {
                window_ns,
                factor,
                baseline_windows,
                min_count,
            }
        }
        Kind::NewFingerprint => {
            if rule.cooldown.is_some() {
                return err(
                    "cooldown",
                    "does not apply to kind `new-fingerprint` (each fingerprint alerts once)",
                );
            }
            let max_fingerprints = rule.max_fingerprints.unwrap_or(DEFAULT_MAX_FINGERPRINTS);
            if max_fingerprints == 0 || max_fingerprints > MAX_FINGERPRINTS_LIMIT {
                return err(
                    "max_fingerprints",
                    format!("must be 1 to {MAX_FINGERPRINTS_LIMIT}"),
                );
            }
            let warmup = rule.warmup.unwrap_or(DEFAULT_WARMUP);
            if warmup.0 < 0 || warmup.0 > MAX_SPAN.0 {
                return err("warmup", "must be between 0s and 30d");
            }
            KindSpec::NewFingerprint {
                warmup_ns: warmup.0,
                max_fingerprints,
            }
        }
        Kind::Absence => {
            let window_ns = span("window", rule.window, DEFAULT_ABSENCE_WINDOW)?;
            let forget_after_ns = span("forget_after", rule.forget_after, DEFAULT_FORGET_AFTER)?;
            if forget_after_ns <= window_ns {
                return err("forget_after", "must be longer than `window`");
            }
            KindSpec::Absence {
                window_ns,
                forget_after_ns,
            }
        }
    };
    let title = match &rule.title {
        Some(text) => Some(Title::parse(text).or_else(|e| err("title", e))?),
        None => None,
    };
    let matcher = Matcher::new(&rule.matcher)?;
    Ok(RuleSpec {
        id: rule.id,
        severity: match rule.severity {
            SeverityName::Info => Severity::Info,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Error => Severity::Error,
            SeverityName::Critical => Severity::Critical,
        },
        title,
        matcher,
        group_by,
        cooldown_ns: cooldown.0,
        max_alerts_per_hour,
        max_groups,
        kind: kind_spec,
    })
}
