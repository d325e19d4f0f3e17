//! The packed batch encoding (see `packed-events` and `packed-result` in
//! the WIT contract) for the host's generated types: all text in one
//! buffer and the events' fixed-size parts in another, so a batch crosses
//! the boundary in a few copies instead of one allocation per string. The
//! layout lives in `sluice-batch-codec`, shared with the plugin SDK.

use super::bindings::sluice::plugin::types::{PackedEvents, PackedResult};
use super::bindings::{
    Alert, Attribute, BatchResult, Event, FingerprintMerge, Level, Outcome, Value,
};

sluice_batch_codec::batch_codec!();

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: i64) -> Event {
        Event {
            id: format!("id-{i}"),
            tenant: "acme".into(),
            project: (i % 2 == 0).then(|| "p".into()),
            received_ns: i,
            timestamp_ns: (i % 3 == 0).then_some(-i),
            service: Some("api".into()),
            level: [None, Some(Level::Fatal), Some(Level::Trace)][(i % 3) as usize],
            message: format!("message é {i}"),
            attributes: vec![
                Attribute {
                    key: "n".into(),
                    value: Value::Integer(-i),
                },
                Attribute {
                    key: "f".into(),
                    value: Value::Float(0.5),
                },
                Attribute {
                    key: "b".into(),
                    value: Value::Boolean(true),
                },
                Attribute {
                    key: "z".into(),
                    value: Value::Null,
                },
                Attribute {
                    key: "j".into(),
                    value: Value::Json("[1]".into()),
                },
                Attribute {
                    key: "t".into(),
                    value: Value::Text(String::new()),
                },
            ],
            raw: None,
            fingerprint: (i % 2 == 1).then_some(u64::MAX - i as u64),
            template: Some("<*>".into()),
        }
    }

    #[test]
    fn events_and_results_round_trip() {
        let events: Vec<Event> = (0..50).map(event).collect();
        assert_eq!(unpack(&pack(&events)).unwrap(), events);
        assert_eq!(unpack(&pack(&[])).unwrap(), Vec::<Event>::new());

        let result = BatchResult {
            outcomes: vec![
                Outcome::Pass,
                Outcome::Keep(event(1)),
                Outcome::Drop,
                Outcome::Fail("why".into()),
                Outcome::Keep(event(2)),
            ],
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        assert_eq!(unpack_result(pack_result(result.clone())).unwrap(), result);
    }

    #[test]
    fn kept_events_read_over_used_ones_carry_nothing_of_them() {
        let result = BatchResult {
            outcomes: (0..6).map(|i| Outcome::Keep(event(i))).collect(),
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        // Used events with every optional set and more attributes.
        let mut used = || {
            let mut used = Event {
                raw: Some("raw text".into()),
                project: Some("other".into()),
                ..event(7)
            };
            used.attributes.extend(event(8).attributes);
            used
        };
        let read = unpack_result_with(pack_result(result.clone()), &mut used).unwrap();
        assert_eq!(read, result);
    }

    #[test]
    fn malformed_packing_is_an_error() {
        let mut packed = pack(&[event(1)]);
        packed.count = 2;
        assert!(unpack(&packed).is_err(), "more events claimed than packed");
        let mut packed = pack(&[event(1)]);
        packed.events.push(0);
        assert!(unpack(&packed).is_err(), "trailing bytes");
        let mut packed = pack(&[event(1)]);
        packed.text.truncate(3);
        assert!(unpack(&packed).is_err(), "spans past the text");

        let keep_without_event = PackedResult {
            outcomes: vec![1],
            kept: pack(&[]),
            failures: Vec::new(),
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        assert!(unpack_result(keep_without_event).is_err());
        let unknown = PackedResult {
            outcomes: vec![9],
            kept: pack(&[]),
            failures: Vec::new(),
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        assert!(unpack_result(unknown).is_err());
        let leftover = PackedResult {
            outcomes: vec![0],
            kept: pack(&[]),
            failures: vec!["extra".into()],
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        assert!(unpack_result(leftover).is_err());
    }
}
