//! Which field names fill the event's own fields, looked up once per JSON
//! key, logfmt key or capture: the lookup must cost a few instructions, not
//! a scan with string comparisons.
//!
//! Names are grouped by length; within a length, the first eight bytes are
//! compared as one integer before any longer comparison. Most keys
//! (`metadata.user_ip`) have no name of their length and cost one load.

/// Which event field a name fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `message`.
    Message,
    /// `level`.
    Level,
    /// `timestamp_ns`.
    Timestamp,
    /// `service`.
    Service,
    /// `project`.
    Project,
}

impl Role {
    /// Dense index, for per-role arrays.
    pub fn index(self) -> usize {
        match self {
            Role::Message => 0,
            Role::Level => 1,
            Role::Timestamp => 2,
            Role::Service => 3,
            Role::Project => 4,
        }
    }
}

/// Names longer than this share the last length bucket.
const MAX_BUCKET: usize = 64;

#[derive(Debug)]
struct Entry {
    name: String,
    head: u64,
    role: Role,
    /// Precedence among names of the same role: lower wins.
    prio: u8,
}

/// Role names, grouped by length.
#[derive(Debug)]
pub struct RoleTable {
    entries: Vec<Entry>,
    /// `entries[start..end]` hold the names of each length.
    by_len: Vec<(u16, u16)>,
}

impl RoleTable {
    /// A table of `(name, role, precedence)`.
    pub fn new(names: impl IntoIterator<Item = (String, Role, u8)>) -> Self {
        let mut entries: Vec<Entry> = names
            .into_iter()
            .map(|(name, role, prio)| Entry {
                head: head(&name),
                name,
                role,
                prio,
            })
            .collect();
        entries.sort_by_key(|e| bucket(&e.name));
        let mut by_len = vec![(0u16, 0u16); MAX_BUCKET + 1];
        for (i, e) in entries.iter().enumerate() {
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            let slot = &mut by_len[bucket(&e.name)];
            if slot.0 == slot.1 {
                *slot = (i, i);
            }
            slot.1 = i + 1;
        }
        Self { entries, by_len }
    }

    /// The role `key` fills and its precedence.
    #[inline]
    pub fn lookup(&self, key: &str) -> Option<(Role, u8)> {
        let (start, end) = self.by_len[bucket(key)];
        if start == end {
            return None;
        }
        let h = head(key);
        self.entries[usize::from(start)..usize::from(end)]
            .iter()
            .find(|e| e.head == h && (key.len() <= 8 || e.name == key))
            .map(|e| (e.role, e.prio))
    }

    /// The name that fills `role` with precedence `prio`.
    pub fn name(&self, role: Role, prio: u8) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.role == role && e.prio == prio)
            .map(|e| e.name.as_str())
    }
}

fn bucket(name: &str) -> usize {
    name.len().min(MAX_BUCKET)
}

/// The first eight bytes as an integer (zero-padded).
fn head(name: &str) -> u64 {
    let b = name.as_bytes();
    let mut buf = [0u8; 8];
    let n = b.len().min(8);
    buf[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_exact_name() {
        let long = "a.very.long.name.that.goes.beyond.sixty.four.bytes.of.text.for.sure.x";
        let table = RoleTable::new([
            ("message".to_owned(), Role::Message, 0),
            ("msg".to_owned(), Role::Message, 1),
            ("service".to_owned(), Role::Service, 0),
            ("service.name".to_owned(), Role::Service, 1),
            (long.to_owned(), Role::Project, 0),
        ]);
        assert_eq!(table.lookup("message"), Some((Role::Message, 0)));
        assert_eq!(table.lookup("msg"), Some((Role::Message, 1)));
        assert_eq!(table.lookup("service"), Some((Role::Service, 0)));
        assert_eq!(table.lookup("service.name"), Some((Role::Service, 1)));
        assert_eq!(table.lookup("service.nams"), None);
        assert_eq!(table.lookup("messagf"), None);
        assert_eq!(table.lookup(long), Some((Role::Project, 0)));
        assert_eq!(table.lookup(&long.replace('x', "y")), None);
        assert_eq!(table.lookup(""), None);
        assert_eq!(table.name(Role::Service, 1), Some("service.name"));
    }
}
