//! Recognisers for the variable parts of a log line, written by hand over
//! bytes so that masking costs one pass and no regex. Each function looks at
//! the line at one position and answers where the variable ends (or how an
//! atom is to be treated); [`crate::tokenize`] decides where to ask.
//!
//! Only ASCII bytes are ever cut at, so every range handed back lies on UTF-8
//! character boundaries.

/// What an atom (a run of word characters with inner `.`, `-`, `+`) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atom {
    /// Constant text: keep it.
    Literal,
    /// A variable: replace it with `<*>`.
    Var,
    /// A word, a `.` or `-`, then a number (`node-246`, `core.2275`): keep the
    /// first `n` bytes, mask the rest.
    Prefix(usize),
}

/// Whitespace that separates tokens.
#[inline]
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Bytes an atom is made of. Non-ASCII bytes count as letters.
#[inline]
pub fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// An atom found by [`atom_end`]: where it ends and what the scan saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomScan {
    /// Index just past the atom.
    pub end: usize,
    /// Whether it holds an ASCII digit.
    pub digit: bool,
    /// How many `.` it holds.
    pub dots: usize,
}

/// The atom starting at `i` (which holds a word byte, or a sign followed by
/// a digit). `.`, `-` and `+` belong to the atom only between word bytes, so
/// `restart.` and `x+` end before their punctuation.
#[inline]
pub fn atom_end(b: &[u8], i: usize) -> AtomScan {
    let mut j = i;
    if matches!(b.get(j), Some(b'-' | b'+')) {
        j += 1;
    }
    let (mut digit, mut dots) = (false, 0);
    while let Some(&c) = b.get(j) {
        if is_word(c) {
            digit |= c.is_ascii_digit();
            j += 1;
        } else if matches!(c, b'.' | b'-' | b'+') && b.get(j + 1).is_some_and(|&n| is_word(n)) {
            dots += usize::from(c == b'.');
            j += 1;
        } else {
            break;
        }
    }
    AtomScan {
        end: j,
        digit,
        dots,
    }
}

/// Decide what an atom is. Numbers (with sign, decimals, units or a hex
/// prefix), long hex strings, ids glued with `_` (`blk_-42`, `rdd_2_0`),
/// versions and serials with several digit groups (`v6.1.7601`,
/// `R02-M1-N0`), names ending in three or more digits (`storage234`), and the
/// values `true`, `false`, `null` are variables. Short digits glued to a word
/// (`ssh2`, `tty2`, `ee0`, `Log4j`) are constant.
pub fn classify(a: &[u8], scan: AtomScan) -> Atom {
    let Some(&first) = a.first() else {
        return Atom::Literal;
    };
    let AtomScan { digit, dots, .. } = scan;
    if dots >= 2 && is_hostname(a) {
        return Atom::Var;
    }
    if !digit {
        return if is_value_word(a) {
            Atom::Var
        } else {
            Atom::Literal
        };
    }
    if first.is_ascii_digit() || first == b'-' || first == b'+' {
        return Atom::Var;
    }
    if a.len() >= 6 && a.iter().all(u8::is_ascii_hexdigit) {
        return Atom::Var;
    }
    // `node-246`, `core.2275`, `jetty-6.1.26`: a word, then a number.
    if let Some(p) = a.iter().position(|c| !c.is_ascii_alphabetic())
        && p > 0
        && matches!(a[p], b'.' | b'-')
        && a.get(p + 1).is_some_and(u8::is_ascii_digit)
    {
        return Atom::Prefix(p + 1);
    }
    let mut runs = 0;
    let mut longest = 0;
    let mut run = 0;
    let mut after_separator = false;
    for (k, &c) in a.iter().enumerate() {
        if c.is_ascii_digit() {
            if run == 0 {
                runs += 1;
                let before = if k > 0 { a[k - 1] } else { b' ' };
                if matches!(before, b'_' | b'.' | b'-' | b'+') {
                    after_separator = true;
                }
            }
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    if runs >= 2 || longest >= 3 || after_separator {
        Atom::Var
    } else {
        Atom::Literal
    }
}

/// Top-level domains that end host names in logs. Java packages start with
/// `com.`/`org.` instead, and class names end in a class, so
/// `org.apache.hadoop.MRAppMaster` and `com.android.systemui` stay words.
const TLDS: [&[u8]; 24] = [
    b"com",
    b"net",
    b"org",
    b"edu",
    b"gov",
    b"mil",
    b"int",
    b"io",
    b"info",
    b"biz",
    b"local",
    b"internal",
    b"lan",
    b"corp",
    b"cn",
    b"de",
    b"uk",
    b"jp",
    b"ru",
    b"fr",
    b"br",
    b"in",
    b"us",
    b"eu",
];

/// A host name (given two or more dots): a known top-level domain at the end
/// (`ns.example.com`, `MSRA-SA-39.fareast.corp.microsoft.com`).
fn is_hostname(a: &[u8]) -> bool {
    let last = a.rsplit(|&c| c == b'.').next().unwrap_or_default();
    last.len() <= 8 && TLDS.iter().any(|t| last.eq_ignore_ascii_case(t))
}

/// Length of a size unit that a formatter picks by magnitude (`B`, `KB`,
/// `MiB`, …) at the start of `t`, when only closing punctuation follows it:
/// after a number it is part of the quantity (`384.0 B`, `5.2 KB)`). Units
/// a print statement fixes (`ms`, `bytes`, `seconds`) are not in the family.
pub fn size_unit_len(t: &[u8]) -> Option<usize> {
    let letters = t.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let unit = &t[..letters];
    let rest = &t[letters..];
    let known = matches!(
        unit,
        b"B" | b"KB" | b"MB" | b"GB" | b"TB" | b"PB" | b"KiB" | b"MiB" | b"GiB" | b"TiB" | b"PiB"
    );
    (known
        && rest
            .iter()
            .all(|c| matches!(c, b',' | b';' | b')' | b']' | b'}' | b'.')))
    .then_some(letters)
}

/// `true`, `false`, `null` in any case: values, not words of the statement.
fn is_value_word(a: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b"true")
        || a.eq_ignore_ascii_case(b"false")
        || a.eq_ignore_ascii_case(b"null")
}

fn digits(b: &[u8], i: usize, max: usize) -> usize {
    b[i.min(b.len())..]
        .iter()
        .take(max + 1)
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// IPv4 address at `i`, with an optional `:port`: returns its end. A
/// dotted quad followed by more labels (`5.36.59.76.dynamic.net`) is not one.
pub fn ipv4_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for part in 0..4 {
        let n = digits(b, j, 3);
        if n == 0 || n > 3 {
            return None;
        }
        j += n;
        if part < 3 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
    }
    if b.get(j).is_some_and(|&c| is_word(c))
        || (matches!(b.get(j), Some(b'.' | b'-')) && b.get(j + 1).is_some_and(|&c| is_word(c)))
    {
        return None;
    }
    if b.get(j) == Some(&b':') {
        let n = digits(b, j + 1, 5);
        if (1..=5).contains(&n) && !b.get(j + 1 + n).is_some_and(|&c| is_word(c)) {
            j += 1 + n;
        }
    }
    Some(j)
}

/// Most colon-separated hex groups one address may have (an IPv6 address
/// has 8, a MAC 6, some hardware ids 12).
const MAX_HEX_GROUPS: usize = 16;

/// IPv6 address (or a colon-separated hex run such as a MAC address) at `i`:
/// returns its end. It must start with a hex digit and hold a digit; it
/// needs `::`, six or more groups, or four groups with a hex letter, so
/// that clock times (`12:30:45`) and `Class::method` are left alone.
pub fn ipv6_end(b: &[u8], i: usize) -> Option<usize> {
    // Most words that start with a hex letter are words: a group of at most
    // four hex digits and a colon must come first.
    let run = b[i..]
        .iter()
        .take(5)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if run == 0 || run > 4 || b.get(i + run) != Some(&b':') {
        return None;
    }
    let mut j = i;
    let (mut groups, mut colons) = (0usize, 0usize);
    let (mut double, mut letter, mut digit) = (false, false, false);
    loop {
        if groups == MAX_HEX_GROUPS {
            // Bounded, so `a:b:a:b:…` cannot make every atom read to the end.
            return None;
        }
        let start = j;
        while j - start < 4 && b.get(j).is_some_and(u8::is_ascii_hexdigit) {
            letter |= b[j].is_ascii_alphabetic();
            digit |= b[j].is_ascii_digit();
            j += 1;
        }
        if j == start {
            break;
        }
        groups += 1;
        if b.get(j).is_some_and(u8::is_ascii_hexdigit) {
            return None;
        }
        if b.get(j) != Some(&b':') {
            break;
        }
        if b.get(j + 1) == Some(&b':') {
            if double {
                return None;
            }
            double = true;
            colons += 2;
            j += 2;
        } else if b.get(j + 1).is_some_and(u8::is_ascii_hexdigit) {
            colons += 1;
            j += 1;
        } else {
            // A trailing `:` belongs to the text around the address.
            break;
        }
    }
    if b.get(j).is_some_and(|&c| is_word(c)) || !digit || colons < 2 {
        return None;
    }
    (double || groups >= 6 || (letter && groups >= 4)).then_some(j)
}

/// UUID (8-4-4-4-12 hex digits) at `i`: returns its end.
pub fn uuid_end(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..i + 36)?;
    let ok = s.iter().enumerate().all(|(k, &c)| {
        if matches!(k, 8 | 13 | 18 | 23) {
            c == b'-'
        } else {
            c.is_ascii_hexdigit()
        }
    });
    (ok && !b.get(i + 36).is_some_and(|&c| is_word(c))).then_some(i + 36)
}

/// An e-mail address whose local part is the atom `i..local_end`: returns
/// its end when `@` follows and then a domain with a dot and a letter TLD.
#[inline]
pub fn email_end(b: &[u8], local_end: usize) -> Option<usize> {
    if b.get(local_end) != Some(&b'@') {
        return None;
    }
    email_domain_end(b, local_end)
}

fn email_domain_end(b: &[u8], local_end: usize) -> Option<usize> {
    let mut j = local_end + 1;
    let mut labels = 0;
    let mut last_alpha;
    loop {
        let start = j;
        while b
            .get(j)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'-')
        {
            j += 1;
        }
        if j == start {
            return None;
        }
        labels += 1;
        last_alpha = j - start >= 2 && b[start..j].iter().all(u8::is_ascii_alphabetic);
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        } else {
            break;
        }
    }
    (labels >= 2 && last_alpha && !b.get(j).is_some_and(|&c| is_word(c))).then_some(j)
}

/// A URL (`scheme://…`) at `i`: returns its end, trailing punctuation
/// excluded.
pub fn url_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while b
        .get(j)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
    {
        j += 1;
    }
    if j == i || !b[i].is_ascii_alphabetic() || b.get(j..j + 3) != Some(b"://") {
        return None;
    }
    Some(run_end(b, j + 3))
}

/// A path at `i`: `/x…`, `./x`, `../x`, `~/x`, `C:\x`, `\\x`. Returns its
/// end, trailing punctuation excluded.
#[inline]
pub fn path_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i) {
        Some(b'/' | b'.' | b'~' | b'\\') => path_body_end(b, i),
        Some(c) if c.is_ascii_alphabetic() && b.get(i + 1) == Some(&b':') => path_body_end(b, i),
        _ => None,
    }
}

fn path_body_end(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    let drive =
        rest.len() > 3 && rest[0].is_ascii_alphabetic() && rest[1] == b':' && rest[2] == b'\\';
    let body = if rest.starts_with(b"/") {
        1
    } else if rest.starts_with(b"./") || rest.starts_with(b"~/") || rest.starts_with(b"\\\\") {
        2
    } else if rest.starts_with(b"../") || drive {
        3
    } else {
        return None;
    };
    let c = *b.get(i + body)?;
    if !(is_word(c) || matches!(c, b'.' | b'~' | b'-' | b'*' | b'?' | b'{')) {
        return None;
    }
    Some(run_end(b, i + body))
}

/// End of a path or URL body: up to whitespace, a quote or a closing
/// bracket, with a trailing `.`, `,`, `:` or `;` left out.
fn run_end(b: &[u8], mut j: usize) -> usize {
    while let Some(&c) = b.get(j) {
        if is_space(c)
            || matches!(
                c,
                b'"' | b'\'' | b')' | b']' | b'}' | b'>' | b'<' | b',' | b';' | b'|'
            )
        {
            break;
        }
        if matches!(c, b'.' | b':') && b.get(j + 1).is_none_or(|&n| is_space(n)) {
            break;
        }
        j += 1;
    }
    j
}

/// Longest quoted string looked for: a lone quote must not make the
/// scanner read the rest of a long line again and again.
const MAX_QUOTED: usize = 512;

/// The closing quote matching the quote at `i`: returns the index just past
/// it. A closing `'` must end a word, so apostrophes inside words do not
/// close anything.
pub fn quoted_end(b: &[u8], i: usize) -> Option<usize> {
    let q = b[i];
    let limit = (i + 1 + MAX_QUOTED).min(b.len());
    let mut j = i + 1;
    while j < limit {
        if b[j] == q && (q == b'"' || !b.get(j + 1).is_some_and(|&c| is_word(c))) {
            return Some(j + 1);
        }
        j += 1;
    }
    None
}

/// Whether quoted text holds something variable (a digit, a path, an
/// address), so that the whole quotation becomes one `<*>`.
pub fn quoted_is_variable(content: &[u8]) -> bool {
    content
        .iter()
        .any(|&c| c.is_ascii_digit() || matches!(c, b'/' | b'\\' | b'@'))
}

/// A plain word (letters and `_`, not `true`/`false`/`null`): a `key=value`
/// value like this (`state=RUNNING`, `tty=ssh`) is left to the miner, which
/// makes it `<*>` once it varies.
pub fn is_plain_word(v: &[u8]) -> bool {
    v.iter().all(|&c| c.is_ascii_alphabetic() || c == b'_') && !is_value_word(v)
}

/// Longest bracketed `key=value` value taken whole.
const MAX_BRACKETED: usize = 256;

/// End of a `key=value` value starting at `i`. A value that opens with a
/// bracket is taken whole when the bracket closes inside the token
/// (`bnds=[264,444][920,908]`); otherwise the value ends at a separator or
/// at an opening bracket, so `Rect(0,` and `<memory:10240,` are left to the
/// rest of the scanner. Returns `i` when there is no value to mask.
pub fn value_end(b: &[u8], i: usize) -> usize {
    if matches!(b.get(i), Some(b'[' | b'(' | b'{' | b'<')) {
        let mut depth = 0usize;
        let mut j = i;
        // Bounded, so `a=[a=[a=[…` cannot make every `=` read to the end.
        while let Some(&c) = b.get(j).filter(|_| j - i < MAX_BRACKETED) {
            if is_space(c) {
                break;
            }
            match c {
                b'[' | b'(' | b'{' | b'<' => depth += 1,
                b']' | b')' | b'}' | b'>' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && !matches!(b.get(j + 1), Some(b'[' | b'(' | b'{' | b'<')) {
                        return j + 1;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        return i;
    }
    let mut j = i;
    while let Some(&c) = b.get(j) {
        if is_space(c)
            || matches!(
                c,
                b',' | b';' | b')' | b']' | b'}' | b'&' | b'|' | b'(' | b'[' | b'{' | b'<'
            )
        {
            break;
        }
        j += 1;
    }
    if matches!(b.get(j), Some(b'(' | b'[' | b'{' | b'<')) {
        // `Rect(0, 0)`: the word before the bracket names a structure.
        return i;
    }
    j
}
