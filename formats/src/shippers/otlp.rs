//! OTLP/HTTP logs: `POST /v1/otlp/v1/logs`, so an OpenTelemetry exporter
//! configured with the endpoint base `http://host/v1/otlp` (it appends
//! `/v1/logs`) talks to Sluice unchanged.
//!
//! In: an `ExportLogsServiceRequest`, protobuf (`application/x-protobuf`)
//! or OTLP/JSON (`application/json`), optionally gzip. Types are the
//! official ones from `opentelemetry-proto`. Out: one normalize-ready JSON
//! payload per log record (see [`super::record`]) and an
//! `ExportLogsServiceResponse` in the request's encoding.
//!
//! Mapping: resource `service.name` → service; severity number (or, without
//! one, severity text) → level; body → message (non-text bodies as JSON
//! text); trace and span ids → `trace_id`/`span_id` in hex; resource, scope
//! and record attributes → attributes (record wins over scope over
//! resource), so an attribute `project_id`/`project` sets the project as in
//! any JSON event. A record too long for `max_line_bytes` is rejected alone
//! and counted in `partial_success`, as OTLP intends; every other limit
//! rejects the request whole.

use http::StatusCode;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use serde_json::Value;

use super::record::{Record, hex_id};
use crate::body::{self as decode, DecodeLimits};
use crate::error::InputError;

/// Length of a valid trace id; others mean "no trace" (OTLP).
const TRACE_ID_BYTES: usize = 16;

/// Length of a valid span id; others mean "no span" (OTLP).
const SPAN_ID_BYTES: usize = 8;

/// The two OTLP/HTTP encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json` (OTLP/JSON: camelCase, hex ids, 64-bit integers
    /// as strings or numbers).
    Json,
}

impl Encoding {
    /// The encoding named by a `Content-Type`.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, InputError> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            _ => Err(InputError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_type",
                format!(
                    "OTLP/HTTP takes Content-Type application/x-protobuf or application/json, not `{essence}`"
                ),
            )),
        }
    }

    /// The `Content-Type` of this encoding, for the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// What a request turned into.
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    /// One payload per accepted record.
    pub payloads: Vec<String>,
    /// Records refused alone (too long).
    pub rejected: usize,
}

/// Parse the body in its encoding.
pub fn decode_request(
    encoding: Encoding,
    body: &[u8],
) -> Result<ExportLogsServiceRequest, InputError> {
    match encoding {
        Encoding::Protobuf => ExportLogsServiceRequest::decode(body).map_err(|e| {
            InputError::bad_request(
                "invalid_protobuf",
                format!("the body is not an OTLP ExportLogsServiceRequest: {e}"),
            )
        }),
        Encoding::Json => {
            let mut value: Value = serde_json::from_slice(body).map_err(|e| {
                InputError::bad_request(
                    "invalid_json",
                    format!("invalid JSON at column {}: {e}", e.column()),
                )
                .at_line(e.line())
            })?;
            numbers_to_strings(&mut value);
            serde_path_to_error::deserialize(value).map_err(|e| {
                InputError::bad_request(
                    "invalid_otlp",
                    format!("not an OTLP/JSON ExportLogsServiceRequest: {}", e.inner()),
                )
                .at_field(e.path().to_string())
            })
        }
    }
}

/// OTLP/JSON allows the 64-bit times as numbers or strings; the generated
/// serde code reads strings only, so numbers are written out first.
fn numbers_to_strings(request: &mut Value) {
    let records = request
        .get_mut("resourceLogs")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get_mut("scopeLogs").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(|s| s.get_mut("logRecords").and_then(Value::as_array_mut))
        .flatten();
    for record in records {
        for key in ["timeUnixNano", "observedTimeUnixNano"] {
            if let Some(field) = record.get_mut(key)
                && let Value::Number(n) = field
            {
                *field = Value::String(n.to_string());
            }
        }
    }
}

/// Every record of the request as a payload, within the limits.
pub fn payloads(
    request: &ExportLogsServiceRequest,
    limits: &DecodeLimits,
) -> Result<Decoded, InputError> {
    let total: usize = request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    if total > limits.max_events {
        return Err(decode::too_many(limits.max_events));
    }
    let mut decoded = Decoded::default();
    for resource_logs in &request.resource_logs {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        for scope_logs in &resource_logs.scope_logs {
            for record in &scope_logs.log_records {
                let mut out = Record::new();
                for kv in resource {
                    if kv.key == "service.name" {
                        if let Some(any_value::Value::StringValue(name)) =
                            kv.value.as_ref().and_then(|v| v.value.as_ref())
                        {
                            out.set("service", name.clone());
                        }
                    } else {
                        out.attribute(kv.key.clone(), key_value(kv));
                    }
                }
                if let Some(scope) = &scope_logs.scope {
                    if !scope.name.is_empty() {
                        out.attribute("otel.scope.name", Value::from(scope.name.clone()));
                    }
                    if !scope.version.is_empty() {
                        out.attribute("otel.scope.version", Value::from(scope.version.clone()));
                    }
                    for kv in &scope.attributes {
                        out.attribute(kv.key.clone(), key_value(kv));
                    }
                }
                log_record(record, &mut out);
                let payload = out.into_payload();
                if payload.len() > limits.max_line_bytes {
                    decoded.rejected += 1;
                } else {
                    decoded.payloads.push(payload);
                }
            }
        }
    }
    Ok(decoded)
}

/// The record's own fields and attributes.
fn log_record(record: &LogRecord, out: &mut Record) {
    let time = if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    out.timestamp_ns(i128::from(time));
    match severity_level(record.severity_number) {
        Some(level) => out.set("level", level),
        None => out.set("level", record.severity_text.clone()),
    };
    if let Some(body) = &record.body {
        if let Some(any_value::Value::StringValue(text)) = &body.value {
            out.set("message", text.clone());
        } else if body.value.is_some() {
            out.set("message", any_to_json(body).to_string());
        }
    }
    out.set("trace_id", hex_id(&record.trace_id, TRACE_ID_BYTES));
    out.set("span_id", hex_id(&record.span_id, SPAN_ID_BYTES));
    if !record.event_name.is_empty() {
        out.attribute("event.name", Value::from(record.event_name.clone()));
    }
    for kv in &record.attributes {
        out.attribute(kv.key.clone(), key_value(kv));
    }
}

/// OTLP severity numbers in ranges of four (TRACE 1–4 … FATAL 21–24) on
/// Sluice's scale; 0 (unspecified) and out-of-range numbers are `None`.
pub fn severity_level(number: i32) -> Option<&'static str> {
    Some(match number {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => return None,
    })
}

fn key_value(kv: &KeyValue) -> Value {
    kv.value.as_ref().map_or(Value::Null, any_to_json)
}

/// An OTLP value as JSON: bytes as base64, maps as objects.
fn any_to_json(value: &AnyValue) -> Value {
    use any_value::Value as V;
    match &value.value {
        None => Value::Null,
        Some(V::StringValue(s)) => Value::from(s.clone()),
        Some(V::BoolValue(b)) => Value::from(*b),
        Some(V::IntValue(i)) => Value::from(*i),
        Some(V::DoubleValue(d)) => {
            serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        Some(V::ArrayValue(array)) => Value::Array(array.values.iter().map(any_to_json).collect()),
        Some(V::KvlistValue(list)) => Value::Object(
            list.values
                .iter()
                .map(|kv| (kv.key.clone(), key_value(kv)))
                .collect(),
        ),
        Some(V::BytesValue(bytes)) => {
            use base64::Engine;
            Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

#[cfg(test)]
#[path = "otlp_tests.rs"]
mod tests;
