//! Limits that keep one plugin from hurting anyone else, with the failure or
//! attack each one bounds.

use std::time::Duration;

use serde::Deserialize;
use wasmtime::ResourceLimiter;

/// Default linear-memory cap per instance. Bounds what a leaking or hostile
/// plugin can take from the host: RSS grows by at most this per instance.
pub const PLUGIN_MEMORY_CAP: usize = 64 << 20;

/// Default time budget for one `process` call. Bounds how long a looping
/// plugin can hold a worker before it is interrupted.
pub const PLUGIN_DEADLINE: Duration = Duration::from_millis(100);

/// Granularity of epoch interruption. A deadline is enforced to within about
/// one tick; shorter ticks cost more wake-ups of the ticker thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Largest event a plugin may hand back. Bounds a plugin that inflates
/// events (by bug or on purpose) before they reach queues and stores.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Most attributes an event may carry out of a plugin. Bounds column and
/// index blow-up in the stores.
pub const MAX_EVENT_ATTRIBUTES: usize = 512;

/// Most alerts one call may emit. Bounds alert storms from a broken rule.
pub const MAX_ALERTS_PER_CALL: usize = 1_000;

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

/// Default number of faults per minute after which a step is quarantined
/// for one tenant.
pub const BREAKER_FAULTS_PER_MINUTE: u32 = 5;

/// Default time a quarantined step stays quarantined before it is tried again.
pub const BREAKER_COOLDOWN: Duration = Duration::from_secs(60);

/// What happens to events while their step is quarantined for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuarantinePolicy {
    /// Events go on to the next step as if this step were not there.
    Skip,
    /// Events become dead letters, to be replayed once the plugin is fixed.
    #[default]
    DeadLetter,
}

/// Limits for one pipeline step, from its TOML table, with safe defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLimits {
    /// Linear-memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Time budget for one batch.
    pub deadline: Duration,
    /// Faults per minute that quarantine the step for a tenant.
    pub faults_per_minute: u32,
    /// How long a quarantine lasts.
    pub cooldown: Duration,
    /// What happens to events during a quarantine.
    pub quarantine: QuarantinePolicy,
}

impl Default for StepLimits {
    fn default() -> Self {
        Self {
            memory_bytes: PLUGIN_MEMORY_CAP,
            deadline: PLUGIN_DEADLINE,
            faults_per_minute: BREAKER_FAULTS_PER_MINUTE,
            cooldown: BREAKER_COOLDOWN,
            quarantine: QuarantinePolicy::default(),
        }
    }
}

/// Enforces an instance's memory cap and remembers a refused growth, so a
/// trap that follows can be reported as "memory limit" rather than a bare
/// `unreachable`.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: usize,
    refused: Option<usize>,
}

impl MemoryLimiter {
    /// A limiter allowing at most `cap` bytes of linear memory.
    pub fn new(cap: usize) -> Self {
        Self { cap, refused: None }
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
        assert!(!limiter.memory_growing(0, (64 << 20) + 65536, None).unwrap());
        assert_eq!(limiter.refused(), Some((64 << 20) + 65536));
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
