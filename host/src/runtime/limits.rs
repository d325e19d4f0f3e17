//! Limits that keep one plugin from hurting anyone else, with the failure or
//! attack each one bounds.

use std::time::Duration;

use wasmtime::ResourceLimiter;

pub use sluice_formats::limits::{
    BREAKER_COOLDOWN, BREAKER_FAULTS_PER_MINUTE, PLUGIN_DEADLINE, PLUGIN_MEMORY_CAP,
    QuarantinePolicy, StepLimits,
};

/// Granularity of epoch interruption. A deadline is enforced to within about
/// one tick; shorter ticks cost more wake-ups of the ticker thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub use sluice_batch_codec::limits::{MAX_ALERTS_PER_CALL, MAX_EVENT_ATTRIBUTES, MAX_EVENT_BYTES};

/// Most events handed to a plugin in one call; a larger batch crosses in
/// several calls within its one deadline. A plugin's linear memory never
/// shrinks, so an instance keeps the heap its largest call needed (the
/// packed batch, the packed answer, what the plugin allocated meanwhile)
/// for the rest of its life. After one 1,000-event batch per tenant, a
/// tenant's four instances held 4.7 MiB when the batch crossed in one call,
/// 1.4 MiB in calls of 128, 1.1 MiB in calls of 64 (`tests/tenants.rs` with
/// `SLUICE_BENCH_BATCH`). With SDK 2 and mimalloc, at 1,000 tenants: 539 KiB
/// in calls of 64, 424 KiB in calls of 32, 381 KiB in calls of 16, where the
/// reference benchmark lost ≈ 5 % (a call costs ≈ 1 µs, `benches/boundary.rs`); 32
/// loses nothing it can see.
pub const MAX_CALL_EVENTS: usize = 32;

/// Most log lines one call may write through the `log` import; the rest are
/// counted and reported as suppressed. Bounds log flooding by one tenant.
pub const MAX_LOG_LINES_PER_CALL: u32 = 64;

/// Longest log line kept from a plugin; longer lines are cut.
pub const MAX_LOG_LINE_BYTES: usize = 4 << 10;

/// How much of a plugin's stderr is kept (the tail, where a panic message
/// lands) to explain a trap in its dead letters.
pub const STDERR_TAIL_BYTES: usize = 8 << 10;

/// Most table elements an instance may hold (function tables). Bounds host
/// memory a plugin can claim outside its linear memory.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Most time the faulting calls of one batch may take while isolating the
/// bad events, in step deadlines. Bounds how long a plugin that faults on
/// everything (a loop times out on every sub-batch) holds its worker, and so
/// every tenant queued behind it on that worker, before the events not yet
/// isolated fail unisolated. Without it a looping plugin cost about one
/// deadline per level of bisection (seven to ten per batch). Isolating one
/// looping event in 1,024 takes about four (a full deadline at the top and
/// for the event itself, tenths between), so five keeps that working.
pub const RECOVERY_DEADLINES: u32 = 5;

/// Enforces an instance's memory cap and remembers a refused growth, so a
/// trap that follows can be reported as "memory limit" rather than a bare
/// `unreachable`.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: usize,
    refused: Option<usize>,
    size: usize,
}

impl MemoryLimiter {
    /// A limiter allowing at most `cap` bytes of linear memory.
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            refused: None,
            size: 0,
        }
    }

    /// The size of the last refused growth since [`Self::reset`], if any.
    pub fn refused(&self) -> Option<usize> {
        self.refused
    }

    /// Forget refused growths (called before each call into the plugin).
    pub fn reset(&mut self) {
        self.refused = None;
    }

    /// The cap in bytes.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The instance's linear memory in bytes: it never shrinks, so this is
    /// the most the instance ever needed.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.refused = Some(desired);
            return Ok(false);
        }
        self.size = self.size.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Epoch ticks to allow for `deadline`: rounded up, plus one because the
/// current tick may be about to end.
pub fn deadline_ticks(deadline: Duration, tick: Duration) -> u64 {
    let tick_ns = tick.as_nanos().max(1);
    let ticks = deadline.as_nanos().div_ceil(tick_ns);
    u64::try_from(ticks).unwrap_or(u64::MAX).max(1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_the_cap_and_refuses_one_page_more() {
        let mut limiter = MemoryLimiter::new(64 << 20);
        assert!(limiter.memory_growing(0, 64 << 20, None).unwrap());
        assert_eq!(limiter.refused(), None);
        assert_eq!(limiter.size(), 64 << 20);
        assert!(!limiter.memory_growing(0, (64 << 20) + 65536, None).unwrap());
        assert_eq!(limiter.refused(), Some((64 << 20) + 65536));
        assert_eq!(limiter.size(), 64 << 20, "a refused growth does not count");
        limiter.reset();
        assert_eq!(limiter.refused(), None);
    }

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        let tick = Duration::from_millis(10);
        assert_eq!(deadline_ticks(Duration::from_millis(100), tick), 11);
        assert_eq!(deadline_ticks(Duration::from_millis(101), tick), 12);
        assert_eq!(deadline_ticks(Duration::from_millis(1), tick), 2);
        assert_eq!(deadline_ticks(Duration::ZERO, tick), 2);
    }
}
