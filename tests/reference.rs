//! Benchmark: the reference workload (`../shared/bench/gen_events.py`,
//! NDJSON, 1,000 events per request) posted over HTTP by concurrent
//! connections through the default chain (normalize → redact → fingerprint
//! → alert) in embedded mode, into a discard log store and into SQLite.
//! Prints events/s (accepted, and processed end to end) and request
//! latency percentiles; never fails on timing. The load generator runs in
//! the same process, on the same 2 cores.
//!
//! ```text
//! cargo test -p sluice-tests --test reference -- --ignored --nocapture --test-threads 1
//! ```
//!
//! `SLUICE_BENCH_EVENTS` (default 300,000) events, `SLUICE_BENCH_CONNECTIONS`
//! (default 4) concurrent requests; `SLUICE_BENCH_PLUGIN_MEMORY=fast` runs the plugins
//! in the fast memory layout (`runner.plugin_memory`); `SLUICE_BENCH_SPLIT=0` keeps each
//! batch on one thread (`runner.split_chains = false`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sluice::config::{LogStoreConfig, QueueConfig};
use sluice::runner::sinks::Tap;
use sluice::runtime::MemoryLayout;
use sluice_tests::server::TestServer;
use sluice_tests::{ProcessedCounter, percentile, reference_bodies};

const PER_REQUEST: usize = 1_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(label: &str, store: LogStoreConfig) {
    let events = env_usize("SLUICE_BENCH_EVENTS", 300_000) / PER_REQUEST * PER_REQUEST;
    let connections = env_usize("SLUICE_BENCH_CONNECTIONS", 4).max(1);
    let bodies = Arc::new(reference_bodies(100_000, PER_REQUEST));
    let counter = Arc::new(ProcessedCounter::default());
    let sluice = Arc::new(
        TestServer::start_with(
            |c| {
                c.log_store = store;
                c.queue = QueueConfig::Memory {
                    capacity_events: 1_000_000,
                };
                c.limits.tenant_events_per_second = u32::MAX;
                c.limits.tenant_burst_events = u32::MAX;
                if std::env::var("SLUICE_BENCH_PLUGIN_MEMORY").as_deref() == Ok("fast") {
                    c.runner.plugin_memory = MemoryLayout::Fast;
                }
                if std::env::var("SLUICE_BENCH_SPLIT").as_deref() == Ok("0") {
                    c.runner.split_chains = false;
                }
            },
            vec![counter.clone() as Arc<dyn Tap>],
        )
        .await,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let shed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..connections {
        let (sluice, bodies, next, shed) =
            (sluice.clone(), bodies.clone(), next.clone(), shed.clone());
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events / PER_REQUEST {
                    return latencies;
                }
                let body = bodies[n % bodies.len()].clone();
                loop {
                    let sent = Instant::now();
                    let (status, answer) = sluice
                        .post(
                            "/v1/logs",
                            &sluice.key,
                            "application/x-ndjson",
                            body.clone(),
                        )
                        .await;
                    if status == 202 {
                        latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                        break;
                    }
                    assert!(status == 503 || status == 429, "{status} {answer}");
                    shed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for sender in senders {
        latencies.extend(sender.await.expect("sender"));
    }
    let accepted_in = started.elapsed();
    while counter.get() < events as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "events not processed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let processed_in = started.elapsed();
    latencies.sort_by(f64::total_cmp);
    println!(
        "{label}: {events} events, {connections} connections: accepted {:.0} ev/s, \
         processed end to end {:.0} ev/s; request latency p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms; {} requests shed (503/429) and resent",
        events as f64 / accepted_in.as_secs_f64(),
        events as f64 / processed_in.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
        shed.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints events/s, run on demand (see the module docs)"]
async fn reference_chain_into_a_discard_store() {
    run("reference chain → discard", LogStoreConfig::Discard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints events/s, run on demand (see the module docs)"]
async fn reference_chain_into_sqlite() {
    run("reference chain → SQLite", LogStoreConfig::Sqlite).await;
}
