//! Signals: per tenant, project and UTC day, counts of events by level,
//! service and fingerprint, and the day each fingerprint was first seen.
//! They are kept when raw logs are not (a signal-only pipeline, or after
//! retention), and they are what the weekly report reads.
//!
//! The runner folds each batch into a [`SignalBatch`] on the worker (a few
//! map updates per event) and the sinks write it as one upsert per key.

use std::collections::HashMap;

use serde::Serialize;

use super::{DAY_NS, event_time_ns};
use crate::event::json::{format_fingerprint, level_name};
use crate::runtime::Event;

/// What a count is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// All events.
    Total,
    /// By level (`unknown` when the event has none).
    Level,
    /// By service (`` when the event has none).
    Service,
    /// By fingerprint (hex).
    Fingerprint,
}

impl Dimension {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Total => "total",
            Dimension::Level => "level",
            Dimension::Service => "service",
            Dimension::Fingerprint => "fingerprint",
        }
    }
}

/// One counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignalKey {
    /// Tenant.
    pub tenant: String,
    /// Project (`` when the event has none).
    pub project: String,
    /// Days since 1970-01-01 (UTC) of the event's time.
    pub day: i64,
    /// What is counted.
    pub dimension: Dimension,
    /// The level, service or fingerprint; `` for totals.
    pub item: String,
}

/// A fingerprint seen in a batch: where, first day, template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FingerprintKey {
    /// Tenant.
    pub tenant: String,
    /// Project.
    pub project: String,
    /// Fingerprint (hex).
    pub fingerprint: String,
}

/// A batch's signals, ready to add to the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignalBatch {
    /// Counts to add.
    pub counts: HashMap<SignalKey, u64>,
    /// Earliest day and a template per fingerprint.
    pub fingerprints: HashMap<FingerprintKey, (i64, Option<String>)>,
}

impl SignalBatch {
    /// Count one processed event.
    pub fn add(&mut self, event: &Event) {
        self.add_all(std::slice::from_ref(event));
    }

    /// Count a batch of processed events. They are tallied under keys
    /// borrowed from the events first, so a batch allocates once per
    /// distinct counter rather than a handful of strings per event.
    pub fn add_all(&mut self, events: &[Event]) {
        #[derive(PartialEq, Eq, Hash)]
        enum Item<'e> {
            Total,
            Level(&'static str),
            Service(&'e str),
            Fingerprint(u64),
        }
        type Place<'e> = (&'e str, &'e str, i64);
        // Five lookups per event on the worker's hot path: foldhash, not
        // SipHash (these keys come from one tenant's own batch).
        let mut counts: foldhash::HashMap<(Place<'_>, Item<'_>), u64> = Default::default();
        let mut firsts: foldhash::HashMap<(&str, &str, u64), (i64, Option<&str>)> =
            Default::default();
        for event in events {
            let day = event_time_ns(event).div_euclid(DAY_NS);
            let project = event.project.as_deref().unwrap_or_default();
            let place = (event.tenant.as_str(), project, day);
            let level = event.level.map_or("unknown", level_name);
            let service = event.service.as_deref().unwrap_or_default();
            *counts.entry((place, Item::Total)).or_default() += 1;
            *counts.entry((place, Item::Level(level))).or_default() += 1;
            *counts.entry((place, Item::Service(service))).or_default() += 1;
            if let Some(fingerprint) = event.fingerprint {
                *counts
                    .entry((place, Item::Fingerprint(fingerprint)))
                    .or_default() += 1;
                let first = firsts
                    .entry((place.0, project, fingerprint))
                    .or_insert((day, event.template.as_deref()));
                first.0 = first.0.min(day);
            }
        }
        for (((tenant, project, day), item), count) in counts {
            let (dimension, item) = match item {
                Item::Total => (Dimension::Total, String::new()),
                Item::Level(level) => (Dimension::Level, level.to_owned()),
                Item::Service(service) => (Dimension::Service, service.to_owned()),
                Item::Fingerprint(f) => (Dimension::Fingerprint, format_fingerprint(f)),
            };
            let key = SignalKey {
                tenant: tenant.to_owned(),
                project: project.to_owned(),
                day,
                dimension,
                item,
            };
            *self.counts.entry(key).or_default() += count;
        }
        for ((tenant, project, fingerprint), (day, template)) in firsts {
            let key = FingerprintKey {
                tenant: tenant.to_owned(),
                project: project.to_owned(),
                fingerprint: format_fingerprint(fingerprint),
            };
            let first = self
                .fingerprints
                .entry(key)
                .or_insert_with(|| (day, template.map(str::to_owned)));
            first.0 = first.0.min(day);
        }
    }

    /// Add another batch's signals to this one.
    pub fn merge(&mut self, other: SignalBatch) {
        for (key, count) in other.counts {
            *self.counts.entry(key).or_default() += count;
        }
        for (key, (day, template)) in other.fingerprints {
            let first = self.fingerprints.entry(key).or_insert((day, template));
            if day < first.0 {
                first.0 = day;
            }
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// One stored counter, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalRow {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// `total`, `level`, `service` or `fingerprint`.
    pub dimension: String,
    /// The level, service or fingerprint.
    pub item: String,
    /// Events.
    pub count: u64,
}

/// A fingerprint first seen in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewFingerprint {
    /// Fingerprint (hex).
    pub fingerprint: String,
    /// Day first seen.
    pub first_day: i64,
    /// Its template, when the fingerprint step gave one.
    pub template: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Level;

    #[test]
    fn an_event_counts_once_per_dimension_on_its_own_day() {
        let mut batch = SignalBatch::default();
        let event = Event {
            id: "1".into(),
            tenant: "acme".into(),
            project: Some("web".into()),
            received_ns: 5 * DAY_NS,
            timestamp_ns: Some(2 * DAY_NS + 1),
            service: Some("api".into()),
            level: Some(Level::Error),
            message: "m".into(),
            attributes: Vec::new(),
            raw: None,
            fingerprint: Some(0xabc),
            template: Some("t <*>".into()),
        };
        batch.add(&event);
        batch.add(&event);
        assert_eq!(batch.counts.len(), 4);
        assert!(
            batch
                .counts
                .keys()
                .all(|k| k.day == 2 && k.project == "web")
        );
        assert!(batch.counts.values().all(|&n| n == 2));
        assert_eq!(batch.fingerprints.len(), 1);
    }

    #[test]
    fn a_batch_counts_what_its_events_count_one_by_one() {
        let event = |i: i64| Event {
            id: i.to_string(),
            tenant: ["acme", "globex"][(i % 2) as usize].into(),
            project: (i % 3 != 0).then(|| "web".into()),
            received_ns: (10 - i) * DAY_NS,
            timestamp_ns: None,
            service: (i % 4 != 0).then(|| ["api", "db"][(i % 5 % 2) as usize].into()),
            level: [None, Some(Level::Info), Some(Level::Error)][(i % 3) as usize],
            message: "m".into(),
            attributes: Vec::new(),
            raw: None,
            fingerprint: (i % 5 != 0).then_some((i % 3) as u64),
            template: Some(format!("template {i}")),
        };
        let events: Vec<Event> = (0..40).map(event).collect();
        let mut together = SignalBatch::default();
        together.add_all(&events);
        let mut one_by_one = SignalBatch::default();
        for event in &events {
            let mut single = SignalBatch::default();
            single.add(event);
            one_by_one.merge(single);
        }
        assert_eq!(together, one_by_one);
        let total: u64 = together
            .counts
            .iter()
            .filter(|(k, _)| k.dimension == Dimension::Total)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total, 40);
        // A fingerprint keeps its earliest day and the first event's template.
        let first = &together.fingerprints[&FingerprintKey {
            tenant: "globex".into(),
            project: "web".into(),
            fingerprint: format_fingerprint(1),
        }];
        assert_eq!(first.1.as_deref(), Some("template 1"));
        assert_eq!(first.0, 10 - 37);
    }
}
