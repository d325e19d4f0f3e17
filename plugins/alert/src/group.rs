//! Grouping: one rule keeps one state per group (per service, per
//! fingerprint, per attribute value, or one for all), in a [`GroupTable`]
//! with a cap. Groups are keyed by a 64-bit hash of their value so a lookup
//! never allocates; the value text is stored once, when the group is created.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use sluice_plugin_sdk::{Event, Value};
use xxhash_rust::xxh3::xxh3_64;

/// Shown (and used in keys) for events that lack the grouped-by value.
pub const MISSING_LABEL: &str = "(none)";

/// Key of the group of events that lack the grouped-by value.
const MISSING_KEY: u64 = 0x9e37_79b9_7f4a_7c15;

/// Share of a full table evicted at once when no group is stale: evicting in
/// bulk keeps the cost of a full table amortised O(1) per new group.
const EVICT_FRACTION: usize = 10;

/// What a rule groups events by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// One group for all matching events.
    None,
    /// The event's service.
    Service,
    /// The event's fingerprint.
    Fingerprint,
    /// The value of one attribute.
    Attribute(Box<str>),
}

impl GroupBy {
    /// Parse `none`, `service`, `fingerprint` or `attribute:KEY`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(GroupBy::None),
            "service" => Ok(GroupBy::Service),
            "fingerprint" => Ok(GroupBy::Fingerprint),
            _ => match text.strip_prefix("attribute:") {
                Some(key) if !key.is_empty() => Ok(GroupBy::Attribute(key.into())),
                _ => Err(format!(
                    "unknown grouping {text:?}: use none, service, fingerprint or attribute:KEY"
                )),
            },
        }
    }

    /// The grouping as config writes it.
    pub fn name(&self) -> String {
        match self {
            GroupBy::None => "none".to_owned(),
            GroupBy::Service => "service".to_owned(),
            GroupBy::Fingerprint => "fingerprint".to_owned(),
            GroupBy::Attribute(key) => format!("attribute:{key}"),
        }
    }

    /// The hash key of `event`'s group. Cheap: no allocation for text values.
    #[inline]
    pub fn key(&self, event: &Event) -> u64 {
        match self {
            GroupBy::None => 0,
            GroupBy::Service => event.service.as_deref().map_or(MISSING_KEY, text_key),
            GroupBy::Fingerprint => event.fingerprint.map_or(MISSING_KEY, mix),
            GroupBy::Attribute(key) => match event.attr(key) {
                None | Some(Value::Null) => MISSING_KEY,
                Some(Value::Text(s) | Value::Json(s)) => text_key(s),
                Some(other) => text_key(&value_label(other)),
            },
        }
    }

    /// The text of `event`'s group, as titles and keys show it; `None` when
    /// the rule does not group.
    pub fn label(&self, event: &Event) -> Option<String> {
        let label = match self {
            GroupBy::None => return None,
            GroupBy::Service => event.service.clone(),
            GroupBy::Fingerprint => event.fingerprint.map(|fp| format!("{fp:016x}")),
            GroupBy::Attribute(key) => match event.attr(key) {
                None | Some(Value::Null) => None,
                Some(value) => Some(value_label(value)),
            },
        };
        Some(label.unwrap_or_else(|| MISSING_LABEL.to_owned()))
    }

    /// The hash key of a group whose label is `label` (for groups declared in
    /// config rather than seen in events).
    pub fn key_of_label(&self, label: &str) -> u64 {
        match self {
            GroupBy::None => 0,
            _ if label == MISSING_LABEL => MISSING_KEY,
            GroupBy::Fingerprint => u64::from_str_radix(label, 16).map_or(MISSING_KEY, mix),
            _ => text_key(label),
        }
    }
}

fn text_key(text: &str) -> u64 {
    xxh3_64(text.as_bytes())
}

/// Spread a fingerprint's bits so that small test fingerprints hash well.
pub fn mix(fp: u64) -> u64 {
    (fp ^ (fp >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// An attribute value as text: numbers as written, booleans as `true`/`false`.
fn value_label(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(s) | Value::Json(s) => s.clone(),
    }
}

/// Hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map keyed by pre-hashed `u64` keys.
pub type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// One group's state and when it last saw an event.
#[derive(Debug)]
pub struct Slot<G> {
    /// Latest event time of the group (for staleness and eviction).
    pub last_seen: i64,
    /// Declared in config: never forgotten for being stale.
    pub pinned: bool,
    /// The rule's state for this group.
    pub state: G,
}

/// A rule's groups, at most `cap` of them.
#[derive(Debug)]
pub struct GroupTable<G> {
    map: KeyMap<Slot<G>>,
    cap: usize,
    /// When a group that was not stale was last evicted to make room: groups
    /// created soon after may have lost their history.
    pressure_at: Option<i64>,
}

impl<G> GroupTable<G> {
    /// An empty table holding at most `cap` groups.
    pub fn new(cap: usize) -> Self {
        GroupTable {
            map: KeyMap::default(),
            cap: cap.max(1),
            pressure_at: None,
        }
    }

    /// The group `key`, created with `make` if new (then the flag is true).
    /// At the cap, stale groups (last seen before `stale_before`) go first,
    /// then the least recently seen tenth. `make` learns when a fresh group
    /// was last evicted for room ([`GroupTable::pressure_at`]).
    #[inline]
    pub fn entry(
        &mut self,
        key: u64,
        now: i64,
        stale_before: i64,
        make: impl FnOnce(Option<i64>) -> G,
    ) -> (&mut Slot<G>, bool) {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.make_room(now, stale_before);
        }
        let pressure_at = self.pressure_at;
        let mut created = false;
        let slot = self.map.entry(key).or_insert_with(|| {
            created = true;
            Slot {
                last_seen: now,
                pinned: false,
                state: make(pressure_at),
            }
        });
        (slot, created)
    }

    fn make_room(&mut self, now: i64, stale_before: i64) {
        self.sweep(stale_before);
        if self.map.len() < self.cap {
            return;
        }
        let count = (self.cap / EVICT_FRACTION).max(1);
        let mut ages: Vec<(i64, u64)> = self.map.iter().map(|(k, s)| (s.last_seen, *k)).collect();
        ages.select_nth_unstable(count - 1);
        for (_, key) in &ages[..count] {
            self.map.remove(key);
        }
        self.pressure_at = Some(now);
    }

    /// Declare group `key` from config: created now if new, and from then on
    /// never forgotten for being stale.
    pub fn pin(&mut self, key: u64, now: i64, make: impl FnOnce() -> G) {
        let slot = self.map.entry(key).or_insert_with(|| Slot {
            last_seen: now,
            pinned: true,
            state: make(),
        });
        slot.pinned = true;
    }

    /// Forget groups last seen before `stale_before`.
    pub fn sweep(&mut self, stale_before: i64) {
        self.map
            .retain(|_, slot| slot.pinned || slot.last_seen >= stale_before);
    }

    /// Group `key`, if held.
    pub fn get_mut(&mut self, key: u64) -> Option<&mut Slot<G>> {
        self.map.get_mut(&key)
    }

    /// When a fresh group was last evicted for room.
    pub fn pressure_at(&self) -> Option<i64> {
        self.pressure_at
    }

    /// Groups held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no group is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every group with its key, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Slot<G>)> {
        self.map.iter().map(|(k, s)| (*k, s))
    }

    /// Whether group `key` exists.
    pub fn contains(&self, key: u64) -> bool {
        self.map.contains_key(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groupings() {
        assert_eq!(GroupBy::parse("none"), Ok(GroupBy::None));
        assert_eq!(
            GroupBy::parse("attribute:http.route"),
            Ok(GroupBy::Attribute("http.route".into()))
        );
        assert!(GroupBy::parse("attribute:").is_err());
        assert!(GroupBy::parse("host").is_err());
    }

    #[test]
    fn numbers_and_their_text_share_a_group() {
        let by = GroupBy::Attribute("status".into());
        let number = Event::new("m").with_attr("status", 500i64);
        let text = Event::new("m").with_attr("status", "500");
        assert_eq!(by.key(&number), by.key(&text));
        assert_eq!(by.label(&number).as_deref(), Some("500"));
        assert_eq!(by.key(&Event::new("m")), by.key_of_label(MISSING_LABEL));
        assert_eq!(by.label(&Event::new("m")).as_deref(), Some(MISSING_LABEL));
    }

    #[test]
    fn full_table_evicts_stale_groups_first_then_the_oldest() {
        let mut table = GroupTable::<u32>::new(10);
        for k in 0..10u64 {
            table.entry(k, k as i64, 0, |_| 0);
        }
        let (_, created) = table.entry(100, 20, 3, |_| 0);
        assert!(created);
        assert_eq!(table.len(), 8, "groups seen at 0, 1, 2 were stale");
        assert!(table.pressure_at().is_none());
        table.entry(101, 21, 0, |_| 0);
        table.entry(102, 22, 0, |_| 0);
        assert_eq!(table.len(), 10);
        assert!(!table.entry(102, 22, 0, |_| 0).1, "existing group");
        let (_, created) = table.entry(103, 23, 0, |pressure| {
            assert_eq!(pressure, Some(23), "make sees the eviction it caused");
            0
        });
        assert!(created);
        assert_eq!(table.len(), 10, "the least recently seen group made room");
        assert!(!table.contains(3));
        assert!(table.contains(4));
        assert_eq!(table.pressure_at(), Some(23));
    }
}
