//! JSON objects, streamed straight into the record.
//!
//! No `serde_json::Value` tree is built: a serde visitor walks the object,
//! appends each key to a reusable dotted path (`metadata.user_ip`), and hands
//! every scalar to [`Record::field`], which decides by name whether it is the
//! message, level, timestamp, service, project or an attribute. Nested
//! objects are flattened into dotted keys; arrays (and objects nested deeper
//! than [`MAX_FLATTEN_DEPTH`]) are kept as JSON text.

use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use crate::record::{Ctx, Record, Scalar};

/// Objects nested deeper than this are stored as JSON text rather than
/// flattened, so a hostile payload cannot mint thousands of keys per level.
pub const MAX_FLATTEN_DEPTH: usize = 8;

/// Outcome of trying the JSON format.
pub enum JsonOutcome {
    /// Not a JSON object (does not start with `{`).
    NotJson,
    /// Parsed into the record.
    Parsed,
    /// Looked like JSON but is not valid: the reason.
    Malformed(String),
}

/// Parse `line` if it is a JSON object. `path` is scratch space.
pub fn parse(line: &str, rec: &mut Record, ctx: &Ctx<'_>, path: &mut String) -> JsonOutcome {
    if !line.trim_start().starts_with('{') {
        return JsonOutcome::NotJson;
    }
    path.clear();
    let mut de = serde_json::Deserializer::from_str(line);
    let walk = Walk {
        line,
        rec,
        ctx,
        path,
        depth: 0,
    };
    match de.deserialize_map(walk).and_then(|()| de.end()) {
        Ok(()) => JsonOutcome::Parsed,
        Err(e) => JsonOutcome::Malformed(format!("invalid JSON: {e}")),
    }
}

/// Walks one object (at `depth`), its keys appended to `path`.
struct Walk<'r, 'c> {
    /// The payload, so that unescaped strings can be taken as spans of it.
    line: &'r str,
    rec: &'r mut Record,
    ctx: &'r Ctx<'c>,
    path: &'r mut String,
    depth: usize,
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.path.len();
        loop {
            let key = KeySeed {
                path: &mut *self.path,
                dot: base > 0,
            };
            if map.next_key_seed(key)?.is_none() {
                break;
            }
            map.next_value_seed(Walk {
                line: self.line,
                rec: &mut *self.rec,
                ctx: self.ctx,
                path: &mut *self.path,
                depth: self.depth,
            })?;
            self.path.truncate(base);
        }
        Ok(())
    }
}

/// A value at `path`: scalars go to the record, objects are walked.
impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Leaf(self))
    }
}

struct Leaf<'r, 'c>(Walk<'r, 'c>);

impl Leaf<'_, '_> {
    fn put(self, value: Scalar<'_>) {
        let w = self.0;
        w.rec.field(w.path, value, w.ctx);
    }
}

impl<'de> Visitor<'de> for Leaf<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.put(Scalar::Bool(v));
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.put(Scalar::Int(v));
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(n) => self.put(Scalar::Int(n)),
            Err(_) => self.put(Scalar::Float(v as f64)),
        }
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.put(Scalar::Float(v));
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.put(Scalar::Str(v));
        Ok(())
    }

    /// A string without escapes, borrowed from the payload: passed as a span
    /// so that a message can reuse the payload's buffer.
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        let w = self.0;
        let start = (v.as_ptr() as usize).wrapping_sub(w.line.as_ptr() as usize);
        match start.checked_add(v.len()) {
            Some(end)
                if w.line
                    .get(start..end)
                    .is_some_and(|s| std::ptr::eq(s.as_ptr(), v.as_ptr())) =>
            {
                w.rec.field_span(w.path, w.line, start, end, w.ctx);
            }
            _ => w.rec.field(w.path, Scalar::Str(v), w.ctx),
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.put(Scalar::Null);
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let w = self.0;
        if w.depth + 1 >= MAX_FLATTEN_DEPTH {
            let value = serde_json::Value::deserialize(MapAccessDeserializer::new(map))?;
            let text = serde_json::to_string(&value).map_err(A::Error::custom)?;
            w.rec.field(w.path, Scalar::Json(&text), w.ctx);
            return Ok(());
        }
        Walk {
            depth: w.depth + 1,
            ..w
        }
        .visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let w = self.0;
        let value = serde_json::Value::deserialize(SeqAccessDeserializer::new(seq))?;
        let text = serde_json::to_string(&value).map_err(A::Error::custom)?;
        w.rec.field(w.path, Scalar::Json(&text), w.ctx);
        Ok(())
    }
}

/// Appends a key (after a `.` below the top level) to the path, without
/// allocating.
struct KeySeed<'p> {
    path: &'p mut String,
    dot: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        if self.dot {
            self.path.push('.');
        }
        self.path.push_str(v);
        Ok(())
    }
}
