//! The event's public JSON shape, shared by the query API, dead letters and
//! `sluice plugin test`:
//!
//! ```json
//! {"id":"…","tenant":"acme","project":"123","received":"2025-02-01T12:34:56Z",
//!  "timestamp":"2025-02-01T12:34:56.123Z","service":"api","level":"error",
//!  "message":"…","attributes":{"metadata.user_ip":"1.2.3.4","n":5},
//!  "raw":null,"fingerprint":"00000000deadbeef","template":"…"}
//! ```
//!
//! Times are RFC 3339 in UTC (integers of nanoseconds are accepted on
//! input), fingerprints 16 hex digits (a u64 does not survive JavaScript).

use serde_json::{Map, Value as Json, json};

use crate::runtime::{Event, Level, Value};

/// Why a JSON document is not an event.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("field `{field}`: {message}")]
pub struct EventJsonError {
    /// The offending field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn bad(field: &str, message: impl Into<String>) -> EventJsonError {
    EventJsonError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Render an event in its public JSON shape.
pub fn to_json(event: &Event) -> Json {
    let attributes: Map<String, Json> = event
        .attributes
        .iter()
        .map(|a| (a.key.clone(), value_to_json(&a.value)))
        .collect();
    json!({
        "id": event.id,
        "tenant": event.tenant,
        "project": event.project,
        "received": format_ns(event.received_ns),
        "timestamp": event.timestamp_ns.map(format_ns),
        "service": event.service,
        "level": event.level.map(level_name),
        "message": event.message,
        "attributes": attributes,
        "raw": event.raw,
        "fingerprint": event.fingerprint.map(format_fingerprint),
        "template": event.template,
    })
}

/// What of `event` a store with a column for every other field keeps as
/// JSON beside them: typed attributes, the raw payload, and `null` for a
/// missing timestamp or service (columns hold those as the received time
/// and `""` or NULL). [`apply_json`] lays it back over the event the
/// columns make. Writing every field twice made rows about twice as large,
/// and stores cost by the byte.
pub fn rest_json(event: &Event) -> String {
    let mut rest = Map::new();
    if !event.attributes.is_empty() {
        let attributes = event
            .attributes
            .iter()
            .map(|a| (a.key.clone(), value_to_json(&a.value)))
            .collect();
        rest.insert("attributes".into(), Json::Object(attributes));
    }
    if let Some(raw) = &event.raw {
        rest.insert("raw".into(), raw.clone().into());
    }
    if event.timestamp_ns.is_none() {
        rest.insert("timestamp".into(), Json::Null);
    }
    if event.service.is_none() {
        rest.insert("service".into(), Json::Null);
    }
    Json::Object(rest).to_string()
}

/// Read an event from its public JSON shape; every field is optional.
pub fn from_json(json: &Json) -> Result<Event, EventJsonError> {
    let mut event = crate::runtime::pack::blank_event();
    apply_json(json, &mut event)?;
    Ok(event)
}

/// Set the fields `json` names on `event`, leaving the others as they are;
/// `null` clears an optional field (`"service": null`: no service). A store
/// that keeps most fields in columns keeps only the rest as JSON and lays
/// it over the event its columns make.
pub fn apply_json(json: &Json, event: &mut Event) -> Result<(), EventJsonError> {
    let object = json
        .as_object()
        .ok_or_else(|| bad("(event)", "expected a JSON object"))?;
    for (key, value) in object {
        if value.is_null() {
            match key.as_str() {
                "project" => event.project = None,
                "timestamp" => event.timestamp_ns = None,
                "service" => event.service = None,
                "level" => event.level = None,
                "attributes" => event.attributes.clear(),
                "raw" => event.raw = None,
                "fingerprint" => event.fingerprint = None,
                "template" => event.template = None,
                _ => {}
            }
            continue;
        }
        match key.as_str() {
            "id" => event.id = string(key, value)?,
            "tenant" => event.tenant = string(key, value)?,
            "project" => event.project = Some(string(key, value)?),
            "received" => event.received_ns = time(key, value)?,
            "timestamp" => event.timestamp_ns = Some(time(key, value)?),
            "service" => event.service = Some(string(key, value)?),
            "level" => {
                let name = string(key, value)?;
                event.level = Some(parse_level(&name).ok_or_else(|| {
                    bad(
                        key,
                        format!(
                            "unknown level {name:?}; use trace, debug, info, warn, error or fatal"
                        ),
                    )
                })?);
            }
            "message" => event.message = string(key, value)?,
            "raw" => event.raw = Some(string(key, value)?),
            "template" => event.template = Some(string(key, value)?),
            "fingerprint" => {
                let text = string(key, value)?;
                event.fingerprint = Some(
                    u64::from_str_radix(&text, 16)
                        .map_err(|_| bad(key, "expected 16 hex digits"))?,
                );
            }
            "attributes" => {
                let map = value
                    .as_object()
                    .ok_or_else(|| bad(key, "expected an object"))?;
                event.attributes = map
                    .iter()
                    .map(|(k, v)| crate::runtime::bindings::Attribute {
                        key: k.clone(),
                        value: json_to_value(v),
                    })
                    .collect();
            }
            other => return Err(bad(other, "unknown field")),
        }
    }
    Ok(())
}

/// An attribute value as JSON: structured values are parsed back.
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(n) => json!(n),
        Value::Float(f) => json!(f),
        Value::Text(s) => Json::String(s.clone()),
        Value::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone())),
    }
}

/// A JSON value as an attribute value: objects and arrays travel as JSON text.
pub fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Text(s.clone()),
        structured => Value::Json(structured.to_string()),
    }
}

/// Lower-case level name.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
        Level::Fatal => "fatal",
    }
}

/// Parse a lower- or upper-case level name.
pub fn parse_level(name: &str) -> Option<Level> {
    Some(match name.to_ascii_lowercase().as_str() {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" | "warning" => Level::Warn,
        "error" => Level::Error,
        "fatal" => Level::Fatal,
        _ => return None,
    })
}

/// A fingerprint as 16 hex digits.
pub fn format_fingerprint(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

/// Nanoseconds since the epoch as RFC 3339 UTC.
pub fn format_ns(ns: i64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(ns)) {
        Ok(ts) => ts.to_string(),
        Err(_) => ns.to_string(),
    }
}

/// RFC 3339 text (or an integer of nanoseconds) as nanoseconds since the epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    i64::try_from(ts.as_nanosecond()).ok()
}

fn string(field: &str, value: &Json) -> Result<String, EventJsonError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(field, "expected a string"))
}

fn time(field: &str, value: &Json) -> Result<i64, EventJsonError> {
    if let Some(ns) = value.as_i64() {
        return Ok(ns);
    }
    let text = value
        .as_str()
        .ok_or_else(|| bad(field, "expected an RFC 3339 time or integer nanoseconds"))?;
    parse_time(text).ok_or_else(|| bad(field, format!("cannot parse {text:?} as an RFC 3339 time")))
}

/// Render an alert in its public JSON shape.
pub fn alert_to_json(alert: &crate::runtime::Alert) -> Json {
    let attributes: Map<String, Json> = alert
        .attributes
        .iter()
        .map(|a| (a.key.clone(), value_to_json(&a.value)))
        .collect();
    json!({
        "rule": alert.rule,
        "severity": severity_name(alert.severity),
        "title": alert.title,
        "key": alert.key,
        "fingerprint": alert.fingerprint.map(format_fingerprint),
        "service": alert.service,
        "window_count": alert.window_count,
        "window_seconds": alert.window_ns as f64 / 1e9,
        "baseline": alert.baseline,
        "sample_event_ids": alert.sample_event_ids,
        "attributes": attributes,
    })
}

/// Lower-case severity name.
pub fn severity_name(severity: crate::runtime::bindings::Severity) -> &'static str {
    use crate::runtime::bindings::Severity;
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Critical => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field() {
        let input = json!({
            "id": "e1", "tenant": "acme", "project": "123",
            "received": "2025-02-01T12:34:56Z", "timestamp": "2025-02-01T12:34:56.123456789Z",
            "service": "api", "level": "error", "message": "boom",
            "attributes": {"metadata.user_ip": "1.2.3.4", "n": 5, "ok": true, "list": [1, 2]},
            "raw": "r", "fingerprint": "00000000deadbeef", "template": "t <*>"
        });
        let event = from_json(&input).unwrap();
        assert_eq!(event.fingerprint, Some(0xdead_beef));
        assert_eq!(event.timestamp_ns, Some(1_738_413_296_123_456_789));
        assert_eq!(to_json(&event), input);
    }

    #[test]
    fn applied_json_sets_what_it_names_and_null_clears() {
        let mut event = from_json(&json!({
            "id": "e1", "service": "api", "level": "info", "message": "kept",
            "timestamp": "2025-02-01T12:34:56Z", "raw": "r"
        }))
        .unwrap();
        apply_json(
            &json!({"service": null, "timestamp": null, "attributes": {"n": 5}}),
            &mut event,
        )
        .unwrap();
        assert_eq!(event.service, None);
        assert_eq!(event.timestamp_ns, None);
        assert_eq!(event.attributes.len(), 1);
        assert_eq!(event.level, Some(Level::Info), "not named, kept");
        assert_eq!(event.message, "kept");
        assert_eq!(event.raw.as_deref(), Some("r"));
        assert!(apply_json(&json!({"colour": "red"}), &mut event).is_err());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            from_json(&json!({"level": "loud"})).unwrap_err().field,
            "level"
        );
        assert_eq!(
            from_json(&json!({"colour": "red"})).unwrap_err().field,
            "colour"
        );
        assert_eq!(
            from_json(&json!({"timestamp": "yesterday"}))
                .unwrap_err()
                .field,
            "timestamp"
        );
    }
}
