//! Telemetry as types: each internal event logs one sentence and bumps its
//! counters with bounded labels. ERROR level is reserved for data loss.
//!
//! In: events emitted by every module. Out: `tracing` records and
//! Prometheus metrics (rendered at `/metrics`).

mod events;

pub use events::*;

/// Something worth logging and counting.
pub trait InternalEvent {
    /// Log it and update its metrics.
    fn emit(self);
}

/// Emit an internal event.
pub fn emit(event: impl InternalEvent) {
    event.emit();
}

/// Log to stderr, filtered by `RUST_LOG` (default: info for Sluice, warn
/// for dependencies).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,sluice=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
