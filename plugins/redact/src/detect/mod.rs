//! Finding sensitive spans in one text. In: a text (and, for attribute
//! values, the attribute key as context). Out: non-overlapping spans, each
//! with its detector, as byte offsets into the text.
//!
//! Cost does not grow with the number of rules: ONE byte-class walk
//! ([`scan`]) visits the text; at word starts a 2-byte table over every
//! trigger literal ([`prefilter`]) names the one token rule to try, as an
//! anchored search of ONE combined regex
//! ([`patterns`]); `=`/`:` hand the name before them to the key/value reader
//! ([`keyvalue`]); digit runs go to [`numeric`]; tenant patterns run as one
//! more combined regex. Validators ([`validators`]) run only on candidates.
//! A text without candidates costs that walk and nothing else.

mod keyvalue;
pub mod kinds;
mod names;
mod numeric;
mod patterns;
mod phone;
mod prefilter;
mod rules;
mod scan;
pub mod validators;

use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};

pub use keyvalue::key_is_secret;
use kinds::{Kind, KindSet};

/// Which detector found a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detected {
    /// A built-in detector.
    Builtin(Kind),
    /// The tenant's custom pattern with this index.
    Custom(u16),
}

/// Priority of tenant patterns on overlap: above every built-in detector but
/// private-key blocks.
const CUSTOM_PRIORITY: u8 = 6;

impl Detected {
    fn priority(self) -> u8 {
        match self {
            Detected::Builtin(k) => k.info().priority,
            Detected::Custom(_) => CUSTOM_PRIORITY,
        }
    }
}

/// One finding: `text[start..end]` (byte offsets, on char boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub what: Detected,
}

/// What to build a [`Detector`] from (the detection half of the config).
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// Built-in detectors that run.
    pub enabled: KindSet,
    /// Tenant patterns (regex syntax of the `regex` crate). When a pattern
    /// has a capture group, only group 1 is redacted.
    pub custom: Vec<String>,
    /// Values never redacted (compared ASCII-case-insensitively).
    pub allow: Vec<String>,
    /// Regexes; a value they match entirely is never redacted.
    pub allow_patterns: Vec<String>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            enabled: KindSet::ALL,
            custom: Vec::new(),
            allow: Vec::new(),
            allow_patterns: Vec::new(),
        }
    }
}

/// The compiled detectors; immutable, shared by every text.
pub struct Detector {
    enabled: KindSet,
    wants: scan::Wants,
    rules: patterns::Compiled,
    prefilter: prefilter::Prefilter,
    custom: Option<Regex>,
    allow: Vec<String>,
    allow_re: Option<Regex>,
}

/// Per-caller mutable state: regex caches and span buffers, reused so that
/// detecting allocates nothing in the steady state.
pub struct Scratch {
    rules: patterns::Scratch,
    custom: Option<(meta::Cache, Captures)>,
    allow: Option<meta::Cache>,
    candidates: Vec<Span>,
    spans: Vec<Span>,
    url_ats: Vec<usize>,
}

impl Detector {
    /// Compile `config`. Errors name the offending pattern.
    pub fn new(config: &DetectorConfig) -> Result<Self, String> {
        let rules = patterns::Compiled::new(config.enabled)?;
        let prefilter = prefilter::Prefilter::new(&rules);
        let custom = compile(&config.custom, "custom pattern", |p| p.to_owned())?;
        let allow_re = compile(&config.allow_patterns, "allow pattern", |p| {
            format!("^(?:{p})$")
        })?;
        Ok(Self {
            enabled: config.enabled,
            wants: scan::Wants::new(config.enabled),
            rules,
            prefilter,
            custom,
            allow: config
                .allow
                .iter()
                .map(|v| v.to_ascii_lowercase())
                .collect(),
            allow_re,
        })
    }

    /// Fresh scratch state for this detector.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            rules: self.rules.scratch(),
            custom: self
                .custom
                .as_ref()
                .map(|re| (re.create_cache(), re.create_captures())),
            allow: self.allow_re.as_ref().map(Regex::create_cache),
            candidates: Vec::new(),
            spans: Vec::new(),
            url_ats: Vec::new(),
        }
    }

    /// The sensitive spans of `text`, sorted and non-overlapping. `key` is
    /// the attribute key when `text` is an attribute value: it serves as
    /// context (`phone` → a bare number is a phone number).
    pub fn detect<'s>(
        &self,
        text: &str,
        key: Option<&str>,
        scratch: &'s mut Scratch,
    ) -> &'s [Span] {
        let cand = &mut scratch.candidates;
        cand.clear();
        scratch.url_ats.clear();
        scratch.rules.reset();
        let scanner = scan::Scan {
            enabled: self.enabled,
            wants: self.wants,
            rules: &self.rules,
            triggers: &self.prefilter,
        };
        scanner.run(text, key, &mut scratch.rules, &mut scratch.url_ats, cand);
        if let (Some(re), Some((cache, caps))) = (&self.custom, scratch.custom.as_mut()) {
            custom_matches(re, text, cache, caps, cand);
        }
        scratch.spans.clear();
        if cand.is_empty() {
            return &scratch.spans;
        }
        cand.sort_unstable_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        for &c in cand.iter() {
            if self.allowed(&text[c.start..c.end], &mut scratch.allow) {
                continue;
            }
            match scratch.spans.last_mut() {
                // Overlap: keep the union (nothing leaks), named after the
                // stronger finding.
                Some(last) if c.start < last.end => {
                    let ours = (c.what.priority(), c.end - c.start);
                    let theirs = (last.what.priority(), last.end - last.start);
                    if ours > theirs {
                        last.what = c.what;
                    }
                    last.end = last.end.max(c.end);
                }
                _ => scratch.spans.push(c),
            }
        }
        &scratch.spans
    }

    fn allowed(&self, value: &str, cache: &mut Option<meta::Cache>) -> bool {
        if self.allow.iter().any(|a| a.eq_ignore_ascii_case(value)) {
            return true;
        }
        match (&self.allow_re, cache) {
            (Some(re), Some(cache)) => re
                .search_with(cache, &Input::new(value).anchored(Anchored::Yes))
                .is_some(),
            _ => false,
        }
    }
}

/// One multi-pattern regex from tenant patterns (None when there are none).
fn compile(
    patterns: &[String],
    what: &str,
    wrap: impl Fn(&str) -> String,
) -> Result<Option<Regex>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    for (i, p) in patterns.iter().enumerate() {
        Regex::new(&wrap(p)).map_err(|e| format!("{what} {i} (`{p}`): {e}"))?;
    }
    let wrapped: Vec<String> = patterns.iter().map(|p| wrap(p)).collect();
    Regex::new_many(&wrapped)
        .map(Some)
        .map_err(|e| format!("{what}s: {e}"))
}

/// Every non-empty match of the tenant patterns, group 1 when there is one.
fn custom_matches(
    re: &Regex,
    text: &str,
    cache: &mut meta::Cache,
    caps: &mut Captures,
    out: &mut Vec<Span>,
) {
    let mut at = 0;
    while at <= text.len() {
        re.search_captures_with(cache, &Input::new(text).span(at..text.len()), caps);
        let Some(m) = caps.get_match() else {
            break;
        };
        let (s, e) = caps
            .get_group(1)
            .map_or((m.start(), m.end()), |g| (g.start, g.end));
        if e > s {
            out.push(Span {
                start: s,
                end: e,
                what: Detected::Custom(m.pattern().as_usize() as u16),
            });
        }
        at = if m.is_empty() {
            m.end() + text[m.end()..].chars().next().map_or(1, char::len_utf8)
        } else {
            m.end()
        };
    }
}

#[cfg(test)]
mod tests;
