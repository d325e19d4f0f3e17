//! The step's config as the operator writes it, and its compiled form.
//!
//! Everything that can be wrong is found here, in `new`: unknown keys,
//! unknown formats, bad regular expressions and grok references, bad offsets
//! and static values. Each error names the setting (`patterns[2] "hdfs"`).

use std::collections::BTreeMap;

use serde::Deserialize;
use sluice_plugin_sdk::{ConfigError, Value};

use crate::patterns::{self, Pattern};
pub use crate::roles::Role;
use crate::roles::RoleTable;

/// The step's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Formats tried on every raw payload, in this order; the first that
    /// recognises the payload wins. `patterns` stands for the tenant
    /// patterns below. Leave a format out to disable it.
    #[serde(default = "default_formats")]
    pub formats: Vec<Format>,
    /// What to do with a payload no format could parse: `keep` it (the raw
    /// text becomes the message, attribute `parse_error` says why) or
    /// `dead-letter` it (the event fails with the reason).
    #[serde(default)]
    pub on_unparsed: OnUnparsed,
    /// Keep the payload in `raw` after parsing (it is cleared by default so
    /// it is not stored twice).
    #[serde(default)]
    pub keep_raw: bool,
    /// UTC offset for timestamps that carry none: `Z`, `+02:00`, `-0530`.
    #[serde(default = "default_offset")]
    pub default_offset: String,
    /// Which keys of JSON objects, logfmt pairs and pattern captures fill
    /// the event's own fields. Earlier names win over later ones.
    #[serde(default)]
    pub fields: FieldNames,
    /// Tenant-defined formats, tried in order where `patterns` sits in
    /// `formats`.
    #[serde(default)]
    pub patterns: Vec<PatternConfig>,
    /// Named grok patterns of the tenant's own, usable as `%{NAME}` in
    /// `patterns` (and in each other); they may shadow the built-in library.
    #[serde(default)]
    pub grok: BTreeMap<String, String>,
    /// Field renames, `from = "to"`, applied to every field name before it is
    /// recognised, so a capture renamed to `message` becomes the message.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Type coercions of attributes by (renamed) key: `int`, `float`,
    /// `bool` or `string`. A value that does not convert stays text.
    #[serde(default)]
    pub types: BTreeMap<String, FieldType>,
    /// Fields added to every event unless it already has them: strings,
    /// numbers or booleans. `service`, `project` and `level` fill those
    /// event fields when the payload left them empty.
    #[serde(default)]
    pub static_fields: BTreeMap<String, serde_json::Value>,
}

/// A built-in format, or the tenant's patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// The tenant's `patterns`, in their order.
    Patterns,
    /// A JSON object (payload starting with `{`).
    Json,
    /// Syslog, RFC 5424 and RFC 3164, with or without `<PRI>`.
    Syslog,
    /// Apache/nginx common and combined access logs.
    Access,
    /// `key=value key2="quoted value"` pairs.
    Logfmt,
    /// Any text line; a leading timestamp and level are recognised.
    Text,
}

impl Format {
    /// The name operators write.
    pub fn name(self) -> &'static str {
        match self {
            Format::Patterns => "patterns",
            Format::Json => "json",
            Format::Syslog => "syslog",
            Format::Access => "access",
            Format::Logfmt => "logfmt",
            Format::Text => "text",
        }
    }
}

fn default_formats() -> Vec<Format> {
    vec![
        Format::Patterns,
        Format::Json,
        Format::Syslog,
        Format::Access,
        Format::Logfmt,
        Format::Text,
    ]
}

fn default_offset() -> String {
    "Z".to_owned()
}

/// What happens to a payload that no format parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnparsed {
    /// Keep it: raw text as message, attribute `parse_error` with the reason.
    #[default]
    Keep,
    /// Fail the event; it becomes a dead letter carrying the reason.
    DeadLetter,
}

/// A coercion target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`, `on`/`off`).
    Bool,
    /// Text (numbers and booleans are written out).
    String,
}

/// Names that fill the event's own fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldNames {
    /// Keys holding the message.
    pub message: Vec<String>,
    /// Keys holding the level (names or numbers).
    pub level: Vec<String>,
    /// Keys holding the event time (text in any known layout, or epoch).
    pub timestamp: Vec<String>,
    /// Keys holding the service name.
    pub service: Vec<String>,
    /// Keys holding the project.
    pub project: Vec<String>,
}

impl Default for FieldNames {
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect();
        Self {
            message: v(&["message", "msg", "log", "@message", "short_message"]),
            level: v(&[
                "level",
                "severity",
                "lvl",
                "log.level",
                "levelname",
                "loglevel",
            ]),
            timestamp: v(&["timestamp", "@timestamp", "time", "ts", "datetime"]),
            service: v(&["service", "service.name", "service_name", "app"]),
            project: v(&["project_id", "project"]),
        }
    }
}

/// One tenant-defined format: a regular expression with named captures, or
/// a grok expression. Capture names are field names (see `fields`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// Shown in config errors about this pattern.
    #[serde(default)]
    pub name: Option<String>,
    /// A regular expression (Rust `regex` syntax) with named captures.
    #[serde(default)]
    pub regex: Option<String>,
    /// A grok expression: `%{PATTERN:field[:int|float|bool]}` and plain regex.
    #[serde(default)]
    pub grok: Option<String>,
    /// strptime layout of the `timestamp` capture (jiff syntax,
    /// `%Y-%m-%d %H:%M:%S%.f`); without it the built-in layouts are tried.
    #[serde(default)]
    pub timestamp_format: Option<String>,
}

/// The config, compiled once in `new`.
#[derive(Debug)]
pub struct Settings {
    /// Formats in trial order.
    pub formats: Vec<Format>,
    /// Unparsed policy.
    pub on_unparsed: OnUnparsed,
    /// Keep `raw`.
    pub keep_raw: bool,
    /// Default offset in seconds east of UTC.
    pub default_offset_s: i32,
    /// Names of the event's own fields.
    pub roles: RoleTable,
    /// Compiled tenant patterns.
    pub patterns: Vec<Pattern>,
    /// Renames, `from → to`.
    pub rename: BTreeMap<String, String>,
    /// Coercions by key.
    pub types: BTreeMap<String, FieldType>,
    /// Static attributes.
    pub static_attrs: Vec<(String, Value)>,
    /// Static event fields: service, project, level (as text).
    pub static_roles: Vec<(Role, String)>,
}

impl Settings {
    /// Compile and validate a config.
    pub fn compile(config: Config) -> Result<Self, ConfigError> {
        if config.formats.is_empty() {
            return Err(ConfigError::msg(
                "`formats` is empty: name at least one format",
            ));
        }
        let default_offset_s = parse_offset(&config.default_offset).ok_or_else(|| {
            ConfigError::msg(format!(
                "`default_offset` = {:?}: expected `Z` or an offset like `+02:00` or `-0530`",
                config.default_offset
            ))
        })?;
        let mut roles = Vec::new();
        let f = &config.fields;
        for (names, role) in [
            (&f.message, Role::Message),
            (&f.level, Role::Level),
            (&f.timestamp, Role::Timestamp),
            (&f.service, Role::Service),
            (&f.project, Role::Project),
        ] {
            for (i, name) in names.iter().enumerate() {
                let prio = u8::try_from(i).unwrap_or(u8::MAX);
                roles.push((name.clone(), role, prio));
            }
        }
        let patterns = patterns::compile_all(&config.patterns, &config.grok)?;
        let (static_attrs, static_roles) = statics(&config.static_fields)?;
        Ok(Self {
            formats: config.formats,
            on_unparsed: config.on_unparsed,
            keep_raw: config.keep_raw,
            default_offset_s,
            roles: RoleTable::new(roles),
            patterns,
            rename: config.rename,
            types: config.types,
            static_attrs,
            static_roles,
        })
    }

    /// The role a field name fills, with its priority.
    #[inline]
    pub fn role_of(&self, key: &str) -> Option<(Role, u8)> {
        self.roles.lookup(key)
    }
}

/// Static attributes, and static values of the event's own fields.
type Statics = (Vec<(String, Value)>, Vec<(Role, String)>);

fn statics(fields: &BTreeMap<String, serde_json::Value>) -> Result<Statics, ConfigError> {
    let mut attrs = Vec::new();
    let mut roles = Vec::new();
    for (key, value) in fields {
        let role = match key.as_str() {
            "service" => Some(Role::Service),
            "project" => Some(Role::Project),
            "level" => Some(Role::Level),
            _ => None,
        };
        let value = match value {
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Bool(b) => Value::Boolean(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Float(n.as_f64().unwrap_or_default()),
            },
            _ => {
                return Err(ConfigError::msg(format!(
                    "`static_fields.{key}`: only strings, numbers and booleans are allowed"
                )));
            }
        };
        match (role, value) {
            (Some(Role::Level), Value::Text(text)) => {
                if crate::level::parse_level(&text).is_none() {
                    return Err(ConfigError::msg(format!(
                        "`static_fields.level` = {text:?} is not a level"
                    )));
                }
                roles.push((Role::Level, text));
            }
            (Some(role), Value::Text(text)) => roles.push((role, text)),
            (Some(_), _) => {
                return Err(ConfigError::msg(format!(
                    "`static_fields.{key}` must be a string"
                )));
            }
            (None, value) => attrs.push((key.clone(), value)),
        }
    }
    Ok((attrs, roles))
}

/// `Z`, `UTC`, `±HH:MM`, `±HHMM` or `±HH` as seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("+02:00"), Some(7200));
        assert_eq!(parse_offset("-0530"), Some(-19800));
        assert_eq!(parse_offset("+01"), Some(3600));
        assert_eq!(parse_offset("02:00"), None);
        assert_eq!(parse_offset("+25:00"), None);
        assert_eq!(parse_offset("+2:00"), None);
    }
}
