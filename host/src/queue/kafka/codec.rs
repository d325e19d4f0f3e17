//! Events on the wire: postcard (compact, schema-less) over the very types
//! generated from the WIT contract. A message that does not decode is not
//! lost: it becomes a dead letter carrying its bytes.

use crate::runtime::Event;

/// Encode an event for the queue.
pub fn encode(event: &Event) -> Vec<u8> {
    postcard::to_stdvec(event).unwrap_or_default()
}

/// Decode an event from the queue.
pub fn decode(bytes: &[u8]) -> Result<Event, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Attribute, Level, Value};

    #[test]
    fn round_trips_every_field() {
        let event = Event {
            id: "0193".into(),
            tenant: "acme".into(),
            project: Some("1".into()),
            received_ns: 1,
            timestamp_ns: Some(-5),
            service: Some("api".into()),
            level: Some(Level::Warn),
            message: "m".into(),
            attributes: vec![Attribute {
                key: "k".into(),
                value: Value::Float(1.5),
            }],
            raw: Some("{}".into()),
            fingerprint: Some(u64::MAX),
            template: Some("t".into()),
        };
        assert_eq!(decode(&encode(&event)).unwrap(), event);
        assert!(decode(b"\xff\xff\xff").is_err());
    }
}
