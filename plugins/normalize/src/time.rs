//! Timestamps to UTC nanoseconds, by hand-written fast paths for the layouts
//! logs actually use (a few dozen byte comparisons each, no allocation), with
//! `jiff`'s strptime for tenant-given layouts.
//!
//! Layouts recognised at the start of a text (see [`parse_prefix`]):
//! - ISO 8601 / RFC 3339: `2025-02-01T12:34:56.123Z`, `2025-02-01 12:34:56,123`,
//!   `2025/02/01 12:34:56`, `2025.02.01 12:34:56`, with `Z`, `±HH:MM`, `±HHMM`,
//!   `±HH` or ` UTC`; BGL's `2005-06-03-15.42.50.675872`
//! - syslog `Feb  1 12:34:56[.123]` (no year)
//! - ctime `Sun Dec 04 04:47:44 2005` (Apache error log)
//! - RFC 2822 `Sat, 01 Feb 2025 12:34:56 +0000`
//! - HTTP `01/Feb/2025:12:34:56 +0000` (access logs) and `01-Feb-2025 12:34:56.123`
//! - `yyMMdd HHmmss` (HDFS), `yy/MM/dd HH:MM:SS` (Spark, log4j), `MM-dd HH:MM:SS.mmm` (logcat)
//! - epoch seconds (10 digits, optional fraction), ms (13), µs (16), ns (19)
//!
//! Missing offsets take the configured default offset; missing years take the
//! year of the received time, or the year before when that would put the
//! event more than [`FUTURE_SLACK_NS`] after it was received (a December line
//! received in January).

const NS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// How far after its receipt a year-less timestamp may fall before we decide
/// it belongs to the previous year. A week tolerates skewed clocks.
const FUTURE_SLACK_NS: i64 = 7 * SECS_PER_DAY * NS_PER_SEC;

/// What a timestamp is interpreted against.
#[derive(Debug, Clone, Copy)]
pub struct TimeCtx {
    /// When Sluice received the event: supplies missing years.
    pub received_ns: i64,
    /// Offset east of UTC, in seconds, for timestamps that carry none.
    pub default_offset_s: i32,
}

/// A timestamp split into civil fields, before it is resolved to an instant.
#[derive(Debug, Default, Clone, Copy)]
struct Civil {
    year: Option<i64>,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset_s: Option<i32>,
}

/// Parse a timestamp at the start of `text`; returns UTC nanoseconds and the
/// number of bytes it used.
pub fn parse_prefix(text: &str, ctx: &TimeCtx) -> Option<(i64, usize)> {
    let b = text.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_digit() {
        if let Some((ns, len)) = epoch_prefix(b) {
            return Some((ns, len));
        }
        let (civil, len) = numeric_layout(b)?;
        return Some((resolve(&civil, ctx)?, len));
    }
    if first.is_ascii_alphabetic() {
        let (civil, len) = named_layout(b)?;
        return Some((resolve(&civil, ctx)?, len));
    }
    None
}

/// Parse a BSD syslog timestamp (`Feb  1 12:34:56`) at the start of `text`.
pub fn parse_bsd_prefix(text: &str, ctx: &TimeCtx) -> Option<(i64, usize)> {
    let b = text.as_bytes();
    if b.get(..3).and_then(month).is_none() || b.get(3) != Some(&b' ') {
        return None;
    }
    parse_prefix(text, ctx)
}

/// Parse `text` that must be a timestamp as a whole (surrounding whitespace
/// allowed): any layout above, or a bare number read as epoch seconds, ms,
/// µs or ns by its magnitude.
pub fn parse_full(text: &str, ctx: &TimeCtx) -> Option<i64> {
    let text = text.trim();
    if let Some((ns, len)) = parse_prefix(text, ctx)
        && len == text.len()
    {
        return Some(ns);
    }
    // A bare number is an epoch only with at least 9 integer digits
    // (1973 onwards in seconds): shorter ones are counters, not times.
    let b = text.as_bytes();
    let int_digits = b
        .iter()
        .skip_while(|c| **c == b'-')
        .take_while(|c| c.is_ascii_digit())
        .count();
    if int_digits >= 9
        && b.iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'-')
    {
        if let Ok(n) = text.parse::<i64>() {
            return epoch_integer(n);
        }
        if let Ok(f) = text.parse::<f64>() {
            return epoch_float(f);
        }
    }
    None
}

/// Parse `text` with a strptime layout (`%Y-%m-%d %H:%M:%S%.f`, see jiff's
/// `fmt::strtime`); a missing year or offset is filled as for the built-ins.
pub fn parse_with_format(text: &str, format: &str, ctx: &TimeCtx) -> Option<i64> {
    use jiff::fmt::strtime::BrokenDownTime;
    let mut tm = BrokenDownTime::parse(format, text.trim()).ok()?;
    if let Ok(ts) = tm.to_timestamp() {
        return i64::try_from(ts.as_nanosecond()).ok();
    }
    let offset = jiff::tz::Offset::from_seconds(ctx.default_offset_s).ok()?;
    let instant = |tm: &BrokenDownTime| -> Option<i64> {
        let dt = tm.to_datetime().ok()?;
        let ts = offset.to_timestamp(dt).ok()?;
        i64::try_from(ts.as_nanosecond()).ok()
    };
    if tm.year().is_some() {
        return instant(&tm);
    }
    let year = year_of(ctx.received_ns);
    tm.set_year(Some(i16::try_from(year).ok()?)).ok()?;
    let ns = instant(&tm)?;
    if ns > ctx.received_ns.saturating_add(FUTURE_SLACK_NS) {
        tm.set_year(Some(i16::try_from(year - 1).ok()?)).ok()?;
        return instant(&tm);
    }
    Some(ns)
}

/// Epoch number by magnitude: < 1e11 seconds, < 1e14 ms, < 1e17 µs, else ns.
pub fn epoch_integer(n: i64) -> Option<i64> {
    let abs = n.unsigned_abs();
    if abs < 100_000_000_000 {
        n.checked_mul(NS_PER_SEC)
    } else if abs < 100_000_000_000_000 {
        n.checked_mul(1_000_000)
    } else if abs < 100_000_000_000_000_000 {
        n.checked_mul(1_000)
    } else {
        Some(n)
    }
}

/// Epoch number with a fraction, by the same magnitude rule.
pub fn epoch_float(f: f64) -> Option<i64> {
    if !f.is_finite() {
        return None;
    }
    let abs = f.abs();
    let scale = if abs < 1e11 {
        1e9
    } else if abs < 1e14 {
        1e6
    } else if abs < 1e17 {
        1e3
    } else {
        1.0
    };
    let ns = (f * scale).round();
    // `as` saturates; refuse values that would have.
    (ns.abs() < 9.2e18).then_some(ns as i64)
}

/// Epoch at the start of a line: exactly 10 (s, optional fraction), 13 (ms),
/// 16 (µs) or 19 (ns) digits, not followed by another digit or letter. Any
/// other length is more likely an id or a counter.
fn epoch_prefix(b: &[u8]) -> Option<(i64, usize)> {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n: i64 = 0;
    for &c in &b[..digits.min(19)] {
        n = n * 10 + i64::from(c - b'0');
    }
    let (mut ns, mut len) = match digits {
        10 => (n.checked_mul(NS_PER_SEC)?, 10),
        13 => (n.checked_mul(1_000_000)?, 13),
        16 => (n.checked_mul(1_000)?, 16),
        19 => (n, 19),
        _ => return None,
    };
    // Plausibility: 2001-09-09 .. 2286 for seconds (and the same instants
    // for the finer units), so a 10-digit counter rarely passes.
    if ns < NS_PER_SEC * 1_000_000_000 {
        return None;
    }
    if digits == 10 && b.get(10) == Some(&b'.') {
        let (frac, used) = fraction(&b[11..]);
        if used > 0 {
            ns += i64::from(frac);
            len += 1 + used;
        }
    }
    match b.get(len) {
        Some(c) if c.is_ascii_alphanumeric() => None,
        _ => Some((ns, len)),
    }
}

/// Layouts that start with a digit.
fn numeric_layout(b: &[u8]) -> Option<(Civil, usize)> {
    let mut c = Civil::default();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b'/' | b'.')
    {
        // YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, then a time.
        let sep = b[4];
        c.year = Some(i64::from(num(b, 0, 4)?));
        c.month = num(b, 5, 2)?;
        if b[7] != sep {
            return None;
        }
        c.day = num(b, 8, 2)?;
        let i = match b.get(10) {
            Some(b'T' | b't' | b' ') => 11,
            // BGL: 2005-06-03-15.42.50.675872
            Some(b'-') if b.get(13) == Some(&b'.') => {
                c.hour = num(b, 11, 2)?;
                c.minute = num(b, 14, 2)?;
                if b.get(16) != Some(&b'.') {
                    return None;
                }
                c.second = num(b, 17, 2)?;
                let mut i = 19;
                if b.get(i) == Some(&b'.') {
                    let (nanos, used) = fraction(&b[i + 1..]);
                    c.nanos = nanos;
                    i += 1 + used;
                }
                return Some((c, i));
            }
            _ => return None,
        };
        let i = clock(b, i, &mut c)?;
        let i = zone(b, i, &mut c);
        return Some((c, i));
    }
    if b.len() >= 13 && b[..6].iter().all(u8::is_ascii_digit) && b[6] == b' ' {
        // yyMMdd HHmmss (HDFS)
        if !b[7..13].iter().all(u8::is_ascii_digit) || b.get(13).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        c.year = Some(2000 + i64::from(num(b, 0, 2)?));
        c.month = num(b, 2, 2)?;
        c.day = num(b, 4, 2)?;
        c.hour = num(b, 7, 2)?;
        c.minute = num(b, 9, 2)?;
        c.second = num(b, 11, 2)?;
        return Some((c, 13));
    }
    if b.len() < 3 || !b[1].is_ascii_digit() {
        return None;
    }
    match b[2] {
        b'/' if b.get(3).is_some_and(u8::is_ascii_alphabetic) => {
            // dd/Mon/yyyy:HH:MM:SS +zzzz (access logs)
            c.day = num(b, 0, 2)?;
            c.month = month(b.get(3..6)?)?;
            if b.get(6) != Some(&b'/') {
                return None;
            }
            c.year = Some(i64::from(num(b, 7, 4)?));
            if b.get(11) != Some(&b':') {
                return None;
            }
            let i = clock(b, 12, &mut c)?;
            {
                let end = zone(b, i, &mut c);
                Some((c, end))
            }
        }
        b'/' => {
            // yy/MM/dd HH:MM:SS (Spark, log4j's default date)
            c.year = Some(2000 + i64::from(num(b, 0, 2)?));
            c.month = num(b, 3, 2)?;
            if b.get(5) != Some(&b'/') || b.get(8) != Some(&b' ') {
                return None;
            }
            c.day = num(b, 6, 2)?;
            let i = clock(b, 9, &mut c)?;
            {
                let end = zone(b, i, &mut c);
                Some((c, end))
            }
        }
        b'-' if b.get(3).is_some_and(u8::is_ascii_alphabetic) => {
            // dd-Mon-yyyy HH:MM:SS.mmm (Tomcat, Oracle)
            c.day = num(b, 0, 2)?;
            c.month = month(b.get(3..6)?)?;
            if b.get(6) != Some(&b'-') || b.get(11) != Some(&b' ') {
                return None;
            }
            c.year = Some(i64::from(num(b, 7, 4)?));
            let i = clock(b, 12, &mut c)?;
            {
                let end = zone(b, i, &mut c);
                Some((c, end))
            }
        }
        b'-' => {
            // MM-dd HH:MM:SS.mmm (Android logcat, no year)
            c.month = num(b, 0, 2)?;
            c.day = num(b, 3, 2)?;
            if b.get(5) != Some(&b' ') {
                return None;
            }
            let i = clock(b, 6, &mut c)?;
            Some((c, i))
        }
        _ => None,
    }
}

/// Layouts that start with a month or weekday name.
fn named_layout(b: &[u8]) -> Option<(Civil, usize)> {
    let mut c = Civil::default();
    if let Some(m) = b.get(..3).and_then(month)
        && b.get(3) == Some(&b' ')
    {
        // syslog: Mmm dd HH:MM:SS (day may be space-padded)
        c.month = m;
        let (day, i) = day_padded(b, 4)?;
        c.day = day;
        let i = clock(b, i, &mut c)?;
        return Some((c, i));
    }
    if b.len() < 5 || !b[..3].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    if b[3] == b',' && b[4] == b' ' {
        // RFC 2822: Sat, 01 Feb 2025 12:34:56 +0000
        let (day, i) = day_padded(b, 5)?;
        c.day = day;
        c.month = month(b.get(i..i + 3)?)?;
        if b.get(i + 3) != Some(&b' ') || b.get(i + 8) != Some(&b' ') {
            return None;
        }
        c.year = Some(i64::from(num(b, i + 4, 4)?));
        let i = clock(b, i + 9, &mut c)?;
        let end = zone(b, i, &mut c);
        return Some((c, end));
    }
    if b[3] == b' ' {
        // ctime: Sun Dec 04 04:47:44[.frac] 2005
        c.month = month(b.get(4..7)?)?;
        if b.get(7) != Some(&b' ') {
            return None;
        }
        let (day, i) = day_padded(b, 8)?;
        c.day = day;
        let i = clock(b, i, &mut c)?;
        if b.get(i) != Some(&b' ') {
            return None;
        }
        c.year = Some(i64::from(num(b, i + 1, 4)?));
        if b.get(i + 5).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        return Some((c, i + 5));
    }
    None
}

/// A day of month at `i`: two digits, or a space and one digit, or one digit
/// followed by a space; returns the day and the index after it and one space.
fn day_padded(b: &[u8], i: usize) -> Option<(u32, usize)> {
    let (day, next) = match (b.get(i)?, b.get(i + 1)?) {
        (b' ', d) if d.is_ascii_digit() => (u32::from(d - b'0'), i + 2),
        (d, b' ') if d.is_ascii_digit() => return Some((u32::from(d - b'0'), i + 2)),
        _ => (num(b, i, 2)?, i + 2),
    };
    (b.get(next) == Some(&b' ')).then_some((day, next + 1))
}

/// `HH:MM:SS[.,fraction]` at `i`; returns the index after it.
fn clock(b: &[u8], i: usize, c: &mut Civil) -> Option<usize> {
    c.hour = num(b, i, 2)?;
    if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') {
        return None;
    }
    c.minute = num(b, i + 3, 2)?;
    c.second = num(b, i + 6, 2)?;
    let mut end = i + 8;
    if matches!(b.get(end), Some(b'.' | b',')) {
        let (nanos, used) = fraction(b.get(end + 1..)?);
        if used > 0 {
            c.nanos = nanos;
            end += 1 + used;
        }
    }
    match b.get(end) {
        Some(x) if x.is_ascii_digit() => None,
        _ => Some(end),
    }
}

/// An optional zone at `i`: `Z`, `±HH:MM`, `±HHMM`, `±HH`, optionally after
/// one space, or ` UTC`/` GMT`. Returns the index after it (or `i`).
fn zone(b: &[u8], i: usize, c: &mut Civil) -> usize {
    match b.get(i) {
        Some(b'Z' | b'z') if !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) => {
            c.offset_s = Some(0);
            return i + 1;
        }
        Some(b' ') => {
            let rest = &b[i + 1..];
            if (rest.starts_with(b"UTC") || rest.starts_with(b"GMT"))
                && !rest.get(3).is_some_and(u8::is_ascii_alphanumeric)
            {
                c.offset_s = Some(0);
                return i + 4;
            }
            if matches!(rest.first(), Some(b'+' | b'-'))
                && let Some(end) = signed_offset(b, i + 1, c)
            {
                return end;
            }
        }
        Some(b'+' | b'-') => {
            if let Some(end) = signed_offset(b, i, c) {
                return end;
            }
        }
        _ => {}
    }
    i
}

fn signed_offset(b: &[u8], i: usize, c: &mut Civil) -> Option<usize> {
    let sign = if b[i] == b'-' { -1 } else { 1 };
    let hours = num(b, i + 1, 2)?;
    let (minutes, end) = if b.get(i + 3) == Some(&b':') {
        (num(b, i + 4, 2)?, i + 6)
    } else if let Some(m) = num(b, i + 3, 2) {
        (m, i + 5)
    } else {
        (0, i + 3)
    };
    if hours > 23 || minutes > 59 || b.get(end).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    c.offset_s = Some(sign * i32::try_from(hours * 3600 + minutes * 60).ok()?);
    Some(end)
}

/// Up to nine fraction digits as nanoseconds (more digits are read and
/// truncated); returns the value and the digits used.
fn fraction(b: &[u8]) -> (u32, usize) {
    let mut nanos = 0u32;
    let mut used = 0;
    for &d in b.iter().take_while(|d| d.is_ascii_digit()) {
        if used < 9 {
            nanos = nanos * 10 + u32::from(d - b'0');
        }
        used += 1;
    }
    for _ in used..9 {
        nanos *= 10;
    }
    (nanos, used)
}

/// `n` ASCII digits at `i` as a number.
fn num(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = b.get(i..i + n)?;
    let mut v = 0u32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(d - b'0');
    }
    Some(v)
}

/// An English month abbreviation (any case) as 1..=12.
fn month(b: &[u8]) -> Option<u32> {
    let key = [
        b.first()?.to_ascii_lowercase(),
        b.get(1)?.to_ascii_lowercase(),
        b.get(2)?.to_ascii_lowercase(),
    ];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// The civil fields as an instant, filling a missing year and offset.
fn resolve(c: &Civil, ctx: &TimeCtx) -> Option<i64> {
    match c.year {
        Some(year) => instant(year, c, ctx),
        None => {
            let year = year_of(ctx.received_ns);
            let ns = instant(year, c, ctx)?;
            if ns > ctx.received_ns.saturating_add(FUTURE_SLACK_NS) {
                instant(year - 1, c, ctx)
            } else {
                Some(ns)
            }
        }
    }
}

fn instant(year: i64, c: &Civil, ctx: &TimeCtx) -> Option<i64> {
    if !(1..=12).contains(&c.month)
        || c.day < 1
        || c.day > days_in_month(year, c.month)
        || c.hour > 23
        || c.minute > 59
        || c.second > 60
    {
        return None;
    }
    let days = days_from_civil(year, c.month, c.day);
    let offset = i64::from(c.offset_s.unwrap_or(ctx.default_offset_s));
    let secs = days * SECS_PER_DAY + i64::from(c.hour * 3600 + c.minute * 60 + c.second) - offset;
    secs.checked_mul(NS_PER_SEC)?
        .checked_add(i64::from(c.nanos))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC calendar year of an instant.
pub fn year_of(ns: i64) -> i64 {
    let z = ns.div_euclid(NS_PER_SEC * SECS_PER_DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let year = yoe + era * 400;
    if mp >= 10 { year + 1 } else { year }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
