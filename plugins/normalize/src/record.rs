//! What a format parser produces, before it is moved into the event.
//!
//! Parsers write into a [`Record`] rather than the event itself so that a
//! parser that gives up half-way leaves nothing behind. Named fields (JSON
//! keys, logfmt keys, pattern captures) go through [`Record::field`], which
//! applies renames, recognises the event's own fields by name and coerces
//! attribute types, so every format treats names the same way.

use sluice_plugin_sdk::{Attribute, Level, Value};

use crate::config::{FieldType, Role, Settings};
use crate::level::{level_from_number, parse_level};
use crate::time::{self, TimeCtx};

/// Attribute holding a level text no spelling matched.
pub const LEVEL_RAW: &str = "level_raw";
/// Attribute holding a timestamp text no layout matched.
pub const TIMESTAMP_RAW: &str = "timestamp_raw";
/// Attribute saying why a payload was kept unparsed.
pub const PARSE_ERROR: &str = "parse_error";

/// Everything a parser needs to know besides the payload.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// Compiled config.
    pub settings: &'a Settings,
    /// Received time and default offset.
    pub time: TimeCtx,
    /// strptime layout for the `timestamp` field, when a pattern gives one.
    pub timestamp_format: Option<&'a str>,
    /// The payload line that spans ([`Message::Span`]) refer to.
    pub line: &'a str,
}

/// A field value as a parser found it.
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Str(&'a str),
    /// JSON text of an array or a too-deep object.
    Json(&'a str),
}

/// The message: a byte range of the payload line (moved, not copied, when
/// the payload is not kept) or text of its own.
#[derive(Debug, Default)]
pub enum Message {
    /// No message found.
    #[default]
    None,
    /// `line[start..end]`.
    Span(usize, usize),
    /// Text built by the parser (unescaped JSON, for instance).
    Owned(String),
}

impl Message {
    /// The rest of `line` from `start`, without surrounding whitespace
    /// (layout, not text).
    pub fn tail(line: &str, start: usize) -> Message {
        Message::trimmed(line, start, line.len())
    }

    /// `line[start..end]` without surrounding whitespace.
    pub fn trimmed(line: &str, start: usize, end: usize) -> Message {
        let text = &line[start.min(end)..end];
        let start = end - text.trim_start().len();
        Message::Span(start, start + text.trim().len())
    }
}

/// A parsed payload.
#[derive(Debug, Default)]
pub struct Record {
    /// The message.
    pub message: Message,
    /// The level.
    pub level: Option<Level>,
    /// The event time, UTC ns.
    pub timestamp_ns: Option<i64>,
    /// The service.
    pub service: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// Everything else.
    pub attributes: Vec<Attribute>,
    /// Priority of the name that filled each role (lower wins), by role
    /// index; `u8::MAX` when unset or filled by a fixed-layout parser.
    prio: [u8; 5],
}

impl Record {
    /// Forget everything, keeping allocations.
    pub fn clear(&mut self) {
        self.message = Message::None;
        self.level = None;
        self.timestamp_ns = None;
        self.service = None;
        self.project = None;
        self.attributes.clear();
        self.prio = [u8::MAX; 5];
    }

    /// A named field: renamed, then either one of the event's own fields
    /// (by the `fields` config) or an attribute.
    pub fn field(&mut self, key: &str, value: Scalar<'_>, ctx: &Ctx<'_>) {
        let key = rename(key, ctx.settings);
        if !matches!(value, Scalar::Null)
            && let Some(role) = self.claim(key, ctx)
        {
            self.set_role(role, key, value, ctx);
            return;
        }
        self.attr_value(key, scalar_value(value), ctx);
    }

    /// A text field that is `line[start..end]`: as [`Record::field`], but a
    /// message keeps the span (it will reuse the payload's buffer).
    pub fn field_span(&mut self, key: &str, line: &str, start: usize, end: usize, ctx: &Ctx<'_>) {
        let key = rename(key, ctx.settings);
        let text = &line[start..end];
        match self.claim(key, ctx) {
            Some(Role::Message) => self.message = Message::Span(start, end),
            Some(role) => self.set_role(role, key, Scalar::Str(text), ctx),
            None => self.attr_value(key, Value::Text(text.to_owned()), ctx),
        }
    }

    /// If `key` names a role it may fill (unset, or set by a name of lower
    /// precedence), empty the role — a displaced value moves to an attribute
    /// under its own name — and take it for `key`.
    #[inline]
    fn claim(&mut self, key: &str, ctx: &Ctx<'_>) -> Option<Role> {
        let (role, prio) = ctx.settings.role_of(key)?;
        let held = self.prio[role.index()];
        if held != u8::MAX && held <= prio {
            return None;
        }
        if let Some(old) = self.take_role(role, ctx.line) {
            let old_key = ctx.settings.roles.name(role, held).unwrap_or(key);
            self.attr_value(old_key, old, ctx);
        }
        self.prio[role.index()] = prio;
        Some(role)
    }

    /// An attribute from a fixed-layout parser: renamed and coerced like
    /// named fields, but never taken for one of the event's own fields.
    pub fn attr(&mut self, key: &str, value: Value, ctx: &Ctx<'_>) {
        let key = rename(key, ctx.settings);
        self.attr_value(key, value, ctx);
    }

    fn attr_value(&mut self, key: &str, value: Value, ctx: &Ctx<'_>) {
        let value = match ctx.settings.types.get(key) {
            Some(kind) => coerce(value, *kind),
            None => value,
        };
        self.attributes.push(Attribute {
            key: key.to_owned(),
            value,
        });
    }

    /// Set the level from text; unknown spellings are kept in `level_raw`.
    pub fn level_text(&mut self, text: &str, ctx: &Ctx<'_>) {
        match parse_level(text.trim()) {
            Some(level) => self.level = Some(level),
            None if text.trim().is_empty() => {}
            None => self.attr(LEVEL_RAW, Value::Text(text.to_owned()), ctx),
        }
    }

    /// Set the timestamp from text; unknown layouts are kept in
    /// `timestamp_raw` (the event then takes its received time).
    pub fn timestamp_text(&mut self, text: &str, ctx: &Ctx<'_>) {
        let ns = match ctx.timestamp_format {
            Some(format) => time::parse_with_format(text, format, &ctx.time),
            None => time::parse_full(text, &ctx.time),
        };
        match ns {
            Some(ns) => self.timestamp_ns = Some(ns),
            None if text.trim().is_empty() => {}
            None => self.attr(TIMESTAMP_RAW, Value::Text(text.to_owned()), ctx),
        }
    }

    /// Empty a role, returning its value as an attribute value.
    fn take_role(&mut self, role: Role, line: &str) -> Option<Value> {
        match role {
            Role::Message => match std::mem::take(&mut self.message) {
                Message::Owned(s) => Some(Value::Text(s)),
                Message::Span(start, end) => {
                    line.get(start..end).map(|s| Value::Text(s.to_owned()))
                }
                Message::None => None,
            },
            Role::Level => self
                .level
                .take()
                .map(|l| Value::Text(l.as_str().to_owned())),
            Role::Timestamp => self.timestamp_ns.take().map(Value::Integer),
            Role::Service => self.service.take().map(Value::Text),
            Role::Project => self.project.take().map(Value::Text),
        }
    }

    fn set_role(&mut self, role: Role, key: &str, value: Scalar<'_>, ctx: &Ctx<'_>) {
        match role {
            Role::Message => self.message = Message::Owned(scalar_text(value)),
            Role::Service => self.service = Some(scalar_text(value)),
            Role::Project => self.project = Some(scalar_text(value)),
            Role::Level => match value {
                Scalar::Str(text) => self.level_text(text, ctx),
                Scalar::Int(n) => match level_from_number(n) {
                    Some(level) => self.level = Some(level),
                    None => self.attr(LEVEL_RAW, Value::Integer(n), ctx),
                },
                other => self.attr_value(key, scalar_value(other), ctx),
            },
            Role::Timestamp => match value {
                Scalar::Str(text) => self.timestamp_text(text, ctx),
                Scalar::Int(n) => self.timestamp_ns = time::epoch_integer(n),
                Scalar::Float(f) => self.timestamp_ns = time::epoch_float(f),
                other => self.attr_value(key, scalar_value(other), ctx),
            },
        }
    }
}

fn rename<'a>(key: &'a str, settings: &'a Settings) -> &'a str {
    if settings.rename.is_empty() {
        return key;
    }
    settings.rename.get(key).map_or(key, String::as_str)
}

fn scalar_text(value: Scalar<'_>) -> String {
    match value {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(n) => n.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Str(s) | Scalar::Json(s) => s.to_owned(),
    }
}

/// The attribute value of a scalar.
pub fn scalar_value(value: Scalar<'_>) -> Value {
    match value {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Boolean(b),
        Scalar::Int(n) => Value::Integer(n),
        Scalar::Float(f) => Value::Float(f),
        Scalar::Str(s) => Value::Text(s.to_owned()),
        Scalar::Json(s) => Value::Json(s.to_owned()),
    }
}

/// Text converted to `kind`; text that does not convert stays text.
pub fn coerce_str(text: &str, kind: FieldType) -> Scalar<'_> {
    let t = text.trim();
    let converted = match kind {
        FieldType::Int => t.parse().ok().map(Scalar::Int),
        FieldType::Float => t.parse().ok().map(Scalar::Float),
        FieldType::Bool => parse_bool(t).map(Scalar::Bool),
        FieldType::String => None,
    };
    converted.unwrap_or(Scalar::Str(text))
}

fn parse_bool(t: &str) -> Option<bool> {
    const TRUE: &[&str] = &["true", "yes", "on", "1"];
    const FALSE: &[&str] = &["false", "no", "off", "0"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// Convert a value to `kind`; a value that does not convert is returned
/// unchanged (the original text is worth more than a null).
pub fn coerce(value: Value, kind: FieldType) -> Value {
    match (kind, value) {
        (FieldType::Int, Value::Text(s)) => match s.trim().parse::<i64>() {
            Ok(n) => Value::Integer(n),
            Err(_) => Value::Text(s),
        },
        (FieldType::Int, Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
            Value::Integer(f as i64)
        }
        (FieldType::Float, Value::Text(s)) => match s.trim().parse::<f64>() {
            Ok(f) => Value::Float(f),
            Err(_) => Value::Text(s),
        },
        (FieldType::Float, Value::Integer(n)) => Value::Float(n as f64),
        (FieldType::Bool, Value::Text(s)) => match parse_bool(s.trim()) {
            Some(b) => Value::Boolean(b),
            None => Value::Text(s),
        },
        (FieldType::Bool, Value::Integer(n)) if n == 0 || n == 1 => Value::Boolean(n == 1),
        (FieldType::String, Value::Integer(n)) => Value::Text(n.to_string()),
        (FieldType::String, Value::Float(f)) => Value::Text(f.to_string()),
        (FieldType::String, Value::Boolean(b)) => Value::Text(b.to_string()),
        (_, value) => value,
    }
}
