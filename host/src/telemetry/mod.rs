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
