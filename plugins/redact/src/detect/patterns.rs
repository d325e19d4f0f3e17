//! Token formats with a literal trigger (`AKIA`, `ghp_`, `eyJ`, `://`…): one
//! table, each rule's pattern compiled into its own lazy DFA
//! (`regex_automata`'s hybrid engine) the first time one of its triggers
//! is seen, so a new tenant's step starts without building automata for
//! formats its logs may never contain. The scanner finds a trigger
//! ([`super::prefilter`]); the rule says where the token starts relative to
//! it; one anchored forward search of that rule's pattern confirms the shape
//! and finds its end; the rule's [`Secret`] says which part is the secret;
//! a validator and boundary checks finish the job. Nothing here scans a
//! text, and no capture engine runs (a meta-regex capture search measured
//! ~1 µs per hit; the DFA walk costs about a nanosecond per byte).

use std::cell::OnceCell;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::{Anchored, Input, MatchKind};

use super::kinds::{Kind, KindSet};
pub(super) use super::rules::{At, Class};
use super::rules::{Back, Check, DISCORD, RULES, Rule, Secret};
use super::validators::{basic_auth_valid, jwt_valid};
use super::{Detected, Span};

/// The enabled rules, each with its automaton once needed.
pub(super) struct Compiled {
    dfas: Vec<OnceCell<Option<DFA>>>,
    pub rules: Vec<&'static Rule>,
    /// Pattern id of the Discord rule, when enabled.
    pub discord: Option<usize>,
}

/// Reusable search state for [`Compiled`].
pub(super) struct Scratch {
    /// Per rule, made with its automaton.
    caches: Vec<Option<Cache>>,
    /// Per rule: a failed search from an earlier trigger ran through a
    /// token up to here, so a trigger of the same rule inside it fails too.
    /// Keeps crafted texts (`eyJa_eyJa_eyJa_…`) linear.
    failed_until: Vec<usize>,
}

impl Scratch {
    /// Forget the previous text.
    pub(super) fn reset(&mut self) {
        self.failed_until.fill(0);
    }
}

/// Longest token a search may read: bounds the work of one trigger.
const MAX_TOKEN: usize = 64 * 1024;

impl Compiled {
    pub(super) fn new(enabled: KindSet) -> Result<Self, String> {
        let mut rules: Vec<&'static Rule> =
            RULES.iter().filter(|r| enabled.contains(r.kind)).collect();
        let discord = enabled.contains(Kind::DiscordToken).then(|| {
            rules.push(&DISCORD);
            rules.len() - 1
        });
        Ok(Self {
            dfas: rules.iter().map(|_| OnceCell::new()).collect(),
            rules,
            discord,
        })
    }

    /// Rule `index`'s automaton, built on first use. `None` only if a
    /// built-in pattern does not compile, which a unit test rules out.
    fn dfa(&self, index: usize) -> Option<&DFA> {
        self.dfas[index]
            .get_or_init(|| {
                DFA::builder()
                    .configure(
                        DFA::config()
                            .match_kind(MatchKind::LeftmostFirst)
                            // Never give up on a hostile input: clear and go on.
                            .minimum_cache_clear_count(None),
                    )
                    // Only where a match ends is read, never a group: an
                    // automaton without capture states builds faster.
                    .thompson(thompson::Config::new().which_captures(WhichCaptures::None))
                    .build(self.rules[index].pattern)
                    .ok()
            })
            .as_ref()
    }

    pub(super) fn scratch(&self) -> Scratch {
        Scratch {
            caches: self.rules.iter().map(|_| None).collect(),
            failed_until: vec![0; self.rules.len()],
        }
    }

    /// Try rule `index` for a trigger found at `at`. Returns the end of the
    /// whole match when it is a finding.
    pub(super) fn try_at(
        &self,
        text: &str,
        index: usize,
        at: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Span>,
    ) -> Option<usize> {
        let rule = self.rules[index];
        let b = text.as_bytes();
        let start = match rule.back {
            Back::None => at,
            Back::Exactly(n) => at.checked_sub(n)?,
            Back::Over(class, max) => {
                let mut s = at;
                while s > 0 && at - s < max && class.has(b[s - 1]) {
                    s -= 1;
                }
                s
            }
        };
        if start > 0 && rule.left != Class::Any && rule.left.has(b[start - 1]) {
            return None;
        }
        if start < scratch.failed_until[index] {
            return None;
        }
        let dfa = self.dfa(index)?;
        let cache = scratch.caches[index].get_or_insert_with(|| dfa.create_cache());
        let input = Input::new(text)
            .span(start..text.len().min(start + MAX_TOKEN))
            .anchored(Anchored::Yes);
        let token_end = |mut run: usize| {
            while run < b.len() && Class::Token.has(b[run]) {
                run += 1;
            }
            run
        };
        let Ok(Some(found)) = dfa.try_search_fwd(cache, &input) else {
            scratch.failed_until[index] = token_end(start);
            return None;
        };
        let end = found.offset().min(start.saturating_add(rule.max_len));
        if rule.right != Class::Any && end < b.len() && rule.right.has(b[end]) {
            // Too long (`glagent-` + 2000 characters): so is every later
            // start of the same rule inside this token.
            scratch.failed_until[index] = token_end(end);
            return None;
        }
        let (s, mut e) = locate(b, start, end, rule.secret)?;
        let secret = &b[s..e];
        let ok = match rule.check {
            Check::None => true,
            Check::Jwt => jwt_valid(secret),
            Check::BasicAuth => basic_auth_valid(secret),
            Check::Mixed => {
                secret.iter().any(u8::is_ascii_digit) && secret.iter().any(u8::is_ascii_alphabetic)
            }
            Check::KeyBlock => {
                e = key_block_end(b, e);
                true
            }
        };
        if !ok {
            return None;
        }
        out.push(Span {
            start: s,
            end: e,
            what: Detected::Builtin(rule.kind),
        });
        Some(e.max(end))
    }
}

/// The secret part of the match `b[start..end]`.
fn locate(b: &[u8], start: usize, end: usize, secret: Secret) -> Option<(usize, usize)> {
    let m = &b[start..end];
    let after = |i: usize| (start + i, end);
    let found = match secret {
        Secret::Whole => (start, end),
        Secret::AfterBlank => {
            let blank = m.iter().position(|c| matches!(c, b' ' | b'\t'))?;
            let token = m[blank..].iter().position(|c| !matches!(c, b' ' | b'\t'))?;
            after(blank + token)
        }
        Secret::UserInfo => {
            let scheme = memchr::memmem::find(m, b"://")?;
            (start + scheme + 3, end - 1)
        }
        Secret::AfterEquals => {
            let eq = memchr::memchr(b'=', m)?;
            let token = m[eq + 1..]
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t'))?;
            after(eq + 1 + token)
        }
        Secret::AfterSlash(n) => {
            let slash = memchr::memchr_iter(b'/', m).nth(usize::from(n) - 1)?;
            after(slash + 1)
        }
    };
    (found.1 > found.0).then_some(found)
}

/// End of a private-key block whose header ends at `from`: after the
/// `-----END … -----` line, or the end of the text when it was cut off.
fn key_block_end(b: &[u8], from: usize) -> usize {
    let Some(pos) = memchr::memmem::find(&b[from..], b"-----END") else {
        return b.len();
    };
    let after = from + pos + 8;
    match memchr::memmem::find(&b[after..], b"-----") {
        Some(p) if p <= 48 => after + p + 5,
        _ => after,
    }
}

#[cfg(test)]
mod tests {
    use regex_automata::PatternID;

    use super::*;

    #[test]
    fn every_pattern_compiles_alone_and_together() {
        for rule in RULES {
            let re = regex_automata::meta::Regex::new(rule.pattern).unwrap();
            // Only the implicit group: the secret is located by `Secret`.
            assert_eq!(
                re.group_info().group_len(PatternID::ZERO),
                1,
                "{}",
                rule.pattern
            );
            assert!(!rule.triggers.is_empty());
        }
        let compiled = Compiled::new(KindSet::ALL).unwrap();
        assert_eq!(compiled.rules.len(), RULES.len() + 1);
        for index in 0..compiled.rules.len() {
            assert!(
                compiled.dfa(index).is_some(),
                "{}",
                compiled.rules[index].pattern
            );
        }
    }

    #[test]
    fn key_block_runs_to_end_marker_or_end_of_text() {
        let text = b"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- tail";
        let end = key_block_end(text, 31);
        assert_eq!(&text[end..], b" tail");
        assert_eq!(key_block_end(b"-----BEGIN X-----abc", 17), 20);
    }
}
