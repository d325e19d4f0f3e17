//! Sluice: a multi-tenant log stream processor whose processing steps are
//! sandboxed WebAssembly plugins. See `ARCHITECTURE.md` for the map.

pub mod api;
pub mod cli;
pub mod config;
pub mod event;
pub mod ingest;
pub mod notify;
pub mod pipeline;
pub mod queue;
pub mod runner;
pub mod runtime;
pub mod server;
pub mod store;
pub mod telemetry;
