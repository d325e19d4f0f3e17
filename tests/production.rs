//! The production path end to end on real servers (`scripts/services.sh up`):
//! HTTP → Kafka (tansu) → plugin chain → ClickHouse + PostgreSQL.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::production::{
    clickhouse_logs, clickhouse_sql, create_tenant, production_config, tenant_key, unique_database,
};
use sluice_tests::server::TestServer;
use sluice_tests::{service, stores::unique_tenant};

const WAIT: Duration = Duration::from_secs(120);

fn body(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| {
            let (level, message) = if i.is_multiple_of(100) {
                ("FATAL", format!("Out of memory in worker {}", i % 7))
            } else {
                (
                    "INFO",
                    format!("order {i} paid by user{}@example.com", i % 13),
                )
            };
            json!({
                "project_id": "42",
                "service": if i.is_multiple_of(2) { "checkout" } else { "billing" },
                "level": level,
                "message": message,
                "timestamp": format!("2025-02-01T12:{:02}:{:02}Z", (i / 60) % 60, i % 60),
                "metadata": {"n": i},
            })
            .to_string()
                + "\n"
        })
        .collect()
}

async fn post_all(servers: &[&TestServer], key: &str, total: usize) -> HashSet<String> {
    let mut accepted = HashSet::new();
    for (n, start) in (0..total).step_by(1_000).enumerate() {
        let server = servers[n % servers.len()];
        let (status, answer) = server
            .post(
                "/v1/logs",
                key,
                "application/x-ndjson",
                body(start, (start + 1_000).min(total)),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        for id in answer["ids"].as_array().expect("ids") {
            accepted.insert(id.as_str().expect("id").to_owned());
        }
    }
    accepted
}

async fn stored_ids(server: &TestServer, key: &str, expected: usize) -> Vec<Value> {
    server.wait_for_logs(key, expected, WAIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_to_kafka_to_clickhouse_and_postgres() {
    let (tenant, key) = tenant_key("prod").await;
    let run = unique_tenant("run");
    let sluice = TestServer::start_config(
        |data| production_config(data, &run),
        key.clone(),
        Vec::new(),
    )
    .await;

    let accepted = post_all(&[&sluice], &key, 5_000).await;
    assert_eq!(accepted.len(), 5_000);

    let events = stored_ids(&sluice, &key, 5_000).await;
    let stored: HashSet<String> = events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(events.len(), 5_000, "no duplicates visible");
    assert_eq!(stored, accepted, "every accepted event stored");
    for event in events.iter().take(50) {
        assert_eq!(event["tenant"], tenant.as_str());
        let message = event["message"].as_str().unwrap_or_default();
        assert!(!message.contains("@example.com"), "not redacted: {message}");
        assert!(event["fingerprint"].is_string());
    }
    let checkout = sluice.all_logs(&key, "&service=checkout").await;
    assert_eq!(checkout.len(), 2_500);

    let mut incidents = Vec::new();
    for _ in 0..200 {
        let (_, page) = sluice.get("/v1/incidents", &key).await;
        incidents = page["incidents"].as_array().cloned().unwrap_or_default();
        if !incidents.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !incidents.is_empty(),
        "fatal events raise an incident in PostgreSQL"
    );

    // Another tenant sees none of it.
    let (_, other_key) = tenant_key("other").await;
    let (_, page) = sluice.get("/v1/logs?limit=10", &other_key).await;
    assert_eq!(page["events"].as_array().map(Vec::len), Some(0), "{page}");
    sluice.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_in_one_group_store_every_event_once() {
    let (_, key) = tenant_key("group").await;
    let run = unique_tenant("run");
    let first = TestServer::start_config(
        |data| production_config(data, &run),
        key.clone(),
        Vec::new(),
    )
    .await;
    let second = TestServer::start_config(
        |data| production_config(data, &run),
        key.clone(),
        Vec::new(),
    )
    .await;
    // Let the group settle with both members before the stream starts.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let accepted = post_all(&[&first, &second], &key, 6_000).await;
    let events = stored_ids(&first, &key, 6_000).await;
    let stored: HashSet<String> = events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(events.len(), 6_000, "no duplicates visible");
    assert_eq!(stored, accepted);

    first.server.shutdown().await.expect("clean shutdown");
    second.server.shutdown().await.expect("clean shutdown");
}

/// Throughput of the production path: 100,000 reference-shaped events
/// posted 1,000 per request, 4 requests in flight, through Kafka and the
/// default chain into ClickHouse and PostgreSQL, from
/// `SLUICE_BENCH_TENANTS` tenants (default 4, spread evenly over the
/// workers; requests go round-robin, and the tenant keys the Kafka
/// partition). Prints figures; asserts only that
/// nothing was lost. Run with
/// `cargo xtask services up && cargo test --release -p sluice-tests --test production -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints events/s, run on demand"]
async fn production_path_throughput() {
    use std::sync::Arc;
    let tenants = std::env::var("SLUICE_BENCH_TENANTS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(4)
        .max(1);
    // Tenants spread evenly over the workers (a worker is chosen by a hash
    // of the tenant), so the figure measures the process, not a hash draw.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut keys = Vec::new();
    let mut candidates = (0..).map(|i| unique_tenant(&format!("bench{i}")));
    for i in 0..tenants {
        let tenant = candidates
            .find(|t| sluice::queue::worker_for(t, workers) == i % workers)
            .expect("a name for every worker");
        keys.push(create_tenant(&tenant).await);
    }
    let run = unique_tenant("bench-run");
    let database = unique_database("sluice_bench");
    let counter = Arc::new(sluice_tests::ProcessedCounter::default());
    let sluice = Arc::new(
        TestServer::start_config(
            |data| {
                let mut config = production_config(data, &run);
                // A database of the run's own: merges of earlier runs' rows
                // (same day partition) would land in this run's figure.
                config.log_store = clickhouse_logs(&database);
                // `SLUICE_BENCH_SPLIT=0`: each batch on one thread.
                config.runner.split_chains =
                    std::env::var("SLUICE_BENCH_SPLIT").as_deref() != Ok("0");
                config
            },
            keys[0].clone(),
            vec![counter.clone()],
        )
        .await,
    );
    // `SLUICE_BENCH_EVENTS`: how many (default 100,000, whole thousands).
    let total = std::env::var("SLUICE_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(100_000)
        .max(1_000);
    let bodies: Vec<(String, String)> = (0..total)
        .step_by(1_000)
        .enumerate()
        .map(|(i, start)| (keys[i % tenants].clone(), body(start, start + 1_000)))
        .collect();
    // Warm up: one event per tenant through the whole path first, so the
    // figure is the sustained rate, not the new topic's first produce
    // (tansu takes ~0.9 s to answer it) or the tenants' first chains.
    for key in &keys {
        let (status, _) = sluice
            .post(
                "/v1/logs",
                key,
                "application/x-ndjson",
                body(total, total + 1),
            )
            .await;
        assert_eq!(status, 202);
    }
    let warm = tenants as u64;
    let warming = std::time::Instant::now();
    while counter.get() < warm && warming.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = std::time::Instant::now();
    let mut latencies = Vec::new();
    for chunk in bodies.chunks(4) {
        let requests = chunk.iter().cloned().map(|(key, body)| {
            let sluice = sluice.clone();
            tokio::spawn(async move {
                let sent = std::time::Instant::now();
                let (status, _) = sluice
                    .post("/v1/logs", &key, "application/x-ndjson", body)
                    .await;
                assert_eq!(status, 202);
                sent.elapsed()
            })
        });
        for request in requests.collect::<Vec<_>>() {
            latencies.push(request.await.expect("request"));
        }
    }
    let ingested = started.elapsed();
    while counter.get() < warm + total as u64 && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let processed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "production path, {total} events, {tenants} tenant(s): ingest {:.0} events/s (request p50 {:?}, p99 {:?}); processed and stored {:.0} events/s end to end",
        total as f64 / ingested.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        total as f64 / processed.as_secs_f64()
    );
    assert!(counter.get() >= warm + total as u64, "events lost");
    clickhouse_sql(format!("DROP DATABASE `{database}`")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_go_to_the_dlq_topic_with_headers_and_to_postgres() {
    use rdkafka::Message;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Headers;

    let (tenant, key) = tenant_key("dlq").await;
    let run = unique_tenant("dlq-run");
    let pipelines = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        pipelines.path().join("default.toml"),
        "[pipeline]\ndefault = true\n\n[[steps]]\nplugin = \"normalize\"\n\n[[steps]]\nplugin = \"testkit\"\n",
    )
    .expect("pipeline");
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_config(
        |data| {
            let mut config = production_config(data, &run);
            config.pipelines_dir = dir;
            config
        },
        key.clone(),
        Vec::new(),
    )
    .await;
    let (status, answer) = sluice
        .post("/v1/logs", &key, "text/plain", "ok one\nfail\nok two\n")
        .await;
    assert_eq!(status, 202, "{answer}");
    let failing_id = answer["ids"][1].as_str().expect("id").to_owned();
    sluice.wait_for_logs(&key, 2, WAIT).await;

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", service("SLUICE_TEST_KAFKA_BROKERS"))
        .set("group.id", format!("dlq-reader.{run}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer
        .subscribe(&[&format!("sluice.dlq.{run}")])
        .expect("subscribe");
    let started = std::time::Instant::now();
    let message = loop {
        assert!(started.elapsed() < WAIT, "no dead letter on the dlq topic");
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => break message.detach(),
            Some(Err(error)) => panic!("dlq consumer: {error}"),
            None => continue,
        }
    };
    assert_eq!(
        message.key(),
        Some(failing_id.as_bytes()),
        "keyed by event id"
    );
    let headers = message.headers().expect("headers");
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| panic!("header {name} missing"))
    };
    assert_eq!(header("tenant"), tenant);
    assert_eq!(header("step"), "testkit");
    assert_eq!(header("code"), "rejected");
    assert_eq!(header("plugin"), "sluice-fixture-testkit@0.1.0");
    assert_eq!(header("source_topic"), format!("sluice.raw.{run}"));
    assert!(header("source_offset").parse::<i64>().expect("offset") >= 0);
    let payload: Value = serde_json::from_slice(message.payload().expect("payload")).expect("json");
    assert_eq!(
        payload["event"]["raw"], "fail",
        "the original event travels with it"
    );

    let (_, page) = sluice.get("/v1/dead-letters", &key).await;
    let letters = page["dead_letters"].as_array().cloned().unwrap_or_default();
    assert_eq!(letters.len(), 1, "{page}");
    assert_eq!(letters[0]["event"]["id"], failing_id.as_str());
    sluice.server.shutdown().await.expect("clean shutdown");
}

/// A row ClickHouse itself refuses (here: a `throwIf` check an operator put
/// in a column default) becomes a dead letter; the rest of its batch is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_clickhouse_rejects_is_dead_lettered_and_the_rest_stored() {
    let (_, key) = tenant_key("chreject").await;
    let run = unique_tenant("chreject-run");
    let database = unique_database("sluice_reject");
    let url = service("SLUICE_TEST_CLICKHOUSE_URL");
    sluice::store::clickhouse_logs::ClickHouseLogStore::open(&url, &database)
        .await
        .expect("create the log table");
    clickhouse_sql(format!(
        "ALTER TABLE `{database}`.logs ADD COLUMN guard UInt8 DEFAULT throwIf(message = 'poison row')"
    ))
    .await;
    let sluice = TestServer::start_config(
        |data| {
            let mut config = production_config(data, &run);
            config.log_store = clickhouse_logs(&database);
            config
        },
        key.clone(),
        Vec::new(),
    )
    .await;
    let body: String = (0..200)
        .map(|i| {
            if i == 57 {
                "poison row\n".to_owned()
            } else {
                format!("request {i} served\n")
            }
        })
        .collect();
    let (status, answer) = sluice.post("/v1/logs", &key, "text/plain", body).await;
    assert_eq!(status, 202, "{answer}");
    let poison_id = answer["ids"][57].as_str().expect("id").to_owned();

    let stored = sluice.wait_for_logs(&key, 199, WAIT).await;
    assert_eq!(stored.len(), 199, "every other row of the batch is stored");
    assert!(stored.iter().all(|e| e["id"] != poison_id.as_str()));
    let started = std::time::Instant::now();
    let letters = loop {
        let (_, page) = sluice.get("/v1/dead-letters", &key).await;
        let letters = page["dead_letters"].as_array().cloned().unwrap_or_default();
        if !letters.is_empty() || started.elapsed() > WAIT {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["event"]["id"], poison_id.as_str());
    assert_eq!(letters[0]["code"], "store_rejected", "{}", letters[0]);
    assert!(
        letters[0]["error"]
            .as_str()
            .is_some_and(|m| m.contains("throwIf")),
        "the server's reason is kept: {}",
        letters[0]
    );
    sluice.server.shutdown().await.expect("clean shutdown");
    clickhouse_sql(format!("DROP DATABASE `{database}`")).await;
}

/// The production stores, as stored: every PostgreSQL and ClickHouse row
/// names a tenant, and no row holds a tenant's API key, even one the
/// tenant logged (the default chain's redact step takes it out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_rows_name_their_tenant_and_hold_no_key() {
    use sqlx::Row;

    let (tenant, key) = tenant_key("rows").await;
    let run = unique_tenant("rows-run");
    let sluice = TestServer::start_config(
        |data| production_config(data, &run),
        key.clone(),
        Vec::new(),
    )
    .await;
    let leak = json!({"service": "api", "level": "FATAL",
                      "message": format!("retrying with Authorization: Bearer {key}"),
                      "api_key": key})
    .to_string()
        + "\n";
    let (status, answer) = sluice
        .post(
            "/v1/logs",
            &key,
            "application/x-ndjson",
            leak + &body(0, 99),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(stored_ids(&sluice, &key, 100).await.len(), 100);
    sluice.server.shutdown().await.expect("clean shutdown");

    let secret = key.rsplit('_').next().expect("key secret").to_owned();
    let postgres = sqlx::PgPool::connect(&service("SLUICE_TEST_POSTGRES_URL"))
        .await
        .expect("postgres");
    for (table, column) in [
        ("tenants", "name"),
        ("api_keys", "tenant_id"),
        ("incidents", "tenant_id"),
        ("dead_letters", "tenant_id"),
    ] {
        // Table names are this list's own.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FILTER (WHERE coalesce({column}, '') = ''), \
             count(*) FILTER (WHERE strpos(t::text, $1) > 0) FROM {table} t"
        )))
        .bind(&secret)
        .fetch_one(&postgres)
        .await
        .expect(table);
        assert_eq!(row.get::<i64, _>(0), 0, "{table} rows without a tenant");
        assert_eq!(row.get::<i64, _>(1), 0, "{table} holds the API key");
    }
    let clickhouse = |sql: String| async move {
        reqwest::Client::new()
            .post(service("SLUICE_TEST_CLICKHOUSE_URL"))
            .body(sql)
            .send()
            .await
            .expect("clickhouse")
            .text()
            .await
            .expect("clickhouse answer")
    };
    let answer = clickhouse(format!(
        "SELECT countIf(tenant_id = ''), countIf(position(body, '{secret}') > 0 \
         OR position(message, '{secret}') > 0 OR has(attribute_values, '{key}')), \
         countIf(tenant_id = '{tenant}') FROM sluice_e2e.logs"
    ))
    .await;
    assert_eq!(
        answer.trim(),
        "0\t0\t100",
        "ClickHouse: empty tenants, keys, this tenant's rows"
    );
}
