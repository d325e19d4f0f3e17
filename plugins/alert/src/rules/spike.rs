//! Spike: the count in the last window is at least `factor` times the
//! baseline, the mean count of the `baseline_windows` windows before it, and
//! at least `min_count` (so 1 → 3 events is no spike). Each group keeps one
//! ring of buckets over all those windows.
//!
//! A zero baseline is only believed once it was observed: the rule stays
//! silent until the instance has watched `(baseline_windows + 1)` windows of
//! event time (a rebuilt instance starts over), and a group created shortly
//! after another was evicted for room waits until it has its own history.

use sluice_plugin_sdk::{Attribute, Event, Output, Value};

use super::{Core, Firing};
use crate::group::GroupTable;
use crate::window::{BUCKETS_PER_WINDOW, BucketRing, Buckets, Clock, Samples};

const BUCKETS: i64 = BUCKETS_PER_WINDOW as i64;

#[derive(Debug)]
pub struct Spike {
    window_ns: i64,
    buckets: Buckets,
    factor: f64,
    baseline_windows: u32,
    min_count: u64,
    /// Window plus baseline, in event time.
    span_ns: i64,
    groups: GroupTable<Group>,
}

#[derive(Debug)]
struct Group {
    label: Option<Box<str>>,
    ring: BucketRing,
    samples: Samples,
    last_fired: Option<i64>,
    /// Before this event time the group's baseline is unknown.
    trusted_from: i64,
}

impl Spike {
    pub fn new(
        window_ns: i64,
        factor: f64,
        baseline_windows: u32,
        min_count: u64,
        max_groups: usize,
    ) -> Self {
        Spike {
            window_ns,
            buckets: Buckets::new(window_ns / BUCKETS),
            factor,
            baseline_windows,
            min_count,
            span_ns: window_ns.saturating_mul(i64::from(baseline_windows) + 1),
            groups: GroupTable::new(max_groups),
        }
    }

    /// How long an idle group is kept: once its whole ring is empty it holds
    /// nothing a new group would not (and its cooldown must run out).
    fn horizon(&self, core: &Core) -> i64 {
        self.span_ns.max(core.cooldown_ns)
    }

    pub fn observe(
        &mut self,
        core: &mut Core,
        event: &Event,
        time: i64,
        clock: &Clock,
        out: &mut Output,
    ) {
        let ring_len = BUCKETS_PER_WINDOW * (self.baseline_windows as usize + 1);
        let now = clock.now();
        let now_bucket = self.buckets.of_now(now);
        let bucket = self.buckets.of(time);
        if bucket <= now_bucket.saturating_sub(ring_len as i64) {
            return; // older than the baseline: it cannot count any more
        }
        let stale_before = now.saturating_sub(self.horizon(core));
        let span = self.span_ns;
        let key = core.group_by.key(event);
        let group_by = &core.group_by;
        let (slot, _) = self
            .groups
            .entry(key, now, stale_before, |pressure_at| Group {
                label: group_by.label(event).map(Into::into),
                ring: BucketRing::new(ring_len, now_bucket),
                samples: Samples::default(),
                last_fired: None,
                trusted_from: match pressure_at {
                    Some(at) if now.saturating_sub(at) < span => now.saturating_add(span),
                    _ => i64::MIN,
                },
            });
        slot.last_seen = now;
        let group = &mut slot.state;
        group.ring.advance(now_bucket);
        group.ring.add(bucket);
        let window_start = (now_bucket - BUCKETS + 1).saturating_mul(self.buckets.len_ns());
        if time >= window_start {
            group.samples.push(time, &event.id);
        }
        let count = group.ring.sum_newest(BUCKETS_PER_WINDOW);
        if count < self.min_count || now < group.trusted_from || !clock.warmed_up(self.span_ns) {
            return;
        }
        let baseline_total = group.ring.sum_range(
            BUCKETS_PER_WINDOW,
            BUCKETS_PER_WINDOW * self.baseline_windows as usize,
        );
        let baseline = baseline_total as f64 / f64::from(self.baseline_windows);
        if (count as f64) < self.factor * baseline
            || core.cooling(group.last_fired, now)
            || !core.budget.take(now, &core.id)
        {
            return;
        }
        group.last_fired = Some(now);
        out.alert(core.alert(Firing {
            group: group.label.as_deref(),
            event_service: event.service.as_deref(),
            count,
            window_ns: self.window_ns,
            baseline: Some(baseline),
            template: event.template.as_deref(),
            samples: group.samples.since(window_start),
            attributes: vec![
                Attribute {
                    key: "factor".to_owned(),
                    value: Value::Float(self.factor),
                },
                Attribute {
                    key: "baseline_windows".to_owned(),
                    value: Value::Integer(i64::from(self.baseline_windows)),
                },
            ],
            ..Firing::default()
        }));
    }

    /// Forget idle groups.
    pub fn tick(&mut self, core: &Core, clock: &Clock) {
        let stale_before = clock.now().saturating_sub(self.horizon(core));
        self.groups.sweep(stale_before);
    }

    /// Groups held.
    pub fn tracked(&self) -> usize {
        self.groups.len()
    }
}
