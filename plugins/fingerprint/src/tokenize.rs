//! The first half of the hot path: one pass over a line that splits it at
//! whitespace, masks the variables ([`crate::mask`] says what they are) and
//! hashes every masked token. Nothing is allocated per line once the
//! buffers of [`Tokens`] have grown to the longest line seen.
//!
//! Where the scanner asks what: a quotation or a path only where a new part
//! of a token begins (token start or after `=`, `:`, `(`, `[`, `{`, `<`, `,`,
//! `;`, `|`, quotes); a `key=value` value right after `=` that follows a key;
//! numbers, ids, addresses and e-mail addresses at every atom. After the
//! token is masked, variables joined by `.`, `:`, `/`, `-`, `_`, `@`, `#`, `+`
//! collapse into one (`10.1.2.3:50010`, `2016/9/27:20:30:31.455` → `<*>`).

use xxhash_rust::xxh3::xxh3_64;

use crate::mask::{self, Atom, is_space, is_word};

/// How a variable is written in templates.
pub const WILDCARD: &str = "<*>";

/// Hash that stands for a `<*>` token in token sequences. Other tokens hash
/// with xxh3; one that happens to hash to this value is moved to 1.
pub const WILDCARD_HASH: u64 = 0;

/// Longest masked token kept as text: a longer one (a blob, a base64 body) is
/// one `<*>`, which also bounds the bytes one template can hold.
pub const MAX_TOKEN_BYTES: usize = 256;

/// The masked tokens of one line, reused from line to line.
#[derive(Debug, Default)]
pub struct Tokens {
    text: String,
    ends: Vec<u32>,
    hashes: Vec<u64>,
    scratch: String,
}

impl Tokens {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the line had no tokens.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Masked text of token `k`.
    pub fn get(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        self.text.get(start..self.ends[k] as usize).unwrap_or("")
    }

    /// Hashes of the tokens, [`WILDCARD_HASH`] for `<*>`.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// The masked tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|k| self.get(k))
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.hashes.clear();
    }

    /// Close the token that starts at `start` in `text`.
    fn finish(&mut self, start: usize, wildcards: usize) {
        if wildcards >= 2 {
            self.scratch.clear();
            collapse(&self.text[start..], &mut self.scratch);
            self.text.truncate(start);
            self.text.push_str(&self.scratch);
        }
        if self.text.len() - start > MAX_TOKEN_BYTES {
            self.text.truncate(start);
            self.text.push_str(WILDCARD);
        }
        self.hashes.push(token_hash(&self.text[start..]));
        self.ends.push(self.text.len() as u32);
    }

    /// Replace the last token with `<*>`.
    fn replace_last_with_wildcard(&mut self) {
        self.replace_last_with("");
    }

    /// Replace the last token with `<*>` followed by `suffix`.
    fn replace_last_with(&mut self, suffix: &str) {
        self.ends.pop();
        self.hashes.pop();
        let start = self.ends.last().map_or(0, |&e| e as usize);
        self.text.truncate(start);
        self.text.push_str(WILDCARD);
        self.text.push_str(suffix);
        self.finish(start, 1);
    }
}

/// Hash of one masked token: [`WILDCARD_HASH`] for `<*>`, xxh3-64 otherwise.
pub fn token_hash(token: &str) -> u64 {
    if token == WILDCARD {
        return WILDCARD_HASH;
    }
    match xxh3_64(token.as_bytes()) {
        WILDCARD_HASH => 1,
        h => h,
    }
}

/// Split `line` into masked tokens. A line with more than `max_tokens`
/// tokens keeps its first `max_tokens - 1` and ends in one `<*>` standing
/// for the rest.
pub fn tokenize(line: &str, max_tokens: usize, out: &mut Tokens) {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        while b.get(i).is_some_and(|&c| is_space(c)) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = out.text.len();
        let wildcards = match crate::date::date_end(b, i) {
            Some(end) => {
                out.text.push_str(WILDCARD);
                i = end;
                1
            }
            None => {
                let (end, wildcards) = scan_token(line, i, &mut out.text);
                i = end;
                wildcards
            }
        };
        if !out.is_empty()
            && out.hashes[out.len() - 1] == WILDCARD_HASH
            && let Some(unit) = mask::size_unit_len(&out.text.as_bytes()[start..])
        {
            // `384.0 B,`: the unit belongs to the number before it.
            out.text.replace_range(start..start + unit, "");
            let token = out.text.split_off(start);
            out.replace_last_with(&token);
            continue;
        }
        out.finish(start, wildcards);
        if out.len() >= 2
            && out.hashes[out.len() - 1] == WILDCARD_HASH
            && out.hashes[out.len() - 2] == WILDCARD_HASH
        {
            // A run of variables (a list, a date in parts) is one variable.
            out.ends.pop();
            out.hashes.pop();
            out.text.truncate(start);
            continue;
        }
        if out.len() >= max_tokens {
            while b.get(i).is_some_and(|&c| is_space(c)) {
                i += 1;
            }
            if i < b.len() {
                out.replace_last_with_wildcard();
            }
            break;
        }
    }
}

/// Bytes after which a new part of a token begins.
fn is_part_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'=' | b':' | b'(' | b'[' | b'{' | b'<' | b',' | b';' | b'|' | b'"' | b'\''
    )
}

/// Mask one token starting at `i` into `text`; returns where it ended and
/// how many `<*>` it wrote. A quotation may carry the token across
/// whitespace.
fn scan_token(line: &str, mut i: usize, text: &mut String) -> (usize, usize) {
    let before = text.len();
    let b = line.as_bytes();
    let token_start = i;
    let mut part_start = true;
    while let Some(&c) = b.get(i) {
        if is_space(c) {
            break;
        }
        if c == b'<' && b[i..].starts_with(WILDCARD.as_bytes()) {
            text.push_str(WILDCARD);
            i += WILDCARD.len();
            part_start = false;
            continue;
        }
        if part_start {
            if let Some(end) = mask::path_end(b, i) {
                text.push_str(WILDCARD);
                i = end;
                part_start = false;
                continue;
            }
            if matches!(c, b'"' | b'\'')
                && let Some(end) = mask::quoted_end(b, i)
                && mask::quoted_is_variable(&b[i + 1..end - 1])
            {
                quote(c, text);
                i = end;
                part_start = false;
                continue;
            }
        }
        let signed = matches!(c, b'-' | b'+') && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        if is_word(c) || signed {
            i = scan_atom(line, i, text);
            part_start = false;
            continue;
        }
        text.push(char::from(c));
        i += 1;
        part_start = is_part_delimiter(c);
        if c == b'=' {
            let keyed =
                i - 1 == token_start || is_word(b[i - 2]) || matches!(b[i - 2], b']' | b')');
            let next = b.get(i).copied();
            if !keyed || next.is_none_or(|n| is_space(n) || n == b'=') {
                continue;
            }
            if let Some(q @ (b'"' | b'\'')) = next
                && let Some(end) = mask::quoted_end(b, i)
            {
                quote(q, text);
                i = end;
                part_start = false;
            } else {
                let end = mask::value_end(b, i);
                if end > i && !mask::is_plain_word(&b[i..end]) {
                    text.push_str(WILDCARD);
                    i = end;
                    part_start = false;
                }
            }
        }
    }
    let written = &text.as_bytes()[before..];
    let wildcards = written
        .windows(3)
        .filter(|w| *w == WILDCARD.as_bytes())
        .count();
    (i, wildcards)
}

/// Write a quotation whose content is variable: `"<*>"`.
fn quote(q: u8, text: &mut String) {
    text.push(char::from(q));
    text.push_str(WILDCARD);
    text.push(char::from(q));
}

/// Mask the atom at `i` (and whatever address or id begins there) into
/// `text`; returns where it ended.
fn scan_atom(line: &str, i: usize, text: &mut String) -> usize {
    let b = line.as_bytes();
    let scan = mask::atom_end(b, i);
    let end = scan.end;
    let atom = &b[i..end];
    let next = b.get(end).copied();
    // Addresses and ids that reach past the atom, tried only when its shape
    // allows them, so that a plain word is read once.
    let special = match next {
        Some(b':') if b[end..].starts_with(b"://") && atom[0].is_ascii_alphabetic() => {
            mask::url_end(b, i)
        }
        Some(b':') if atom.len() <= 4 && atom.iter().all(u8::is_ascii_hexdigit) => {
            mask::ipv6_end(b, i)
        }
        Some(b'@') => mask::email_end(b, end),
        _ => None,
    }
    .or_else(|| {
        if scan.dots == 3 && atom[0].is_ascii_digit() {
            mask::ipv4_end(b, i)
        } else if atom.len() == 36 {
            mask::uuid_end(b, i)
        } else {
            None
        }
    });
    if let Some(end) = special {
        text.push_str(WILDCARD);
        return end;
    }
    match mask::classify(atom, scan) {
        Atom::Literal => text.push_str(line.get(i..end).unwrap_or("")),
        Atom::Var => text.push_str(WILDCARD),
        Atom::Prefix(p) => {
            text.push_str(line.get(i..i + p).unwrap_or(""));
            text.push_str(WILDCARD);
        }
    }
    end
}

/// Characters that join the parts of one variable (`10.1.2.3:80`,
/// `2016/9/27`, `msra-sa-41/10.190.173.170`).
fn is_connector(c: u8) -> bool {
    matches!(c, b'.' | b':' | b'/' | b'-' | b'_' | b'@' | b'#' | b'+')
}

/// Copy `token` into `out` with every run of variables joined by single
/// connectors (or nothing) replaced by one `<*>`.
fn collapse(token: &str, out: &mut String) {
    let w = WILDCARD.as_bytes();
    let b = token.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if !b[i..].starts_with(w) {
            i += 1;
            continue;
        }
        out.push_str(token.get(copied..i).unwrap_or(""));
        out.push_str(WILDCARD);
        i += w.len();
        loop {
            if b[i..].starts_with(w) {
                i += w.len();
            } else if b.get(i).is_some_and(|&c| is_connector(c)) && b[i + 1..].starts_with(w) {
                i += 1 + w.len();
            } else {
                break;
            }
        }
        copied = i;
    }
    out.push_str(token.get(copied..).unwrap_or(""));
}
