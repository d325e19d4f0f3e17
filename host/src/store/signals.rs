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
        let day = event_time_ns(event).div_euclid(DAY_NS);
        let project = event.project.clone().unwrap_or_default();
        let mut count = |dimension: Dimension, item: String| {
            *self
                .counts
                .entry(SignalKey {
                    tenant: event.tenant.clone(),
                    project: project.clone(),
                    day,
                    dimension,
                    item,
                })
                .or_default() += 1;
        };
        count(Dimension::Total, String::new());
        count(
            Dimension::Level,
            event.level.map_or("unknown", level_name).to_owned(),
        );
        count(
            Dimension::Service,
            event.service.clone().unwrap_or_default(),
        );
        if let Some(fingerprint) = event.fingerprint {
            let hex = format_fingerprint(fingerprint);
            count(Dimension::Fingerprint, hex.clone());
            let first = self
                .fingerprints
                .entry(FingerprintKey {
                    tenant: event.tenant.clone(),
                    project,
                    fingerprint: hex,
                })
                .or_insert((day, event.template.clone()));
            if day < first.0 {
                first.0 = day;
            }
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
}
