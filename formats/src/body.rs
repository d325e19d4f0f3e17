//! Request bodies into raw payloads, one per event, with every limit checked
//! and every problem named by line and field.
//!
//! Accepted: `application/json` (one object, or an array of objects, or
//! objects one per line), `application/x-ndjson` (also `application/ndjson`,
//! `application/jsonl`), `text/plain` (one event per non-empty line); any of
//! them gzip-compressed (`Content-Encoding: gzip`). The rule is all or
//! nothing: one bad event rejects the whole request and nothing of it is
//! queued, so a client can fix and resend without duplicates.
//!
//! Payloads stay as text: parsing them is the normalize plugin's job.
//! Ingest only checks that JSON is JSON and that the fields Sluice reads
//! (`message`, `level`, `timestamp`, `service`, `project_id`, `metadata`)
//! have usable types, so a client hears about a broken event now rather
//! than finding it in the dead letters.

use std::borrow::Cow;
use std::io::Read;

use http::StatusCode;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::InputError;

/// Limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Largest body after decompression.
    pub max_body_bytes: usize,
    /// Most events per request.
    pub max_events: usize,
    /// Longest single event.
    pub max_line_bytes: usize,
}

/// How the body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Json,
    Ndjson,
    Text,
}

/// Decode a body into raw payloads.
pub fn decode(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limits: &DecodeLimits,
) -> Result<Vec<String>, InputError> {
    let layout = layout(content_type, body)?;
    let body = inflate(content_encoding, body, limits)?;
    let body = &body[..];
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        InputError::bad_request("invalid_utf8", "the body is not valid UTF-8").at_line(line)
    })?;
    let payloads = match layout {
        Layout::Text => lines(text, limits)?
            .into_iter()
            .map(|(_, l)| l.to_owned())
            .collect(),
        Layout::Ndjson => ndjson(text, limits)?,
        Layout::Json => json(text, limits)?,
    };
    if payloads.is_empty() {
        return Err(InputError::bad_request(
            "empty",
            "the request carries no events",
        ));
    }
    Ok(payloads)
}

/// The body with its `Content-Encoding` (gzip or none) undone, within the
/// body limit; shared by every ingest protocol.
pub fn inflate<'a>(
    content_encoding: Option<&str>,
    body: &'a [u8],
    limits: &DecodeLimits,
) -> Result<Cow<'a, [u8]>, InputError> {
    let body = match content_encoding
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => Cow::Borrowed(body),
        Some("gzip") | Some("x-gzip") => Cow::Owned(gunzip(body, limits.max_body_bytes)?),
        Some(other) => {
            return Err(InputError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                format!("Content-Encoding `{other}` is not supported; use gzip or none"),
            ));
        }
    };
    if body.len() > limits.max_body_bytes {
        return Err(too_large(limits.max_body_bytes));
    }
    Ok(body)
}

fn layout(content_type: Option<&str>, body: &[u8]) -> Result<Layout, InputError> {
    let Some(content_type) = content_type else {
        return Err(InputError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "missing_content_type",
            "set Content-Type: application/json, application/x-ndjson or text/plain",
        ));
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(Layout::Json),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonlines" => Ok(Layout::Ndjson),
        "text/plain" => Ok(Layout::Text),
        _ => {
            let _ = body;
            Err(InputError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_type",
                format!(
                    "Content-Type `{essence}` is not supported; use application/json, application/x-ndjson or text/plain"
                ),
            ))
        }
    }
}

/// 413 for a body over `limit` bytes.
pub fn too_large(limit: usize) -> InputError {
    InputError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body exceeds {limit} bytes (after decompression)"),
    )
}

/// Inflate, refusing to produce more than `limit` bytes (a gzip bomb stops
/// at the limit instead of filling memory).
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| {
        InputError::bad_request("invalid_gzip", format!("the body is not valid gzip: {e}"))
    })?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

/// Non-empty lines with their 1-based numbers, each within the line limit.
fn lines<'a>(text: &'a str, limits: &DecodeLimits) -> Result<Vec<(usize, &'a str)>, InputError> {
    let mut out = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > limits.max_line_bytes {
            return Err(InputError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "event_too_large",
                format!("the event is longer than {} bytes", limits.max_line_bytes),
            )
            .at_line(index + 1));
        }
        out.push((index + 1, line));
        if out.len() > limits.max_events {
            return Err(too_many(limits.max_events));
        }
    }
    Ok(out)
}

/// 413 for a request over `limit` events.
pub fn too_many(limit: usize) -> InputError {
    InputError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_events",
        format!("the request carries more than {limit} events; split it"),
    )
}

fn ndjson(text: &str, limits: &DecodeLimits) -> Result<Vec<String>, InputError> {
    let lines = lines(text, limits)?;
    let mut out = Vec::with_capacity(lines.len());
    for (number, line) in lines {
        let line = line.trim();
        check_event(line).map_err(|e| e.at_line(number))?;
        out.push(line.to_owned());
    }
    Ok(out)
}

/// One object, an array of objects, or objects one per line.
fn json(text: &str, limits: &DecodeLimits) -> Result<Vec<String>, InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        if elements.len() > limits.max_events {
            return Err(too_many(limits.max_events));
        }
        let mut out = Vec::with_capacity(elements.len());
        for (index, element) in elements.into_iter().enumerate() {
            let raw = element.get();
            if raw.len() > limits.max_line_bytes {
                return Err(InputError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "event_too_large",
                    format!("the event is longer than {} bytes", limits.max_line_bytes),
                )
                .at_line(index + 1));
            }
            check_event(raw).map_err(|e| e.at_line(index + 1))?;
            out.push(raw.to_owned());
        }
        return Ok(out);
    }
    // A single object, possibly pretty-printed over several lines…
    if let Ok(single) = serde_json::from_str::<&RawValue>(text) {
        let raw = single.get();
        if raw.len() > limits.max_line_bytes {
            return Err(InputError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "event_too_large",
                format!("the event is longer than {} bytes", limits.max_line_bytes),
            )
            .at_line(1));
        }
        check_event(raw).map_err(|e| e.at_line(1))?;
        return Ok(vec![raw.to_owned()]);
    }
    // …or several objects, one per line.
    ndjson(text, limits)
}

fn json_error(error: &serde_json::Error) -> InputError {
    InputError::bad_request(
        "invalid_json",
        format!("invalid JSON at column {}: {error}", error.column()),
    )
    .at_line(error.line())
}

/// Check one JSON event in a single pass without building it: an object,
/// every number within what a JSON reader can hold (serde_json, and the
/// normalize plugin, refuse `1e400`; accepting it here would turn a
/// client's mistake into a dead letter), and the fields Sluice reads of a
/// usable type.
fn check_event(raw: &str) -> Result<(), InputError> {
    if !raw.trim_start().starts_with('{') {
        let what = if serde_json::from_str::<serde::de::IgnoredAny>(raw).is_ok() {
            "expected a JSON object"
        } else {
            "invalid JSON"
        };
        return Err(InputError::bad_request("invalid_event", what));
    }
    let CheckedEvent(wrong) = serde_json::from_str(raw).map_err(|e| {
        InputError::bad_request(
            "invalid_json",
            format!("invalid JSON at column {}: {e}", e.column()),
        )
    })?;
    match wrong {
        Some((field, expected)) => {
            Err(InputError::bad_request("invalid_event", expected).at_field(field))
        }
        None => Ok(()),
    }
}

/// What a JSON value turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

/// The fields Sluice reads, and the kinds each may be. `message` may be
/// anything: normalize turns non-text into text.
const KNOWN_FIELDS: [(&str, &[Kind], &str); 5] = [
    (
        "level",
        &[Kind::String, Kind::Number, Kind::Null],
        "expected a string or a number",
    ),
    (
        "timestamp",
        &[Kind::String, Kind::Number, Kind::Null],
        "expected an RFC 3339 string or a number of (milli/micro/nano)seconds",
    ),
    ("service", &[Kind::String, Kind::Null], "expected a string"),
    (
        "project_id",
        &[Kind::String, Kind::Number, Kind::Null],
        "expected a string or a number",
    ),
    (
        "metadata",
        &[Kind::Object, Kind::Null],
        "expected an object",
    ),
];

/// A value walked to the end (numbers parsed, strings unescaped into
/// serde_json's scratch buffer), keeping only its kind.
struct Checked(Kind);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor).map(Checked)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Boolean)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }

    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::String)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Kind::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Kind::Object)
    }
}

/// A top-level event object, walked once; holds the first known field of
/// the wrong kind, with what it should have been.
struct CheckedEvent(Option<(&'static str, &'static str)>);

impl<'de> Deserialize<'de> for CheckedEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = CheckedEvent;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CheckedEvent, A::Error> {
        let mut wrong = None;
        while let Some(FieldName(known)) = map.next_key()? {
            let Checked(kind) = map.next_value()?;
            if let Some((field, kinds, expected)) = known
                && !kinds.contains(&kind)
                && wrong.is_none()
            {
                wrong = Some((field, expected));
            }
        }
        Ok(CheckedEvent(wrong))
    }
}

/// An object key: one of [`KNOWN_FIELDS`] or another (read without
/// allocating).
struct FieldName(Option<(&'static str, &'static [Kind], &'static str)>);

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FieldNameVisitor)
    }
}

struct FieldNameVisitor;

impl<'de> Visitor<'de> for FieldNameVisitor {
    type Value = FieldName;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, name: &str) -> Result<FieldName, E> {
        Ok(FieldName(
            KNOWN_FIELDS
                .iter()
                .find(|(known, _, _)| *known == name)
                .copied(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_body_bytes: 1 << 20,
        max_events: 100,
        max_line_bytes: 1024,
    };

    fn ok(ct: &str, body: &str) -> Vec<String> {
        decode(Some(ct), None, body.as_bytes(), &LIMITS).unwrap()
    }

    fn err(ct: Option<&str>, body: &str) -> InputError {
        decode(ct, None, body.as_bytes(), &LIMITS).unwrap_err()
    }

    #[test]
    fn every_layout_yields_one_payload_per_event() {
        let seed = r#"{"project_id":"123","service":"auth","level":"INFO","message":"hi","timestamp":"2025-02-01T12:34:56Z","metadata":{"user_ip":"1.2.3.4"}}"#;
        assert_eq!(ok("application/json", seed), vec![seed]);
        assert_eq!(
            ok(
                "application/json; charset=utf-8",
                &format!("[{seed}, {{\"message\":\"b\"}}]")
            ),
            vec![seed.to_owned(), r#"{"message":"b"}"#.to_owned()]
        );
        assert_eq!(
            ok("application/json", "{\n  \"message\": \"pretty\"\n}\n").len(),
            1
        );
        assert_eq!(
            ok(
                "application/json",
                "{\"message\":\"a\"}\n{\"message\":\"b\"}\n"
            )
            .len(),
            2
        );
        assert_eq!(
            ok(
                "application/x-ndjson",
                "{\"message\":\"a\"}\r\n\n{\"message\":\"b\"}"
            )
            .len(),
            2
        );
        assert_eq!(
            ok("text/plain", "line one\n\nline two\r\n"),
            vec!["line one", "line two"]
        );
    }

    #[test]
    fn gzip_is_inflated_and_bombs_stop_at_the_limit() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"{\"message\":\"zipped\"}\n").unwrap();
        let body = encoder.finish().unwrap();
        assert_eq!(
            decode(Some("application/x-ndjson"), Some("gzip"), &body, &LIMITS).unwrap(),
            vec![r#"{"message":"zipped"}"#]
        );

        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'a'; 4 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        let error = decode(Some("text/plain"), Some("gzip"), &bomb, &LIMITS).unwrap_err();
        assert_eq!(
            (error.status, error.code),
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
        );

        let error = decode(Some("text/plain"), Some("gzip"), b"not gzip", &LIMITS).unwrap_err();
        assert_eq!(
            (error.status, error.code),
            (StatusCode::BAD_REQUEST, "invalid_gzip")
        );
        let error = decode(Some("text/plain"), Some("br"), b"x", &LIMITS).unwrap_err();
        assert_eq!(
            (error.status, error.code),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding")
        );
    }

    #[test]
    fn bad_events_are_named_by_line_and_field() {
        let error = err(
            Some("application/x-ndjson"),
            "{\"message\":\"a\"}\n{\"message\": \"b\", \"timestamp\": true}\n",
        );
        assert_eq!(
            (error.code, error.line, error.field.as_deref()),
            ("invalid_event", Some(2), Some("timestamp"))
        );
        let error = err(
            Some("application/x-ndjson"),
            "{\"message\":\"a\"}\n\n{\"message\": \"b\"\n",
        );
        assert_eq!((error.code, error.line), ("invalid_json", Some(3)));
        let error = err(Some("application/json"), "[{\"message\":\"a\"}, 5]");
        assert_eq!((error.code, error.line), ("invalid_event", Some(2)));
        let error = err(Some("application/json"), "[{\"message\":\"a\"}, ");
        assert_eq!(error.code, "invalid_json");
        let error = err(Some("application/json"), "{\"metadata\": [1]}");
        assert_eq!(error.field.as_deref(), Some("metadata"));
        let error = err(Some("application/json"), "{\"service\": 5}");
        assert_eq!(error.field.as_deref(), Some("service"));
    }

    /// Found by the `ingest_body` fuzz target: a number no JSON reader can
    /// hold was accepted (202), then refused by normalize as malformed, so
    /// the client's mistake surfaced only as a dead letter.
    #[test]
    fn numbers_out_of_range_are_refused_at_ingest_anywhere_in_the_event() {
        for body in [
            "{\n  \"mzessg@ea\":3000000e00000000100000}",
            "{\"message\": \"a\", \"metadata\": {\"n\": [1, -1e400]}}",
            "{\"level\": 1e999}",
        ] {
            let error = err(Some("application/json"), body);
            assert_eq!(error.code, "invalid_json", "{body}");
            assert!(error.message.contains("number out of range"), "{error:?}");
        }
        let error = err(
            Some("application/x-ndjson"),
            "{\"message\":\"a\"}\n{\"n\": 1e400}\n",
        );
        assert_eq!((error.code, error.line), ("invalid_json", Some(2)));
        // Large but representable numbers stay accepted, as JSON readers take them.
        assert_eq!(
            ok(
                "application/json",
                "{\"n\": 1e308, \"big\": 123456789012345678901234567890}"
            )
            .len(),
            1
        );
    }

    #[test]
    fn limits_and_content_types_have_their_own_errors() {
        let error = err(Some("application/xml"), "<a/>");
        assert_eq!(
            (error.status, error.code),
            (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_type"
            )
        );
        let error = err(None, "x");
        assert_eq!(error.code, "missing_content_type");
        let many = "x\n".repeat(101);
        assert_eq!(err(Some("text/plain"), &many).code, "too_many_events");
        let long = format!("ok\n{}\n", "y".repeat(1025));
        let error = err(Some("text/plain"), &long);
        assert_eq!((error.code, error.line), ("event_too_large", Some(2)));
        assert_eq!(err(Some("text/plain"), "\n\n").code, "empty");
        let error = decode(Some("text/plain"), None, b"ok\n\xff\xfe\n", &LIMITS).unwrap_err();
        assert_eq!((error.code, error.line), ("invalid_utf8", Some(2)));
        let big = "z".repeat((1 << 20) + 1);
        assert_eq!(err(Some("text/plain"), &big).code, "body_too_large");
    }
}
