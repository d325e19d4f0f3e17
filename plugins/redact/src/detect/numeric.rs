//! Numbers: one parse of a run of digit groups (`+41 (0)96 471 07 95`,
//! `4111-1111-1111-1111`, `10.0.0.1`), then one classification of the groups
//! as IPv4, SSN, payment card or phone, in that order of strictness (the
//! phone rules and the context words live in [`super::phone`]).

use super::kinds::{Kind, KindSet};
pub(super) use super::phone::Context;
use super::phone::{self, SSN_WORDS, after_version_word, has_context};
use super::validators::{card_issuer_ok, ipv4_len, luhn, ssn_valid};
use super::{Detected, Span};

/// Groups beyond this are not part of any number we detect.
const MAX_GROUPS: usize = 12;

pub(super) const SPACE: u8 = 1;
pub(super) const DASH: u8 = 2;
pub(super) const DOT: u8 = 4;
pub(super) const PAREN: u8 = 8;

#[derive(Clone, Copy, Default)]
pub(super) struct Group {
    pub start: usize,
    pub end: usize,
    /// Separator before this group, as bits (`SPACE | PAREN` for ` (`).
    pub sep: u8,
}

impl Group {
    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }
}

/// A parsed run of digit groups.
pub(super) struct Number {
    pub groups: [Group; MAX_GROUPS],
    pub n: usize,
    /// Starts with `+` (position of the `+`).
    pub plus: Option<usize>,
    /// The first group is in parentheses (position of the `(`).
    pub paren: Option<usize>,
    /// End of a phone extension (`x123`, ` ext. 45`) after the last group.
    pub ext_end: Option<usize>,
}

fn is_digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

pub(super) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Parse digit groups starting at `start` (a digit, `+digit` or `(digit`).
fn parse(b: &[u8], start: usize) -> Number {
    let mut num = Number {
        groups: [Group::default(); MAX_GROUPS],
        n: 0,
        plus: None,
        paren: None,
        ext_end: None,
    };
    let mut i = start;
    if b[i] == b'+' {
        num.plus = Some(i);
        i += 1;
    }
    let mut open = false;
    if b.get(i) == Some(&b'(') && is_digit(b, i + 1) {
        num.paren = Some(i);
        open = true;
        i += 1;
    }
    let mut sep = 0;
    loop {
        let gs = i;
        while is_digit(b, i) {
            i += 1;
        }
        num.groups[num.n] = Group {
            start: gs,
            end: i,
            sep,
        };
        num.n += 1;
        if num.n == MAX_GROUPS {
            break;
        }
        let mut j = i;
        sep = 0;
        if open && b.get(j) == Some(&b')') {
            j += 1;
            open = false;
            sep |= PAREN;
        }
        match b.get(j) {
            Some(b' ') => sep |= SPACE,
            Some(b'-') => sep |= DASH,
            Some(b'.') => sep |= DOT,
            _ => {}
        }
        if sep & (SPACE | DASH | DOT) != 0 {
            j += 1;
        }
        if !open && b.get(j) == Some(&b'(') && is_digit(b, j + 1) {
            j += 1;
            open = true;
            sep |= PAREN;
        }
        if j > i && is_digit(b, j) {
            i = j;
        } else {
            break;
        }
    }
    num.ext_end = extension(b, i);
    num
}

/// `x123`, ` x123`, `ext 123`, ` ext. 123` right after a number.
fn extension(b: &[u8], end: usize) -> Option<usize> {
    let mut j = end;
    if b.get(j) == Some(&b' ') {
        j += 1;
    }
    if b.get(j) == Some(&b'x') {
        j += 1;
    } else if b.len() >= j + 3 && b[j..j + 3].eq_ignore_ascii_case(b"ext") {
        j += 3;
        if b.get(j) == Some(&b'.') {
            j += 1;
        }
        if b.get(j) == Some(&b' ') {
            j += 1;
        }
    } else {
        return None;
    }
    let ds = j;
    while is_digit(b, j) && j - ds < 6 {
        j += 1;
    }
    (j > ds && !b.get(j).is_some_and(|&c| is_word(c))).then_some(j)
}

/// Collect the digits of groups into `buf`; returns how many.
fn digits_of(b: &[u8], groups: &[Group], buf: &mut [u8; 32]) -> usize {
    let mut n = 0;
    for g in groups {
        for &c in &b[g.start..g.end] {
            if n == buf.len() {
                return n;
            }
            buf[n] = c;
            n += 1;
        }
    }
    n
}

/// Classify the number starting at `start`; push findings; return where the
/// scanner resumes. A `glued` number follows `word-` (`blk_-4980916519…`,
/// `db-7`): part of an identifier, so only an IPv4 address may start there.
pub(super) fn scan(
    ctx: &Context<'_>,
    start: usize,
    glued: bool,
    enabled: KindSet,
    out: &mut Vec<Span>,
) -> usize {
    let b = ctx.text;
    let num = parse(b, start);
    let end_ok = |end: usize| !b.get(end).is_some_and(|&c| is_word(c));
    let mut s = 0;
    while s < num.n {
        let mut on = enabled;
        if glued && s == 0 {
            on = KindSet::NONE;
            if enabled.contains(Kind::Ipv4) {
                on.insert(Kind::Ipv4);
            }
        }
        let consumed = classify(ctx, &num, s, on, &end_ok, out);
        if consumed > 0 {
            s += consumed;
            continue;
        }
        // Retry after the next space or parenthesis: `order 12 4111 1111…`.
        s += 1;
        while s < num.n && num.groups[s].sep & (SPACE | PAREN) == 0 {
            s += 1;
        }
    }
    num.groups[num.n - 1].end
}

fn push(out: &mut Vec<Span>, kind: Kind, start: usize, end: usize) {
    out.push(Span {
        start,
        end,
        what: Detected::Builtin(kind),
    });
}

/// Try every shape at group `s`; returns the number of groups consumed.
fn classify(
    ctx: &Context<'_>,
    num: &Number,
    s: usize,
    enabled: KindSet,
    end_ok: &dyn Fn(usize) -> bool,
    out: &mut Vec<Span>,
) -> usize {
    let b = ctx.text;
    let g = &num.groups[..num.n];
    let first = s == 0;
    let plus = first && num.plus.is_some();
    // `(` before the first group is an area code only when it closes before
    // the next group; `(4111 1111 1111 1111)` is a card in parentheses.
    let decorated = plus || (first && area_code(num));
    let last = num.n;

    // IPv4: four dotted groups (a fifth dotted group is ignored, as `ping`
    // would), optionally a CIDR suffix.
    if !plus && enabled.contains(Kind::Ipv4) {
        let ipv4 = ipv4_len(&b[g[s].start..]).filter(|&len| {
            // `03.93.92.16.85` is a phone: zero-padded groups in a longer
            // dotted number are not an address.
            let longer =
                b.get(g[s].start + len) == Some(&b'.') && is_digit(b, g[s].start + len + 1);
            !(longer
                && g[s..(s + 4).min(last)]
                    .iter()
                    .any(|x| x.len() > 1 && b[x.start] == b'0'))
        });
        if let Some(len) = ipv4 {
            let mut end = g[s].start + len;
            let groups = 4.min(last - s);
            if b.get(end) == Some(&b'/') {
                let ds = end + 1;
                let mut j = ds;
                while is_digit(b, j) && j - ds < 3 {
                    j += 1;
                }
                let bits = std::str::from_utf8(&b[ds..j])
                    .ok()
                    .and_then(|t| t.parse::<u8>().ok());
                if j > ds && bits.is_some_and(|v| v <= 32) && !is_digit(b, j) {
                    end = j;
                }
            }
            if end_ok(end) && !after_version_word(ctx, g[s].start) {
                push(out, Kind::Ipv4, g[s].start, end);
            }
            return groups;
        }
    }

    // US SSN: 3-2-4 with one separator, or nine digits after an SSN word.
    if !decorated && enabled.contains(Kind::UsSsn) {
        let mut buf = [0u8; 32];
        if last - s == 3
            && (g[s].len(), g[s + 1].len(), g[s + 2].len()) == (3, 2, 4)
            && g[s + 1].sep == g[s + 2].sep
            && matches!(g[s + 1].sep, SPACE | DASH | DOT)
            && end_ok(g[s + 2].end)
        {
            let n = digits_of(b, &g[s..], &mut buf);
            if ssn_valid(&buf[..n]) {
                push(out, Kind::UsSsn, g[s].start, g[s + 2].end);
                return 3;
            }
        }
        if last - s == 1
            && g[s].len() == 9
            && end_ok(g[s].end)
            && ssn_valid(&b[g[s].start..g[s].end])
            && has_context(ctx, g[s].start, SSN_WORDS)
        {
            push(out, Kind::UsSsn, g[s].start, g[s].end);
            return 1;
        }
    }

    // Payment card: the longest run of groups from `s` that is one plain
    // number or 4-digit-led groups with one consistent separator.
    if !decorated && enabled.contains(Kind::CreditCard) {
        let max = last.min(s + 6);
        for k in (s + 1..=max).rev() {
            let groups = &g[s..k];
            if !card_layout(groups) || (k == last && !end_ok(g[k - 1].end)) {
                continue;
            }
            let mut buf = [0u8; 32];
            let n = digits_of(b, groups, &mut buf);
            if card_issuer_ok(&buf[..n]) && luhn(&buf[..n]) {
                push(out, Kind::CreditCard, g[s].start, g[k - 1].end);
                return k - s;
            }
        }
    }

    if enabled.contains(Kind::Phone)
        && let Some(span) = phone::phone(ctx, num, s)
    {
        push(out, Kind::Phone, span.0, span.1);
        return last - s;
    }
    0
}

/// The number opens with a parenthesised group: `(415) 555-0132`.
pub(super) fn area_code(num: &Number) -> bool {
    num.paren.is_some() && num.n > 1 && num.groups[1].sep & PAREN != 0
}

/// Card layouts: 12-19 plain digits, or a 4-digit first group followed by
/// groups of 3-6 digits with the same space or dash separator.
fn card_layout(groups: &[Group]) -> bool {
    let total: usize = groups.iter().map(Group::len).sum();
    if !(12..=19).contains(&total) {
        return false;
    }
    if groups.len() == 1 {
        return true;
    }
    let sep = groups[1].sep;
    groups[0].len() == 4
        && matches!(sep, SPACE | DASH)
        && groups[1..]
            .iter()
            .all(|g| g.sep == sep && (3..=6).contains(&g.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Kind, &str)> {
        let mut out = Vec::new();
        let ctx = Context {
            text: text.as_bytes(),
            key: None,
        };
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let start_ok = i == 0 || !is_word(b[i - 1]);
            let starts =
                b[i].is_ascii_digit() || ((b[i] == b'+' || b[i] == b'(') && is_digit(b, i + 1));
            if start_ok && starts {
                i = scan(&ctx, i, false, KindSet::ALL, &mut out).max(i + 1);
            } else {
                i += 1;
            }
        }
        out.iter()
            .map(|s| match s.what {
                Detected::Builtin(k) => (k, &text[s.start..s.end]),
                Detected::Custom(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn ipv4_with_cidr_and_trailing_octet() {
        assert_eq!(found("from 10.0.0.1:8080"), [(Kind::Ipv4, "10.0.0.1")]);
        assert_eq!(
            found("net 192.168.1.0/24."),
            [(Kind::Ipv4, "192.168.1.0/24")]
        );
        assert_eq!(found("10.0.0.0/123"), [(Kind::Ipv4, "10.0.0.0")]);
        assert_eq!(found("192.168.1.1.1"), [(Kind::Ipv4, "192.168.1.1")]);
    }

    #[test]
    fn version_numbers_are_not_ips() {
        assert!(found("Version 1.2.3 and 1.2.3.456 and 300.1.1.1").is_empty());
    }

    #[test]
    fn cards_need_issuer_and_luhn() {
        assert_eq!(
            found("card 4111 1111 1111 1111 exp"),
            [(Kind::CreditCard, "4111 1111 1111 1111")]
        );
        assert_eq!(
            found("5500-0000-0000-0004"),
            [(Kind::CreditCard, "5500-0000-0000-0004")]
        );
        assert_eq!(
            found("amex 340000000000009"),
            [(Kind::CreditCard, "340000000000009")]
        );
        // Order id of card length failing Luhn; epoch milliseconds passing it.
        assert!(found("order 4111111111111112 done").is_empty());
        assert!(found("ts=1738413296125").is_empty());
    }

    #[test]
    fn card_followed_by_more_groups() {
        assert_eq!(
            found("4111 1111 1111 1111 12 25"),
            [(Kind::CreditCard, "4111 1111 1111 1111")]
        );
        assert_eq!(
            found("items 12 4111111111111111"),
            [(Kind::CreditCard, "4111111111111111")]
        );
    }

    #[test]
    fn ssn_layouts_and_rules() {
        assert_eq!(found("ssn 078-05-1123"), [(Kind::UsSsn, "078-05-1123")]);
        assert_eq!(found("SSN: 078051123"), [(Kind::UsSsn, "078051123")]);
        assert!(found("078-05-0000").is_empty());
        assert!(found("id 078051123").is_empty());
    }

    #[test]
    fn strong_phones_need_no_context() {
        assert_eq!(
            found("sent to +1-555-201-3344"),
            [(Kind::Phone, "+1-555-201-3344")]
        );
        assert_eq!(
            found("is (415) 555-0132, ok"),
            [(Kind::Phone, "(415) 555-0132")]
        );
        assert_eq!(found("US: 415-555-0132"), [(Kind::Phone, "415-555-0132")]);
        assert_eq!(
            found("x +41 (0)96 471 07 95"),
            [(Kind::Phone, "+41 (0)96 471 07 95")]
        );
        assert_eq!(
            found("Fax: 345-899-3560x4587"),
            [(Kind::Phone, "345-899-3560x4587")]
        );
    }

    #[test]
    fn weak_phones_need_a_context_word() {
        assert_eq!(found("Phone:\n467 3395"), [(Kind::Phone, "467 3395")]);
        assert_eq!(
            found("call me at 0494 92 82 32 now"),
            [(Kind::Phone, "0494 92 82 32")]
        );
        assert!(found("meet at 370 3911 Fourth Av").is_empty());
        assert!(found("driver's license number is 2270-66-1551").is_empty());
    }

    #[test]
    fn timestamps_are_not_phones() {
        assert!(found("at 2025-02-01 12:34:56 epoch 1738413296 took 12 ms").is_empty());
        assert!(found("phone synced 2021-05-21 10:00").is_empty());
        assert!(found("call 5/20/2021").is_empty());
    }
}
