//! The log shippers' wire formats: OTLP/HTTP logs, Loki push, the
//! Elasticsearch bulk API. Each decoder turns a request into one
//! normalize-ready JSON payload per record ([`record`]), so the tenant's
//! pipeline still decides what an event is; the service's endpoints wrap
//! them (`host/src/ingest/`).

pub mod elastic;
pub mod loki;
pub mod otlp;
pub mod record;
