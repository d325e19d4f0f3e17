//! Tenant-defined formats: regular expressions with named captures, or grok
//! expressions, compiled once and tried in order.

use std::collections::BTreeMap;

use regex::{CaptureLocations, Regex};
use sluice_plugin_sdk::ConfigError;

use crate::config::{FieldType, PatternConfig};
use crate::grok::{self, GROUP_PREFIX};
use crate::record::{Ctx, Record, coerce_str};

/// Largest compiled regex we accept from a tenant; bounds the memory one
/// config can make an instance hold (the regex crate's default is 10 MiB).
const PATTERN_SIZE_LIMIT: usize = 4 << 20;

/// One compiled tenant pattern.
#[derive(Debug)]
pub struct Pattern {
    regex: Regex,
    /// Per capture group index: the field it fills and its coercion.
    fields: Vec<Option<(String, Option<FieldType>)>>,
    timestamp_format: Option<String>,
}

/// Compile every pattern, naming the first bad one.
pub fn compile_all(
    configs: &[PatternConfig],
    user: &BTreeMap<String, String>,
) -> Result<Vec<Pattern>, ConfigError> {
    for name in user.keys() {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ConfigError::msg(format!(
                "`grok.{name}`: pattern names are letters, digits and `_`"
            )));
        }
        let expanded = grok::expand(&format!("%{{{name}}}"), user)
            .map_err(|e| ConfigError::msg(format!("`grok.{name}`: {e}")))?;
        Regex::new(&expanded.regex)
            .map_err(|e| ConfigError::msg(format!("`grok.{name}`: invalid regex: {e}")))?;
    }
    configs
        .iter()
        .enumerate()
        .map(|(i, config)| {
            let label = match &config.name {
                Some(name) => format!("`patterns[{i}]` ({name:?})"),
                None => format!("`patterns[{i}]`"),
            };
            compile(config, user).map_err(|e| ConfigError::msg(format!("{label}: {e}")))
        })
        .collect()
}

fn compile(config: &PatternConfig, user: &BTreeMap<String, String>) -> Result<Pattern, String> {
    let (source, generated) = match (&config.regex, &config.grok) {
        (Some(regex), None) => (regex.clone(), Vec::new()),
        (None, Some(expr)) => {
            let expanded = grok::expand(expr, user)?;
            (expanded.regex, expanded.fields)
        }
        _ => return Err("set exactly one of `regex` or `grok`".to_owned()),
    };
    let regex = regex::RegexBuilder::new(&source)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regex: {e}"))?;
    let mut fields = Vec::with_capacity(regex.captures_len());
    for name in regex.capture_names() {
        let field = match name {
            None => None,
            Some(group) if group.starts_with(GROUP_PREFIX) => generated
                .iter()
                .find(|(g, _, _)| g == group)
                .map(|(_, field, kind)| (field.clone(), *kind)),
            Some(group) => Some((group.to_owned(), None)),
        };
        fields.push(field);
    }
    if fields.iter().all(Option::is_none) {
        return Err("no named captures: nothing would be extracted \
                    (use `(?P<field>...)` or `%{PATTERN:field}`)"
            .to_owned());
    }
    if config
        .timestamp_format
        .as_deref()
        .is_some_and(|f| !f.contains('%'))
    {
        return Err("`timestamp_format` has no `%` directive".to_owned());
    }
    Ok(Pattern {
        regex,
        fields,
        timestamp_format: config.timestamp_format.clone(),
    })
}

impl Pattern {
    /// Reusable capture storage for this pattern.
    pub fn locations(&self) -> CaptureLocations {
        self.regex.capture_locations()
    }

    /// Match `line`; on a match, fill `rec` and return true.
    pub fn apply(
        &self,
        line: &str,
        locs: &mut CaptureLocations,
        rec: &mut Record,
        ctx: &Ctx<'_>,
    ) -> bool {
        if self.regex.captures_read(locs, line).is_none() {
            return false;
        }
        let ctx = Ctx {
            timestamp_format: self.timestamp_format.as_deref(),
            ..*ctx
        };
        for (i, field) in self.fields.iter().enumerate() {
            let (Some((name, kind)), Some((start, end))) = (field, locs.get(i)) else {
                continue;
            };
            match kind {
                Some(kind) => rec.field(name, coerce_str(&line[start..end], *kind), &ctx),
                None => {
                    // A capture's surrounding whitespace is layout, not text.
                    let text = &line[start..end];
                    let start = end - text.trim_start().len();
                    let end = start + text.trim().len();
                    rec.field_span(name, line, start, end, &ctx)
                }
            }
        }
        true
    }
}
