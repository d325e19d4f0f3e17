//! The one pass over a text: a walk over the bytes with a class table.
//! Letters are skipped a word at a time; at a word start the trigger table
//! may name a token rule (`AKIA…`, `eyJ…`), and a word's first bytes and
//! length decide whether it can be an IBAN, a wallet or a vendor key; digits,
//! `+` and `(` start a number; `@` an email; `:` an IPv6 address, a URL with
//! credentials or a `name: value` pair; `=` a `name=value` pair; `-` a
//! private-key block. Everything else is one table lookup.

use super::keyvalue;
use super::kinds::{Kind, KindSet};
use super::numeric::{self, Context};
use super::patterns::{self, Compiled};
use super::prefilter::Prefilter;
use super::validators::{base58check_address, bech32_address, iban_length, iban_valid, ipv6_valid};
use super::{Detected, Span};

const OTHER: u8 = 0;
const DIGIT: u8 = 0x10;
const LETTER: u8 = 0x20;
/// Either of the above.
const ALNUM: u8 = DIGIT | LETTER;
const AT: u8 = 1;
const COLON: u8 = 2;
const OPEN: u8 = 3;
const EQUALS: u8 = 4;
const DASH: u8 = 5;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_digit() {
            DIGIT
        } else if b.is_ascii_alphabetic() {
            LETTER
        } else if b == b'@' {
            AT
        } else if b == b':' {
            COLON
        } else if b == b'+' || b == b'(' {
            OPEN
        } else if b == b'=' {
            EQUALS
        } else if b == b'-' {
            DASH
        } else {
            OTHER
        };
        c += 1;
    }
    t
};

/// Which structural detectors are on, decided once per config.
#[derive(Clone, Copy)]
pub(super) struct Wants {
    pub numbers: bool,
    pub email: bool,
    pub ipv6: bool,
    pub words: bool,
    pub pairs: bool,
}

/// Detectors fed by [`keyvalue`].
const KEY_VALUE_KINDS: &[Kind] = &[
    Kind::Secret,
    Kind::AwsSecretKey,
    Kind::CloudantCredentials,
    Kind::IbmCloudIamKey,
    Kind::IbmCosHmacKey,
    Kind::SoftlayerKey,
];

impl Wants {
    pub(super) fn new(e: KindSet) -> Self {
        Wants {
            pairs: e.any(KEY_VALUE_KINDS),
            numbers: e.any(&[Kind::Ipv4, Kind::CreditCard, Kind::Phone, Kind::UsSsn]),
            email: e.contains(Kind::Email),
            ipv6: e.contains(Kind::Ipv6),
            words: e.any(&[
                Kind::Iban,
                Kind::CryptoWallet,
                Kind::ArtifactoryToken,
                Kind::TwilioKey,
                Kind::DiscordToken,
            ]),
        }
    }
}

#[cfg(test)]
#[test]
fn swar_word_end_matches_byte_test() {
    for c in 0..=255u8 {
        let bytes = [b'a', c, b'b', b'c', b'd', b'e', b'f', b'g', b'h'];
        let want = if c.is_ascii_alphanumeric() { 9 } else { 1 };
        assert_eq!(alnum_end(&bytes, 0), want, "byte {c:#x}");
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// End of the run of ASCII letters and digits at `i`, eight bytes at a time.
fn alnum_end(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let stop = not_alnum(u64::from_le_bytes(word));
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && CLASS[usize::from(b[i])] & ALNUM != 0 {
        i += 1;
    }
    i
}

/// High bit of each byte of `x` that is not an ASCII letter or digit
/// (SWAR: no byte carries into the next, as every sum stays below 0x100).
fn not_alnum(x: u64) -> u64 {
    const H: u64 = 0x8080_8080_8080_8080;
    const L: u64 = 0x0101_0101_0101_0101;
    let y = x & !H;
    let in_range =
        |v: u64, lo: u64, hi: u64| (v + L * (0x80 - lo)) & !(v + L * (0x80 - hi - 1)) & H;
    let digit = in_range(y, 0x30, 0x39);
    let letter = in_range(y | (L * 0x20), 0x61, 0x7a);
    !((digit | letter) & !x) & H
}

fn push(out: &mut Vec<Span>, kind: Kind, start: usize, end: usize) {
    out.push(Span {
        start,
        end,
        what: Detected::Builtin(kind),
    });
}

/// Everything the scanner needs besides the text.
pub(super) struct Scan<'a> {
    pub enabled: KindSet,
    pub wants: Wants,
    pub rules: &'a Compiled,
    pub triggers: &'a Prefilter,
}

impl Scan<'_> {
    pub(super) fn run(
        &self,
        text: &str,
        key: Option<&str>,
        scratch: &mut patterns::Scratch,
        url_ats: &mut Vec<usize>,
        out: &mut Vec<Span>,
    ) {
        let b = text.as_bytes();
        let ctx = Context { text: b, key };
        let w = self.wants;
        let mut v6_done = 0;
        // End of the last `name=value` value: separators inside it are data.
        let mut value_end = 0;
        let mut pair = |i: usize, out: &mut Vec<Span>| {
            if w.pairs && i >= value_end {
                value_end = keyvalue::at_separator(b, i, self.enabled, out).unwrap_or(0);
            }
        };
        let mut i = 0;
        while i < b.len() {
            let class = CLASS[usize::from(b[i])];
            // Spaces and most punctuation: one lookup, no dispatch.
            if class == OTHER {
                i += 1;
                continue;
            }
            match class {
                LETTER => {
                    let end = alnum_end(b, i);
                    let mut next = end;
                    // Scanning goes on inside a token (`Bearer eyJ…` is a JWT).
                    let token = self
                        .triggers
                        .at_word(b, i)
                        .and_then(|rule| self.rules.try_at(text, rule, i, scratch, out));
                    // Every word shape is 11+ characters, or an IBAN's first
                    // group of four (`GB82 WEST …`).
                    let len = end - i;
                    if w.words
                        && token.is_none()
                        && (len >= 11 || (len == 4 && b[i + 3].is_ascii_digit()))
                    {
                        next = self
                            .word(text, i, end, scratch, out)
                            .unwrap_or(end)
                            .max(end);
                    }
                    i = next;
                }
                DIGIT => {
                    let end = alnum_end(b, i);
                    let mut next = end;
                    if w.numbers && (i == 0 || !is_word(b[i - 1])) && may_be_number(b, i, end) {
                        let glued = i >= 2 && b[i - 1] == b'-' && is_word(b[i - 2]);
                        next = next.max(numeric::scan(&ctx, i, glued, self.enabled, out));
                    }
                    if w.words && end - i >= 26 {
                        next = next.max(self.word(text, i, end, scratch, out).unwrap_or(end));
                    }
                    i = next;
                }
                OPEN if w.numbers
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                    && (i == 0 || !is_word(b[i - 1]))
                    && may_be_number(b, i + 1, alnum_end(b, i + 1)) =>
                {
                    i = numeric::scan(&ctx, i, false, self.enabled, out).max(i + 1);
                }
                AT if w.email => i = self.email(b, i, url_ats, out).unwrap_or(i + 1),
                COLON => {
                    let mut next = i + 1;
                    for rule in self.triggers.at_punct(b, i) {
                        let before = out.len();
                        if let Some(e) = self.rules.try_at(text, rule, i, scratch, out) {
                            if self.rules.rules[rule].kind == Kind::UrlCredentials {
                                url_ats.push(out[before].end);
                            } else {
                                next = e;
                            }
                        }
                    }
                    pair(i, out);
                    if w.ipv6 && i >= v6_done && next == i + 1 {
                        let (found, run_end) = ipv6(text, i, out);
                        v6_done = run_end;
                        next = found.unwrap_or(next);
                    }
                    i = next;
                }
                EQUALS => {
                    pair(i, out);
                    i += 1;
                }
                DASH => {
                    let mut next = i + 1;
                    for rule in self.triggers.at_punct(b, i) {
                        if let Some(e) = self.rules.try_at(text, rule, i, scratch, out) {
                            next = next.max(e);
                        }
                    }
                    i = next;
                }
                _ => i += 1,
            }
        }
    }

    /// Shapes decided by a word's first bytes and length; returns the end of
    /// a finding.
    fn word(
        &self,
        text: &str,
        s: usize,
        e: usize,
        scratch: &mut patterns::Scratch,
        out: &mut Vec<Span>,
    ) -> Option<usize> {
        let b = text.as_bytes();
        let w = &b[s..e];
        let len = w.len();
        let on = |k| self.enabled.contains(k);
        if len >= 4
            && on(Kind::Iban)
            && w[..2].iter().all(u8::is_ascii_alphabetic)
            && w[2..4].iter().all(u8::is_ascii_digit)
            && let Some(end) = iban(b, s, e)
        {
            push(out, Kind::Iban, s, end);
            return Some(end);
        }
        let kind = match w[0] {
            b'A' | b'S' if on(Kind::TwilioKey) && len == 34 && twilio(w) => Kind::TwilioKey,
            b'A' if on(Kind::ArtifactoryToken) && artifactory(b, s, e) => Kind::ArtifactoryToken,
            b'M' | b'N' | b'O' => {
                let index = self.rules.discord?;
                let before_ok = s == 0 || !matches!(b[s - 1], b'-' | b'_');
                let mut t = e;
                while t < b.len() && patterns::Class::Token.has(b[t]) {
                    t += 1;
                }
                if before_ok && (24..=26).contains(&(t - s)) && b.get(t) == Some(&b'.') {
                    return self.rules.try_at(text, index, s, scratch, out);
                }
                return None;
            }
            b'1' | b'3' if on(Kind::CryptoWallet) && base58check_address(w) => Kind::CryptoWallet,
            b'b' | b'B' if on(Kind::CryptoWallet) && len >= 42 && bech32_address(w) => {
                Kind::CryptoWallet
            }
            _ => return None,
        };
        push(out, kind, s, e);
        Some(e)
    }

    /// An email around the `@` at `at`; returns where scanning resumes.
    fn email(&self, b: &[u8], at: usize, url_ats: &[usize], out: &mut Vec<Span>) -> Option<usize> {
        let local = |c: u8| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
        };
        let mut ls = at;
        while ls > 0 && at - ls < 64 && local(b[ls - 1]) {
            ls -= 1;
        }
        while ls < at && matches!(b[ls], b'.' | b'\'' | b'-') {
            ls += 1;
        }
        if ls == at || b[at - 1] == b'.' || url_ats.contains(&at) {
            return None;
        }
        let label = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c >= 0x80;
        let mut j = at + 1;
        let mut labels = 0;
        let mut end = None;
        loop {
            let s = j;
            while j < b.len() && label(b[j]) {
                j += 1;
            }
            if j == s || b[s] == b'-' || b[j - 1] == b'-' {
                break;
            }
            labels += 1;
            let tld = &b[s..j];
            let tld_ok = (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
                || (tld.len() > 4 && tld[..4].eq_ignore_ascii_case(b"xn--"));
            if labels >= 2 && tld_ok {
                end = Some(j);
            }
            if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(|&c| label(c)) {
                j += 1;
            } else {
                break;
            }
        }
        let end = end?;
        push(out, Kind::Email, ls, end);
        Some(end)
    }
}

/// Cheap reject before parsing: a digit run shorter than any finding (7
/// digits) that no separator continues (`694ms`, `status=200`, `batch 71933
/// with`) cannot be an address, card, SSN or phone.
fn may_be_number(b: &[u8], start: usize, word_end: usize) -> bool {
    let mut d = start;
    while d < word_end && b[d].is_ascii_digit() {
        d += 1;
    }
    if d - start >= 7 {
        return true;
    }
    let next_digit = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'(');
    match b.get(d) {
        Some(b'.' | b'-' | b' ' | b'(' | b')') => {
            next_digit(d + 1) || (b[d] == b')' && next_digit(d + 2))
        }
        _ => false,
    }
}

/// An IBAN starting at word `s..e`: compact (`GB82WEST1234…`) or in groups
/// of four (`GB82 WEST 1234 …`). Returns its end.
fn iban(b: &[u8], s: usize, e: usize) -> Option<usize> {
    let want = iban_length(&b[s..e])?;
    if e - s == want {
        return iban_valid(&b[s..e]).then_some(e);
    }
    if e - s != 4 {
        return None;
    }
    let mut buf = [0u8; 34];
    buf[..4].copy_from_slice(&b[s..e]);
    let mut n = 4;
    let mut j = e;
    while n < want && b.get(j) == Some(&b' ') {
        let gs = j + 1;
        let ge = alnum_end(b, gs);
        if ge == gs || ge - gs > 4 || n + (ge - gs) > want {
            return None;
        }
        buf[n..n + (ge - gs)].copy_from_slice(&b[gs..ge]);
        n += ge - gs;
        j = ge;
        if ge - gs < 4 {
            break;
        }
    }
    (n == want && iban_valid(&buf[..n])).then_some(j)
}

/// Twilio account/API key ids: `AC` or `SK` and 32 lower-case alphanumerics.
fn twilio(w: &[u8]) -> bool {
    (w.starts_with(b"AC") || w.starts_with(b"SK"))
        && w[2..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Artifactory keys (`AKC` + 10 or more) and passwords (`AP[0-9A-F]` + 8 or
/// more), standing alone: after a space, `=`, `:` or quote and before a
/// space, quote or the end. Mixed case or digits: `APEXCONNECTOR` is a word.
fn artifactory(b: &[u8], s: usize, e: usize) -> bool {
    let w = &b[s..e];
    let shape = (w.starts_with(b"AKC") && w.len() >= 13)
        || (w.len() >= 11 && w[1] == b'P' && matches!(w[2], b'0'..=b'9' | b'A'..=b'F'));
    let before = s == 0 || matches!(b[s - 1], b' ' | b'\t' | b'\n' | b'=' | b':' | b'"' | b'\'');
    let after = e == b.len()
        || matches!(
            b[e],
            b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'' | b',' | b';'
        );
    let mixed = w
        .iter()
        .any(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    shape && before && after && mixed
}

/// An IPv6 address through the `:` at `i`. Returns (end of the finding, end
/// of the hex/colon run examined).
fn ipv6(text: &str, i: usize, out: &mut Vec<Span>) -> (Option<usize>, usize) {
    let b = text.as_bytes();
    let hexish = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut s = i;
    while s > 0 && hexish(b[s - 1]) {
        s -= 1;
    }
    let mut e = i;
    while e < b.len() && hexish(b[e]) {
        e += 1;
    }
    let run_end = e;
    while e > s && b[e - 1] == b'.' {
        e -= 1;
    }
    while s < e && b[s] == b'.' {
        s += 1;
    }
    if (s > 0 && is_word(b[s - 1])) || memchr::memchr_iter(b':', &b[s..e]).count() < 2 {
        return (None, run_end);
    }
    let mut ok = ipv6_valid(&text[s..e]);
    if !ok && e - s > 2 && b[e - 1] == b':' && b[e - 2] != b':' {
        e -= 1;
        ok = ipv6_valid(&text[s..e]);
    }
    if !ok {
        return (None, run_end);
    }
    let mut end = e;
    if b.get(end) == Some(&b'%') {
        let zs = end + 1;
        let mut z = zs;
        while z < b.len()
            && (b[z].is_ascii_alphanumeric() || matches!(b[z], b'.' | b'_' | b'~' | b'-'))
        {
            z += 1;
        }
        if z > zs {
            end = z;
        }
    }
    if b.get(end) == Some(&b'/') {
        let ds = end + 1;
        let mut d = ds;
        while d < b.len() && b[d].is_ascii_digit() && d - ds < 4 {
            d += 1;
        }
        let bits = text[ds..d].parse::<u16>().ok();
        if d > ds && bits.is_some_and(|v| v <= 128) && !b.get(d).is_some_and(u8::is_ascii_digit) {
            end = d;
        }
    }
    if b.get(end).is_some_and(|&c| is_word(c)) {
        return (None, run_end);
    }
    push(out, Kind::Ipv6, s, end);
    (Some(end), run_end.max(end))
}
