//! Absence: no matching event from a group for `window`, judged on host ticks
//! against the tick's wall-clock time.
//!
//! A group is known once one of its events was seen, or from config: with
//! `group_by = "service"` every service listed in `match.service` is
//! expected, and with no grouping the rule itself is; expected groups are
//! watched from the instance's start, so a service that never shows up after
//! a restart still alerts one `window` later. Groups seen only in events are
//! forgotten after `forget_after` of silence (a retired service stops
//! alerting); expected ones never are.

use sluice_plugin_sdk::{Attribute, Event, Output, Value};

use super::{Core, Firing};
use crate::group::{GroupBy, GroupTable};
use crate::window::Clock;

#[derive(Debug)]
pub struct Absence {
    window_ns: i64,
    forget_after_ns: i64,
    groups: GroupTable<Group>,
    seeded: bool,
}

#[derive(Debug)]
struct Group {
    label: Option<Box<str>>,
    last_fired: Option<i64>,
}

impl Absence {
    pub fn new(window_ns: i64, forget_after_ns: i64, max_groups: usize) -> Self {
        Absence {
            window_ns,
            forget_after_ns,
            groups: GroupTable::new(max_groups),
            seeded: false,
        }
    }

    /// Declare the expected groups, as seen at the clock's start.
    fn seed(&mut self, core: &Core, clock: &Clock) {
        let Some(start) = clock.start() else {
            return;
        };
        if self.seeded {
            return;
        }
        self.seeded = true;
        match &core.group_by {
            GroupBy::None => self.groups.pin(0, start, || Group {
                label: None,
                last_fired: None,
            }),
            GroupBy::Service => {
                for service in core.matcher.listed_services() {
                    let key = core.group_by.key_of_label(service);
                    self.groups.pin(key, start, || Group {
                        label: Some(service.into()),
                        last_fired: None,
                    });
                }
            }
            _ => {}
        }
    }

    pub fn observe(&mut self, core: &mut Core, event: &Event, time: i64, clock: &Clock) {
        self.seed(core, clock);
        // Received time counts too: a late event still proves the sender alive.
        let seen = time.max(event.received_ns);
        let key = core.group_by.key(event);
        let group_by = &core.group_by;
        let stale_before = seen.saturating_sub(self.forget_after_ns);
        let (slot, _) = self.groups.entry(key, seen, stale_before, |_| Group {
            label: group_by.label(event).map(Into::into),
            last_fired: None,
        });
        slot.last_seen = slot.last_seen.max(seen);
    }

    pub fn tick(&mut self, core: &mut Core, now: i64, clock: &Clock, out: &mut Output) {
        self.seed(core, clock);
        self.groups
            .sweep(now.saturating_sub(self.forget_after_ns).saturating_add(1));
        let mut due: Vec<(Option<Box<str>>, u64)> = self
            .groups
            .iter()
            .filter(|(_, slot)| {
                now.saturating_sub(slot.last_seen) >= self.window_ns
                    && !core.cooling(slot.state.last_fired, now)
            })
            .map(|(key, slot)| (slot.state.label.clone(), key))
            .collect();
        due.sort_unstable();
        for (label, key) in due {
            if !core.budget.take(now, &core.id) {
                break;
            }
            let Some(slot) = self.groups.get_mut(key) else {
                continue;
            };
            slot.state.last_fired = Some(now);
            let last_seen = slot.last_seen;
            let silent_ns = now.saturating_sub(last_seen);
            out.alert(core.alert(Firing {
                group: label.as_deref(),
                count: 0,
                window_ns: self.window_ns,
                silent_ns: Some(silent_ns),
                attributes: vec![
                    Attribute {
                        key: "silent_seconds".to_owned(),
                        value: Value::Integer(silent_ns / 1_000_000_000),
                    },
                    Attribute {
                        key: "last_seen_ns".to_owned(),
                        value: Value::Integer(last_seen),
                    },
                ],
                ..Firing::default()
            }));
        }
    }

    /// Groups held.
    pub fn tracked(&self) -> usize {
        self.groups.len()
    }
}
