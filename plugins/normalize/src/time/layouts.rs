//! The built-in layouts, byte by byte. Each returns the civil fields it
//! read and the bytes it used; `super` resolves them to an instant.

/// A timestamp split into civil fields, before it is resolved to an instant.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Civil {
    pub(super) year: Option<i64>,
    pub(super) month: u32,
    pub(super) day: u32,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    pub(super) nanos: u32,
    pub(super) offset_s: Option<i32>,
}

/// Layouts that start with a digit.
pub(super) fn numeric_layout(b: &[u8]) -> Option<(Civil, usize)> {
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
pub(super) fn named_layout(b: &[u8]) -> Option<(Civil, usize)> {
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
pub(super) fn fraction(b: &[u8]) -> (u32, usize) {
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
pub(super) fn month(b: &[u8]) -> Option<u32> {
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
