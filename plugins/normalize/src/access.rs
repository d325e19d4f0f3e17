//! Apache/nginx access logs, common and combined:
//!
//! `1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://ref/" "Mozilla/4.08"`
//!
//! Attributes: `client_ip`, `ident` and `user` (unless `-`), `method`,
//! `path`, `protocol`, `status` and `bytes` (integers), `referrer` and
//! `user_agent` (unless `-`), and `extra` for anything after the user agent
//! (nginx variants append fields). The message is the request line; the
//! level follows the status: 5xx error, 4xx warn, anything else info.

use sluice_plugin_sdk::{Level, Value};

use crate::record::{Ctx, Message, Record};

/// Parse `line` into `rec` if it is an access-log line; false if it is not
/// (the caller clears whatever was written).
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>) -> bool {
    let b = line.as_bytes();
    let mut i = 0;
    // client, ident, user: three tokens, then the bracketed time.
    let Some(client) = word(line, &mut i) else {
        return false;
    };
    if !client
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'-' | b'_'))
    {
        return false;
    }
    let (Some(ident), Some(user)) = (word(line, &mut i), word(line, &mut i)) else {
        return false;
    };
    if b.get(i) != Some(&b'[') {
        return false;
    }
    let Some(close) = line[i..].find(']') else {
        return false;
    };
    let time_text = &line[i + 1..i + close];
    i += close + 1;
    if b.get(i) != Some(&b' ') || b.get(i + 1) != Some(&b'"') {
        return false;
    }
    let Some((req_start, req_end, req_escaped)) = quoted(b, i + 1) else {
        return false;
    };
    i = req_end + 1;
    if b.get(i) != Some(&b' ') {
        return false;
    }
    i += 1;
    let status_len = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if status_len != 3 {
        return false;
    }
    let status =
        i64::from(b[i] - b'0') * 100 + i64::from(b[i + 1] - b'0') * 10 + i64::from(b[i + 2] - b'0');
    i += 3;
    if b.get(i) != Some(&b' ') {
        return false;
    }
    i += 1;
    let bytes_len = b[i..]
        .iter()
        .take_while(|c| !c.is_ascii_whitespace())
        .count();
    let bytes_text = &line[i..i + bytes_len];
    let bytes = match bytes_text {
        "-" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return false,
        },
    };
    i += bytes_len;

    // The line is ours: fill the record.
    rec.timestamp_text(time_text, ctx);
    rec.attr("client_ip", Value::Text(client.to_owned()), ctx);
    if ident != "-" {
        rec.attr("ident", Value::Text(ident.to_owned()), ctx);
    }
    if user != "-" {
        rec.attr("user", Value::Text(user.to_owned()), ctx);
    }
    let request = &line[req_start..req_end];
    request_parts(request, req_escaped, rec, ctx);
    rec.message = if req_escaped {
        Message::Owned(unescape(request))
    } else {
        Message::Span(req_start, req_end)
    };
    rec.attr("status", Value::Integer(status), ctx);
    if let Some(n) = bytes {
        rec.attr("bytes", Value::Integer(n), ctx);
    }
    rec.level = Some(match status {
        500.. => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    });

    // Combined: "referrer" "user agent" (the last one possibly cut short).
    for key in ["referrer", "user_agent"] {
        if b.get(i) != Some(&b' ') || b.get(i + 1) != Some(&b'"') {
            break;
        }
        let (start, end, escaped) = quoted(b, i + 1).unwrap_or((i + 2, line.len(), false));
        let text = &line[start..end];
        if text != "-" {
            let value = if escaped {
                unescape(text)
            } else {
                text.to_owned()
            };
            rec.attr(key, Value::Text(value), ctx);
        }
        i = (end + 1).min(line.len());
    }
    let extra = line[i..].trim();
    if !extra.is_empty() {
        rec.attr("extra", Value::Text(extra.to_owned()), ctx);
    }
    true
}

/// A space-terminated word at `*i`, advancing past the space.
fn word<'a>(line: &'a str, i: &mut usize) -> Option<&'a str> {
    let rest = &line[*i..];
    let len = rest.find(' ')?;
    if len == 0 {
        return None;
    }
    *i += len + 1;
    Some(&rest[..len])
}

/// A double-quoted string whose opening quote is at `open`: the byte range
/// of its content, and whether it holds backslash escapes.
fn quoted(b: &[u8], open: usize) -> Option<(usize, usize, bool)> {
    let start = open + 1;
    let mut j = start;
    let mut escaped = false;
    while j < b.len() {
        match b[j] {
            b'"' => return Some((start, j, escaped)),
            b'\\' => {
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    None
}

/// `METHOD target PROTOCOL` into attributes; anything else is kept whole as
/// `request` (scanners send garbage).
fn request_parts(request: &str, escaped: bool, rec: &mut Record, ctx: &Ctx<'_>) {
    let mut parts = request.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next();
    let protocol = parts.next();
    let well_formed = !escaped
        && !method.is_empty()
        && method.bytes().all(|c| c.is_ascii_uppercase())
        && target.is_some_and(|t| !t.is_empty())
        && parts.next().is_none()
        && protocol.is_none_or(|p| p.starts_with("HTTP/"));
    if !well_formed {
        if request != "-" {
            let value = if escaped {
                unescape(request)
            } else {
                request.to_owned()
            };
            rec.attr("request", Value::Text(value), ctx);
        }
        return;
    }
    rec.attr("method", Value::Text(method.to_owned()), ctx);
    if let Some(target) = target {
        rec.attr("path", Value::Text(target.to_owned()), ctx);
    }
    if let Some(protocol) = protocol {
        rec.attr("protocol", Value::Text(protocol.to_owned()), ctx);
    }
}

/// Undo `\"` and `\\`, and `\xHH` escapes of ASCII bytes (nginx writes
/// `"` as `\x22`). Escapes of other bytes stay as written: Apache escapes
/// bytes that are not text, and decoding them would not give valid UTF-8.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('\\') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(hex) = after.strip_prefix('x').and_then(|h| h.get(..2))
            && let Ok(byte) = u8::from_str_radix(hex, 16)
            && byte.is_ascii()
        {
            out.push(char::from(byte));
            rest = &after[3..];
        } else if let Some(c @ ('"' | '\\')) = after.chars().next() {
            out.push(c);
            rest = &after[1..];
        } else {
            out.push('\\');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a \"b\" \\ \x22c\x22"#), r#"a "b" \ "c""#);
        assert_eq!(unescape(r"http://\xe4\xe5.x/\n"), r"http://\xe4\xe5.x/\n");
        assert_eq!(unescape("trailing\\"), "trailing\\");
    }

    #[test]
    fn quoted_strings_skip_escaped_quotes() {
        let b = br#""a \" b" x"#;
        assert_eq!(quoted(b, 0), Some((1, 7, true)));
        assert_eq!(quoted(b"\"open", 0), None);
    }
}
