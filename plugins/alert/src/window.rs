//! Event time and counting windows.
//!
//! Time is event time: an event's `timestamp_ns`, or `received_ns` when it
//! has none. The [`Clock`]'s watermark is the latest event time seen, and
//! windows end at the watermark, so a replayed backlog is judged by when its
//! events happened, not by when it is processed. Counts live in fixed-size
//! [`BucketRing`]s (a window is [`BUCKETS_PER_WINDOW`] buckets), never in
//! per-event timestamps, so memory per group does not grow with traffic.

/// Buckets per window. A sliding window of length `w` then covers between
/// `w - w/10` and `w` of event time; finer buckets would cost memory per group.
pub const BUCKETS_PER_WINDOW: usize = 10;

/// How far past its `received_ns` an event's own timestamp may lie. A sender
/// whose clock runs hours ahead (a time-zone bug) would otherwise drag the
/// watermark into the future and make every other event look too old to
/// count; such events are counted at their received time plus this skew.
pub const MAX_CLOCK_SKEW_NS: i64 = 5 * 60 * 1_000_000_000;

/// Sample event ids kept per group, as the alert record carries them.
pub const MAX_SAMPLES: usize = 5;

/// Event time of an event, bounded by [`MAX_CLOCK_SKEW_NS`].
#[inline]
pub fn event_time(timestamp_ns: Option<i64>, received_ns: i64) -> i64 {
    match timestamp_ns {
        Some(t) if received_ns > 0 => t.min(received_ns.saturating_add(MAX_CLOCK_SKEW_NS)),
        Some(t) => t,
        None => received_ns,
    }
}

/// The instance's sense of time.
#[derive(Debug, Default)]
pub struct Clock {
    /// Latest event time seen.
    watermark: Option<i64>,
    /// When this instance began observing: warm-ups count from here, so a
    /// rebuilt instance learns again instead of alerting on everything.
    start: Option<i64>,
}

impl Clock {
    /// Take in one event. The start is the later of its event and received
    /// time, so an old event first in line does not end warm-ups early.
    #[inline]
    pub fn observe(&mut self, time: i64, received_ns: i64) {
        match self.watermark {
            Some(w) if w >= time => {}
            _ => self.watermark = Some(time),
        }
        if self.start.is_none() {
            self.start = Some(time.max(received_ns));
        }
    }

    /// Take in a host tick: it starts the clock when no event has yet.
    pub fn observe_tick(&mut self, now_ns: i64) {
        if self.start.is_none() {
            self.start = Some(now_ns);
        }
    }

    /// Latest event time seen (the start, before any event).
    pub fn now(&self) -> i64 {
        self.watermark.or(self.start).unwrap_or(0)
    }

    /// When observation began, if it has.
    pub fn start(&self) -> Option<i64> {
        self.start
    }

    /// Whether `span` of event time has passed since observation began.
    pub fn warmed_up(&self, span: i64) -> bool {
        match (self.start, self.watermark) {
            (Some(start), Some(now)) => now >= start.saturating_add(span),
            _ => false,
        }
    }
}

/// Bucket numbers (time / bucket length), remembering the watermark's so
/// that the usual event, at the watermark, costs no division.
#[derive(Debug, Clone)]
pub struct Buckets {
    len_ns: i64,
    now: i64,
    now_bucket: i64,
}

impl Buckets {
    /// Buckets of `len_ns` nanoseconds.
    pub fn new(len_ns: i64) -> Self {
        Buckets {
            len_ns: len_ns.max(1),
            now: 0,
            now_bucket: 0,
        }
    }

    /// Bucket length.
    pub fn len_ns(&self) -> i64 {
        self.len_ns
    }

    /// Bucket of the watermark `now`.
    #[inline]
    pub fn of_now(&mut self, now: i64) -> i64 {
        if now != self.now {
            self.now = now;
            self.now_bucket = now.div_euclid(self.len_ns);
        }
        self.now_bucket
    }

    /// Bucket of any time.
    #[inline]
    pub fn of(&self, time: i64) -> i64 {
        if time == self.now {
            self.now_bucket
        } else {
            time.div_euclid(self.len_ns)
        }
    }
}

/// Counts per time bucket over a fixed span; the newest bucket is `head`.
#[derive(Debug, Clone)]
pub struct BucketRing {
    counts: Box<[u32]>,
    /// Absolute index (time / bucket length) of the newest bucket.
    head: i64,
    /// Where `head` lives in `counts`, kept up to date so that finding a
    /// slot needs no division on the per-event path.
    head_slot: usize,
}

impl BucketRing {
    /// A ring of `len` empty buckets ending at bucket `head`.
    pub fn new(len: usize, head: i64) -> Self {
        let len = len.max(1);
        BucketRing {
            counts: vec![0; len].into(),
            head,
            head_slot: head.rem_euclid(len as i64) as usize,
        }
    }

    /// Slot of the bucket `back` buckets before the newest (`back` < len).
    #[inline]
    fn slot_back(&self, back: usize) -> usize {
        if back <= self.head_slot {
            self.head_slot - back
        } else {
            self.head_slot + self.counts.len() - back
        }
    }

    /// Move the newest bucket forward to `bucket`, emptying those that fall out.
    pub fn advance(&mut self, bucket: i64) {
        if bucket <= self.head {
            return;
        }
        let len = self.counts.len();
        let gap = bucket.saturating_sub(self.head);
        if gap >= len as i64 {
            self.counts.fill(0);
            self.head_slot = bucket.rem_euclid(len as i64) as usize;
        } else {
            for _ in 0..gap {
                self.head_slot += 1;
                if self.head_slot == len {
                    self.head_slot = 0;
                }
                self.counts[self.head_slot] = 0;
            }
        }
        self.head = bucket;
    }

    /// Count one event in `bucket`; false when it is older than the ring.
    #[inline]
    pub fn add(&mut self, bucket: i64) -> bool {
        if bucket > self.head {
            self.advance(bucket);
        }
        let back = self.head.saturating_sub(bucket);
        if back >= self.counts.len() as i64 {
            return false;
        }
        let slot = self.slot_back(back as usize);
        self.counts[slot] = self.counts[slot].saturating_add(1);
        true
    }

    /// Sum of the newest `n` buckets.
    pub fn sum_newest(&self, n: usize) -> u64 {
        self.sum_range(0, n)
    }

    /// Sum of `n` buckets starting `skip` buckets before the newest. Sums
    /// at most two contiguous slices: no division per bucket.
    pub fn sum_range(&self, skip: usize, n: usize) -> u64 {
        let len = self.counts.len();
        let n = n.min(len.saturating_sub(skip));
        if n == 0 {
            return 0;
        }
        let sum = |slice: &[u32]| slice.iter().map(|&c| u64::from(c)).sum::<u64>();
        // Slot of the newest bucket in the range; the range runs back from it.
        let last = self.slot_back(skip);
        if last + 1 >= n {
            sum(&self.counts[last + 1 - n..=last])
        } else {
            sum(&self.counts[..=last]) + sum(&self.counts[len - (n - last - 1)..])
        }
    }
}

/// The last few (time, id) pairs of matching events, reusing their buffers
/// so that recording a sample does not allocate once the ring is full.
#[derive(Debug, Default)]
pub struct Samples {
    items: Vec<(i64, String)>,
    next: usize,
}

impl Samples {
    /// Remember `id`, seen at `time`, forgetting the oldest beyond [`MAX_SAMPLES`].
    pub fn push(&mut self, time: i64, id: &str) {
        if self.items.len() < MAX_SAMPLES {
            self.items.push((time, id.to_owned()));
        } else {
            let (t, buffer) = &mut self.items[self.next];
            *t = time;
            buffer.clear();
            buffer.push_str(id);
        }
        self.next = (self.next + 1) % MAX_SAMPLES;
    }

    /// Ids seen at or after `since`, oldest first.
    pub fn since(&self, since: i64) -> Vec<String> {
        let n = self.items.len();
        let start = if n < MAX_SAMPLES { 0 } else { self.next };
        (0..n)
            .map(|i| &self.items[(start + i) % n])
            .filter(|(t, _)| *t >= since)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_counts_slide_and_forget() {
        let mut ring = BucketRing::new(4, 10);
        assert!(ring.add(10));
        assert!(ring.add(9));
        assert!(ring.add(7));
        assert!(!ring.add(6), "older than the ring");
        assert_eq!(ring.sum_newest(4), 3);
        assert_eq!(ring.sum_newest(1), 1);
        ring.advance(12);
        assert_eq!(ring.sum_newest(4), 2, "bucket 7 fell out, 9 and 10 remain");
        assert_eq!(ring.sum_range(2, 2), 2);
        ring.advance(1_000);
        assert_eq!(ring.sum_newest(4), 0);
        assert!(ring.add(1_001));
        assert_eq!(ring.sum_newest(4), 1);
    }

    #[test]
    fn ranges_that_wrap_around_the_ring_add_up() {
        let mut ring = BucketRing::new(7, 0);
        for b in 0..20 {
            for _ in 0..b {
                ring.add(b);
            }
            // Bucket b holds b events; check every range against a plain sum.
            for skip in 0..8 {
                for n in 0..9 {
                    let expected: i64 = (skip..(skip + n).min(7))
                        .map(|back| b - back)
                        .filter(|&bucket| bucket >= 0)
                        .sum();
                    assert_eq!(ring.sum_range(skip as usize, n as usize), expected as u64);
                }
            }
        }
    }

    #[test]
    fn ring_handles_negative_buckets() {
        let mut ring = BucketRing::new(3, -5);
        assert!(ring.add(-5));
        assert!(ring.add(-4));
        assert_eq!(ring.sum_newest(3), 2);
    }

    #[test]
    fn samples_keep_the_latest_in_order() {
        let mut samples = Samples::default();
        for i in 0..7 {
            samples.push(i, &format!("e{i}"));
        }
        assert_eq!(samples.since(0), ["e2", "e3", "e4", "e5", "e6"]);
        assert_eq!(samples.since(5), ["e5", "e6"]);
    }

    #[test]
    fn future_timestamps_are_bounded_by_received_time() {
        assert_eq!(event_time(Some(10), 0), 10);
        assert_eq!(event_time(None, 7), 7);
        let received = 1_000 * MAX_CLOCK_SKEW_NS;
        assert_eq!(
            event_time(Some(received * 2), received),
            received + MAX_CLOCK_SKEW_NS
        );
        assert_eq!(
            event_time(Some(5), received),
            5,
            "old events keep their time"
        );
    }

    #[test]
    fn warm_up_counts_from_the_later_of_event_and_received_time() {
        let mut clock = Clock::default();
        clock.observe(100, 1_000);
        assert_eq!(clock.start(), Some(1_000));
        clock.observe(1_050, 1_050);
        assert!(!clock.warmed_up(100));
        clock.observe(1_100, 1_100);
        assert!(clock.warmed_up(100));
    }
}
