//! ClickHouse stopped for 30 s under load (its own test binary, so no other
//! test sees the outage): ingest sheds with 503 + `Retry-After` instead of
//! piling up, the sink holds its batch and retries, and after the restart
//! every accepted event is stored exactly once.

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Value, json};
use sluice::config::QueueConfig;
use sluice_tests::production::{production_config, tenant_key};
use sluice_tests::server::TestServer;
use sluice_tests::{root, rss_bytes, stores::unique_tenant};

fn services(args: &[&str]) {
    let status = Command::new("bash")
        .arg(root().join("scripts/services.sh"))
        .args(args)
        .status()
        .expect("run scripts/services.sh");
    assert!(status.success(), "scripts/services.sh {args:?} failed");
}

/// ClickHouse stopped until this is dropped, so a failing test never leaves
/// it down for the tests that run after it.
struct Outage;

impl Outage {
    fn start() -> Self {
        services(&["stop", "clickhouse"]);
        Outage
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        let started = Command::new("bash")
            .arg(root().join("scripts/services.sh"))
            .args(["start", "clickhouse"])
            .status()
            .map(|status| status.success());
        if !matches!(started, Ok(true)) && !std::thread::panicking() {
            panic!("could not restart ClickHouse: {started:?}");
        }
    }
}

fn body(batch: usize) -> String {
    (0..500)
        .map(|i| {
            json!({"service": "api", "level": if i % 50 == 0 { "ERROR" } else { "INFO" },
                   "message": format!("request {batch}-{i} served"),
                   "timestamp": format!("2025-02-01T14:{:02}:{:02}Z", batch % 60, i % 60)})
            .to_string()
                + "\n"
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    accepted: HashSet<String>,
    shed_with_retry_after: usize,
    other: Vec<u16>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_down_for_30_seconds_loses_nothing_and_sheds_load() {
    let (_, key) = tenant_key("outage").await;
    let run = unique_tenant("outage-run");
    let sluice = Arc::new(
        TestServer::start_config(
            |data| {
                let mut config = production_config(data, &run);
                // A smaller budget than the default, so the outage sheds load
                // within its 30 s.
                if let QueueConfig::Kafka(kafka) = &mut config.queue {
                    kafka.capacity_events = 50_000;
                }
                config
            },
            key.clone(),
            Vec::new(),
        )
        .await,
    );
    let rss_before = rss_bytes();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let load = {
        let (sluice, key, tally) = (sluice.clone(), key.clone(), tally.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let mut batch = 0;
            while started.elapsed() < Duration::from_secs(45) {
                let response = sluice
                    .http
                    .post(format!("{}/v1/logs", sluice.url))
                    .bearer_auth(&key)
                    .header("content-type", "application/x-ndjson")
                    .body(body(batch))
                    .send()
                    .await
                    .expect("post");
                let status = response.status().as_u16();
                let retry_after = response.headers().contains_key("retry-after");
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                {
                    let mut tally = tally.lock();
                    match status {
                        202 => {
                            for id in answer["ids"].as_array().into_iter().flatten() {
                                tally
                                    .accepted
                                    .insert(id.as_str().unwrap_or_default().to_owned());
                            }
                        }
                        429 | 503 if retry_after => tally.shed_with_retry_after += 1,
                        other => tally.other.push(other),
                    }
                }
                batch += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    tokio::time::sleep(Duration::from_secs(5)).await;
    let outage = Outage::start();
    tokio::time::sleep(Duration::from_secs(30)).await;
    drop(outage);
    load.await.expect("load");

    let tally = std::mem::take(&mut *tally.lock());
    assert!(
        tally.other.is_empty(),
        "unexpected answers: {:?}",
        tally.other
    );
    assert!(
        tally.shed_with_retry_after > 0,
        "ingest never shed load while the store was down"
    );
    assert!(!tally.accepted.is_empty());

    let started = Instant::now();
    let stored = loop {
        let events = sluice.all_logs(&key, "").await;
        if events.len() >= tally.accepted.len() || started.elapsed() > Duration::from_secs(120) {
            break events;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let ids: Vec<String> = stored
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let distinct: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "no duplicates visible after the retries"
    );
    assert_eq!(
        distinct, tally.accepted,
        "every accepted event stored once the store came back"
    );
    let growth = rss_bytes().saturating_sub(rss_before);
    println!(
        "outage: {} events accepted, {} requests shed with Retry-After, RSS growth {} MiB",
        tally.accepted.len(),
        tally.shed_with_retry_after,
        growth >> 20
    );
    assert!(
        growth < 512 << 20,
        "memory grew by {} MiB during the outage",
        growth >> 20
    );
}
