use serde_json::json;

use super::logproto::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter};
use super::*;

const LIMITS: DecodeLimits = DecodeLimits {
    max_body_bytes: 1 << 20,
    max_events: 10,
    max_line_bytes: 1024,
};

fn protobuf_body() -> Vec<u8> {
    let request = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{app="api", env="prod", level="warn", note="say \"hi\"\n"}"#.into(),
            entries: vec![EntryAdapter {
                timestamp: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 5,
                }),
                line: "disk almost full".into(),
                structured_metadata: vec![LabelPairAdapter {
                    name: "trace_id".into(),
                    value: "abc123".into(),
                }],
                parsed: Vec::new(),
            }],
            hash: 0,
        }],
        format: String::new(),
    };
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap()
}

fn parsed(payloads: &[String]) -> Vec<Value> {
    payloads
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

#[test]
fn snappy_protobuf_entries_become_payloads_with_labels_as_attributes() {
    let streams = decode_body(
        Some("application/x-protobuf"),
        None,
        &protobuf_body(),
        &LIMITS,
    )
    .unwrap();
    assert_eq!(
        parsed(&payloads(&streams, &LIMITS).unwrap()),
        vec![json!({
            "timestamp": "2023-11-14T22:13:20.000000005Z",
            "level": "warn",
            "service": "api",
            "message": "disk almost full",
            "app": "api",
            "env": "prod",
            "note": "say \"hi\"\n",
            "trace_id": "abc123",
        })]
    );
}

#[test]
fn json_current_and_legacy_shapes_decode_alike() {
    let current = json!({"streams": [{
        "stream": {"service_name": "billing", "job": "ignored-for-service"},
        "values": [
            ["1700000000000000000", "one"],
            ["1700000000000000001", "two", {"detected_level": "error"}]
        ]
    }]});
    let streams = decode_body(
        Some("application/json"),
        None,
        current.to_string().as_bytes(),
        &LIMITS,
    )
    .unwrap();
    let out = parsed(&payloads(&streams, &LIMITS).unwrap());
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["service"], "billing");
    assert_eq!(out[0]["job"], "ignored-for-service");
    assert_eq!(out[0]["timestamp"], "2023-11-14T22:13:20Z");
    assert!(out[0].get("level").is_none());
    assert_eq!(out[1]["level"], "error");
    assert_eq!(out[1]["message"], "two");

    let legacy = json!({"streams": [{
        "labels": "{job=\"cron\"}",
        "entries": [{"ts": "2023-11-14T22:13:20.5Z", "line": "tick"}]
    }]});
    let streams = decode_body(
        Some("application/json"),
        None,
        legacy.to_string().as_bytes(),
        &LIMITS,
    )
    .unwrap();
    assert_eq!(
        parsed(&payloads(&streams, &LIMITS).unwrap()),
        vec![
            json!({"timestamp": "2023-11-14T22:13:20.5Z", "service": "cron", "message": "tick", "job": "cron"})
        ]
    );
}

#[test]
fn a_json_line_is_read_as_an_event_beside_the_labels() {
    let body = json!({"streams": [{
        "stream": {"app": "shop", "level": "info"},
        "values": [["1700000000000000000", "{\"message\":\"paid\",\"level\":\"ERROR\",\"order\":{\"id\":7}}"]]
    }]});
    let streams = decode_body(
        Some("application/json"),
        None,
        body.to_string().as_bytes(),
        &LIMITS,
    )
    .unwrap();
    assert_eq!(
        parsed(&payloads(&streams, &LIMITS).unwrap()),
        vec![json!({
            "timestamp": "2023-11-14T22:13:20Z",
            "service": "shop",
            "app": "shop",
            "level": "ERROR",
            "message": "paid",
            "order": {"id": 7},
        })]
    );
}

#[test]
fn gzip_json_is_inflated() {
    use std::io::Write;
    let body = json!({"streams": [{"stream": {"app": "a"}, "values": [["1", "zipped"]]}]});
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body.to_string().as_bytes()).unwrap();
    let streams = decode_body(
        Some("application/json"),
        Some("gzip"),
        &encoder.finish().unwrap(),
        &LIMITS,
    )
    .unwrap();
    assert_eq!(streams[0].entries[0].line, "zipped");
}

#[test]
fn label_sets_parse_like_prometheus() {
    assert_eq!(parse_labels("{}").unwrap(), Vec::<(String, String)>::new());
    assert_eq!(
        parse_labels(r#" { a="1",b = "x,y}" , } "#).unwrap(),
        vec![("a".into(), "1".into()), ("b".into(), "x,y}".into())]
    );
    assert!(parse_labels("a=\"1\"").is_err());
    assert!(parse_labels("{a=1}").is_err());
    assert!(parse_labels("{a=\"1}").is_err());
    assert!(parse_labels("{a=\"1\" b=\"2\"}").is_err());
    assert!(parse_labels("{=\"1\"}").is_err());
}

#[test]
fn bad_bodies_are_4xx_naming_the_problem() {
    let error = decode_body(
        Some("application/x-protobuf"),
        None,
        b"not snappy at all",
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(
        (error.status, error.code),
        (StatusCode::BAD_REQUEST, "invalid_snappy")
    );
    let garbage = snap::raw::Encoder::new()
        .compress_vec(b"\xff\xff\xff\xff")
        .unwrap();
    let error = decode_body(Some("application/x-protobuf"), None, &garbage, &LIMITS).unwrap_err();
    assert_eq!(error.code, "invalid_protobuf");
    let bomb = snap::raw::Encoder::new()
        .compress_vec(&vec![0u8; (1 << 20) + 1])
        .unwrap();
    let error = decode_body(Some("application/x-protobuf"), None, &bomb, &LIMITS).unwrap_err();
    assert_eq!(
        (error.status, error.code),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );

    let error = decode_body(
        Some("application/json"),
        None,
        br#"{"streams": [{"values": [[1, "x"]]}]}"#,
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        ("invalid_stream", Some("streams[0].values[0]"))
    );
    let error = decode_body(
        Some("application/json"),
        None,
        br#"{"streams": 5}"#,
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        ("invalid_json", Some("streams"))
    );
    let error = decode_body(Some("text/plain"), None, b"x", &LIMITS).unwrap_err();
    assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let long = json!({"streams": [{"stream": {}, "values": [["1", "y".repeat(2000)]]}]});
    let streams = decode_body(
        Some("application/json"),
        None,
        long.to_string().as_bytes(),
        &LIMITS,
    )
    .unwrap();
    let error = payloads(&streams, &LIMITS).unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        ("event_too_large", Some("streams[0].entries[0]"))
    );
}
