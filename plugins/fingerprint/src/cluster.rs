//! One Drain cluster and the templates it hands out.
//!
//! Plain Drain turns a position into `<*>` as soon as two lines of a cluster
//! differ there. Then `Session: <*> initialized by client SPP.` and
//! `... client WindowsUpdateAgent.`, or `cupsd startup succeeded` and `cupsd
//! shutdown succeeded`, become one template, while `Invalid user admin from
//! <*>` and `Invalid user test from <*>` rightly do: the two cases look the
//! same to Drain and differ only in how many values the position takes.
//!
//! So a position where lines differ is first *closed*: it remembers the
//! distinct values it has seen, and each combination of values at closed
//! positions is its own template (a *sub-template*). Once a position has
//! shown `variable_after` distinct values it *opens* for good: it is `<*>`
//! in every template of the cluster, and the sub-templates that differed
//! only there fold into one, each fold reported as a merge (old fingerprint
//! → new). A masked variable (`<*>`) is one more value, so `port <*>` and
//! `port ssh` differ until a third kind of value shows up.
//!
//! A position also opens at once when one of its values fits the pattern of
//! another (`()` fits `(<*>)`, `customer-<*>` and `admin` fit `<*>`): a
//! masked variable has already shown that the position varies. An open
//! position keeps the punctuation all its values share (`(<*>)`), and
//! widens (reporting merges again) when a value that does not fit arrives.

use crate::pattern::{common, fits};
use crate::tokenize::{Tokens, WILDCARD, token_hash};

/// Most sub-templates one cluster holds; beyond, its closed position with the
/// most values opens. Bounds memory and the per-line lookup.
pub const MAX_SUBS: usize = 32;

/// Bytes a sub-template costs besides its text.
const SUB_OVERHEAD: usize = 48;

/// What one position of a cluster knows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// Every line had the cluster's token here.
    Fixed,
    /// Lines differed here; these are the distinct tokens seen.
    Closed(Vec<Value>),
    /// A variable: this pattern (`<*>`, or `(<*>)` and the like) in every
    /// template.
    Open(Box<str>),
}

/// One distinct token seen at a closed position.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Value {
    hash: u64,
    text: Box<str>,
}

/// One template handed out by a cluster.
#[derive(Debug, Clone)]
pub struct Sub {
    /// Hash of the tokens at the cluster's closed positions.
    key: u64,
    /// xxh3-64 (seed 0) of `template`.
    pub fingerprint: u64,
    /// Template text: tokens joined by single spaces.
    pub template: String,
}

/// A fingerprint that now belongs to another template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The fingerprint handed out before.
    pub old: u64,
    /// The fingerprint its lines belong to now.
    pub new: u64,
    /// The template of `new`.
    pub template: String,
}

/// A Drain cluster: the token hashes of its first line, what each position
/// has seen, and its sub-templates.
#[derive(Debug, Clone)]
pub struct Cluster {
    tokens: Vec<u64>,
    slots: Vec<Slot>,
    closed: usize,
    subs: Vec<Sub>,
}

fn key_of<'a>(slots: &[Slot], hashes: impl Iterator<Item = &'a u64>) -> u64 {
    let mut key = 0x9E37_79B9_7F4A_7C15u64;
    for (slot, &h) in slots.iter().zip(hashes) {
        if matches!(slot, Slot::Closed(_)) {
            key = (key ^ h).wrapping_mul(0x1000_0000_01B3).rotate_left(29);
        }
    }
    key
}

/// The pattern of a position opening with these values.
fn open_pattern(values: &[Value]) -> Slot {
    Slot::Open(common(values.iter().map(|v| &*v.text)).into())
}

impl Cluster {
    /// A cluster holding only the line `tokens`.
    pub fn new(tokens: &Tokens) -> Self {
        Self {
            tokens: tokens.hashes().to_vec(),
            slots: vec![Slot::Fixed; tokens.len()],
            closed: 0,
            subs: Vec::new(),
        }
    }

    /// Bytes this cluster holds, roughly.
    pub fn bytes(&self) -> usize {
        let slots: usize = self
            .slots
            .iter()
            .map(|s| match s {
                Slot::Closed(v) => 24 + v.iter().map(|x| 40 + x.text.len()).sum::<usize>(),
                Slot::Open(p) => p.len(),
                Slot::Fixed => 0,
            })
            .sum();
        let subs: usize = self
            .subs
            .iter()
            .map(|s| SUB_OVERHEAD + s.template.len())
            .sum();
        40 * self.tokens.len() + slots + subs
    }

    /// The sub-templates.
    pub fn subs(&self) -> &[Sub] {
        &self.subs
    }

    /// Drain's similarity: positions where the line has what the cluster has
    /// (the fixed token, or one of a closed position's values), and the
    /// number of open positions as a tie-breaker.
    pub fn similarity(&self, hashes: &[u64]) -> (usize, usize) {
        let (mut equal, mut open) = (0, 0);
        for ((slot, &t), &h) in self.slots.iter().zip(&self.tokens).zip(hashes) {
            match slot {
                Slot::Fixed if t == h => equal += 1,
                Slot::Closed(values) if values.iter().any(|v| v.hash == h) => equal += 1,
                Slot::Open(_) => open += 1,
                _ => {}
            }
        }
        (equal, open)
    }

    /// Whether the line adds nothing to what the cluster has seen.
    pub fn covers(&self, tokens: &Tokens) -> bool {
        let hashes = tokens.hashes();
        self.slots.iter().enumerate().all(|(p, slot)| match slot {
            Slot::Fixed => self.tokens[p] == hashes[p],
            Slot::Closed(values) => values.iter().any(|v| v.hash == hashes[p]),
            Slot::Open(pattern) => &**pattern == WILDCARD || fits(pattern, tokens.get(p)),
        })
    }

    /// The sub-template of a line the cluster covers, if it exists.
    pub fn find(&self, hashes: &[u64]) -> Option<usize> {
        if self.closed == 0 {
            return if self.subs.is_empty() { None } else { Some(0) };
        }
        let key = key_of(&self.slots, hashes.iter());
        self.subs.iter().position(|s| s.key == key)
    }

    /// Take the line into the cluster: record new values, open positions
    /// that reached `variable_after` values or whose values fit each other,
    /// widen open patterns the line does not fit (pushing the merges all
    /// that causes), and return the line's sub-template.
    pub fn absorb(
        &mut self,
        tokens: &Tokens,
        variable_after: usize,
        merges: &mut Vec<Merge>,
    ) -> usize {
        let hashes = tokens.hashes();
        let mut rewritten = Vec::new();
        let mut changed = false;
        let first = self
            .subs
            .first()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        for (p, slot) in self.slots.iter_mut().enumerate() {
            let (h, text) = (hashes[p], tokens.get(p));
            if let Slot::Fixed = slot
                && self.tokens[p] != h
            {
                self.closed += 1;
                let seen = first.split(' ').nth(p).unwrap_or_default();
                *slot = Slot::Closed(vec![Value {
                    hash: self.tokens[p],
                    text: seen.into(),
                }]);
            }
            match slot {
                Slot::Closed(values) if !values.iter().any(|v| v.hash == h) => {
                    let related = values
                        .iter()
                        .any(|v| fits(&v.text, text) || fits(text, &v.text));
                    values.push(Value {
                        hash: h,
                        text: text.into(),
                    });
                    changed = true;
                    if related || values.len() >= variable_after {
                        *slot = open_pattern(values);
                        self.closed -= 1;
                        rewritten.push(p);
                    }
                }
                Slot::Open(pattern) if &**pattern != WILDCARD && !fits(pattern, text) => {
                    *pattern = common([&**pattern, text].into_iter()).into();
                    changed = true;
                    rewritten.push(p);
                }
                _ => {}
            }
        }
        if changed {
            self.rewrite(&rewritten, merges);
        }
        loop {
            if let Some(k) = self.find(hashes) {
                return k;
            }
            if self.subs.len() < MAX_SUBS {
                break;
            }
            // Too many combinations: the closed position with most values opens.
            let widest = (0..self.slots.len())
                .filter_map(|p| match &self.slots[p] {
                    Slot::Closed(v) => Some((v.len(), std::cmp::Reverse(p))),
                    _ => None,
                })
                .max()
                .map(|(_, std::cmp::Reverse(p))| p);
            let Some(p) = widest else { break };
            if let Slot::Closed(values) = &self.slots[p] {
                self.slots[p] = open_pattern(values);
                self.closed -= 1;
            }
            self.rewrite(&[p], merges);
        }
        let mut template = String::new();
        for (p, (slot, token)) in self.slots.iter().zip(tokens.iter()).enumerate() {
            if p > 0 {
                template.push(' ');
            }
            template.push_str(match slot {
                Slot::Open(pattern) => pattern,
                _ => token,
            });
        }
        self.subs.push(Sub {
            key: key_of(&self.slots, hashes.iter()),
            fingerprint: crate::fingerprint_of(&template),
            template,
        });
        self.subs.len() - 1
    }

    /// Write the open patterns at positions `rewritten` into every
    /// sub-template, fold those that became equal (reporting merges) and
    /// recompute keys (the closed positions changed).
    fn rewrite(&mut self, rewritten: &[usize], merges: &mut Vec<Merge>) {
        let mut kept: Vec<Sub> = Vec::with_capacity(self.subs.len());
        let mut folded = Vec::new();
        for mut sub in std::mem::take(&mut self.subs) {
            if !rewritten.is_empty() {
                let mut text = String::with_capacity(sub.template.len());
                for (p, word) in sub.template.split(' ').enumerate() {
                    if p > 0 {
                        text.push(' ');
                    }
                    text.push_str(match &self.slots[p] {
                        Slot::Open(pattern) if rewritten.contains(&p) => pattern,
                        _ => word,
                    });
                }
                if text != sub.template {
                    let old = sub.fingerprint;
                    sub.fingerprint = crate::fingerprint_of(&text);
                    sub.template = text;
                    folded.push((old, sub.fingerprint));
                }
            }
            let hashes: Vec<u64> = sub.template.split(' ').map(token_hash).collect();
            sub.key = key_of(&self.slots, hashes.iter());
            if !kept.iter().any(|k| k.fingerprint == sub.fingerprint) {
                kept.push(sub);
            }
        }
        for (old, new) in folded {
            if let Some(sub) = kept.iter().find(|s| s.fingerprint == new) {
                merges.push(Merge {
                    old,
                    new,
                    template: sub.template.clone(),
                });
            }
        }
        self.subs = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::tokenize;

    fn line(text: &str) -> Tokens {
        let mut t = Tokens::default();
        tokenize(text, 64, &mut t);
        t
    }

    #[test]
    fn two_values_stay_apart_and_a_third_opens_the_position() {
        let mut merges = Vec::new();
        let a = line("cupsd startup succeeded");
        let mut c = Cluster::new(&a);
        let ka = c.absorb(&a, 3, &mut merges);
        let kb = c.absorb(&line("cupsd shutdown succeeded"), 3, &mut merges);
        assert_ne!(ka, kb);
        assert_eq!(c.subs()[kb].template, "cupsd shutdown succeeded");
        assert!(merges.is_empty());
        let kc = c.absorb(&line("cupsd restart succeeded"), 3, &mut merges);
        assert_eq!(c.subs().len(), 1);
        assert_eq!(c.subs()[kc].template, "cupsd <*> succeeded");
        let new = crate::fingerprint_of("cupsd <*> succeeded");
        let olds: Vec<u64> = merges.iter().map(|m| m.old).collect();
        assert_eq!(
            olds,
            vec![
                crate::fingerprint_of("cupsd startup succeeded"),
                crate::fingerprint_of("cupsd shutdown succeeded")
            ]
        );
        assert!(
            merges
                .iter()
                .all(|m| m.new == new && m.template == "cupsd <*> succeeded")
        );
    }

    #[test]
    fn a_value_fitting_a_masked_pattern_opens_the_position() {
        let mut merges = Vec::new();
        let a = line("Invalid user 1234 from 10.0.0.1");
        let mut c = Cluster::new(&a);
        c.absorb(&a, 3, &mut merges);
        let k = c.absorb(&line("Invalid user admin from 10.0.0.2"), 3, &mut merges);
        assert_eq!(c.subs()[k].template, "Invalid user <*> from <*>");
        assert_eq!(c.subs().len(), 1);
        // The first line's template already had `<*>` there: nothing folds.
        assert!(merges.is_empty());
    }

    #[test]
    fn an_open_position_keeps_shared_punctuation_and_widens() {
        let mut merges = Vec::new();
        let a = line("connect from 1.2.3.4 (host.example.com)");
        let mut c = Cluster::new(&a);
        c.absorb(&a, 3, &mut merges);
        let k = c.absorb(&line("connect from 1.2.3.5 ()"), 3, &mut merges);
        assert_eq!(c.subs()[k].template, "connect from <*> (<*>)");
        merges.clear();
        let k = c.absorb(&line("connect from 1.2.3.6 unknown"), 3, &mut merges);
        assert_eq!(c.subs()[k].template, "connect from <*> <*>");
        assert_eq!(merges.len(), 1);
        assert_eq!(
            merges[0].old,
            crate::fingerprint_of("connect from <*> (<*>)")
        );
    }

    #[test]
    fn variable_after_two_is_plain_drain() {
        let mut merges = Vec::new();
        let a = line("open file alpha");
        let mut c = Cluster::new(&a);
        c.absorb(&a, 2, &mut merges);
        let k = c.absorb(&line("open file beta"), 2, &mut merges);
        assert_eq!(c.subs()[k].template, "open file <*>");
        assert_eq!(merges.len(), 1);
    }
}
