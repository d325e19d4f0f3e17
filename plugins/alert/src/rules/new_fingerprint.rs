//! New fingerprint: a template seen for the first time.
//!
//! An instance knows nothing when it starts (first start, or rebuilt after a
//! fault), so it learns silently for `warmup` of event time; only after that
//! does an unknown fingerprint alert. Losing the state therefore costs at most
//! one warm-up of silence, never a storm of "new" templates. Known
//! fingerprints are bounded by `max_fingerprints`: at the cap the least
//! recently seen tenth is forgotten (and would alert again if it returns).

use sluice_plugin_sdk::{Event, Output};

use super::{Core, Firing, text_attr};
use crate::group::{GroupTable, mix};
use crate::window::Clock;

#[derive(Debug)]
pub struct NewFingerprint {
    warmup_ns: i64,
    /// Known fingerprints (keyed by their mixed value), with when last seen.
    known: GroupTable<()>,
}

impl NewFingerprint {
    pub fn new(warmup_ns: i64, max_fingerprints: usize) -> Self {
        NewFingerprint {
            warmup_ns,
            known: GroupTable::new(max_fingerprints),
        }
    }

    pub fn observe(&mut self, core: &mut Core, event: &Event, clock: &Clock, out: &mut Output) {
        let Some(fingerprint) = event.fingerprint else {
            return;
        };
        let now = clock.now();
        let (slot, created) = self.known.entry(mix(fingerprint), now, i64::MIN, |_| ());
        slot.last_seen = now;
        if !created || !clock.warmed_up(self.warmup_ns) || !core.budget.take(now, &core.id) {
            return;
        }
        let label = format!("{fingerprint:016x}");
        let template = event.template.as_deref().unwrap_or(&event.message);
        let mut attributes = Vec::with_capacity(2);
        if let Some(template) = &event.template {
            attributes.push(text_attr("template", template.as_str()));
        }
        if let Some(level) = event.level {
            attributes.push(text_attr("level", level.as_str()));
        }
        out.alert(core.alert(Firing {
            group: Some(&label),
            event_service: event.service.as_deref(),
            count: 1,
            window_ns: 0,
            template: Some(template),
            samples: vec![event.id.clone()],
            attributes,
            ..Firing::default()
        }));
    }

    /// Fingerprints held.
    pub fn tracked(&self) -> usize {
        self.known.len()
    }
}
