use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::json;

use super::*;

const LIMITS: DecodeLimits = DecodeLimits {
    max_body_bytes: 1 << 20,
    max_events: 10,
    max_line_bytes: 2048,
};

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.to_owned())),
    })
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value,
    }
}

fn request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", text("checkout")),
                    kv("project_id", text("p-7")),
                    kv("host.name", text("web-1")),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "shop.cart".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn error_record() -> LogRecord {
    LogRecord {
        time_unix_nano: 1_700_000_000_000_000_001,
        severity_number: 17,
        severity_text: "ERROR".into(),
        body: text("payment declined"),
        attributes: vec![
            kv(
                "http.status_code",
                Some(AnyValue {
                    value: Some(any_value::Value::IntValue(402)),
                }),
            ),
            kv("host.name", text("overridden by the record")),
        ],
        trace_id: vec![
            0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
            0x47, 0x36,
        ],
        span_id: vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
        ..Default::default()
    }
}

fn parsed(decoded: &Decoded) -> Vec<Value> {
    decoded
        .payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

#[test]
fn protobuf_records_become_normalize_ready_payloads() {
    let body = request(vec![error_record()]).encode_to_vec();
    let request = decode_request(Encoding::Protobuf, &body).unwrap();
    let decoded = payloads(&request, &LIMITS).unwrap();
    assert_eq!(decoded.rejected, 0);
    assert_eq!(
        parsed(&decoded),
        vec![json!({
            "service": "checkout",
            "timestamp": "2023-11-14T22:13:20.000000001Z",
            "level": "error",
            "message": "payment declined",
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "span_id": "00f067aa0ba902b7",
            "project_id": "p-7",
            "host.name": "overridden by the record",
            "otel.scope.name": "shop.cart",
            "http.status_code": 402,
        })]
    );
}

#[test]
fn otlp_json_from_the_crates_serde_decodes_to_the_same_payloads() {
    let original = request(vec![error_record()]);
    let body = serde_json::to_vec(&original).unwrap();
    let decoded = decode_request(Encoding::Json, &body).unwrap();
    assert_eq!(decoded, original);
}

#[test]
fn otlp_json_by_hand_takes_numbers_for_times_and_structured_bodies() {
    let body = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "timeUnixNano": 1_700_000_000_000_000_000u64,
        "severityText": "Warning",
        "body": {"kvlistValue": {"values": [{"key": "order", "value": {"intValue": "42"}}]}},
        "traceId": "",
        "attributes": [{"key": "message", "value": {"stringValue": "shadowed"}}]
    }]}]}]});
    let request = decode_request(Encoding::Json, body.to_string().as_bytes()).unwrap();
    let decoded = payloads(&request, &LIMITS).unwrap();
    assert_eq!(
        parsed(&decoded),
        vec![json!({
            "timestamp": "2023-11-14T22:13:20Z",
            "level": "Warning",
            "message": "{\"order\":42}",
            "attributes.message": "shadowed",
        })]
    );
}

#[test]
fn a_record_over_the_line_limit_is_rejected_alone() {
    let mut long = error_record();
    long.body = text(&"x".repeat(LIMITS.max_line_bytes));
    let decoded = payloads(&request(vec![long, error_record()]), &LIMITS).unwrap();
    assert_eq!((decoded.payloads.len(), decoded.rejected), (1, 1));

    let many = request(vec![error_record(); LIMITS.max_events + 1]);
    assert_eq!(
        payloads(&many, &LIMITS).unwrap_err().code,
        "too_many_events"
    );
}

#[test]
fn bad_bodies_are_4xx_naming_the_problem() {
    let error = decode_request(Encoding::Protobuf, b"\xff\xff\xff").unwrap_err();
    assert_eq!(
        (error.status, error.code),
        (StatusCode::BAD_REQUEST, "invalid_protobuf")
    );
    let error = decode_request(Encoding::Json, b"{\"resourceLogs\": [").unwrap_err();
    assert_eq!(error.code, "invalid_json");
    let error = decode_request(
        Encoding::Json,
        br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}"#,
    )
    .unwrap_err();
    assert_eq!(error.code, "invalid_otlp");
    assert_eq!(
        error.field.as_deref(),
        Some("resourceLogs[0].scopeLogs[0].logRecords[0].traceId")
    );
    let error = Encoding::from_content_type(Some("text/plain")).unwrap_err();
    assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        Encoding::from_content_type(Some("application/json; charset=utf-8")).unwrap(),
        Encoding::Json
    );
}

#[test]
fn severity_numbers_map_in_ranges_of_four() {
    assert_eq!(severity_level(0), None);
    assert_eq!(severity_level(1), Some("trace"));
    assert_eq!(severity_level(9), Some("info"));
    assert_eq!(severity_level(13), Some("warn"));
    assert_eq!(severity_level(24), Some("fatal"));
    assert_eq!(severity_level(25), None);
}
