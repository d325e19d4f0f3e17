//! Dates written out in a message (`at Fri Jun 17 07:07:00 2005`) span
//! several tokens and vary in every part; the scanner asks here at every
//! token start and, on a match, writes one `<*>` for the whole date.

use crate::mask::is_space;

/// What one whitespace-separated field of a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateField {
    Weekday,
    Month,
    Day,
    Year,
    Time,
    Zone,
    Other,
}

/// A capitalised weekday or month name (`Fri`, `Friday`, `Jun`, `June`).
fn name_kind(f: &[u8]) -> Option<DateField> {
    if f.len() < 3 || f.len() > 9 || !f[3..].iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    match &f[..3] {
        b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun" => Some(DateField::Weekday),
        b"Jan" | b"Feb" | b"Mar" | b"Apr" | b"May" | b"Jun" | b"Jul" | b"Aug" | b"Sep" | b"Oct"
        | b"Nov" | b"Dec" => Some(DateField::Month),
        _ => None,
    }
}

fn date_field(f: &[u8]) -> DateField {
    let f = f.strip_suffix(b",").unwrap_or(f);
    let all_digits = !f.is_empty() && f.iter().all(u8::is_ascii_digit);
    if let Some(kind) = name_kind(f) {
        kind
    } else if all_digits && f.len() <= 2 {
        DateField::Day
    } else if all_digits && f.len() == 4 {
        DateField::Year
    } else if is_clock(f) {
        DateField::Time
    } else if (3..=5).contains(&f.len()) && f.iter().all(u8::is_ascii_uppercase)
        || (f.len() == 5 && matches!(f[0], b'+' | b'-') && f[1..].iter().all(u8::is_ascii_digit))
    {
        DateField::Zone
    } else {
        DateField::Other
    }
}

/// `h:mm`, `hh:mm:ss`, `hh:mm:ss.fff` or `hh:mm:ss,fff`.
fn is_clock(f: &[u8]) -> bool {
    let mut parts = f.splitn(2, |&c| c == b'.' || c == b',');
    let clock = parts.next().unwrap_or_default();
    let fraction_ok = parts
        .next()
        .is_none_or(|x| !x.is_empty() && x.iter().all(u8::is_ascii_digit));
    let mut n = 0;
    for (k, part) in clock.split(|&c| c == b':').enumerate() {
        let ok = part.iter().all(u8::is_ascii_digit)
            && if k == 0 {
                (1..=2).contains(&part.len())
            } else {
                part.len() == 2
            };
        if !ok {
            return false;
        }
        n += 1;
    }
    fraction_ok && (2..=3).contains(&n)
}

/// A written-out date at `i` spanning several tokens (`Fri Jun 17 07:07:00
/// 2005`, `Jun 17 07:07:00`, `Sat May 8 09:04:50 EDT 2004`, `17 Jun 2005
/// 10:00`): returns its end. It needs a month, a day and a time or a year,
/// so a lone `May` stays a word.
pub fn date_end(b: &[u8], i: usize) -> Option<usize> {
    let first = *b.get(i)?;
    if !(first.is_ascii_uppercase() || first.is_ascii_digit()) {
        return None;
    }
    // Most tokens are no date: decide on the first field before reading on.
    // It is a day (`17`, `17,`) or a name (`Fri`, `June,`): short, and
    // lower case after its capital.
    let first_end = i + b[i..]
        .iter()
        .take(11)
        .take_while(|&&c| !is_space(c))
        .count();
    let f = &b[i..first_end];
    let f = f.strip_suffix(b",").unwrap_or(f);
    let plausible = if first.is_ascii_digit() {
        f.len() <= 2 && f.iter().all(u8::is_ascii_digit)
    } else {
        (3..=9).contains(&f.len()) && name_kind(f).is_some()
    };
    if !plausible || b.get(first_end).is_some_and(|&c| !is_space(c)) {
        return None;
    }
    if !matches!(
        date_field(&b[i..first_end]),
        DateField::Weekday | DateField::Month | DateField::Day
    ) {
        return None;
    }
    let mut fields = [(DateField::Other, 0usize); 7];
    let mut count = 0;
    let mut j = i;
    while count < fields.len() {
        while b.get(j).is_some_and(|&c| c == b' ' || c == b'\t') {
            j += 1;
        }
        let start = j;
        while b.get(j).is_some_and(|&c| !is_space(c)) {
            j += 1;
        }
        if j == start {
            break;
        }
        fields[count] = (date_field(&b[start..j]), j);
        count += 1;
    }
    let kind = |k: usize| {
        if k < count {
            fields[k].0
        } else {
            DateField::Other
        }
    };
    let mut k = usize::from(kind(0) == DateField::Weekday);
    let mut year = false;
    if kind(k) == DateField::Month && kind(k + 1) == DateField::Day {
        k += 2;
    } else if kind(k) == DateField::Day
        && kind(k + 1) == DateField::Month
        && kind(k + 2) == DateField::Year
    {
        k += 3;
        year = true;
    } else {
        return None;
    }
    let mut time = false;
    let mut zone = false;
    while k < count {
        match kind(k) {
            DateField::Time if !time => time = true,
            DateField::Zone if time && !zone => zone = true,
            DateField::Year if !year => year = true,
            _ => break,
        }
        k += 1;
    }
    (time || year).then(|| fields[k - 1].1)
}
