//! JSON objects, scanned straight into the record.
//!
//! A small hand-written parser rather than serde: it builds no tree and no
//! intermediate values, hands strings without escapes over as spans of the
//! payload (so a message reuses the payload's buffer), finds string ends
//! eight bytes at a time, and keeps arrays as the JSON text they were sent as. Keys
//! are appended to a reusable dotted path (`metadata.user_ip`) and every
//! scalar goes to [`Record::field`], which decides by name whether it is the
//! message, level, timestamp, service, project or an attribute. Objects
//! nested deeper than [`MAX_FLATTEN_DEPTH`] are kept as JSON text too.
//!
//! It accepts exactly RFC 8259 JSON with two leniencies that suit logs:
//! raw control characters inside strings, and lone surrogate escapes (read
//! as U+FFFD).

use crate::record::{Ctx, Record, Scalar};

/// Objects nested deeper than this are stored as JSON text rather than
/// flattened, so a hostile payload cannot mint thousands of keys per level.
pub const MAX_FLATTEN_DEPTH: usize = 8;

/// Nesting beyond this is refused: bounds the parser's recursion.
const MAX_NESTING: usize = 128;

/// Outcome of trying the JSON format.
pub enum JsonOutcome {
    /// Not a JSON object (does not start with `{`).
    NotJson,
    /// Parsed into the record.
    Parsed,
    /// Looked like JSON but is not valid: the reason.
    Malformed(String),
}

/// Reusable buffers: the dotted key path and unescaped string values.
#[derive(Debug, Default)]
pub struct Scratch {
    path: String,
    text: String,
}

/// Parse `line` if it is a JSON object.
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>, scratch: &mut Scratch) -> JsonOutcome {
    let mut p = Parser {
        s: line,
        b: line.as_bytes(),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return JsonOutcome::NotJson;
    }
    scratch.path.clear();
    let result = p.object(rec, ctx, scratch, 0).and_then(|()| {
        p.ws();
        match p.peek() {
            None => Ok(()),
            Some(_) => Err("trailing characters"),
        }
    });
    match result {
        Ok(()) => JsonOutcome::Parsed,
        Err(what) => JsonOutcome::Malformed(format!("invalid JSON: {what} at {}", p.position())),
    }
}

type Res = Result<(), &'static str>;

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

/// A string as found: a span of the payload, or unescaped into scratch.
enum Str {
    Span(usize, usize),
    Unescaped,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Res {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    /// `what` was expected; at the end of input, say so instead.
    fn unexpected(&self, what: &'static str) -> &'static str {
        if self.i >= self.b.len() {
            "unexpected end of input"
        } else {
            what
        }
    }

    /// "line L column C" (1-based; columns count bytes), for errors.
    fn position(&self) -> String {
        let before = &self.b[..self.i.min(self.b.len())];
        let line = before.iter().filter(|c| **c == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|c| *c == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        format!("line {line} column {column}")
    }

    /// An object at `self.i` (`{`), its keys appended to `scratch.path`.
    fn object(
        &mut self,
        rec: &mut Record,
        ctx: &Ctx<'_>,
        scratch: &mut Scratch,
        depth: usize,
    ) -> Res {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        let base = scratch.path.len();
        loop {
            self.expect(b'"', "expected a string key")?;
            if base > 0 {
                scratch.path.push('.');
            }
            match self.string(&mut scratch.path)? {
                Str::Span(start, end) => scratch.path.push_str(&self.s[start..end]),
                Str::Unescaped => {}
            }
            self.expect(b':', "expected `:`")?;
            self.ws();
            self.value(rec, ctx, scratch, depth)?;
            scratch.path.truncate(base);
            self.ws();
            match self.peek() {
                Some(b',') => self.comma(b'}')?,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected("expected `,` or `}`")),
            }
        }
    }

    /// A value at `self.i`, for the key in `scratch.path`.
    fn value(
        &mut self,
        rec: &mut Record,
        ctx: &Ctx<'_>,
        scratch: &mut Scratch,
        depth: usize,
    ) -> Res {
        let start = self.i;
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                scratch.text.clear();
                match self.string(&mut scratch.text)? {
                    Str::Span(s, e) => rec.field_span(&scratch.path, self.s, s, e, ctx),
                    Str::Unescaped => rec.field(&scratch.path, Scalar::Str(&scratch.text), ctx),
                }
            }
            Some(b'{') if depth + 1 < MAX_FLATTEN_DEPTH => {
                self.object(rec, ctx, scratch, depth + 1)?;
            }
            Some(b'{' | b'[') => {
                self.skip(0)?;
                rec.field(&scratch.path, Scalar::Json(&self.s[start..self.i]), ctx);
            }
            Some(b't') => {
                self.literal(b"true")?;
                rec.field(&scratch.path, Scalar::Bool(true), ctx);
            }
            Some(b'f') => {
                self.literal(b"false")?;
                rec.field(&scratch.path, Scalar::Bool(false), ctx);
            }
            Some(b'n') => {
                self.literal(b"null")?;
                rec.field(&scratch.path, Scalar::Null, ctx);
            }
            Some(b'-' | b'0'..=b'9') => {
                let value = self.number()?;
                rec.field(&scratch.path, value, ctx);
            }
            _ => return Err(self.unexpected("expected a value")),
        }
        Ok(())
    }

    /// Past a `,` that must not be the last thing before `close`.
    fn comma(&mut self, close: u8) -> Res {
        self.i += 1;
        self.ws();
        if self.peek() == Some(close) {
            return Err("trailing comma");
        }
        Ok(())
    }

    fn literal(&mut self, word: &'static [u8]) -> Res {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.unexpected("expected a value"))
        }
    }

    /// A string whose opening quote was consumed: a span of the payload when
    /// it holds no escapes, otherwise unescaped and appended to `out`.
    fn string(&mut self, out: &mut String) -> Result<Str, &'static str> {
        let start = self.i;
        let Some(off) = find_quote_or_backslash(&self.b[self.i..]) else {
            self.i = self.b.len();
            return Err("unexpected end of input");
        };
        self.i += off;
        if self.b[self.i] == b'"' {
            self.i += 1;
            return Ok(Str::Span(start, self.i - 1));
        }
        out.push_str(&self.s[start..self.i]);
        loop {
            // At a backslash.
            self.i += 1;
            let escaped = self.peek().ok_or("unexpected end of input")?;
            self.i += 1;
            match escaped {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => out.push(self.unicode_escape()?),
                _ => {
                    self.i -= 1;
                    return Err("invalid escape");
                }
            }
            let rest = &self.b[self.i..];
            let Some(off) = find_quote_or_backslash(rest) else {
                self.i = self.b.len();
                return Err("unexpected end of input");
            };
            out.push_str(&self.s[self.i..self.i + off]);
            self.i += off;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return Ok(Str::Unescaped);
            }
        }
    }

    /// After `\u`: four hex digits, and a second escape for a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, &'static str> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return Ok(char::from_u32(high).unwrap_or('\u{FFFD}'));
        }
        if self.b[self.i..].starts_with(b"\\u") {
            let save = self.i;
            self.i += 2;
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.i = save;
        }
        Ok('\u{FFFD}')
    }

    fn hex4(&mut self) -> Result<u32, &'static str> {
        let digits = self
            .b
            .get(self.i..self.i + 4)
            .ok_or("unexpected end of input")?;
        let mut v = 0u32;
        for &d in digits {
            let n = char::from(d).to_digit(16).ok_or("invalid \\u escape")?;
            v = v * 16 + n;
        }
        self.i += 4;
        Ok(v)
    }

    /// A number: integers that fit i64 are integers, the rest floats.
    fn number(&mut self) -> Result<Scalar<'static>, &'static str> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected("invalid number")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.unexpected("invalid number"));
            }
            self.digits();
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.unexpected("invalid number"));
            }
            self.digits();
            float = true;
        }
        let text = &self.s[start..self.i];
        // `-0` stays a float (-0.0), as serde_json reads it.
        if !float
            && text != "-0"
            && let Ok(n) = text.parse::<i64>()
        {
            return Ok(Scalar::Int(n));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Scalar::Float(f)),
            _ => Err("number out of range"),
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    /// Skip (and validate) an object or array at `self.i`.
    fn skip(&mut self, nesting: usize) -> Res {
        if nesting >= MAX_NESTING {
            return Err("nesting too deep");
        }
        let close = if self.peek() == Some(b'{') {
            b'}'
        } else {
            b']'
        };
        self.i += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        let mut sink = String::new();
        loop {
            if close == b'}' {
                self.expect(b'"', "expected a string key")?;
                self.string(&mut sink)?;
                self.expect(b':', "expected `:`")?;
            }
            self.ws();
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    self.string(&mut sink)?;
                }
                Some(b'{' | b'[') => self.skip(nesting + 1)?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                _ => return Err(self.unexpected("expected a value")),
            }
            sink.clear();
            self.ws();
            match self.peek() {
                Some(b',') => self.comma(close)?,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(());
                }
                _ => {
                    return Err(self.unexpected(if close == b'}' {
                        "expected `,` or `}`"
                    } else {
                        "expected `,` or `]`"
                    }));
                }
            }
        }
    }
}

/// The first `"` or `\\`, eight bytes at a time (SWAR): JSON strings in
/// logs are mostly short, where a vector search does not pay for its setup,
/// and this works the same in wasm.
#[inline]
fn find_quote_or_backslash(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const QUOTE: u64 = LO * b'"' as u64;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let (q, s) = (x ^ QUOTE, x ^ BACKSLASH);
        // High bit set in each byte that is zero in q or s. Borrows can only
        // mark bytes above a true zero, so the lowest mark is exact.
        let hits = ((q.wrapping_sub(LO) & !q) | (s.wrapping_sub(LO) & !s)) & HI;
        if hits != 0 {
            return Some(base + (hits.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|c| *c == b'"' || *c == b'\\')
        .map(|i| base + i)
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
