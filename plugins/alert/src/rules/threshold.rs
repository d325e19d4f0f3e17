//! Threshold: at least N matching events in a sliding window, per group.
//! Judged on every matching event, so the alert goes out with the event that
//! reached N.

use sluice_plugin_sdk::{Attribute, Event, Output, Value};

use super::{Core, Firing};
use crate::group::GroupTable;
use crate::window::{BUCKETS_PER_WINDOW, BucketRing, Buckets, Clock, Samples};

const BUCKETS: i64 = BUCKETS_PER_WINDOW as i64;

#[derive(Debug)]
pub struct Threshold {
    threshold: u64,
    window_ns: i64,
    buckets: Buckets,
    groups: GroupTable<Group>,
}

#[derive(Debug)]
struct Group {
    label: Option<Box<str>>,
    ring: BucketRing,
    samples: Samples,
    last_fired: Option<i64>,
}

impl Threshold {
    pub fn new(threshold: u64, window_ns: i64, max_groups: usize) -> Self {
        Threshold {
            threshold,
            window_ns,
            buckets: Buckets::new(window_ns / BUCKETS),
            groups: GroupTable::new(max_groups),
        }
    }

    /// How long an idle group is kept: its window, and its cooldown so that
    /// forgetting it cannot cut a cooldown short.
    fn horizon(&self, core: &Core) -> i64 {
        self.window_ns.max(core.cooldown_ns)
    }

    pub fn observe(
        &mut self,
        core: &mut Core,
        event: &Event,
        time: i64,
        clock: &Clock,
        out: &mut Output,
    ) {
        let now = clock.now();
        let now_bucket = self.buckets.of_now(now);
        let bucket = self.buckets.of(time);
        if bucket <= now_bucket.saturating_sub(BUCKETS) {
            return; // older than the window: it cannot count any more
        }
        let stale_before = now.saturating_sub(self.horizon(core));
        let key = core.group_by.key(event);
        let group_by = &core.group_by;
        let (slot, _) = self.groups.entry(key, now, stale_before, |_| Group {
            label: group_by.label(event).map(Into::into),
            ring: BucketRing::new(BUCKETS_PER_WINDOW, now_bucket),
            samples: Samples::default(),
            last_fired: None,
        });
        slot.last_seen = now;
        let group = &mut slot.state;
        group.ring.advance(now_bucket);
        group.ring.add(bucket);
        group.samples.push(time, &event.id);
        let count = group.ring.sum_newest(BUCKETS_PER_WINDOW);
        if count < self.threshold
            || core.cooling(group.last_fired, now)
            || !core.budget.take(now, &core.id)
        {
            return;
        }
        group.last_fired = Some(now);
        let window_start = (now_bucket - BUCKETS + 1).saturating_mul(self.buckets.len_ns());
        out.alert(core.alert(Firing {
            group: group.label.as_deref(),
            event_service: event.service.as_deref(),
            count,
            window_ns: self.window_ns,
            threshold: Some(self.threshold),
            template: event.template.as_deref(),
            samples: group.samples.since(window_start),
            attributes: vec![Attribute {
                key: "threshold".to_owned(),
                value: Value::Integer(i64::try_from(self.threshold).unwrap_or(i64::MAX)),
            }],
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
