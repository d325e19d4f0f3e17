//! Per (tenant, step) circuit breaker: a plugin that keeps faulting for one
//! tenant is quarantined for that tenant only, so it stops burning worker
//! time that other tenants need.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Window over which faults are counted.
const WINDOW: Duration = Duration::from_secs(60);

/// Counts faults in a sliding minute and opens at a threshold.
#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    faults: VecDeque<Instant>,
    open_until: Option<Instant>,
}

/// What a state change of the breaker means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changed.
    None,
    /// The breaker just opened: the step is now quarantined.
    Opened,
    /// The cool-down ended: the step is tried again.
    Closed,
}

impl Breaker {
    /// A breaker that opens after `threshold` faults within a minute and stays
    /// open for `cooldown`. A threshold of 0 never opens.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold,
            cooldown,
            faults: VecDeque::new(),
            open_until: None,
        }
    }

    /// Record one fault at `now`.
    pub fn record_fault(&mut self, now: Instant) -> Transition {
        self.faults.push_back(now);
        while self
            .faults
            .front()
            .is_some_and(|t| now.duration_since(*t) > WINDOW)
        {
            self.faults.pop_front();
        }
        if self.threshold > 0
            && self.open_until.is_none()
            && self.faults.len() >= self.threshold as usize
        {
            self.open_until = Some(now + self.cooldown);
            return Transition::Opened;
        }
        Transition::None
    }

    /// Open the breaker at once (unless it never opens): for a batch whose
    /// faults could not all be isolated, where waiting for more faults would
    /// cost a whole recovery budget of worker time per batch.
    pub fn trip(&mut self, now: Instant) -> Transition {
        if self.threshold == 0 || self.open_until.is_some() {
            return Transition::None;
        }
        self.open_until = Some(now + self.cooldown);
        Transition::Opened
    }

    /// Whether the step is quarantined at `now`; closes the breaker (and
    /// forgets old faults) once the cool-down is over.
    pub fn check(&mut self, now: Instant) -> (bool, Transition) {
        match self.open_until {
            Some(until) if now < until => (true, Transition::None),
            Some(_) => {
                self.open_until = None;
                self.faults.clear();
                (false, Transition::Closed)
            }
            None => (false, Transition::None),
        }
    }

    /// Whether the breaker is open, without changing it.
    pub fn is_open(&self) -> bool {
        self.open_until.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_threshold_within_a_minute_and_closes_after_cooldown() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(3, Duration::from_secs(30));
        assert_eq!(breaker.record_fault(t0), Transition::None);
        assert_eq!(
            breaker.record_fault(t0 + Duration::from_secs(1)),
            Transition::None
        );
        assert_eq!(
            breaker.check(t0 + Duration::from_secs(2)),
            (false, Transition::None)
        );
        assert_eq!(
            breaker.record_fault(t0 + Duration::from_secs(2)),
            Transition::Opened
        );
        assert_eq!(
            breaker.check(t0 + Duration::from_secs(31)),
            (true, Transition::None)
        );
        assert_eq!(
            breaker.check(t0 + Duration::from_secs(33)),
            (false, Transition::Closed)
        );
        // Faults before the quarantine no longer count.
        assert_eq!(
            breaker.record_fault(t0 + Duration::from_secs(34)),
            Transition::None
        );
    }

    #[test]
    fn faults_older_than_a_minute_do_not_count() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(2, Duration::from_secs(30));
        breaker.record_fault(t0);
        assert_eq!(
            breaker.record_fault(t0 + Duration::from_secs(61)),
            Transition::None
        );
        assert!(!breaker.is_open());
    }

    #[test]
    fn trip_opens_at_once_for_the_cooldown_and_only_once() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(5, Duration::from_secs(30));
        assert_eq!(breaker.trip(t0), Transition::Opened);
        assert!(breaker.is_open());
        assert_eq!(breaker.trip(t0), Transition::None, "already open");
        assert_eq!(
            breaker.check(t0 + Duration::from_secs(29)),
            (true, Transition::None)
        );
        assert_eq!(
            breaker.check(t0 + Duration::from_secs(31)),
            (false, Transition::Closed)
        );
    }

    #[test]
    fn trip_respects_a_breaker_that_never_opens() {
        let mut breaker = Breaker::new(0, Duration::from_secs(30));
        assert_eq!(breaker.trip(Instant::now()), Transition::None);
        assert!(!breaker.is_open());
    }

    #[test]
    fn zero_threshold_never_opens() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(0, Duration::from_secs(30));
        for i in 0..100 {
            assert_eq!(
                breaker.record_fault(t0 + Duration::from_millis(i)),
                Transition::None
            );
        }
    }
}
