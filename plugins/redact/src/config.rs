//! The step's config: which detectors run, tenant patterns, allow-lists,
//! attribute keys to skip or to redact whole, and how findings are replaced.
//! Every mistake is reported at load time with the setting's name.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::detect::kinds::{Kind, KindSet};
use crate::detect::{Detected, DetectorConfig};
use crate::replace::Mode;

/// Shortest accepted `hash_secret`: a short key makes tokens guessable by
/// hashing candidate values (card numbers, phone numbers are a small space).
pub const MIN_SECRET_LEN: usize = 16;

/// Config of a redact step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Built-in detectors to run (names as in the README). Default: all.
    #[serde(default)]
    pub enable: Option<Vec<String>>,
    /// Built-in detectors not to run, applied after `enable`. Default: none.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Replacement for every detector: `label`, `hash` or `partial`.
    /// Default: `label`.
    #[serde(default)]
    pub mode: Mode,
    /// Per-detector replacement overriding `mode`, by detector or custom
    /// pattern name: `{ credit_card = "partial", email = "hash" }`.
    #[serde(default)]
    pub modes: BTreeMap<String, Mode>,
    /// Tenant key for `hash` mode (at least 16 characters). Required when any
    /// detector uses `hash`. Default: none.
    #[serde(default)]
    pub hash_secret: Option<String>,
    /// Tenant patterns, run in the same single pass as each other.
    #[serde(default)]
    pub custom: Vec<CustomPattern>,
    /// Values never redacted, compared case-insensitively (`127.0.0.1`,
    /// `support@example.com`). Default: none.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regexes; a finding they match entirely is never redacted. Default:
    /// none.
    #[serde(default)]
    pub allow_patterns: Vec<String>,
    /// Attribute keys whose values are never scanned (`trace_id`, or a
    /// prefix ending in `*`: `k8s.*`). Default: none.
    #[serde(default)]
    pub skip_keys: Vec<String>,
    /// Attribute keys whose values are always replaced whole, as
    /// `[REDACTED]` (exact or prefix `*`). Default: none.
    #[serde(default)]
    pub redact_keys: Vec<String>,
    /// Replace attribute values whole when the key names a secret
    /// (`password`, `api_key`, `metadata.auth_token`). Default: true.
    #[serde(default = "default_true")]
    pub secret_keys: bool,
}

fn default_true() -> bool {
    true
}

/// One tenant pattern.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Name, used in `modes` and as the default label (upper-cased).
    pub name: String,
    /// Regex (Rust `regex` syntax). With a capture group, only group 1 is
    /// replaced: `employee=(\d{6})`.
    pub pattern: String,
    /// Text inside the brackets. Default: the name upper-cased.
    #[serde(default)]
    pub label: Option<String>,
}

/// A key rule: exact key or prefix (`metadata.*`).
#[derive(Debug, Clone)]
pub enum KeyRule {
    Exact(String),
    Prefix(String),
}

impl KeyRule {
    fn new(spec: &str) -> Self {
        match spec.strip_suffix('*') {
            Some(prefix) => KeyRule::Prefix(prefix.to_owned()),
            None => KeyRule::Exact(spec.to_owned()),
        }
    }

    /// Whether `key` falls under this rule.
    pub fn matches(&self, key: &str) -> bool {
        match self {
            KeyRule::Exact(k) => k == key,
            KeyRule::Prefix(p) => key.starts_with(p.as_str()),
        }
    }
}

/// The config, checked and resolved.
pub struct Resolved {
    pub detector: DetectorConfig,
    /// Labels then modes, one per built-in kind then per custom pattern.
    pub labels: Vec<String>,
    pub modes: Vec<Mode>,
    pub hash_secret: Option<String>,
    pub skip_keys: Vec<KeyRule>,
    pub redact_keys: Vec<KeyRule>,
    pub secret_keys: bool,
}

fn kind(name: &str, setting: &str) -> Result<Kind, String> {
    Kind::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        format!(
            "`{setting}`: unknown detector `{name}`; known: {}",
            names.join(", ")
        )
    })
}

impl Config {
    /// Check every setting and resolve names.
    pub fn resolve(self) -> Result<Resolved, String> {
        let mut enabled = match &self.enable {
            None => KindSet::ALL,
            Some(names) => {
                let mut set = KindSet::NONE;
                for n in names {
                    set.insert(kind(n, "enable")?);
                }
                set
            }
        };
        for n in &self.disable {
            enabled.remove(kind(n, "disable")?);
        }
        let mut labels: Vec<String> = Kind::ALL
            .iter()
            .map(|k| k.info().label.to_owned())
            .collect();
        let mut names: Vec<String> = Kind::ALL.iter().map(|k| k.name().to_owned()).collect();
        for (i, c) in self.custom.iter().enumerate() {
            let label = c
                .label
                .clone()
                .unwrap_or_else(|| c.name.to_ascii_uppercase());
            if c.name.is_empty() || names.contains(&c.name) {
                return Err(format!(
                    "`custom[{i}].name`: `{}` is empty or already names a detector",
                    c.name
                ));
            }
            if label.is_empty() || label.contains(['[', ']']) {
                return Err(format!(
                    "`custom[{i}].label`: `{label}` must be non-empty, without brackets"
                ));
            }
            names.push(c.name.clone());
            labels.push(label);
        }
        let mut modes = vec![self.mode; names.len()];
        for (name, mode) in &self.modes {
            let Some(i) = names.iter().position(|n| n == name) else {
                return Err(format!(
                    "`modes.{name}`: no detector or custom pattern has this name"
                ));
            };
            modes[i] = *mode;
        }
        let hash_secret = self.hash_secret.filter(|s| !s.is_empty());
        if modes.contains(&Mode::Hash) {
            match &hash_secret {
                None => {
                    return Err(
                        "`hash_secret` is required when a detector uses mode \"hash\"".to_owned(),
                    );
                }
                Some(s) if s.len() < MIN_SECRET_LEN => {
                    return Err(format!(
                        "`hash_secret` must be at least {MIN_SECRET_LEN} characters"
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(Resolved {
            detector: DetectorConfig {
                enabled,
                custom: self.custom.into_iter().map(|c| c.pattern).collect(),
                allow: self.allow,
                allow_patterns: self.allow_patterns,
            },
            labels,
            modes,
            hash_secret,
            skip_keys: self.skip_keys.iter().map(|k| KeyRule::new(k)).collect(),
            redact_keys: self.redact_keys.iter().map(|k| KeyRule::new(k)).collect(),
            secret_keys: self.secret_keys && enabled.contains(Kind::Secret),
        })
    }
}

/// What replaces a value under `redact_keys`: `[REDACTED]`.
pub const REDACTED_LABEL: &str = "[REDACTED]";

/// The detector to report for a value replaced because its key names a
/// secret.
pub const SECRET_KEY: Detected = Detected::Builtin(Kind::Secret);
