//! The `redact` standard plugin: nothing sensitive reaches storage.
//!
//! Every event's message, every textual attribute value (and large integers,
//! which can be card or phone numbers) and the raw payload, if still
//! present, go through one [`detect::Detector`]; findings are replaced by a
//! type label, a keyed hash or a partial mask ([`replace`]). An event with no
//! finding is answered [`Verdict::Unchanged`], so nothing is copied back.
//!
//! The detector is a plain struct, so the accuracy scorer ([`score`]) and
//! the throughput example run exactly the code the plugin runs.

pub mod config;
pub mod detect;
pub mod replace;
#[cfg(not(target_family = "wasm"))]
pub mod score;

use sluice_plugin_sdk::{
    ConfigError, Event, InitContext, Output, Plugin, PluginError, Value, Verdict, export_plugin,
};

pub use config::Config;
use config::{KeyRule, REDACTED_LABEL, SECRET_KEY};
use detect::{Detector, Scratch};
use replace::Replacer;

/// Integers with at least this many digits are checked too (phones, cards).
const MIN_INTEGER_DIGITS: i64 = 1_000_000;

/// Detector, replacement and key rules for one tenant's step.
pub struct Redactor {
    detector: Detector,
    scratch: Scratch,
    replacer: Replacer,
    /// Replacement text is built here, then copied into the field's own
    /// buffer: a redacted field usually shrinks, so nothing is allocated.
    buffer: String,
    skip_keys: Vec<KeyRule>,
    redact_keys: Vec<KeyRule>,
    secret_keys: bool,
}

impl Redactor {
    /// Build from a config; errors name the setting.
    pub fn new(config: Config) -> Result<Self, String> {
        let resolved = config.resolve()?;
        let detector = Detector::new(&resolved.detector)?;
        let replacer = Replacer::new(
            resolved.labels,
            resolved.modes,
            resolved.hash_secret.as_deref().map(str::as_bytes),
        )?;
        Ok(Self {
            scratch: detector.scratch(),
            detector,
            replacer,
            buffer: String::new(),
            skip_keys: resolved.skip_keys,
            redact_keys: resolved.redact_keys,
            secret_keys: resolved.secret_keys,
        })
    }

    /// The detector this redactor runs.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// `text` with its findings replaced, or `None` when it has none.
    /// `key` is the attribute key when `text` is an attribute value.
    pub fn redact_text(&mut self, text: &str, key: Option<&str>) -> Option<String> {
        let spans = self.detector.detect(text, key, &mut self.scratch);
        (!spans.is_empty()).then(|| self.replacer.apply(text, spans))
    }

    /// Redact `text` in place; returns whether it changed.
    pub fn redact_in_place(&mut self, text: &mut String, key: Option<&str>) -> bool {
        let spans = self.detector.detect(text, key, &mut self.scratch);
        if spans.is_empty() {
            return false;
        }
        self.buffer.clear();
        self.replacer.apply_into(text, spans, &mut self.buffer);
        text.clear();
        text.push_str(&self.buffer);
        true
    }

    /// Redact every field of `event` in place; returns whether it changed.
    pub fn redact_event(&mut self, event: &mut Event) -> bool {
        let mut changed = self.redact_in_place(&mut event.message, None);
        for attr in &mut event.attributes {
            changed |= self.redact_attribute(&attr.key, &mut attr.value);
        }
        if let Some(raw) = &mut event.raw {
            changed |= self.redact_in_place(raw, None);
        }
        changed
    }

    fn redact_attribute(&mut self, key: &str, value: &mut Value) -> bool {
        if matches!(value, Value::Null | Value::Boolean(_))
            || self.skip_keys.iter().any(|r| r.matches(key))
        {
            return false;
        }
        let whole = if self.redact_keys.iter().any(|r| r.matches(key)) {
            Some(REDACTED_LABEL.to_owned())
        } else if self.secret_keys && detect::key_is_secret(key) {
            Some(self.replacer.whole(SECRET_KEY, &value_text(value)))
        } else {
            None
        };
        if let Some(replacement) = whole {
            if value.as_str().is_some_and(|s| s.is_empty() || is_label(s)) {
                return false;
            }
            *value = Value::Text(replacement);
            return true;
        }
        match value {
            Value::Text(s) | Value::Json(s) => self.redact_in_place(s, Some(key)),
            Value::Integer(n) if n.unsigned_abs() >= MIN_INTEGER_DIGITS.unsigned_abs() => {
                match self.redact_text(&n.to_string(), Some(key)) {
                    Some(new) => {
                        *value = Value::Text(new);
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }
}

/// Already a replacement (`[SECRET]`, `[EMAIL:3f9a1c0b2e7d]`), so running
/// the step twice changes nothing.
fn is_label(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
        return false;
    };
    let name = inner.split_once(':').map_or(inner, |(n, _)| n);
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Text(s) | Value::Json(s) => s.clone(),
        Value::Integer(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

/// The plugin: one [`Redactor`] per (tenant, step).
pub struct Redact {
    redactor: Redactor,
}

impl Plugin for Redact {
    type Config = Config;

    fn new(config: Config, _context: &InitContext) -> Result<Self, ConfigError> {
        Ok(Self {
            redactor: Redactor::new(config).map_err(ConfigError::msg)?,
        })
    }

    fn process(&mut self, event: &mut Event, _out: &mut Output) -> Result<Verdict, PluginError> {
        Ok(match self.redactor.redact_event(event) {
            true => Verdict::Changed,
            false => Verdict::Unchanged,
        })
    }
}

export_plugin!(Redact);

#[cfg(test)]
mod tests;
