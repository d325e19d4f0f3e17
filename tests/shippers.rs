//! The shippers' protocols end to end: real client libraries (the
//! OpenTelemetry Python SDK, two Loki client libraries, the official
//! Elasticsearch client) push to a real embedded Sluice through their own
//! code paths, and what they sent comes back normalised from `/v1/logs`.
//!
//! The Python clients are installed by `scripts/services.sh up` (a venv
//! under its state directory); `cargo xtask test` passes its interpreter as
//! `SLUICE_TEST_PYTHON`. Alone: `export SLUICE_TEST_PYTHON=$(scripts/services.sh python)`
//! then `cargo test -p sluice-tests --test shippers`.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::server::TestServer;
use sluice_tests::{root, service};

const WAIT: Duration = Duration::from_secs(60);

/// Run `tests/shippers/<script>` against the server; its stdout.
async fn python(sluice: &TestServer, script: &str) -> String {
    let interpreter = service("SLUICE_TEST_PYTHON");
    let output = tokio::process::Command::new(interpreter)
        .arg(root().join("tests/shippers").join(script))
        .arg(&sluice.url)
        .arg(&sluice.key)
        .env("PYTHONWARNINGS", "ignore::DeprecationWarning")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The stored events of `service`, waiting until there are `count`.
async fn events_of(sluice: &TestServer, service: &str, count: usize) -> Vec<Value> {
    let started = std::time::Instant::now();
    loop {
        let events = sluice
            .all_logs(&sluice.key, &format!("&service={service}"))
            .await;
        if events.len() >= count || started.elapsed() > WAIT {
            assert_eq!(events.len(), count, "{service}: {events:#?}");
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn by_message<'a>(events: &'a [Value], message: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["message"] == message)
        .unwrap_or_else(|| panic!("no event `{message}` in {events:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentelemetry_sdk_logs_arrive_normalised_with_their_trace() {
    let sluice = TestServer::start().await;
    let printed = python(&sluice, "otlp_logs.py").await;
    let ids: Value = serde_json::from_str(printed.trim()).expect("ids printed");

    let events = events_of(&sluice, "checkout", 3).await;
    let error = by_message(&events, "payment declined");
    assert_eq!(error["level"], "error", "{error}");
    assert_eq!(error["project"], "shop");
    assert_eq!(error["tenant"], "dev");
    let attributes = &error["attributes"];
    assert_eq!(attributes["trace_id"], ids["trace_id"], "{error}");
    assert_eq!(attributes["span_id"], ids["span_id"]);
    assert_eq!(attributes["http.status_code"], 402);
    assert_eq!(attributes["otel.scope.name"], "shop.cart");
    assert_eq!(attributes["deployment.environment"], "test");

    let info = by_message(&events, "cart opened");
    assert_eq!(info["level"], "info");
    assert!(info["attributes"]["trace_id"].is_null(), "{info}");
    let structured = by_message(&events, r#"{"event":"slow","ms":870}"#);
    assert_eq!(structured["level"], "warn");

    let (status, page) = sluice
        .get("/v1/logs?service=checkout&level=error", &sluice.key)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(1), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_client_libraries_push_through_their_own_code() {
    let sluice = TestServer::start().await;
    python(&sluice, "loki_push.py").await;

    let billing = events_of(&sluice, "billing", 1).await;
    let overdue = by_message(&billing, "invoice 17 overdue");
    assert_eq!(overdue["level"], "warn", "{overdue}");
    assert_eq!(overdue["attributes"]["env"], "test");
    assert_eq!(overdue["attributes"]["customer"], "c-9");

    let legacy = events_of(&sluice, "legacy", 1).await;
    let failed = by_message(&legacy, "nightly export failed");
    assert_eq!(failed["level"], "error", "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_elasticsearch_client_bulk_indexes_documents() {
    let sluice = TestServer::start().await;
    let printed = python(&sluice, "elastic_bulk.py").await;
    let result: Value = serde_json::from_str(printed.trim()).expect("result printed");
    assert_eq!(result["indexed"], 3, "{result}");
    assert!(result["version"].as_str().unwrap().starts_with("8."));
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{result}");
    assert_eq!(errors[0]["delete"]["status"], 400);

    let events = events_of(&sluice, "orders", 3).await;
    let first = by_message(&events, "order 0 shipped");
    assert_eq!(first["level"], "info", "{first}");
    assert_eq!(first["attributes"]["index"], "orders-2025.02.01");
    assert!(
        first["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2025-02-01T12:00:00")
    );
}

/// OTLP/JSON (which the Python SDK does not send) and the answers' shapes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_json_is_answered_in_json_with_partial_success() {
    let sluice = TestServer::start().await;
    let long = "x".repeat(sluice.server.state.limits.max_line_bytes + 1);
    let record = |body: &str| {
        json!({"timeUnixNano": "1700000000000000000", "severityNumber": 13, "body": {"stringValue": body},
               "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"})
    };
    let body = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
        "scopeLogs": [{"logRecords": [record("kept"), record(&long)]}]
    }]});
    let (status, answer) = sluice
        .post(
            "/v1/otlp/v1/logs",
            &sluice.key,
            "application/json",
            body.to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["partialSuccess"]["rejectedLogRecords"], 1,
        "{answer}"
    );

    let events = events_of(&sluice, "json-svc", 1).await;
    assert_eq!(events[0]["level"], "warn");
    assert_eq!(
        events[0]["attributes"]["trace_id"],
        "5b8efff798038103d269b633813fc60c"
    );

    let (status, answer) = sluice
        .post(
            "/v1/otlp/v1/logs",
            &sluice.key,
            "application/json",
            "{\"resourceLogs\": 3}",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_otlp", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipper_auth_schemes_and_bad_bodies() {
    let sluice = TestServer::start().await;
    let url = |path: &str| format!("{}{path}", sluice.url);
    let loki = json!({"streams": [{"stream": {"app": "auth-test"}, "values": [["1700000000000000000", "hi"]]}]});

    let response = sluice
        .http
        .post(url("/loki/api/v1/push"))
        .basic_auth("promtail", Some(&sluice.key))
        .json(&loki)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // promtail's `tenant_id` sets X-Scope-OrgID: it may not pick another tenant.
    let response = sluice
        .http
        .post(url("/loki/api/v1/push"))
        .basic_auth("promtail", Some(&sluice.key))
        .header("x-scope-orgid", "someone-else")
        .json(&loki)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let response = sluice
        .http
        .post(url("/loki/api/v1/push"))
        .basic_auth("promtail", Some("slk_wrong_key"))
        .json(&loki)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let response = sluice
        .http
        .post(url("/_bulk"))
        .header("authorization", format!("ApiKey {}", sluice.key))
        .header("content-type", "application/x-ndjson")
        .body("{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"via api key\",\"service\":\"auth-test\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-elastic-product"], "Elasticsearch");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["errors"], false, "{answer}");
    assert_eq!(answer["items"][0]["index"]["status"], 201);
    events_of(&sluice, "auth-test", 2).await;

    let (status, answer) = sluice
        .post(
            "/loki/api/v1/push",
            &sluice.key,
            "application/x-protobuf",
            "not snappy",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_snappy", "{answer}");
    let (status, answer) = sluice
        .post(
            "/_bulk",
            &sluice.key,
            "application/x-ndjson",
            "{\"index\":{}}\n",
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["line"], 1, "{answer}");
    let (status, answer) = sluice
        .post(
            "/v1/otlp/v1/logs",
            &sluice.key,
            "application/x-protobuf",
            vec![0xffu8; 3],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_protobuf", "{answer}");
    let (status, answer) = sluice
        .post("/v1/otlp/v1/logs", &sluice.key, "text/plain", "x")
        .await;
    assert_eq!(status, 415, "{answer}");
}

/// Snappy-compressed protobuf, what promtail and Alloy send (no Python Loki
/// client library sends it), built with the generated `logproto` types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_snappy_protobuf_is_accepted_with_204() {
    use prost::Message;
    use sluice::ingest::loki::logproto::{
        EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter,
    };
    let sluice = TestServer::start().await;
    let entry = |line: &str, level: &str| EntryAdapter {
        timestamp: Some(prost_types::Timestamp {
            seconds: 1_738_411_200,
            nanos: 0,
        }),
        line: line.to_owned(),
        structured_metadata: vec![LabelPairAdapter {
            name: "detected_level".into(),
            value: level.into(),
        }],
        parsed: Vec::new(),
    };
    let request = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{service_name="promtail-svc", job="varlogs", filename="/var/log/app.log"}"#
                .into(),
            entries: vec![
                entry("GET /health 200", "info"),
                entry("db timeout", "error"),
            ],
            hash: 0,
        }],
        format: String::new(),
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap();
    let response = sluice
        .http
        .post(format!("{}/loki/api/v1/push", sluice.url))
        .basic_auth("promtail", Some(&sluice.key))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let events = events_of(&sluice, "promtail-svc", 2).await;
    let timeout = by_message(&events, "db timeout");
    assert_eq!(timeout["level"], "error", "{timeout}");
    assert_eq!(timeout["attributes"]["filename"], "/var/log/app.log");
    assert_eq!(timeout["attributes"]["job"], "varlogs");
    assert_eq!(timeout["timestamp"], "2025-02-01T12:00:00Z");
}

/// `GET /` is shared: Beats and the Elasticsearch clients (which call it
/// before anything else) get the info document with the product header,
/// whatever JSON they accept; a browser gets the dashboard.
#[tokio::test]
async fn root_is_elasticsearch_info_for_clients_and_the_dashboard_for_browsers() {
    let sluice = TestServer::start().await;
    for accept in [
        "application/json",
        "application/vnd.elasticsearch+json; compatible-with=8",
        "*/*",
    ] {
        let response = sluice
            .http
            .get(format!("{}/", sluice.url))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()["x-elastic-product"], "Elasticsearch");
        let info: Value = response.json().await.unwrap();
        assert_eq!(
            info["version"]["number"].as_str().map(|v| &v[..2]),
            Some("8."),
            "{info}"
        );
    }
    let response = sluice
        .http
        .get(format!("{}/", sluice.url))
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.headers().contains_key("content-security-policy"));
    let page = response.text().await.unwrap();
    assert!(page.contains("/dashboard/app.js"), "{page}");
    for asset in ["/dashboard/app.js", "/dashboard/app.css"] {
        let response = sluice
            .http
            .get(format!("{}{asset}", sluice.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
    }
}
