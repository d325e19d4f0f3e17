//! Which events a rule looks at. A matcher is compiled once in `new`; matching
//! an event tests the cheap conditions first (level, service, fingerprint),
//! so the typical event that a rule does not care about costs a comparison or
//! two. Substring search uses one Aho-Corasick automaton per rule; a regular
//! expression runs only when the rule asks for one.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::Value as Json;
use sluice_plugin_sdk::{Event, Level, Value};

/// Longest list that is matched by a linear scan; longer lists use a hash set.
const LINEAR_SCAN_MAX: usize = 8;

/// The `match` table of a rule. Every condition given must hold; an empty
/// table matches every event.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Level at or above this one (trace < debug < info < warn < error <
    /// fatal). Events without a level do not match.
    pub level: Option<LevelName>,
    /// Service equal to this name, or to one of these names.
    pub service: Option<Strings>,
    /// Fingerprint equal to this one (16 hex digits), or to one of these.
    pub fingerprint: Option<Strings>,
    /// Attribute `key` equal to the value, for every pair. A text value also
    /// matches a number or boolean that reads the same (`"500"` matches 500).
    pub attributes: Option<BTreeMap<String, Json>>,
    /// Attributes that must be present, whatever their value.
    pub has_attributes: Option<Vec<String>>,
    /// The message contains this text, or any of these texts, ignoring case.
    pub message_contains: Option<Strings>,
    /// The message matches this regular expression (Rust `regex` syntax).
    /// Costlier than the other conditions, which run first.
    pub message_regex: Option<String>,
}

/// A level name as written in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelName {
    /// trace
    Trace,
    /// debug
    Debug,
    /// info
    Info,
    /// warn
    #[serde(alias = "warning")]
    Warn,
    /// error
    Error,
    /// fatal
    #[serde(alias = "critical")]
    Fatal,
}

impl LevelName {
    /// Lower-case name, as titles show it.
    pub fn as_str(self) -> &'static str {
        match self {
            LevelName::Trace => "trace",
            LevelName::Debug => "debug",
            LevelName::Info => "info",
            LevelName::Warn => "warn",
            LevelName::Error => "error",
            LevelName::Fatal => "fatal",
        }
    }

    fn rank(self) -> u8 {
        self as u8
    }
}

/// Position of an event level on the shared scale.
fn level_rank(level: Level) -> u8 {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
        Level::Fatal => 5,
    }
}

/// One string or a list of strings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringsVisitor;

        impl<'de> Visitor<'de> for StringsVisitor {
            type Value = Strings;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Strings, E> {
                Ok(Strings(vec![v.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Strings(items))
            }
        }

        deserializer.deserialize_any(StringsVisitor)
    }
}

/// A set of strings, scanned linearly when small.
#[derive(Debug)]
enum StrSet {
    Small(Box<[Box<str>]>),
    Large(HashSet<Box<str>>),
}

impl StrSet {
    fn new(items: &[String]) -> Self {
        if items.len() <= LINEAR_SCAN_MAX {
            StrSet::Small(items.iter().map(|s| s.as_str().into()).collect())
        } else {
            StrSet::Large(items.iter().map(|s| s.as_str().into()).collect())
        }
    }

    fn contains(&self, s: &str) -> bool {
        match self {
            StrSet::Small(items) => items.iter().any(|i| **i == *s),
            StrSet::Large(items) => items.contains(s),
        }
    }
}

/// An attribute value to compare with, read every way an event may carry it.
#[derive(Debug)]
struct Expected {
    text: Box<str>,
    integer: Option<i64>,
    float: Option<f64>,
    boolean: Option<bool>,
}

impl Expected {
    fn new(value: &Json) -> Result<Self, String> {
        let text = match value {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            _ => return Err("attribute values must be text, numbers or booleans".to_owned()),
        };
        Ok(Expected {
            integer: text.parse().ok(),
            float: text.parse().ok(),
            boolean: text.parse().ok(),
            text: text.into(),
        })
    }

    fn matches(&self, value: &Value) -> bool {
        match value {
            Value::Text(s) | Value::Json(s) => **s == *self.text,
            Value::Integer(i) => self.integer == Some(*i),
            Value::Float(f) => self.float == Some(*f),
            Value::Boolean(b) => self.boolean == Some(*b),
            Value::Null => false,
        }
    }
}

/// Case-insensitive substring search over the message.
#[derive(Debug)]
struct Contains {
    automaton: AhoCorasick,
    /// A needle has non-ASCII letters: lower-case the message before searching
    /// (costs an allocation, only for such rules).
    fold_unicode: bool,
}

impl Contains {
    fn new(needles: &[String]) -> Result<Self, String> {
        if needles.is_empty() || needles.iter().any(String::is_empty) {
            return Err("needs non-empty texts".to_owned());
        }
        let fold_unicode = !needles.iter().all(|n| n.is_ascii());
        let lowered: Vec<String> = needles.iter().map(|n| n.to_lowercase()).collect();
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&lowered)
            .map_err(|e| e.to_string())?;
        Ok(Contains {
            automaton,
            fold_unicode,
        })
    }

    fn is_match(&self, message: &str) -> bool {
        if self.fold_unicode {
            self.automaton.is_match(&message.to_lowercase())
        } else {
            self.automaton.is_match(message)
        }
    }
}

/// A compiled `match` table.
#[derive(Debug, Default)]
pub struct Matcher {
    min_level: Option<LevelName>,
    services: Option<StrSet>,
    fingerprints: Option<Box<[u64]>>,
    attributes: Box<[(Box<str>, Expected)]>,
    has_attributes: Box<[Box<str>]>,
    contains: Option<Contains>,
    regex: Option<Regex>,
    /// The one service this matcher allows, if it names exactly one.
    pinned_service: Option<Box<str>>,
    /// The one fingerprint this matcher allows, if it names exactly one.
    pinned_fingerprint: Option<u64>,
}

/// Parse a fingerprint as events carry it: up to 16 hex digits.
pub fn parse_fingerprint(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

impl Matcher {
    /// Compile a `match` table. Errors name the offending key inside `match`.
    pub fn new(config: &MatchConfig) -> Result<Self, (String, String)> {
        let field = |name: &str, message: String| (format!("match.{name}"), message);
        let services = match &config.service {
            Some(Strings(list)) if list.is_empty() => {
                return Err(field("service", "needs at least one name".to_owned()));
            }
            Some(Strings(list)) => Some(StrSet::new(list)),
            None => None,
        };
        let fingerprints = match &config.fingerprint {
            Some(Strings(list)) if list.is_empty() => {
                return Err(field(
                    "fingerprint",
                    "needs at least one fingerprint".to_owned(),
                ));
            }
            Some(Strings(list)) => Some(
                list.iter()
                    .map(|f| {
                        parse_fingerprint(f).ok_or_else(|| {
                            field("fingerprint", format!("{f:?} is not 1 to 16 hex digits"))
                        })
                    })
                    .collect::<Result<Box<[u64]>, _>>()?,
            ),
            None => None,
        };
        let attributes = config
            .attributes
            .iter()
            .flatten()
            .map(|(key, value)| {
                Expected::new(value)
                    .map(|expected| (key.as_str().into(), expected))
                    .map_err(|e| field(&format!("attributes.{key}"), e))
            })
            .collect::<Result<_, _>>()?;
        let contains = match &config.message_contains {
            Some(Strings(list)) => {
                Some(Contains::new(list).map_err(|e| field("message_contains", e))?)
            }
            None => None,
        };
        let regex = match &config.message_regex {
            Some(pattern) => Some(
                Regex::new(pattern)
                    .map_err(|e| field("message_regex", format!("invalid regex: {e}")))?,
            ),
            None => None,
        };
        let pinned_service = match &config.service {
            Some(Strings(list)) if list.len() == 1 => Some(list[0].as_str().into()),
            _ => None,
        };
        let pinned_fingerprint = match &fingerprints {
            Some(list) if list.len() == 1 => Some(list[0]),
            _ => None,
        };
        Ok(Matcher {
            min_level: config.level,
            services,
            fingerprints,
            attributes,
            has_attributes: config
                .has_attributes
                .iter()
                .flatten()
                .map(|k| k.as_str().into())
                .collect(),
            contains,
            regex,
            pinned_service,
            pinned_fingerprint,
        })
    }

    /// Whether every condition holds for `event`; cheapest conditions first.
    #[inline]
    pub fn matches(&self, event: &Event) -> bool {
        if let Some(min) = self.min_level {
            match event.level {
                Some(level) if level_rank(level) >= min.rank() => {}
                _ => return false,
            }
        }
        if let Some(services) = &self.services {
            match &event.service {
                Some(service) if services.contains(service) => {}
                _ => return false,
            }
        }
        if let Some(fingerprints) = &self.fingerprints {
            match event.fingerprint {
                Some(fp) if fingerprints.contains(&fp) => {}
                _ => return false,
            }
        }
        self.matches_slow(event)
    }

    /// Attribute, text and regex conditions.
    fn matches_slow(&self, event: &Event) -> bool {
        for (key, expected) in &self.attributes {
            match event.attr(key) {
                Some(value) if expected.matches(value) => {}
                _ => return false,
            }
        }
        if !self.has_attributes.iter().all(|k| event.attr(k).is_some()) {
            return false;
        }
        if let Some(contains) = &self.contains
            && !contains.is_match(&event.message)
        {
            return false;
        }
        if let Some(regex) = &self.regex
            && !regex.is_match(&event.message)
        {
            return false;
        }
        true
    }

    /// The level floor, for default titles.
    pub fn min_level(&self) -> Option<LevelName> {
        self.min_level
    }

    /// The service named when the matcher allows exactly one.
    pub fn pinned_service(&self) -> Option<&str> {
        self.pinned_service.as_deref()
    }

    /// The fingerprint named when the matcher allows exactly one.
    pub fn pinned_fingerprint(&self) -> Option<u64> {
        self.pinned_fingerprint
    }

    /// The services listed in `match.service`, if any.
    pub fn listed_services(&self) -> Vec<&str> {
        match &self.services {
            Some(StrSet::Small(items)) => items.iter().map(|s| &**s).collect(),
            Some(StrSet::Large(items)) => {
                let mut list: Vec<&str> = items.iter().map(|s| &**s).collect();
                list.sort_unstable();
                list
            }
            None => Vec::new(),
        }
    }
}
