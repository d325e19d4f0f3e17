//! The literal prefilter: trigger literals of every enabled token rule,
//! found without a second pass over the text. The scanner stops at word
//! starts, `:` and `-` anyway; there
//!
//! - a word start whose first two bytes (case-folded) begin some literal —
//!   one bit in a 64 Ki-bit table — compares the literals sharing those two
//!   bytes (`AKIA`, `ghp_`, `eyJ`, `bearer`, `SG.`…: one or two per pair);
//! - a `:` or `-` compares the few literals that start with it (`://`,
//!   `:AA`, `:_authToken=`, `-----BEGIN`, `-us`).
//!
//! A hit names exactly one rule to try. Words that start no literal cost a
//! table lookup, however many rules are configured. (A full-text
//! Aho-Corasick pass was measured at ~2 ns/byte on this workload: short
//! case-insensitive literals defeat its prefilters; this table costs nothing
//! beyond the walk the scanner does anyway.)

use super::patterns::{At, Compiled};

/// One trigger literal and the rule it dispatches to.
struct Trigger {
    literal: &'static str,
    /// The literal must match with this exact case.
    exact: bool,
    rule: usize,
}

/// The trigger tables of one [`Compiled`] rule set.
pub(super) struct Prefilter {
    /// Bit `(lower(b0) << 8) | lower(b1)`: some word-start literal begins so.
    pairs: Box<[u64; 1024]>,
    /// Word-start literals with their pair, longest first within a pair.
    word_triggers: Vec<(usize, Trigger)>,
    /// Literals starting with `:` or `-`.
    punct: Vec<Trigger>,
}

fn pair(b0: u8, b1: u8) -> usize {
    (usize::from(b0.to_ascii_lowercase()) << 8) | usize::from(b1.to_ascii_lowercase())
}

impl Prefilter {
    pub(super) fn new(rules: &Compiled) -> Self {
        let mut pairs = Box::new([0u64; 1024]);
        let mut word_triggers = Vec::new();
        let mut punct = Vec::new();
        for (index, rule) in rules.rules.iter().enumerate() {
            for &literal in rule.triggers {
                let trigger = Trigger {
                    literal,
                    exact: !rule.ci,
                    rule: index,
                };
                match rule.at {
                    At::WordStart => {
                        let b = literal.as_bytes();
                        let bit = pair(b[0], b[1]);
                        pairs[bit / 64] |= 1 << (bit % 64);
                        word_triggers.push((bit, trigger));
                    }
                    At::Colon | At::Dash => punct.push(trigger),
                }
            }
        }
        word_triggers.sort_by_key(|(bit, t)| (*bit, std::cmp::Reverse(t.literal.len())));
        Self {
            pairs,
            word_triggers,
            punct,
        }
    }

    /// The rule whose literal starts the word at `i`, if any.
    #[inline]
    pub(super) fn at_word(&self, b: &[u8], i: usize) -> Option<usize> {
        let second = *b.get(i + 1)?;
        let bit = pair(b[i], second);
        if self.pairs[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let first = self.word_triggers.partition_point(|(p, _)| *p < bit);
        let rest = &b[i..];
        self.word_triggers[first..]
            .iter()
            .take_while(|(p, _)| *p == bit)
            .map(|(_, t)| t)
            .find(|t| {
                let lit = t.literal.as_bytes();
                rest.len() >= lit.len()
                    && match t.exact {
                        true => &rest[..lit.len()] == lit,
                        false => rest[..lit.len()].eq_ignore_ascii_case(lit),
                    }
            })
            .map(|t| t.rule)
    }

    /// Rules whose `:`/`-` literal starts at `i`.
    pub(super) fn at_punct<'a>(
        &'a self,
        b: &'a [u8],
        i: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        // The second byte first: most `:` and `-` start no literal.
        let second = b.get(i + 1).copied();
        self.punct
            .iter()
            .filter(move |t| {
                let lit = t.literal.as_bytes();
                second == Some(lit[1]) && b[i..].starts_with(lit)
            })
            .map(|t| t.rule)
    }
}
