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

mod layouts;

use layouts::{Civil, fraction, month, named_layout, numeric_layout};

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

/// Fast path for the most common layout of all, `2025-02-01T12:34:56Z`
/// with an optional fraction: straight to the instant, no layout search.
fn rfc3339_utc(b: &[u8]) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (nanos, end) = match b[19] {
        b'Z' => (0, 20),
        b'.' => {
            let (nanos, used) = fraction(&b[20..]);
            (nanos, 20 + used)
        }
        _ => return None,
    };
    if end >= 21 && b[end..] != *b"Z" || end == 20 && b.len() != 20 {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
        (x < 10 && y < 10).then_some(u32::from(x) * 10 + u32::from(y))
    };
    let year = i64::from(d(0)? * 100 + d(2)?);
    let c = Civil {
        year: Some(year),
        month: d(5)?,
        day: d(8)?,
        hour: d(11)?,
        minute: d(14)?,
        second: d(17)?,
        nanos,
        offset_s: Some(0),
    };
    let ctx = TimeCtx {
        received_ns: 0,
        default_offset_s: 0,
    };
    instant(year, &c, &ctx)
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
    if let Some(ns) = rfc3339_utc(text.as_bytes()) {
        return Some(ns);
    }
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
mod tests;
