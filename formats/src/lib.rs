//! What reaches Sluice as untrusted text or bytes from outside the process:
//! request bodies ([`body`] for `/v1/logs`, [`shippers`] for the OTLP, Loki
//! and Elasticsearch protocols) and pipeline files ([`pipeline`]), with the
//! limits and error shapes they are checked against.
//!
//! This crate depends on nothing heavier than serde, toml, flate2 and the
//! protocols' prost types, so the fuzz targets in `fuzz/` can instrument it without building the plugin
//! runtime, the Kafka client or the database drivers. The service crate
//! re-exports everything here where it used to live.

pub mod body;
pub mod error;
pub mod limits;
pub mod pipeline;
pub mod shippers;

pub use error::InputError;
pub use limits::{QuarantinePolicy, StepLimits};
pub use pipeline::IncidentChangeKind;
