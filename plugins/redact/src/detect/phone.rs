//! Words around a number that decide what it is — `phone`, `fax`, `call`
//! before a phone number; `ssn` before nine bare digits; `version` before a
//! dotted quad — and the phone shapes that need no such word.
//!
//! Phones are the loosest shape, so only numbers that can only be phones (a
//! `+` prefix, a parenthesised area code, the North-American 3-3-4 layout or
//! an extension) count without context; other digit groupings count only
//! after a context word, which keeps street numbers, timestamps and order
//! ids out.

use super::numeric::{DASH, DOT, Group, Number, PAREN, SPACE, area_code, is_word};

/// Where to look for context words, and what they may be.
pub(super) struct Context<'a> {
    /// The whole text.
    pub text: &'a [u8],
    /// An attribute key the text is the value of, if any.
    pub key: Option<&'a str>,
}

pub(super) const PHONE_WORDS: &[&str] = &[
    "phone",
    "mobile",
    "cell",
    "tel",
    "fax",
    "desk",
    "call",
    "number",
    "answering",
    "messages to",
    "message to",
    "registered",
    "sms",
    "whatsapp",
    "contact",
    "dial",
    "reach",
    "text me",
    "landline",
    "hotline",
    "ph:",
    "ph.",
];

/// Words that make a following `number` something other than a phone.
const NOT_PHONE_NUMBER: &[&str] = &[
    "licen",
    "passport",
    "order",
    "invoice",
    "account",
    "serial",
    "tracking",
    "reference",
    "ticket",
    "batch",
    "version",
    "build",
    "port",
    "sequence",
    "transaction",
    "confirmation",
    "case",
    "card",
    "security",
    "routing",
];

pub(super) const SSN_WORDS: &[&str] = &["ssn", "social security", "social sec", "ss#", "ss #"];

/// How far back (bytes) a context word may be.
const CONTEXT_WINDOW: usize = 32;

/// The last position of `word` in `hay` at the start of a word of prose
/// (`tel` in `Tel.` or `telephone`; not in `hotel`, `updatelocked`, or in
/// identifiers and paths like `nagios-sms5.png`).
/// In attribute keys (`user.phone`, `contact_tel`) `. _ -` do separate words.
fn word_at(hay: &[u8], word: &[u8], key: bool) -> Option<usize> {
    if hay.len() < word.len() {
        return None;
    }
    // Windows are a few dozen bytes: a plain scan beats building a searcher.
    (0..=hay.len() - word.len()).rev().find(|&p| {
        if hay[p] != word[0] || &hay[p..p + word.len()] != word {
            return false;
        }
        let before = p == 0
            || match hay[p - 1] {
                b'a'..=b'z' | b'0'..=b'9' => false,
                b'_' | b'.' | b'/' | b'-' => key,
                _ => true,
            };
        before && !hay.get(p + word.len()).is_some_and(u8::is_ascii_digit)
    })
}

/// Whether one of `words` starts a word shortly before `start` (or in the
/// attribute key). A `number` right after e.g. `license` does not count.
pub(super) fn has_context(ctx: &Context<'_>, start: usize, words: &[&str]) -> bool {
    if let Some(key) = ctx.key {
        let key = key.to_ascii_lowercase();
        if words
            .iter()
            .any(|w| word_at(key.as_bytes(), w.as_bytes(), true).is_some())
        {
            return true;
        }
    }
    let from = start.saturating_sub(CONTEXT_WINDOW + 24);
    let mut buf = [0u8; CONTEXT_WINDOW + 24];
    let window = &mut buf[..start - from];
    window.copy_from_slice(&ctx.text[from..start]);
    window.make_ascii_lowercase();
    let near = window.len().saturating_sub(CONTEXT_WINDOW);
    words.iter().any(|w| {
        let w = w.as_bytes();
        let Some(pos) = word_at(&window[near..], w, false).map(|p| p + near) else {
            return false;
        };
        w != b"number"
            || !NOT_PHONE_NUMBER.iter().any(|neg| {
                window[..pos]
                    .windows(neg.len())
                    .any(|x| x == neg.as_bytes())
            })
    })
}

/// Words just before a dotted quad that make it a version, not an address.
const VERSION_WORDS: &[&[u8]] = &[b"version", b"ver", b"build", b"release"];

/// Whether the word before `start` (across spaces and `:`/`=`/`(`), or the
/// attribute key, says "version": `wcp.dll version 0.0.0.6`.
pub(super) fn after_version_word(ctx: &Context<'_>, start: usize) -> bool {
    let b = ctx.text;
    let mut e = start;
    while e > 0 && start - e < 4 && matches!(b[e - 1], b' ' | b':' | b'=' | b'(' | b'"') {
        e -= 1;
    }
    let mut s = e;
    while s > 0 && b[s - 1].is_ascii_alphabetic() {
        s -= 1;
    }
    let word = &b[s..e];
    let key = ctx.key.map_or(&b""[..], |k| k.as_bytes());
    let key_word = &key[key
        .iter()
        .rposition(|c| !c.is_ascii_alphabetic())
        .map_or(0, |p| p + 1)..];
    VERSION_WORDS
        .iter()
        .any(|v| word.eq_ignore_ascii_case(v) || key_word.eq_ignore_ascii_case(v))
}

/// Dates (`2021-05-21`, `5-20-2021`, `21.5.21`), possibly followed by more
/// groups of a time: plausible day and month values, one separator.
fn date_like(b: &[u8], g: &[Group]) -> bool {
    if g.len() < 3 || g[1].sep != g[2].sep || g[1].sep & (SPACE | PAREN) != 0 {
        return false;
    }
    let value = |x: &Group| {
        b[x.start..x.end]
            .iter()
            .fold(0u32, |v, c| v * 10 + u32::from(c - b'0'))
    };
    let year = |x: &Group| x.len() == 4 && (b[x.start] == b'1' || b[x.start] == b'2');
    let small = |x: &Group| x.len() <= 2;
    let day_month = |d: u32, m: u32| (1..=31).contains(&d) && (1..=12).contains(&m);
    let (a, m, c) = (value(&g[0]), value(&g[1]), value(&g[2]));
    if year(&g[0]) && small(&g[1]) && small(&g[2]) {
        return day_month(c, m);
    }
    let short_year = g[2].len() == 2 && g.len() == 3;
    small(&g[0])
        && small(&g[1])
        && (year(&g[2]) || short_year)
        && (day_month(a, m) || day_month(m, a))
}

/// The phone span (start, end) of groups `s..` if they read as a phone.
pub(super) fn phone(ctx: &Context<'_>, num: &Number, s: usize) -> Option<(usize, usize)> {
    let b = ctx.text;
    let g = &num.groups[s..num.n];
    let digits: usize = g.iter().map(Group::len).sum();
    if !(7..=15).contains(&digits) || date_like(b, g) {
        return None;
    }
    let plus = if s == 0 { num.plus } else { None };
    let paren = if s == 0 {
        num.paren.filter(|_| area_code(num))
    } else {
        let closes = g.get(1).is_some_and(|x| x.sep & PAREN != 0);
        (closes && b[g[0].start - 1] == b'(').then(|| g[0].start - 1)
    };
    let end = num.ext_end.unwrap_or(g[g.len() - 1].end);
    if b.get(end).is_some_and(|&c| is_word(c)) {
        return None;
    }
    let start = plus.or(paren).unwrap_or(g[0].start);
    let strong = (plus.is_some() && digits >= 8)
        || (paren.is_some() && (2..=4).contains(&g[0].len()) && g.len() >= 2)
        || (num.ext_end.is_some() && g.len() >= 2)
        || north_american(b, g);
    if strong {
        return Some((start, end));
    }
    // Weak shapes: plain 9-15 digits, or groups of two or more digits.
    let plain_ok = g.len() == 1 && digits >= 9;
    let grouped_ok = g.len() >= 2 && g[1..].iter().all(|x| x.len() >= 2);
    ((plain_ok || grouped_ok) && has_context(ctx, start, PHONE_WORDS)).then_some((start, end))
}

/// `415-555-0132`, `415.555.0132`, `1 415 555 0132`, `001-253-366-9781`.
fn north_american(b: &[u8], g: &[Group]) -> bool {
    let m = g.len();
    if m < 3 {
        return false;
    }
    let tail = &g[m - 3..];
    let layout = (tail[0].len(), tail[1].len(), tail[2].len()) == (3, 3, 4)
        && tail[1].sep == tail[2].sep
        && matches!(tail[1].sep, SPACE | DASH | DOT);
    let prefix_ok = match &g[..m - 3] {
        [] => true,
        [cc] => matches!(&b[cc.start..cc.end], b"1" | b"001" | b"011"),
        _ => false,
    };
    layout && prefix_ok
}
