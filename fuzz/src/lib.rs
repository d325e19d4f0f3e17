//! The properties each fuzz target checks, one module per target, with the
//! input layout each target reads, so seeds (`examples/seeds.rs`) are written
//! in that layout and a crash input replays against exactly what the fuzzer
//! ran (`cargo xtask fuzz --replay <target> <file>`).
//!
//! Every target asserts more than "does not panic": a body that is accepted
//! (on `/v1/logs` or a shipper's endpoint) respects every limit and yields
//! valid events, a pipeline file that loads is within its bounds, and
//! plugin output the host accepts re-encodes to itself.

pub mod ingest_body;
pub mod pipeline_file;
pub mod plugin_output;
pub mod shipper_body;
