//! One shipper record (an OTLP log record, a Loki entry) as the JSON object
//! the normalize plugin reads: its own fields under the names normalize
//! knows (`timestamp`, `level`, `service`, `project`, `message`), ids
//! (`trace_id`, `span_id`) and everything else as flat attributes.
//!
//! Protocols decode into this rather than into events so the tenant's
//! pipeline still decides what an event is: one parser, one set of rules,
//! whatever the wire format.

use serde_json::{Map, Value};

/// Prefix of an attribute whose name is one of the fields this record sets
/// itself (an OTLP attribute called `message` next to a body): it is kept as
/// `attributes.message` rather than overwriting or being overwritten.
const SHADOWED_PREFIX: &str = "attributes.";

/// A record under construction.
#[derive(Debug, Default)]
pub struct Record {
    own: Map<String, Value>,
    attributes: Map<String, Value>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// The event time, from nanoseconds since the Unix epoch; 0 (unknown in
    /// OTLP) and times outside jiff's range leave it unset, so the pipeline
    /// falls back to the time received.
    pub fn timestamp_ns(&mut self, nanos: i128) -> &mut Self {
        if nanos != 0
            && let Ok(time) = jiff::Timestamp::from_nanosecond(nanos)
        {
            self.own
                .insert("timestamp".into(), Value::String(time.to_string()));
        }
        self
    }

    /// One of the record's own fields (`level`, `service`, `project`,
    /// `message`, `trace_id`, `span_id`); empty text leaves it unset.
    pub fn set(&mut self, field: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        if !value.is_empty() {
            self.own.insert(field.to_owned(), Value::String(value));
        }
        self
    }

    /// Whether an own field is set.
    pub fn has(&self, field: &str) -> bool {
        self.own.contains_key(field)
    }

    /// An attribute; a later value for the same key replaces an earlier one
    /// (so record attributes win over scope and resource ones when added
    /// last). Nested objects are flattened by normalize into dotted keys.
    pub fn attribute(&mut self, key: impl Into<String>, value: Value) -> &mut Self {
        self.attributes.insert(key.into(), value);
        self
    }

    /// The payload: one JSON object, own fields first.
    pub fn into_payload(self) -> String {
        let Record {
            mut own,
            attributes,
        } = self;
        for (key, value) in attributes {
            if let Some(held) = own.get(&key) {
                // The same value twice (a Loki label `level` that became the
                // level) is said once.
                if *held != value {
                    own.insert(format!("{SHADOWED_PREFIX}{key}"), value);
                }
            } else {
                own.insert(key, value);
            }
        }
        Value::Object(own).to_string()
    }
}

/// Hex of an id of `len` bytes (trace 16, span 8), or nothing when it is
/// all zeros or of another length, which OTLP defines as "no id".
pub fn hex_id(bytes: &[u8], len: usize) -> String {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        String::new()
    } else {
        hex::encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_fields_come_first_and_shadowed_attributes_keep_their_value() {
        let mut record = Record::new();
        record
            .attribute("message", Value::from("from an attribute"))
            .attribute("http.method", Value::from("GET"))
            .timestamp_ns(1_700_000_000_123_456_789)
            .set("message", "hello")
            .set("level", "");
        assert!(!record.has("level"));
        let payload: Value = serde_json::from_str(&record.into_payload()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({
                "timestamp": "2023-11-14T22:13:20.123456789Z",
                "message": "hello",
                "attributes.message": "from an attribute",
                "http.method": "GET",
            })
        );
    }

    #[test]
    fn zero_ids_and_times_mean_none() {
        assert_eq!(hex_id(&[0; 16], 16), "");
        assert_eq!(hex_id(&[], 16), "");
        assert_eq!(hex_id(&[0xab; 7], 8), "");
        assert_eq!(hex_id(&[0xab, 0x01], 2), "ab01");
        let mut record = Record::new();
        record.timestamp_ns(0);
        assert!(!record.has("timestamp"));
    }
}
