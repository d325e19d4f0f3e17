//! logfmt: `level=info msg="user logged in" user=42 ok=true`.
//!
//! Every whitespace-separated token must be `key=value` (a bare word means
//! this is prose, not logfmt, and the line is left to the next format).
//! Unquoted values that read as integers, floats or booleans are typed;
//! quoted values stay text. Keys go through the `fields` mapping like JSON
//! keys, so `msg`, `level`, `ts` fill the event's own fields.

use crate::record::{Ctx, Record, Scalar};

/// Parse `line` into `rec` if it is logfmt; false (and `rec` untouched) if
/// it is not.
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>) -> bool {
    let b = line.as_bytes();
    let first = b.iter().position(|c| !c.is_ascii_whitespace());
    match first.map(|i| b[i]) {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'@' => {}
        _ => return false,
    }
    // Validate the whole line before touching the record.
    let mut pairs = 0;
    let mut i = 0;
    while let Some(pair) = next_pair(b, &mut i) {
        match pair {
            Some(_) => pairs += 1,
            None => return false,
        }
    }
    if pairs == 0 {
        return false;
    }
    let mut i = 0;
    let mut scratch = String::new();
    while let Some(Some(pair)) = next_pair(b, &mut i) {
        let key = &line[pair.key.0..pair.key.1];
        let (start, end) = pair.value;
        if pair.escaped {
            scratch.clear();
            unescape(&line[start..end], &mut scratch);
            rec.field(key, Scalar::Str(&scratch), ctx);
        } else if !pair.quoted
            && let Some(scalar) = typed(&line[start..end])
        {
            rec.field(key, scalar, ctx);
        } else {
            rec.field_span(key, line, start, end, ctx);
        }
    }
    true
}

struct Pair {
    key: (usize, usize),
    /// Value bytes, without quotes.
    value: (usize, usize),
    quoted: bool,
    escaped: bool,
}

/// The next token: `None` at the end, `Some(None)` for a token that is not a
/// pair, `Some(Some(pair))` otherwise.
fn next_pair(b: &[u8], i: &mut usize) -> Option<Option<Pair>> {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
    if *i >= b.len() {
        return None;
    }
    let key_start = *i;
    while *i < b.len() && !matches!(b[*i], b'=' | b'"') && !b[*i].is_ascii_whitespace() {
        *i += 1;
    }
    if *i == key_start || b.get(*i) != Some(&b'=') {
        return Some(None);
    }
    let key = (key_start, *i);
    *i += 1;
    if b.get(*i) == Some(&b'"') {
        let start = *i + 1;
        let mut j = start;
        let mut escaped = false;
        while j < b.len() && b[j] != b'"' {
            if b[j] == b'\\' {
                escaped = true;
                j += 1;
            }
            j += 1;
        }
        if j >= b.len() {
            return Some(None);
        }
        *i = j + 1;
        if b.get(*i).is_some_and(|c| !c.is_ascii_whitespace()) {
            return Some(None);
        }
        return Some(Some(Pair {
            key,
            value: (start, j),
            quoted: true,
            escaped,
        }));
    }
    let start = *i;
    while *i < b.len() && !b[*i].is_ascii_whitespace() {
        if b[*i] == b'"' {
            return Some(None);
        }
        *i += 1;
    }
    Some(Some(Pair {
        key,
        value: (start, *i),
        quoted: false,
        escaped: false,
    }))
}

/// An unquoted value as a number or boolean, if it is one.
fn typed(v: &str) -> Option<Scalar<'_>> {
    match v {
        "true" => return Some(Scalar::Bool(true)),
        "false" => return Some(Scalar::Bool(false)),
        _ => {}
    }
    let b = v.as_bytes();
    let digits_start = usize::from(b.first() == Some(&b'-'));
    if !b.get(digits_start).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Ok(n) = v.parse::<i64>() {
        return Some(Scalar::Int(n));
    }
    if b.iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return v.parse::<f64>().ok().map(Scalar::Float);
    }
    None
}

fn unescape(s: &str, out: &mut String) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_only_when_unquoted() {
        assert!(matches!(typed("42"), Some(Scalar::Int(42))));
        assert!(matches!(typed("-1.5"), Some(Scalar::Float(f)) if f == -1.5));
        assert!(matches!(typed("true"), Some(Scalar::Bool(true))));
        assert!(typed("1.2.3").is_none());
        assert!(typed("inf").is_none());
        assert!(typed("12ab").is_none());
    }

    #[test]
    fn prose_is_not_logfmt() {
        let b = b"user=1 logged in";
        let mut i = 0;
        assert!(matches!(next_pair(b, &mut i), Some(Some(_))));
        assert!(matches!(next_pair(b, &mut i), Some(None)));
    }

    #[test]
    fn escapes_are_undone() {
        let mut out = String::new();
        unescape(r#"say \"hi\"\n"#, &mut out);
        assert_eq!(out, "say \"hi\"\n");
    }
}
