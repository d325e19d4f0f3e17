//! The properties each fuzz target checks, one module per target, with the
//! input layout each target reads, so seeds (`examples/seeds.rs`) are written
//! in that layout and a crash input replays against exactly what the fuzzer
//! ran (`cargo xtask fuzz --replay <target> <file>`).
//!
//! Every target asserts more than "does not panic": a body that is accepted
//! (on `/v1/logs` or a shipper's endpoint) respects every limit and yields
//! valid events, a pipeline file that loads is within its bounds, and
//! plugin output the host accepts re-encodes to itself.

use std::io::Write;

use sluice_formats::InputError;
use sluice_formats::body::DecodeLimits;

pub mod ingest_body;
pub mod pipeline_file;
pub mod plugin_output;
pub mod shipper_body;

/// `bytes` gzip-compressed, so a target can hand a decoder valid gzip whose
/// inflated content is the fuzzer's.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// What every ingest decoder promises: accepted payloads within the event
/// and line limits (and JSON objects where `json`), refusals a 4xx with a
/// message.
pub fn check_decoded(result: Result<Vec<String>, InputError>, limits: &DecodeLimits, json: bool) {
    match result {
        Ok(payloads) => {
            assert!(
                payloads.len() <= limits.max_events,
                "more events than the limit"
            );
            for payload in &payloads {
                assert!(
                    payload.len() <= limits.max_line_bytes,
                    "payload over the line limit"
                );
                if json {
                    let value: serde_json::Value =
                        serde_json::from_str(payload).expect("a JSON payload must parse");
                    assert!(value.is_object(), "a JSON payload must be an object");
                }
            }
        }
        Err(error) => {
            assert!(error.status.is_client_error(), "{error:?} is not a 4xx");
            assert!(!error.message.is_empty(), "an error without a message");
        }
    }
}
