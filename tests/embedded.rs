//! The embedded default, end to end over real HTTP: real plugins, real
//! SQLite, the default pipeline. What a newcomer's first hour touches.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::server::TestServer;

const WAIT: Duration = Duration::from_secs(60);

fn seed(i: usize, level: &str, message: &str) -> String {
    json!({
        "project_id": "123",
        "service": if i.is_multiple_of(2) { "auth-service" } else { "payment-api" },
        "level": level,
        "message": message,
        "timestamp": format!("2025-02-01T12:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        "metadata": {"user_ip": format!("10.0.{}.{}", i % 250, (i * 7) % 250), "trace_id": format!("4bf92f35-{i:04}")}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_events_come_back_normalised_redacted_and_fingerprinted() {
    let sluice = TestServer::start().await;
    let body: String = (0..40)
        .map(|i| {
            seed(
                i,
                "INFO",
                &format!("User alice.{i}@example.com logged in from 192.168.1.{i}"),
            ) + "\n"
        })
        .collect();
    let (status, answer) = sluice
        .post("/v1/logs", &sluice.key, "application/x-ndjson", body)
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 40);
    assert_eq!(answer["ids"].as_array().map(Vec::len), Some(40));

    let events = sluice.wait_for_logs(&sluice.key, 40, WAIT).await;
    assert_eq!(events.len(), 40);
    let fingerprints: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| e["fingerprint"].as_str())
        .collect();
    assert_eq!(
        fingerprints.len(),
        1,
        "one print statement, one fingerprint: {fingerprints:?}"
    );
    for event in &events {
        let message = event["message"].as_str().unwrap();
        assert!(
            !message.contains("@example.com") && !message.contains("192.168."),
            "not redacted: {message}"
        );
        assert!(message.contains("[EMAIL]"), "{message}");
        assert_eq!(event["level"], "info");
        assert_eq!(event["project"], "123");
        assert!(event["service"] == "auth-service" || event["service"] == "payment-api");
        assert!(
            event["timestamp"]
                .as_str()
                .unwrap()
                .starts_with("2025-02-01T12:")
        );
        // Redaction ran first, so the variable parts are already labels.
        assert_eq!(
            event["template"], "User [EMAIL] logged in from [IPV4]",
            "{event}"
        );
        assert_eq!(event["tenant"], "dev");
        assert!(event["raw"].is_null());
        let ip = event["attributes"]["metadata.user_ip"]
            .as_str()
            .unwrap_or_default();
        assert!(!ip.starts_with("10.0."), "attribute not redacted: {ip}");
        assert!(event["pipeline_version"].as_u64().unwrap() >= 1);
    }
    let id = events[0]["id"].as_str().unwrap();
    let (status, one) = sluice.get(&format!("/v1/logs/{id}"), &sluice.key).await;
    assert_eq!((status, one["id"].as_str()), (200, Some(id)));

    let fp = events[0]["fingerprint"].as_str().unwrap();
    assert_eq!(
        sluice
            .all_logs(&sluice.key, &format!("&fingerprint={fp}"))
            .await
            .len(),
        40
    );
    assert_eq!(
        sluice
            .all_logs(&sluice.key, "&service=auth-service")
            .await
            .len(),
        20
    );
    assert_eq!(
        sluice.all_logs(&sluice.key, "&q=LOGGED%20IN").await.len(),
        40
    );
    assert_eq!(sluice.all_logs(&sluice.key, "&level=error").await.len(), 0);
    sluice.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_lines_json_arrays_and_gzip_are_accepted() {
    let sluice = TestServer::start().await;
    let (status, _) = sluice
        .post(
            "/v1/logs",
            &sluice.key,
            "text/plain",
            "2025-02-01T10:00:00Z ERROR db connection refused\nplain line without level\n",
        )
        .await;
    assert_eq!(status, 202);
    let array = format!(
        "[{}, {}]",
        seed(1, "WARN", "disk almost full"),
        seed(2, "ERROR", "disk full")
    );
    assert_eq!(
        sluice
            .post("/v1/logs", &sluice.key, "application/json", array)
            .await
            .0,
        202
    );
    let gz = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(seed(3, "DEBUG", "zipped").as_bytes())
            .unwrap();
        encoder.finish().unwrap()
    };
    let response = sluice
        .http
        .post(format!("{}/v1/logs", sluice.url))
        .header("x-api-key", &sluice.key)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let events = sluice.wait_for_logs(&sluice.key, 5, WAIT).await;
    assert_eq!(events.len(), 5);
    let by_message = |m: &str| {
        events
            .iter()
            .find(|e| e["message"].as_str().is_some_and(|x| x.contains(m)))
            .cloned()
    };
    let refused = by_message("db connection refused").expect("raw line stored");
    assert_eq!(refused["level"], "error");
    assert_eq!(refused["timestamp"], "2025-02-01T10:00:00Z");
    assert!(by_message("plain line without level").is_some());
    assert_eq!(by_message("zipped").unwrap()["level"], "debug");
    sluice.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_own_4xx_and_loses_nothing_accepted() {
    let sluice =
        TestServer::start_with(|c| c.limits.max_events_per_request = 100, Vec::new()).await;
    let good: String = (0..10)
        .map(|i| seed(i, "INFO", &format!("good {i}")) + "\n")
        .collect();
    assert_eq!(
        sluice
            .post("/v1/logs", &sluice.key, "application/x-ndjson", good)
            .await
            .0,
        202
    );

    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "bad json",
            "application/x-ndjson",
            b"{\"message\":\"a\"}\n{\"message\": \n".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "wrong field type",
            "application/x-ndjson",
            b"{\"message\":\"a\",\"timestamp\":true}".to_vec(),
            400,
            "invalid_event",
        ),
        (
            "not an object",
            "application/json",
            b"[1, 2]".to_vec(),
            400,
            "invalid_event",
        ),
        (
            "too many events",
            "text/plain",
            "x\n".repeat(101).into_bytes(),
            413,
            "too_many_events",
        ),
        // One byte over the limit: the server answers 413 without reading the
        // rest, so a body much larger than the limit could still be on its
        // way when the connection closes, and the client would lose the
        // answer (seen once under load). One byte is already in the
        // socket's buffers by then.
        (
            "oversize body",
            "text/plain",
            vec![b'a'; sluice::config::MAX_BODY_BYTES + 1],
            413,
            "",
        ),
        (
            "wrong content type",
            "application/xml",
            b"<log/>".to_vec(),
            415,
            "unsupported_content_type",
        ),
        ("empty", "text/plain", b"\n\n".to_vec(), 400, "empty"),
    ];
    for (name, content_type, body, status, code) in cases {
        let (got, answer) = sluice
            .post("/v1/logs", &sluice.key, content_type, body)
            .await;
        assert_eq!(got, status, "{name}: {answer}");
        if !code.is_empty() {
            assert_eq!(answer["error"]["code"], code, "{name}: {answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{name}"
            );
        }
    }
    let (_, answer) = sluice
        .post(
            "/v1/logs",
            &sluice.key,
            "application/x-ndjson",
            "{\"message\":\"a\"}\n{\"service\": 5}\n",
        )
        .await;
    assert_eq!(
        (
            answer["error"]["line"].as_u64(),
            answer["error"]["field"].as_str()
        ),
        (Some(2), Some("service"))
    );

    // Bad gzip.
    let response = sluice
        .http
        .post(format!("{}/v1/logs", sluice.url))
        .bearer_auth(&sluice.key)
        .header("content-type", "text/plain")
        .header("content-encoding", "gzip")
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_gzip"
    );

    // Missing, invalid and revoked keys.
    let anonymous = sluice
        .http
        .post(format!("{}/v1/logs", sluice.url))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        sluice
            .post("/v1/logs", "slk_nope_nope", "text/plain", "x")
            .await
            .0,
        401
    );
    let key = sluice.tenant("revoked-co").await;
    assert_eq!(
        sluice.post("/v1/logs", &key, "text/plain", "x").await.0,
        202
    );
    let id = sluice
        .server
        .state
        .tenants
        .list_keys("revoked-co")
        .await
        .unwrap()[0]
        .id
        .clone();
    sluice
        .server
        .state
        .tenants
        .revoke_key(&id, 1)
        .await
        .unwrap();
    let (status, answer) = sluice.post("/v1/logs", &key, "text/plain", "x").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );

    // A header claiming another tenant is refused, never obeyed.
    let response = sluice
        .http
        .post(format!("{}/v1/logs", sluice.url))
        .bearer_auth(&sluice.key)
        .header("content-type", "text/plain")
        .header("x-scope-orgid", "someone-else")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    let events = sluice.wait_for_logs(&sluice.key, 10, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sluice.all_logs(&sluice.key, "").await.len(),
        10,
        "exactly the accepted events, nothing of the rejected ones"
    );
    assert_eq!(events.len(), 10);
    sluice.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_and_full_queue_answer_with_retry_after() {
    let sluice = TestServer::start_with(
        |c| {
            c.limits.tenant_events_per_second = 5;
            c.limits.tenant_burst_events = 20;
        },
        Vec::new(),
    )
    .await;
    let body = "line\n".repeat(20);
    assert_eq!(
        sluice
            .post("/v1/logs", &sluice.key, "text/plain", body.clone())
            .await
            .0,
        202
    );
    let response = sluice
        .http
        .post(format!("{}/v1/logs", sluice.url))
        .bearer_auth(&sluice.key)
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    sluice.server.shutdown().await.unwrap();

    let small = TestServer::start_with(
        |c| c.queue = sluice::config::QueueConfig::Memory { capacity_events: 5 },
        Vec::new(),
    )
    .await;
    let response = small
        .http
        .post(format!("{}/v1/logs", small.url))
        .bearer_auth(&small.key)
        .header("content-type", "text/plain")
        .body("x\n".repeat(6))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "queue_full"
    );
    small.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_become_incidents_with_a_lifecycle_and_metrics_add_up() {
    let sluice = TestServer::start().await;
    let body: String = (0..6)
        .map(|i| seed(i, "FATAL", &format!("Out of memory in worker {i}")) + "\n")
        .collect::<String>()
        + &(0..14)
            .map(|i| seed(i, "INFO", &format!("heartbeat {i}")) + "\n")
            .collect::<String>();
    assert_eq!(
        sluice
            .post("/v1/logs", &sluice.key, "application/x-ndjson", body)
            .await
            .0,
        202
    );
    sluice.wait_for_logs(&sluice.key, 20, WAIT).await;

    let mut incidents = Vec::new();
    for _ in 0..100 {
        let (_, page) = sluice.get("/v1/incidents", &sluice.key).await;
        incidents = page["incidents"].as_array().cloned().unwrap_or_default();
        if !incidents.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!incidents.is_empty(), "fatal events must raise an incident");
    let incident = &incidents[0];
    assert_eq!(incident["status"], "open");
    assert!(incident["count"].as_u64().unwrap() >= 1);
    assert!(!incident["sample_event_ids"].as_array().unwrap().is_empty());
    let id = incident["id"].as_str().unwrap();

    let patch = |body: Value| {
        let http = sluice.http.clone();
        let url = format!("{}/v1/incidents/{id}", sluice.url);
        let key = sluice.key.clone();
        async move {
            let r = http
                .patch(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, acked) = patch(json!({"status": "acknowledged", "assignee": "dana"})).await;
    assert_eq!(
        (status, acked["status"].as_str(), acked["assignee"].as_str()),
        (200, Some("acknowledged"), Some("dana"))
    );
    let (_, resolved) = patch(json!({"status": "resolved"})).await;
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    let (status, bad) = patch(json!({"status": "exploded"})).await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );

    // Metrics add up: the overview counts exactly what was stored.
    let (status, overview) = sluice.get("/v1/metrics/overview?since=2025-02-01T00:00:00Z&until=2025-02-02T00:00:00Z&bucket_seconds=3600", &sluice.key).await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["total"], 20);
    assert_eq!(overview["errors"], 6);
    let services: u64 = overview["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total"].as_u64().unwrap())
        .sum();
    assert_eq!(services, 20);
    let prometheus = sluice.metrics().await;
    assert!(
        prometheus.contains("sluice_events_ingested_total"),
        "{prometheus}"
    );
    assert!(prometheus.contains("sluice_step_events_in_total"));
    assert_eq!(
        sluice
            .http
            .get(format!("{}/healthz", sluice.url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        sluice
            .http
            .get(format!("{}/readyz", sluice.url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    sluice.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_read_count_or_touch_each_others_data() {
    let sluice = TestServer::start().await;
    let globex = sluice.tenant("globex").await;
    let body: String = (0..5)
        .map(|i| seed(i, "FATAL", &format!("secret dev event {i}")) + "\n")
        .collect();
    assert_eq!(
        sluice
            .post("/v1/logs", &sluice.key, "application/x-ndjson", body)
            .await
            .0,
        202
    );
    let dev_events = sluice.wait_for_logs(&sluice.key, 5, WAIT).await;
    let id = dev_events[0]["id"].as_str().unwrap();

    assert!(sluice.all_logs(&globex, "").await.is_empty());
    assert_eq!(sluice.get(&format!("/v1/logs/{id}"), &globex).await.0, 404);
    let (_, overview) = sluice.get("/v1/metrics/overview?since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bucket_seconds=86400", &globex).await;
    assert_eq!(overview["total"], 0);
    let (_, incidents) = sluice.get("/v1/incidents", &sluice.key).await;
    if let Some(incident) = incidents["incidents"].as_array().and_then(|a| a.first()) {
        let iid = incident["id"].as_str().unwrap();
        assert_eq!(
            sluice.get(&format!("/v1/incidents/{iid}"), &globex).await.0,
            404
        );
        let r = sluice
            .http
            .patch(format!("{}/v1/incidents/{iid}", sluice.url))
            .bearer_auth(&globex)
            .json(&json!({"status": "resolved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    let (_, theirs) = sluice.get("/v1/incidents", &globex).await;
    assert_eq!(theirs["incidents"].as_array().map(Vec::len), Some(0));
    let (_, dead) = sluice.get("/v1/dead-letters", &globex).await;
    assert_eq!(dead["dead_letters"].as_array().map(Vec::len), Some(0));
    let (status, _) = sluice.get("/v1/dead-letters?tenant=dev", &globex).await;
    assert_eq!(status, 403);
    sluice.server.shutdown().await.unwrap();
}

/// Per-tenant retention: a pipeline's `retention_days` deletes its tenant's
/// older events on the next pass; a tenant without retention keeps its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_one_tenants_expired_events_and_nothing_else() {
    let pipelines = tempfile::tempdir().unwrap();
    std::fs::copy(
        sluice_tests::root().join("pipelines/default.toml"),
        pipelines.path().join("default.toml"),
    )
    .unwrap();
    std::fs::write(
        pipelines.path().join("short.toml"),
        "[pipeline]\ntenants = [\"short\"]\n\n[[steps]]\nplugin = \"normalize\"\n\n[sinks]\nretention_days = 1\n",
    )
    .unwrap();
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(
        |c| {
            c.pipelines_dir = dir;
            c.runner.retention_interval_s = 1;
        },
        Vec::new(),
    )
    .await;
    let short = sluice.tenant("short").await;
    let event = |when: &str, message: &str| {
        json!({"service": "api", "level": "INFO", "message": message, "timestamp": when})
            .to_string()
            + "\n"
    };
    let body = event("2020-01-01T00:00:00Z", "old") + &event("2099-01-01T00:00:00Z", "new");
    for key in [&short, &sluice.key] {
        let (status, answer) = sluice
            .post("/v1/logs", key, "application/x-ndjson", body.clone())
            .await;
        assert_eq!(status, 202, "{answer}");
    }
    let messages = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let started = std::time::Instant::now();
    loop {
        let kept = messages(sluice.all_logs(&short, "").await);
        if kept == ["new"] {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the expired event was not deleted: {kept:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        messages(sluice.wait_for_logs(&sluice.key, 2, WAIT).await),
        ["new", "old"]
    );
    // Another pass later, the tenant without retention still has both.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        messages(sluice.all_logs(&sluice.key, "").await),
        ["new", "old"]
    );
    sluice.server.shutdown().await.unwrap();
}

/// Live tail over a real WebSocket: the key's tenant only, only what the
/// filter asks for, and a reader too slow for the stream is told exactly how
/// many events it lost instead of the server buffering them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_tail_streams_the_tenants_filtered_events_and_counts_what_a_slow_reader_lost() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let sluice = TestServer::start().await;
    let globex = sluice.tenant("globex").await;
    let connect = |key: String, query: &str| {
        let mut request = format!("{}/v1/tail{query}", sluice.url.replace("http", "ws"))
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {key}").parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    assert!(
        connect("wrong".into(), "").await.is_err(),
        "an unknown key is refused"
    );
    let (mut errors, _) = connect(sluice.key.clone(), "?level=error&q=DISK")
        .await
        .unwrap();
    let line = |level: &str, message: String| {
        json!({"service": "api", "level": level, "message": message}).to_string() + "\n"
    };
    let mine: String = (0..10)
        .flat_map(|i| {
            [
                line("ERROR", format!("disk {i} full")),
                line("INFO", format!("disk {i} fine")),
                line("ERROR", format!("socket {i} closed")),
            ]
        })
        .collect();
    let theirs: String = (0..10)
        .map(|i| line("ERROR", format!("disk {i} full")))
        .collect();
    for (key, body) in [(&globex, theirs), (&sluice.key, mine)] {
        let (status, _) = sluice
            .post("/v1/logs", key, "application/x-ndjson", body)
            .await;
        assert_eq!(status, 202);
    }
    let mut next = async || -> Value {
        let message = tokio::time::timeout(WAIT, errors.next())
            .await
            .expect("a tail message in time")
            .expect("open")
            .expect("message");
        serde_json::from_str(message.to_text().unwrap()).unwrap()
    };
    for i in 0..10 {
        let message = next().await;
        assert_eq!(message["type"], "event");
        let event = &message["event"];
        assert_eq!(event["tenant"], "dev", "{event}");
        assert_eq!(event["level"], "error");
        assert_eq!(event["message"], format!("disk {i} full"));
    }
    sluice.wait_for_logs(&sluice.key, 30, WAIT).await;

    // A reader that does not read while 20,000 events go by.
    let (mut slow, _) = connect(sluice.key.clone(), "").await.unwrap();
    let flood: String = (0..20_000)
        .map(|i| line("INFO", format!("flood {i}")))
        .collect();
    let (status, _) = sluice
        .post("/v1/logs", &sluice.key, "application/x-ndjson", flood)
        .await;
    assert_eq!(status, 202);
    sluice.wait_for_logs(&sluice.key, 20_030, WAIT).await;
    let (mut events, mut dropped) = (0_u64, 0_u64);
    let mut last = -1_i64;
    while events + dropped < 20_000 {
        let message = tokio::time::timeout(WAIT, slow.next())
            .await
            .expect("a tail message in time")
            .expect("open")
            .expect("message");
        let message: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        match message["type"].as_str() {
            Some("event") => {
                let n: i64 = message["event"]["message"]
                    .as_str()
                    .and_then(|m| m.strip_prefix("flood "))
                    .and_then(|n| n.parse().ok())
                    .expect("a flood event");
                assert!(n > last, "events arrive in order");
                last = n;
                events += 1;
            }
            Some("dropped") => dropped += message["count"].as_u64().unwrap(),
            other => panic!("unexpected message {other:?}"),
        }
    }
    assert_eq!(events + dropped, 20_000, "every event is sent or counted");
    assert!(dropped > 0, "a reader this slow loses events, and is told");
    println!("slow tail reader: {events} events sent, {dropped} reported dropped");
    sluice.server.shutdown().await.unwrap();
}

/// What a webhook receiver got: path, headers we check, body.
type Received = std::sync::Arc<parking_lot::Mutex<Vec<(String, [String; 4], String)>>>;

/// A webhook receiver on a free port that fails its first call with 500.
async fn receiver() -> (String, Received) {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let received: Received = Default::default();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let log = received.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let log = log.clone();
        let calls = calls.clone();
        async move {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            log.lock().push((
                uri.path().to_owned(),
                [
                    header("x-sluice-delivery"),
                    header("x-sluice-event"),
                    header("x-sluice-timestamp"),
                    header("x-sluice-signature"),
                ],
                body,
            ));
            StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// Incident changes reach the tenant's webhooks: signed JSON and Slack
/// text, retried past a 500, each change once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_changes_reach_signed_webhooks_once_each() {
    use hmac::Mac;

    let (hooks, received) = receiver().await;
    let pipelines = tempfile::tempdir().unwrap();
    let default = std::fs::read_to_string(sluice_tests::root().join("pipelines/default.toml"))
        .unwrap()
        .replace("# [sinks]\n# retention_days = 30\n", "");
    std::fs::write(
        pipelines.path().join("default.toml"),
        format!(
            "{default}\n[[sinks.notify]]\nurl = \"{hooks}/json\"\nsecret = \"s3cret\"\n\n\
             [[sinks.notify]]\nurl = \"{hooks}/slack\"\nformat = \"slack\"\non = [\"created\", \"resolved\"]\n"
        ),
    )
    .unwrap();
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let body: String = (0..6)
        .map(|i| seed(i, "FATAL", &format!("Out of memory in worker {i}")) + "\n")
        .collect();
    let (status, _) = sluice
        .post(
            "/v1/logs",
            &sluice.key,
            "application/x-ndjson",
            body.clone(),
        )
        .await;
    assert_eq!(status, 202);
    let started = std::time::Instant::now();
    let incident = loop {
        let (_, page) = sluice.get("/v1/incidents", &sluice.key).await;
        if let Some(first) = page["incidents"].as_array().and_then(|a| a.first()) {
            break first.clone();
        }
        assert!(started.elapsed() < WAIT, "no incident");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = incident["id"].as_str().unwrap();
    for patch in [
        json!({"status": "acknowledged"}),
        json!({"assignee": "ana"}),
        json!({"status": "resolved"}),
    ] {
        let response = sluice
            .http
            .patch(format!("{}/v1/incidents/{id}", sluice.url))
            .bearer_auth(&sluice.key)
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    let started = std::time::Instant::now();
    while received.lock().len() < 6 && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = received.lock().clone();
    let mut json_events: Vec<String> = Vec::new();
    let mut slack_texts: Vec<String> = Vec::new();
    for (path, [delivery, event, timestamp, signature], body) in &received {
        match path.as_str() {
            "/json" => {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
                mac.update(format!("{timestamp}.{body}").as_bytes());
                let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                assert_eq!(signature, &expected, "signed over timestamp and body");
                let payload: Value = serde_json::from_str(body).unwrap();
                assert_eq!(payload["type"], event.as_str());
                assert_eq!(payload["delivery_id"], delivery.as_str());
                if payload["incident"]["id"] == id {
                    json_events.push(event.clone());
                }
            }
            "/slack" => {
                assert!(signature.is_empty(), "no secret, no signature");
                let payload: Value = serde_json::from_str(body).unwrap();
                slack_texts.push(payload["text"].as_str().unwrap().to_owned());
            }
            other => panic!("unexpected path {other}"),
        }
    }
    json_events.sort();
    assert_eq!(
        json_events,
        [
            "incident.acknowledged",
            "incident.assigned",
            "incident.created",
            "incident.resolved"
        ],
        "each change once, the first one after a retry"
    );
    assert!(
        slack_texts
            .iter()
            .any(|t| t.contains("created") && t.contains(incident["title"].as_str().unwrap())),
        "{slack_texts:?}"
    );
    assert_eq!(
        slack_texts
            .iter()
            .filter(|t| t.contains("resolved"))
            .count(),
        1,
        "only the resolution, not the acknowledgement or assignment: {slack_texts:?}"
    );
    sluice.server.shutdown().await.unwrap();
}

/// A signal-only pipeline keeps daily counts and no raw logs; the weekly
/// report reads them, as JSON and as Markdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_only_tenants_get_a_weekly_report_and_store_no_logs() {
    let sluice = TestServer::start().await;
    let key = sluice.tenant("metrics-co").await;
    let body: String = (0..20)
        .map(|i| {
            let level = if i < 5 { "ERROR" } else { "INFO" };
            json!({"service": if i % 2 == 0 { "api" } else { "web" }, "level": level,
                   "message": format!("payment {i} failed for user {i}")})
            .to_string()
                + "\n"
        })
        .collect();
    let (status, _) = sluice
        .post("/v1/logs", &key, "application/x-ndjson", body)
        .await;
    assert_eq!(status, 202);
    let started = std::time::Instant::now();
    let report = loop {
        let (status, report) = sluice.get("/v1/reports/weekly", &key).await;
        assert_eq!(status, 200, "{report}");
        if report["total"] == 20 || started.elapsed() > WAIT {
            break report;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(report["total"], 20, "{report}");
    assert_eq!(report["errors"], 5);
    assert_eq!(report["days"].as_array().map(Vec::len), Some(7));
    assert_eq!(report["services"][0]["total"], 10);
    assert!(
        !report["new_fingerprints"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert!(report["severity_score"].as_u64().unwrap() > 0);
    assert!(
        sluice.all_logs(&key, "").await.is_empty(),
        "a signal-only pipeline stores no raw logs"
    );
    let markdown = sluice
        .http
        .get(format!("{}/v1/reports/weekly?format=markdown", sluice.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(
        markdown.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let text = markdown.text().await.unwrap();
    assert!(text.starts_with("# Weekly report: metrics-co"), "{text}");
    assert!(text.contains("20 events · 5 errors"), "{text}");
    let (_, theirs) = sluice.get("/v1/reports/weekly", &sluice.key).await;
    assert_eq!(theirs["total"], 0, "another tenant's report is its own");
    sluice.server.shutdown().await.unwrap();
}

/// A pipeline for tenant `busy`: normalize (which makes each text line an
/// event's message), then testkit steps named `a`, `b`, `c`, each numbering
/// the events it sees (`seen.<step>`), except `pass_only` ones.
fn numbering_pipeline(pass_only: &[&str]) -> tempfile::TempDir {
    let pipelines = tempfile::tempdir().unwrap();
    let steps: String = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let normal = if pass_only.contains(name) { "pass" } else { "number" };
            format!(
                "[[steps]]\nname = \"{name}\"\nplugin = \"testkit\"\n[steps.config]\nnormal = \"{normal}\"\n\n"
            )
        })
        .collect();
    std::fs::write(
        pipelines.path().join("busy.toml"),
        format!("[pipeline]\ntenants = [\"busy\"]\n\n[[steps]]\nplugin = \"normalize\"\n\n{steps}"),
    )
    .unwrap();
    pipelines
}

/// Post `requests` text bodies of 1,000 lines, `event NNNNN` numbered
/// from 0 across them, except where `line` says otherwise.
async fn post_numbered(
    sluice: &TestServer,
    key: &str,
    requests: usize,
    line: impl Fn(usize) -> Option<&'static str>,
) {
    for request in 0..requests {
        let body: String = (request * 1_000..(request + 1) * 1_000)
            .map(|n| match line(n) {
                Some(text) => format!("{text}\n"),
                None => format!("event {n:05}\n"),
            })
            .collect();
        let (status, answer) = sluice.post("/v1/logs", key, "text/plain", body).await;
        assert_eq!(status, 202, "{answer}");
    }
}

/// `n` of a stored `event NNNNN`, and what step `step` numbered it.
fn numbered(event: &Value, step: &str) -> (i64, Option<i64>) {
    let message = event["message"].as_str().unwrap();
    let n = message
        .strip_prefix("event ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected message {message}"));
    (n, event["attributes"][format!("seen.{step}")].as_i64())
}

async fn split_batches(sluice: &TestServer, tenant: &str) -> Option<u64> {
    let prefix = format!("sluice_chain_split_batches_total{{tenant=\"{tenant}\"}} ");
    sluice
        .metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .and_then(|count| count.trim().parse().ok())
}

/// One tenant's large batches run on two threads (the chain cut in two,
/// the batch in parts), and every step still sees the tenant's events one
/// at a time in the order they were sent: event n is the (n+1)th every
/// step numbered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_tenants_batches_run_on_two_threads_in_order() {
    let pipelines = numbering_pipeline(&[]);
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let busy = sluice.tenant("busy").await;
    post_numbered(&sluice, &busy, 5, |_| None).await;
    let events = sluice.wait_for_logs(&busy, 5_000, WAIT).await;
    assert_eq!(events.len(), 5_000);
    for event in &events {
        for step in ["a", "b", "c"] {
            let (n, seen) = numbered(event, step);
            assert_eq!(
                seen,
                Some(n + 1),
                "step {step} saw event {n} out of order: {event}"
            );
        }
    }
    // A batch splits only while a core is to spare: one busy tenant on two.
    if std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2) {
        let split = split_batches(&sluice, "busy").await;
        assert!(
            split.is_some_and(|count| count >= 1),
            "no batch ran on two threads: {split:?}"
        );
    }
    sluice.server.shutdown().await.unwrap();
}

/// A step that faults in a split batch (every testkit step panics on the
/// message `panic`, so step `a` does): the fault is isolated to its one
/// event, the rest of the batch finishes (on the isolation lane, from the
/// steps its parts had reached), and the last step still sees every other
/// event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_in_a_split_batch_fails_one_event_and_keeps_the_order() {
    let pipelines = numbering_pipeline(&["b"]);
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let busy = sluice.tenant("busy").await;
    const PANIC_AT: i64 = 2_700;
    post_numbered(&sluice, &busy, 4, |n| {
        (n as i64 == PANIC_AT).then_some("panic")
    })
    .await;
    let events = sluice.wait_for_logs(&busy, 3_999, WAIT).await;
    assert_eq!(events.len(), 3_999);
    for event in &events {
        let (n, a) = numbered(event, "a");
        if n < 2_000 {
            // Before the batch that faulted, `a` ran on its first instance.
            assert_eq!(a, Some(n + 1), "{event}");
        }
        let (n, c) = numbered(event, "c");
        let after_panic = i64::from(n > PANIC_AT);
        assert_eq!(c, Some(n + 1 - after_panic), "step c out of order: {event}");
    }
    let (_, page) = sluice.get("/v1/dead-letters", &busy).await;
    let letters = page["dead_letters"].as_array().cloned().unwrap_or_default();
    assert_eq!(letters.len(), 1, "{page}");
    assert_eq!(letters[0]["step"], "a", "{page}");
    assert_eq!(
        letters[0]["event"]["raw"], "panic",
        "the event as it entered: {page}"
    );
    if std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2) {
        let split = split_batches(&sluice, "busy").await;
        assert!(split.is_some_and(|count| count >= 1), "{split:?}");
    }
    sluice.server.shutdown().await.unwrap();
}
