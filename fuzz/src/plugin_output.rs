//! What a plugin hands back (`packed-result`), through the host's unpacking
//! and validation. The codec and the checks are the ones the host runs
//! (`sluice_batch_codec::batch_codec!`), expanded here for the SDK's types
//! of the same WIT records.

use sluice_batch_codec::limits::{MAX_EVENT_ATTRIBUTES, MAX_EVENT_BYTES};
use sluice_plugin_sdk::bindings::sluice::plugin::types::{PackedEvents, PackedResult};
use sluice_plugin_sdk::{Alert, Attribute, BatchResult, Event, FingerprintMerge, Level, Outcome, Value};

sluice_batch_codec::batch_codec!();

/// A plugin's answer in the fuzzer's own layout (so seeds can be written
/// from real results): little-endian `u32` lengths, then the parts.
///
/// ```text
/// inputs u16 | outcomes (len u32, bytes) | kept.text (len u32, UTF-8)
/// kept.count u32 | failures u8 | kept.events (the rest)
/// ```
#[derive(Debug)]
pub struct Answer {
    /// How many events the host sent.
    pub inputs: usize,
    /// The packed result as the plugin returned it.
    pub packed: PackedResult,
}

/// Read an [`Answer`]; `None` if the bytes are too short to hold one.
pub fn read(data: &[u8]) -> Option<Answer> {
    let mut at = 0usize;
    let mut take = |n: usize| {
        let part = data.get(at..at.checked_add(n)?)?;
        at += n;
        Some(part)
    };
    let inputs = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
    let outcomes_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let outcomes = take(outcomes_len)?.to_vec();
    let text_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let text = String::from_utf8(take(text_len)?.to_vec()).ok()?;
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let failures = take(1)?[0];
    let events = data[at..].to_vec();
    Some(Answer {
        inputs,
        packed: PackedResult {
            outcomes,
            kept: PackedEvents {
                text,
                events,
                count,
            },
            failures: (0..failures).map(|i| format!("reason {i}")).collect(),
            alerts: Vec::new(),
            merges: Vec::new(),
        },
    })
}

/// The bytes [`read`] turns into `answer` (for seeds).
pub fn write(answer: &Answer) -> Vec<u8> {
    let packed = &answer.packed;
    let mut out = Vec::new();
    out.extend_from_slice(&(answer.inputs as u16).to_le_bytes());
    out.extend_from_slice(&(packed.outcomes.len() as u32).to_le_bytes());
    out.extend_from_slice(&packed.outcomes);
    out.extend_from_slice(&(packed.kept.text.len() as u32).to_le_bytes());
    out.extend_from_slice(packed.kept.text.as_bytes());
    out.extend_from_slice(&packed.kept.count.to_le_bytes());
    out.push(packed.failures.len() as u8);
    out.extend_from_slice(&packed.kept.events);
    out
}

/// The events the host sent: ids `e0`, `e1`, … of tenant `acme`.
pub fn originals(inputs: usize) -> Vec<Event> {
    (0..inputs)
        .map(|i| Event {
            id: format!("e{i}"),
            tenant: "acme".into(),
            project: None,
            received_ns: i as i64,
            timestamp_ns: None,
            service: None,
            level: None,
            message: format!("line {i}"),
            attributes: Vec::new(),
            raw: None,
            fingerprint: None,
            template: None,
        })
        .collect()
}

/// Unpack and validate as the host does; whatever passes must be within
/// the contract's limits and re-encode to itself.
pub fn check(data: &[u8]) {
    let Some(answer) = read(data) else { return };
    let outcomes = answer.packed.outcomes.len();
    let Ok(result) = unpack_result(answer.packed) else {
        return;
    };
    assert_eq!(result.outcomes.len(), outcomes, "one outcome per tag");

    let repacked = pack_result(result.clone());
    let again = unpack_result(repacked.clone()).expect("a packed result unpacks");
    assert_eq!(pack_result(again), repacked, "packing is stable");

    if check_batch(&result, answer.inputs).is_err() {
        assert_ne!(outcomes, answer.inputs, "refused a batch of the right size");
        return;
    }
    let originals = originals(answer.inputs);
    for (original, outcome) in originals.iter().zip(&result.outcomes) {
        if let Outcome::Keep(changed) = outcome
            && check_event(original, changed).is_ok()
        {
            assert_eq!(changed.id, original.id, "accepted a changed id");
            assert_eq!(changed.tenant, original.tenant, "accepted a changed tenant");
            assert!(changed.attributes.len() <= MAX_EVENT_ATTRIBUTES);
            assert!(event_size(changed) <= MAX_EVENT_BYTES);
        }
    }
}

/// Seeds: real results a plugin could return for `inputs` events, one per
/// kind of outcome and attribute value.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for inputs in [1usize, 3, 8] {
        let events = originals(inputs);
        let outcomes = events
            .iter()
            .enumerate()
            .map(|(i, event)| match i % 4 {
                0 => {
                    let mut changed = event.clone();
                    changed.level = Some(Level::Error);
                    changed.service = Some("api".into());
                    changed.fingerprint = Some(42);
                    changed.attributes = vec![
                        Attribute {
                            key: "n".into(),
                            value: Value::Integer(-1),
                        },
                        Attribute {
                            key: "f".into(),
                            value: Value::Float(0.5),
                        },
                        Attribute {
                            key: "t".into(),
                            value: Value::Text("é".into()),
                        },
                        Attribute {
                            key: "j".into(),
                            value: Value::Json("[1]".into()),
                        },
                        Attribute {
                            key: "b".into(),
                            value: Value::Boolean(true),
                        },
                        Attribute {
                            key: "z".into(),
                            value: Value::Null,
                        },
                    ];
                    Outcome::Keep(changed)
                }
                1 => Outcome::Pass,
                2 => Outcome::Drop,
                _ => Outcome::Fail("reason 0".into()),
            })
            .collect();
        let packed = pack_result(BatchResult {
            outcomes,
            alerts: Vec::new(),
            merges: Vec::new(),
        });
        out.push(write(&Answer { inputs, packed }));
    }
    out
}
