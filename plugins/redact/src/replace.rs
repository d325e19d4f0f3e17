//! Turning findings into replacement text: a type label (`[EMAIL]`), a keyed
//! hash (`[EMAIL:3f9a1c0b2e7d]`, HMAC-SHA256 with the tenant's secret, so
//! equal values give equal tokens and joins still work) or a partial mask
//! that keeps the last four characters (`[CREDIT_CARD:…1111]`).

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::detect::kinds::Kind;
use crate::detect::{Detected, Span};

/// How a finding is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `[EMAIL]`: the type only.
    #[default]
    Label,
    /// `[EMAIL:3f9a1c0b2e7d]`: type and a keyed hash of the value.
    Hash,
    /// `[CREDIT_CARD:…1111]`: type and the last four characters (digits for
    /// numbers), when the value has at least [`PARTIAL_MIN`] of them;
    /// otherwise as `label`.
    Partial,
}

/// Hex digits of the hash kept in a token (48 bits: collisions are
/// negligible per tenant, and the token stays short).
pub const HASH_HEX_CHARS: usize = 12;

/// Characters kept by partial mode.
const PARTIAL_KEEP: usize = 4;

/// Partial mode reveals at most half of a value: shorter ones get the label.
pub const PARTIAL_MIN: usize = 2 * PARTIAL_KEEP;

type HmacSha256 = Hmac<Sha256>;

/// Replacement text for every detector.
pub struct Replacer {
    /// Per built-in kind, then per custom pattern: label and mode.
    labels: Vec<String>,
    modes: Vec<Mode>,
    /// Keyed once; cloned per value so the key schedule is not redone.
    mac: Option<HmacSha256>,
}

fn slot(what: Detected) -> usize {
    match what {
        Detected::Builtin(k) => k as usize,
        Detected::Custom(i) => Kind::COUNT + usize::from(i),
    }
}

impl Replacer {
    /// `labels`/`modes` hold one entry per built-in kind then per custom
    /// pattern. `secret` is required when any mode is [`Mode::Hash`].
    pub fn new(
        labels: Vec<String>,
        modes: Vec<Mode>,
        secret: Option<&[u8]>,
    ) -> Result<Self, String> {
        let mac = match secret {
            Some(key) => {
                Some(HmacSha256::new_from_slice(key).map_err(|e| format!("`hash_secret`: {e}"))?)
            }
            None if modes.contains(&Mode::Hash) => {
                return Err("`hash_secret` is required when a detector uses mode \"hash\"".into());
            }
            None => None,
        };
        Ok(Self { labels, modes, mac })
    }

    /// The label of a detector (`EMAIL`, or a custom pattern's label).
    pub fn label(&self, what: Detected) -> &str {
        &self.labels[slot(what)]
    }

    /// `text` with every span replaced. Spans must be sorted and disjoint.
    pub fn apply(&self, text: &str, spans: &[Span]) -> String {
        let mut out = String::with_capacity(text.len() + 16 * spans.len());
        self.apply_into(text, spans, &mut out);
        out
    }

    /// [`Replacer::apply`] appending to `out`, so a caller can reuse buffers.
    pub fn apply_into(&self, text: &str, spans: &[Span], out: &mut String) {
        let mut at = 0;
        for span in spans {
            out.push_str(&text[at..span.start]);
            self.write(out, span.what, &text[span.start..span.end]);
            at = span.end;
        }
        out.push_str(&text[at..]);
    }

    /// The replacement of a whole value.
    pub fn whole(&self, what: Detected, value: &str) -> String {
        let mut out = String::new();
        self.write(&mut out, what, value);
        out
    }

    fn write(&self, out: &mut String, what: Detected, value: &str) {
        let digits = matches!(what, Detected::Builtin(k) if k.info().digits);
        out.push('[');
        out.push_str(self.label(what));
        match self.modes[slot(what)] {
            Mode::Label => {}
            Mode::Hash => {
                if let Some(mac) = &self.mac {
                    let mut mac = mac.clone();
                    feed_normalised(&mut mac, what, value, digits);
                    let tag = mac.finalize().into_bytes();
                    out.push(':');
                    for byte in &tag[..HASH_HEX_CHARS / 2] {
                        let _ = write!(out, "{byte:02x}");
                    }
                }
            }
            Mode::Partial => {
                let keep: Vec<char> = if digits {
                    value.chars().filter(char::is_ascii_digit).collect()
                } else {
                    value.chars().collect()
                };
                if keep.len() >= PARTIAL_MIN {
                    out.push_str(":…");
                    out.extend(&keep[keep.len() - PARTIAL_KEEP..]);
                }
            }
        }
        out.push(']');
    }
}

/// Hash the value in a canonical form, so `4111 1111 1111 1111` and
/// `4111-1111-1111-1111`, or `Bob@X.com` and `bob@x.com`, give one token.
fn feed_normalised(mac: &mut HmacSha256, what: Detected, value: &str, digits: bool) {
    let fold = matches!(
        what,
        Detected::Builtin(Kind::Email | Kind::Ipv6 | Kind::Iban)
    );
    for chunk in value.as_bytes().chunks(64) {
        let mut buf = [0u8; 64];
        let mut n = 0;
        for &c in chunk {
            if digits && !c.is_ascii_digit() {
                continue;
            }
            if fold && c == b' ' {
                continue;
            }
            buf[n] = if fold { c.to_ascii_lowercase() } else { c };
            n += 1;
        }
        mac.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replacer(mode: Mode, secret: Option<&[u8]>) -> Replacer {
        let labels = Kind::ALL
            .iter()
            .map(|k| k.info().label.to_owned())
            .collect();
        Replacer::new(labels, vec![mode; Kind::COUNT], secret).unwrap()
    }

    fn span(kind: Kind, start: usize, end: usize) -> Span {
        Span {
            start,
            end,
            what: Detected::Builtin(kind),
        }
    }

    #[test]
    fn label_mode() {
        let r = replacer(Mode::Label, None);
        let text = "mail bob@x.com now";
        assert_eq!(
            r.apply(text, &[span(Kind::Email, 5, 14)]),
            "mail [EMAIL] now"
        );
    }

    #[test]
    fn hash_mode_is_keyed_stable_and_canonical() {
        let r = replacer(Mode::Hash, Some(b"tenant-secret-0123456789"));
        let a = r.whole(Detected::Builtin(Kind::CreditCard), "4111 1111 1111 1111");
        let b = r.whole(Detected::Builtin(Kind::CreditCard), "4111-1111-1111-1111");
        let c = r.whole(Detected::Builtin(Kind::CreditCard), "5500-0000-0000-0004");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(
            a.starts_with("[CREDIT_CARD:") && a.len() == "[CREDIT_CARD:]".len() + 12,
            "{a}"
        );
        let other = replacer(Mode::Hash, Some(b"another-tenant-secret-99"));
        assert_ne!(
            a,
            other.whole(Detected::Builtin(Kind::CreditCard), "4111111111111111")
        );
        assert_eq!(
            r.whole(Detected::Builtin(Kind::Email), "Bob@X.com"),
            r.whole(Detected::Builtin(Kind::Email), "bob@x.com")
        );
    }

    #[test]
    fn hash_matches_hmac_sha256_reference() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let r = replacer(Mode::Hash, Some(b"Jefe"));
        let token = r.whole(
            Detected::Builtin(Kind::Secret),
            "what do ya want for nothing?",
        );
        assert_eq!(token, "[SECRET:5bdcc146bf60]");
    }

    #[test]
    fn partial_mode_keeps_last_four_of_long_values_only() {
        let r = replacer(Mode::Partial, None);
        assert_eq!(
            r.whole(Detected::Builtin(Kind::CreditCard), "4111 1111 1111 1111"),
            "[CREDIT_CARD:…1111]"
        );
        assert_eq!(
            r.whole(Detected::Builtin(Kind::Phone), "+1-555-201-3344"),
            "[PHONE:…3344]"
        );
        assert_eq!(
            r.whole(Detected::Builtin(Kind::Email), "bob@example.com"),
            "[EMAIL:….com]"
        );
        assert_eq!(
            r.whole(Detected::Builtin(Kind::Secret), "short"),
            "[SECRET]"
        );
    }

    #[test]
    fn hash_without_secret_is_an_error() {
        let labels = Kind::ALL
            .iter()
            .map(|k| k.info().label.to_owned())
            .collect();
        let err = Replacer::new(labels, vec![Mode::Hash; Kind::COUNT], None)
            .err()
            .unwrap();
        assert!(err.contains("hash_secret"), "{err}");
    }
}
