//! Syslog: RFC 5424 and RFC 3164 (BSD), with or without `<PRI>`.
//!
//! - `<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [sd@1 k="v"] msg`
//! - `<34>Oct 11 22:14:15 host su[123]: msg`, and the same without `<PRI>`
//!   as syslog daemons write files (`Jun 14 15:16:01 combo sshd[42]: msg`).
//!
//! PRI gives the level (its severity) and the `facility` attribute; the app
//! name is the service and also the `appname` attribute; `hostname`,
//! `procid`, `msgid` and structured data (`sd.<id>.<param>`) are attributes.
//! Without `<PRI>` only the BSD timestamp layout is accepted, so that ISO
//! timestamped application lines are left to the text format.

use sluice_plugin_sdk::Value;

use crate::level::level_from_syslog_severity;
use crate::record::{Ctx, Message, Record};
use crate::time;

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Parse `line` into `rec` if it is syslog; false if it is not (the caller
/// clears whatever was written).
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>) -> bool {
    let b = line.as_bytes();
    let (pri, start) = match b.first() {
        Some(b'<') => match pri(b) {
            Some(found) => (Some(found.0), found.1),
            None => return false,
        },
        _ => (None, 0),
    };
    if let Some(pri) = pri {
        put_pri(pri, rec, ctx);
        if let Some(after_version) = version(b, start) {
            return rfc5424(line, after_version, rec, ctx);
        }
    }
    rfc3164(line, start, pri.is_some(), rec, ctx)
}

/// `<N>` with N in 0..=191; returns N and the index after `>`.
fn pri(b: &[u8]) -> Option<(u8, usize)> {
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=3).contains(&digits) || b.get(1 + digits) != Some(&b'>') {
        return None;
    }
    let n: u16 = std::str::from_utf8(&b[1..1 + digits]).ok()?.parse().ok()?;
    Some((u8::try_from(n).ok().filter(|n| *n <= 191)?, digits + 2))
}

fn put_pri(pri: u8, rec: &mut Record, ctx: &Ctx<'_>) {
    rec.level = Some(level_from_syslog_severity(pri & 7));
    let facility = FACILITIES[usize::from(pri >> 3)];
    rec.attr("facility", Value::Text(facility.to_owned()), ctx);
}

/// RFC 5424's VERSION (1 or 2 digits, then a space) at `i`.
fn version(b: &[u8], i: usize) -> Option<usize> {
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    ((1..=2).contains(&digits) && b[i] != b'0' && b.get(i + digits) == Some(&b' '))
        .then_some(i + digits + 1)
}

/// The next space-separated token at `*i`, advancing past one space.
fn token<'a>(line: &'a str, i: &mut usize) -> Option<&'a str> {
    let rest = line.get(*i..)?;
    let len = rest.find(' ').unwrap_or(rest.len());
    if len == 0 {
        return None;
    }
    *i += len + usize::from(len < rest.len());
    Some(&rest[..len])
}

fn rfc5424(line: &str, mut i: usize, rec: &mut Record, ctx: &Ctx<'_>) -> bool {
    let (Some(ts), Some(host), Some(app), Some(procid), Some(msgid)) = (
        token(line, &mut i),
        token(line, &mut i),
        token(line, &mut i),
        token(line, &mut i),
        token(line, &mut i),
    ) else {
        return false;
    };
    if ts != "-" {
        match time::parse_full(ts, &ctx.time) {
            Some(ns) => rec.timestamp_ns = Some(ns),
            None => return false,
        }
    }
    put_header(host, app, procid, rec, ctx);
    if msgid != "-" {
        rec.attr("msgid", Value::Text(msgid.to_owned()), ctx);
    }
    let b = line.as_bytes();
    match b.get(i) {
        Some(b'-') => i += 1,
        Some(b'[') => match structured_data(line, i, rec, ctx) {
            Some(end) => i = end,
            None => return false,
        },
        None => {}
        Some(_) => return false,
    }
    if i < b.len() {
        if b[i] != b' ' {
            return false;
        }
        i += 1;
        if line[i..].starts_with('\u{feff}') {
            i += '\u{feff}'.len_utf8();
        }
    }
    rec.message = Message::tail(line, i);
    true
}

/// `[id name="value" ...]...` at `i`; returns the index after the last `]`.
fn structured_data(line: &str, mut i: usize, rec: &mut Record, ctx: &Ctx<'_>) -> Option<usize> {
    let b = line.as_bytes();
    let mut value = String::new();
    while b.get(i) == Some(&b'[') {
        i += 1;
        let id_len = line[i..].find([' ', ']'])?;
        let id = &line[i..i + id_len];
        i += id_len;
        while b.get(i) == Some(&b' ') {
            i += 1;
            let name_len = line[i..].find('=')?;
            let name = &line[i..i + name_len];
            i += name_len + 1;
            if b.get(i) != Some(&b'"') {
                return None;
            }
            i += 1;
            value.clear();
            loop {
                match *b.get(i)? {
                    b'"' => break,
                    b'\\' if matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                        value.push(char::from(b[i + 1]));
                        i += 2;
                    }
                    _ => {
                        let ch = line[i..].chars().next()?;
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            i += 1;
            rec.attr(&format!("sd.{id}.{name}"), Value::Text(value.clone()), ctx);
        }
        if b.get(i) != Some(&b']') {
            return None;
        }
        i += 1;
    }
    Some(i)
}

fn put_header(host: &str, app: &str, procid: &str, rec: &mut Record, ctx: &Ctx<'_>) {
    if host != "-" {
        rec.attr("hostname", Value::Text(host.to_owned()), ctx);
    }
    if app != "-" {
        rec.service = Some(app.to_owned());
        rec.attr("appname", Value::Text(app.to_owned()), ctx);
    }
    if procid != "-" && !procid.is_empty() {
        rec.attr("procid", Value::Text(procid.to_owned()), ctx);
    }
}

fn rfc3164(line: &str, mut i: usize, has_pri: bool, rec: &mut Record, ctx: &Ctx<'_>) -> bool {
    let b = line.as_bytes();
    let rest = &line[i..];
    let found = if has_pri {
        time::parse_prefix(rest, &ctx.time)
    } else {
        time::parse_bsd_prefix(rest, &ctx.time)
    };
    match found {
        Some((ns, len)) if matches!(b.get(i + len), Some(b' ') | None) => {
            rec.timestamp_ns = Some(ns);
            i += len;
        }
        _ if has_pri => {
            // `<13>free text`: only PRI.
            rec.message = Message::tail(line, i);
            return true;
        }
        _ => return false,
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    // HOSTNAME, unless the first word is already the tag (`su[12]:`, `cron:`).
    let first_len = line[i..].find(' ').unwrap_or(line.len() - i);
    let first = &line[i..i + first_len];
    let mut host = "-";
    if !first.ends_with(':') && !first.contains('[') {
        host = first;
        i += first_len;
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    // TAG[PID]: — a tag needs the colon or the [pid]; otherwise it is text.
    let tag_len = line[i..].find([' ', '[', ':']).unwrap_or(line.len() - i);
    let tag = &line[i..i + tag_len];
    let mut j = i + tag_len;
    let mut procid = "-";
    let mut has_tag = false;
    if tag_len > 0 && b.get(j) == Some(&b'[') {
        if let Some(close) = line[j..].find(']') {
            procid = &line[j + 1..j + close];
            j += close + 1;
            has_tag = true;
            if b.get(j) == Some(&b':') {
                j += 1;
            }
        }
    } else if tag_len > 0 && b.get(j) == Some(&b':') {
        j += 1;
        has_tag = true;
    }
    let app = if has_tag {
        i = j;
        tag
    } else {
        "-"
    };
    put_header(host, app, procid, rec, ctx);
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    rec.message = Message::tail(line, i);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pri_bounds() {
        assert_eq!(pri(b"<0>x"), Some((0, 3)));
        assert_eq!(pri(b"<191>x"), Some((191, 5)));
        assert_eq!(pri(b"<192>x"), None);
        assert_eq!(pri(b"<>x"), None);
        assert_eq!(pri(b"<1234>x"), None);
        assert_eq!(pri(b"<12 x"), None);
    }

    #[test]
    fn versions() {
        assert_eq!(version(b"<1>1 2", 3), Some(5));
        assert_eq!(version(b"<1>2025-01", 3), None);
        assert_eq!(version(b"<1>0 x", 3), None);
    }
}
