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

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::api::ApiError;

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
) -> Result<Vec<String>, ApiError> {
    let layout = layout(content_type, body)?;
    let body = inflate(content_encoding, body, limits)?;
    let body = &body[..];
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = body[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        ApiError::bad_request("invalid_utf8", "the body is not valid UTF-8").at_line(line)
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
        return Err(ApiError::bad_request(
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
) -> Result<Cow<'a, [u8]>, ApiError> {
    let body = match content_encoding
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("identity") => Cow::Borrowed(body),
        Some("gzip") | Some("x-gzip") => Cow::Owned(gunzip(body, limits.max_body_bytes)?),
        Some(other) => {
            return Err(ApiError::new(
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

fn layout(content_type: Option<&str>, body: &[u8]) -> Result<Layout, ApiError> {
    let Some(content_type) = content_type else {
        return Err(ApiError::new(
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
            Err(ApiError::new(
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
pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body exceeds {limit} bytes (after decompression)"),
    )
}

/// Inflate, refusing to produce more than `limit` bytes (a gzip bomb stops
/// at the limit instead of filling memory).
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| {
        ApiError::bad_request("invalid_gzip", format!("the body is not valid gzip: {e}"))
    })?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

/// Non-empty lines with their 1-based numbers, each within the line limit.
fn lines<'a>(text: &'a str, limits: &DecodeLimits) -> Result<Vec<(usize, &'a str)>, ApiError> {
    let mut out = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > limits.max_line_bytes {
            return Err(ApiError::new(
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
pub fn too_many(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_events",
        format!("the request carries more than {limit} events; split it"),
    )
}

fn ndjson(text: &str, limits: &DecodeLimits) -> Result<Vec<String>, ApiError> {
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
fn json(text: &str, limits: &DecodeLimits) -> Result<Vec<String>, ApiError> {
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
                return Err(ApiError::new(
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
            return Err(ApiError::new(
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

fn json_error(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!("invalid JSON at column {}: {error}", error.column()),
    )
    .at_line(error.line())
}

/// The fields Sluice reads, borrowed raw; everything else is skipped.
#[derive(Deserialize)]
struct Known<'a> {
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(borrow, default)]
    level: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    service: Option<&'a RawValue>,
    #[serde(borrow, default)]
    project_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
}

/// Check one JSON event: an object whose known fields have usable types.
fn check_event(raw: &str) -> Result<(), ApiError> {
    if !raw.trim_start().starts_with('{') {
        let what = if serde_json::from_str::<&RawValue>(raw).is_ok() {
            "expected a JSON object"
        } else {
            "invalid JSON"
        };
        return Err(ApiError::bad_request("invalid_event", what));
    }
    let known: Known = serde_json::from_str(raw).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("invalid JSON at column {}: {e}", e.column()),
        )
    })?;
    let kind = |value: Option<&RawValue>| {
        value.map(|v| v.get().as_bytes().first().copied().unwrap_or(b' '))
    };
    // `message` may be anything: normalize turns non-text into text.
    let _ = known.message;
    type Check<'a> = (&'a str, Option<u8>, fn(u8) -> bool, &'a str);
    let checks: [Check; 5] = [
        (
            "level",
            kind(known.level),
            |b| b == b'"' || b == b'-' || b.is_ascii_digit() || b == b'n',
            "expected a string or a number",
        ),
        (
            "timestamp",
            kind(known.timestamp),
            |b| b == b'"' || b == b'-' || b.is_ascii_digit() || b == b'n',
            "expected an RFC 3339 string or a number of (milli/micro/nano)seconds",
        ),
        (
            "service",
            kind(known.service),
            |b| b == b'"' || b == b'n',
            "expected a string",
        ),
        (
            "project_id",
            kind(known.project_id),
            |b| b == b'"' || b == b'-' || b.is_ascii_digit() || b == b'n',
            "expected a string or a number",
        ),
        (
            "metadata",
            kind(known.metadata),
            |b| b == b'{' || b == b'n',
            "expected an object",
        ),
    ];
    for (field, first, ok, expected) in checks {
        if let Some(first) = first
            && !ok(first)
        {
            return Err(ApiError::bad_request("invalid_event", expected).at_field(field));
        }
    }
    Ok(())
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

    fn err(ct: Option<&str>, body: &str) -> ApiError {
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
