//! Write the seed corpora under `fuzz/seeds/<target>/` from real inputs:
//! request bodies of every layout and shipper protocol, the repository's
//! pipeline files, and
//! packed results a plugin could return.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from the
//! repository root); the files are committed.

use std::path::Path;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use sluice_formats::shippers::loki::logproto::{
    EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter,
};
use sluice_fuzz::ingest_body::{self, Encoding};
use sluice_fuzz::shipper_body::{self, Protocol, Wrapping};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = root.join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = seeds.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    let event = r#"{"project_id":"123","service":"auth","level":"INFO","message":"hi","timestamp":"2025-02-01T12:34:56Z","metadata":{"user_ip":"1.2.3.4"}}"#;
    let bodies: [(&str, usize, String); 5] = [
        ("json_object", 0, event.to_owned()),
        ("json_array", 0, format!("[{event},{event}]")),
        ("ndjson", 1, format!("{event}\n{event}\r\n\n")),
        ("text", 2, "first line\nsecond line\n".to_owned()),
        (
            "json_pretty",
            3,
            "{\n  \"message\": \"x\",\n  \"level\": 3\n}".to_owned(),
        ),
    ];
    for (name, content_type, body) in &bodies {
        for (suffix, encoding) in [("", Encoding::None), ("_gzip", Encoding::Gzip)] {
            let input = ingest_body::input(*content_type, encoding, body.as_bytes());
            write("ingest_body", &format!("{name}{suffix}"), &input)?;
        }
    }

    let pipelines = root.join("../pipelines");
    for entry in std::fs::read_dir(&pipelines)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            write(
                "pipeline_file",
                &name.unwrap_or_default(),
                &std::fs::read(&path)?,
            )?;
        }
    }

    let otlp = otlp_request();
    let loki = loki_request().encode_to_vec();
    let shippers: [(&str, Protocol, Vec<u8>); 7] = [
        ("otlp_protobuf", Protocol::OtlpProtobuf, otlp.encode_to_vec()),
        (
            "otlp_json",
            Protocol::OtlpJson,
            serde_json::to_vec(&otlp).unwrap_or_default(),
        ),
        ("loki_protobuf", Protocol::LokiProtobuf, loki),
        (
            "loki_json",
            Protocol::LokiJson,
            br#"{"streams":[{"stream":{"app":"api","level":"warn"},"values":[["1700000000000000005","disk almost full",{"trace_id":"abc"}],["1700000000000000006","{\"message\":\"x\",\"n\":1}"]]}]}"#.to_vec(),
        ),
        (
            "loki_json_legacy",
            Protocol::LokiJson,
            br#"{"streams":[{"labels":"{app=\"api\", note=\"say \\\"hi\\\"\"}","entries":[{"ts":"2024-01-01T00:00:00Z","line":"hello"}]}]}"#.to_vec(),
        ),
        (
            "bulk",
            Protocol::Bulk,
            b"{\"index\":{\"_index\":\"logs\",\"_id\":\"a1\"}}\n{\"message\":\"hi\",\"log\":{\"level\":\"warn\"}}\n{\"create\":{}}\n{\"message\":\"x\"}\n{\"delete\":{\"_id\":\"z\"}}\n".to_vec(),
        ),
        (
            "bulk_index",
            Protocol::BulkIndex,
            b"{\"index\":{}}\n{\"message\":\"hi\"}\n{\"index\":{}}\nnot json\n".to_vec(),
        ),
    ];
    for (name, protocol, body) in &shippers {
        for (suffix, wrapping) in [("", Wrapping::Plain), ("_gzip", Wrapping::Gzip)] {
            let input = shipper_body::input(*protocol, wrapping, body);
            write("shipper_body", &format!("{name}{suffix}"), &input)?;
        }
    }

    for (index, seed) in sluice_fuzz::plugin_output::seeds().iter().enumerate() {
        write("plugin_output", &format!("result_{index}"), seed)?;
    }
    Ok(())
}

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

fn otlp_request() -> ExportLogsServiceRequest {
    let kv = |key: &str, value| KeyValue {
        key: key.into(),
        value,
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", text("checkout")), kv("host", text("h1"))],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    LogRecord {
                        time_unix_nano: 1_700_000_000_000_000_000,
                        severity_number: 17,
                        severity_text: "ERROR".into(),
                        body: text("payment failed"),
                        attributes: vec![kv(
                            "n",
                            Some(AnyValue {
                                value: Some(any_value::Value::IntValue(-3)),
                            }),
                        )],
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        ..Default::default()
                    },
                    LogRecord {
                        observed_time_unix_nano: 5,
                        body: Some(AnyValue {
                            value: Some(any_value::Value::DoubleValue(0.5)),
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn loki_request() -> PushRequest {
    PushRequest {
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
    }
}
