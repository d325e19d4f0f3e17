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

/// Every binary that links Sluice (the service, its tests and benchmarks)
/// allocates through mimalloc: events are many small strings made and freed
/// on every step, and glibc's allocator took a third of a worker's time
/// (`BENCHMARKS.md`). Built without transparent huge pages (`no_thp`): with
/// them, each tenant's small allocations held 2 MiB pages, +50 % memory per
/// idle tenant. Version 2 (`v2`): busy tenants held 16 % less than with
/// version 3 (539 against 642 KiB each at 1,000 tenants).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
