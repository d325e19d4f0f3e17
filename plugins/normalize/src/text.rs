//! Plain text lines: a leading timestamp and level are recognised, the rest
//! is the message. Always succeeds, so it belongs last in `formats`.
//!
//! The header grammar covers the common logging-library layouts:
//!
//! ```text
//! [timestamp] [pid [tid]] level [[thread]] [component:] message
//! ```
//!
//! - the timestamp may be bracketed (`[Sun Dec 04 04:47:44 2005]`) and be
//!   followed by `,` (Windows CBS);
//! - the level may be bracketed or angle-bracketed (`[error]`, `<WARN>`) or
//!   end in `:`; bare, it must be a spelled-out name (`Info`, `WARNING`) —
//!   and UPPER-case when no timestamp precedes it, so a sentence starting
//!   with "Error" stays a sentence — or, after a timestamp and a pid, a
//!   logcat letter (`D`, `I`, `W`, …);
//! - numbers between timestamp and level are `pid` and `tid`;
//! - `[thread]` after a bare level is the `thread` attribute (log4j);
//! - `component:` after the level becomes the `logger` attribute when it
//!   looks like a logger name (dotted, `$`, `_`, CamelCase) or follows a
//!   logcat letter.
//!
//! Nothing is consumed unless a timestamp or a level was found.

use sluice_plugin_sdk::Value;

use crate::level::{is_full_level_name, parse_level};
use crate::record::{Ctx, Message, Record};
use crate::time;

/// How many pid/tid-like numbers may sit between timestamp and level.
const MAX_HEADER_NUMBERS: usize = 2;

/// Parse `line` into `rec`.
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>) {
    let b = line.as_bytes();
    let mut i = skip_spaces(b, 0);
    let mut has_ts = false;
    if b.get(i) == Some(&b'[') {
        if let Some((ns, len)) = time::parse_prefix(&line[i + 1..], &ctx.time)
            && b.get(i + 1 + len) == Some(&b']')
        {
            rec.timestamp_ns = Some(ns);
            i += len + 2;
            has_ts = true;
        }
    } else if let Some((ns, len)) = time::parse_prefix(&line[i..], &ctx.time) {
        rec.timestamp_ns = Some(ns);
        i += len;
        has_ts = true;
    }
    if has_ts && b.get(i) == Some(&b',') {
        i += 1;
    }
    let after_ts = i;

    // pid, tid, then the level.
    let mut numbers: [Option<(usize, usize)>; MAX_HEADER_NUMBERS] = [None; MAX_HEADER_NUMBERS];
    let mut count = 0;
    let mut level_style = None;
    loop {
        i = skip_spaces(b, i);
        let (tok_start, tok_end) = (i, token_end(b, i));
        if tok_start == tok_end {
            break;
        }
        let tok = &line[tok_start..tok_end];
        if let Some(style) = level_token(tok, has_ts, count > 0) {
            if let Some(level) = parse_level(style.word(tok)) {
                rec.level = Some(level);
                level_style = Some(style);
                i = tok_end;
            }
            break;
        }
        if has_ts && count < MAX_HEADER_NUMBERS && tok.bytes().all(|c| c.is_ascii_digit()) {
            numbers[count] = Some((tok_start, tok_end));
            count += 1;
            i = tok_end;
            continue;
        }
        break;
    }
    let Some(style) = level_style else {
        // No level: keep everything after the timestamp (numbers included).
        let start = if has_ts { skip_spaces(b, after_ts) } else { 0 };
        rec.message = Message::tail(line, start);
        return;
    };
    for (key, span) in ["pid", "tid"].into_iter().zip(numbers) {
        if let Some((s, e)) = span {
            let value = line[s..e]
                .parse::<i64>()
                .map_or_else(|_| Value::Text(line[s..e].to_owned()), Value::Integer);
            rec.attr(key, value, ctx);
        }
    }

    // [thread] after a bare level (brackets after `[level]` are message).
    i = skip_spaces(b, i);
    if style != Style::Bracketed
        && b.get(i) == Some(&b'[')
        && let Some(close) = line[i..].find(']')
    {
        let thread = &line[i + 1..i + close];
        if !thread.is_empty() && b.get(i + close + 1).is_none_or(|c| *c == b' ') {
            rec.attr("thread", Value::Text(thread.to_owned()), ctx);
            i = skip_spaces(b, i + close + 1);
        }
    }

    // component:
    let end = token_end(b, i);
    if end > i + 1 && b[end - 1] == b':' {
        let name = &line[i..end - 1];
        if looks_like_logger(name, style == Style::Letter) {
            rec.attr("logger", Value::Text(name.to_owned()), ctx);
            i = end;
        }
    }
    rec.message = Message::tail(line, skip_spaces(b, i));
}

/// How a level was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `[error]`, `<WARN>`, `(info)`.
    Bracketed,
    /// `ERROR:`.
    Colon,
    /// `INFO`, `Info`.
    Bare,
    /// `D` (logcat).
    Letter,
}

impl Style {
    fn word(self, tok: &str) -> &str {
        match self {
            Style::Bracketed => &tok[1..tok.len() - 1],
            Style::Colon => &tok[..tok.len() - 1],
            Style::Bare | Style::Letter => tok,
        }
    }
}

/// Whether `tok` is written like a level here (the caller then checks that
/// it spells one).
fn level_token(tok: &str, has_ts: bool, after_numbers: bool) -> Option<Style> {
    let b = tok.as_bytes();
    if b.len() >= 3 {
        let (open, close) = (b[0], b[b.len() - 1]);
        if matches!((open, close), (b'[', b']') | (b'<', b'>') | (b'(', b')')) {
            let inner = &tok[1..tok.len() - 1];
            return parse_level(inner)
                .filter(|_| inner.len() > 1)
                .map(|_| Style::Bracketed);
        }
        if close == b':' {
            let word = &tok[..tok.len() - 1];
            return (is_full_level_name(word) && (has_ts || is_upper(word) || is_lower(word)))
                .then_some(Style::Colon);
        }
    }
    if b.len() == 1 && has_ts && after_numbers && b[0].is_ascii_uppercase() {
        return parse_level(tok).map(|_| Style::Letter);
    }
    if is_full_level_name(tok) && (has_ts || is_upper(tok)) {
        return Some(Style::Bare);
    }
    None
}

fn is_upper(word: &str) -> bool {
    word.bytes().all(|c| c.is_ascii_uppercase())
}

fn is_lower(word: &str) -> bool {
    word.bytes().all(|c| c.is_ascii_lowercase())
}

/// A logger/component name: `org.apache.Foo`, `dfs.DataNode$PacketResponder`,
/// `WindowManager`, `my_module`; any tag after a logcat letter.
fn looks_like_logger(name: &str, after_letter: bool) -> bool {
    let b = name.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return false;
    }
    if !b.iter().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'.' | b'$' | b'_' | b'-' | b'/' | b'#' | b'(' | b')')
    }) {
        return false;
    }
    after_letter
        || b.iter().any(|c| matches!(c, b'.' | b'$' | b'_'))
        || b[1..].iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase)
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        i += 1;
    }
    i
}

fn token_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| *c != b' ' && *c != b'\t') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_tokens_by_position() {
        assert_eq!(level_token("[error]", false, false), Some(Style::Bracketed));
        assert_eq!(level_token("<WARN>", false, false), Some(Style::Bracketed));
        assert_eq!(level_token("ERROR:", false, false), Some(Style::Colon));
        assert_eq!(level_token("error:", false, false), Some(Style::Colon));
        assert_eq!(level_token("INFO", false, false), Some(Style::Bare));
        assert_eq!(level_token("Info", true, false), Some(Style::Bare));
        // A sentence that starts with "Error" is not a level without a timestamp.
        assert_eq!(level_token("Error", false, false), None);
        assert_eq!(level_token("D", true, true), Some(Style::Letter));
        assert_eq!(level_token("D", true, false), None);
        assert_eq!(level_token("I", false, false), None);
        assert_eq!(level_token("[client", true, false), None);
    }

    #[test]
    fn logger_names() {
        assert!(looks_like_logger("org.apache.hadoop.Foo", false));
        assert!(looks_like_logger("dfs.DataNode$PacketResponder", false));
        assert!(looks_like_logger("WindowManager", false));
        assert!(looks_like_logger("chatty", true));
        assert!(!looks_like_logger("Failed", false));
        assert!(!looks_like_logger("1234#0", false));
        assert!(!looks_like_logger("say \"x\"", true));
    }
}
