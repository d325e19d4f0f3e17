//! Conveniences on the WIT-generated event types, so plugin code reads like
//! ordinary Rust.

use crate::{Attribute, Event, Level, Value};

impl Event {
    /// An event carrying only a message: for tests and for plugins that split
    /// one event into several.
    pub fn new(message: impl Into<String>) -> Self {
        Event {
            message: message.into(),
            ..crate::export::codec::blank_event()
        }
    }

    /// An event as ingest hands it to the first step: only the raw payload.
    pub fn from_raw(raw: impl Into<String>) -> Self {
        let mut event = Event::new(String::new());
        event.raw = Some(raw.into());
        event
    }

    /// The value of attribute `key`, if present.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| &a.value)
    }

    /// The text of attribute `key`, if present and textual.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        match self.attr(key)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Set attribute `key`, replacing an existing value.
    pub fn set_attr(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.attributes.iter_mut().find(|a| a.key == key) {
            Some(existing) => existing.value = value,
            None => self.attributes.push(Attribute { key, value }),
        }
    }

    /// Remove attribute `key`, returning its value.
    pub fn remove_attr(&mut self, key: &str) -> Option<Value> {
        let index = self.attributes.iter().position(|a| a.key == key)?;
        Some(self.attributes.remove(index).value)
    }

    /// Builder form of setting the service, for tests.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Builder form of setting the level, for tests.
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Builder form of setting an attribute, for tests.
    pub fn with_attr(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set_attr(key, value);
        self
    }
}

impl Level {
    /// The level's lower-case name, as stores and APIs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

impl Value {
    /// The value as text when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Integer(n)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Float(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_attr_replaces_instead_of_duplicating() {
        let mut e = Event::new("m").with_attr("k", "a");
        e.set_attr("k", 5i64);
        assert_eq!(e.attributes.len(), 1);
        assert_eq!(e.attr("k"), Some(&Value::Integer(5)));
        assert_eq!(e.remove_attr("k"), Some(Value::Integer(5)));
        assert!(e.attributes.is_empty());
    }
}
