//! Soak: the reference workload (`../shared/bench/gen_events.py`, NDJSON,
//! 1,000 events per request) through the default chain in embedded mode for
//! a long time, sampling this process's resident memory and open file
//! descriptors. At the end every accepted event must have been processed and
//! stored, none dead-lettered, and the descriptors must not have grown after
//! warm-up (a leak of sockets or files shows there first).
//!
//! Ignored by default: it runs for an hour.
//!
//! ```text
//! cargo test -p sluice-tests --test soak -- --ignored --nocapture
//! SLUICE_SOAK_S=180 SLUICE_SOAK_SAMPLE_S=15 cargo test -p sluice-tests --test soak -- --ignored --nocapture
//! ```
//!
//! `SLUICE_SOAK_S` (default 3600) is the sending time, `SLUICE_SOAK_SAMPLE_S`
//! (default 60) the sampling interval, `SLUICE_SOAK_EVENTS_PER_S` (default
//! 2000) the offered rate. Warm-up is a sixth of the run, at most 5 minutes.
//! The store grows by about the run's events (≈7 M rows an hour at the
//! default rate) in a temporary directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice::runner::sinks::Tap;
use sluice_tests::server::TestServer;
use sluice_tests::{ProcessedCounter, reference_bodies, rss_bytes};

const EVENTS_PER_REQUEST: usize = 1_000;
/// Distinct events generated once and sent over and over (each gets a new
/// id at ingest).
const GENERATED: usize = 100_000;

struct Sample {
    at: Duration,
    accepted: u64,
    processed: u64,
    rss_mib: f64,
    fds: usize,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn sample(started: Instant, accepted: u64, counter: &ProcessedCounter) -> Sample {
    let s = Sample {
        at: started.elapsed(),
        accepted,
        processed: counter.get(),
        rss_mib: rss_bytes() as f64 / (1 << 20) as f64,
        fds: open_fds(),
    };
    println!(
        "soak t={:>5}s accepted {:>9} processed {:>9} rss {:>7.1} MiB fds {:>4}",
        s.at.as_secs(),
        s.accepted,
        s.processed,
        s.rss_mib,
        s.fds
    );
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs for an hour; see the module docs for the command"]
async fn reference_workload_for_an_hour_loses_nothing_and_leaks_no_descriptors() {
    let duration = Duration::from_secs(env_u64("SLUICE_SOAK_S", 3600));
    let every = Duration::from_secs(env_u64("SLUICE_SOAK_SAMPLE_S", 60).max(1));
    let rate = env_u64("SLUICE_SOAK_EVENTS_PER_S", 2000).max(1);
    let warm_up = (duration / 6).min(Duration::from_secs(300));
    let bodies = reference_bodies(GENERATED, EVENTS_PER_REQUEST);

    let counter = Arc::new(ProcessedCounter::default());
    let sluice = TestServer::start_with(|_| {}, vec![counter.clone() as Arc<dyn Tap>]).await;
    let started = Instant::now();
    let mut samples = vec![sample(started, 0, &counter)];

    let mut accepted = 0u64;
    let mut pushed_back = 0u64;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(
        EVENTS_PER_REQUEST as f64 / rate as f64,
    ));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_sample = every;
    let mut warm: Option<usize> = None;
    let mut request = 0usize;
    while started.elapsed() < duration {
        interval.tick().await;
        let body = bodies[request % bodies.len()].clone();
        request += 1;
        loop {
            let response = sluice
                .http
                .post(format!("{}/v1/logs", sluice.url))
                .bearer_auth(&sluice.key)
                .header("content-type", "application/x-ndjson")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            match response.status().as_u16() {
                202 => {
                    let answer: serde_json::Value = response.json().await.unwrap();
                    assert_eq!(answer["accepted"], EVENTS_PER_REQUEST);
                    accepted += EVENTS_PER_REQUEST as u64;
                    break;
                }
                // Shed load (queue full, rate): come back as told; nothing
                // of a refused request was accepted.
                429 | 503 => {
                    pushed_back += 1;
                    let wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                        .unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                other => panic!(
                    "request {request}: {other} {}",
                    response.text().await.unwrap()
                ),
            }
        }
        if started.elapsed() >= next_sample {
            next_sample += every;
            samples.push(sample(started, accepted, &counter));
            if warm.is_none() && started.elapsed() >= warm_up {
                warm = Some(samples.len() - 1);
            }
        }
    }

    // Drain: everything accepted comes out of the chain.
    let sent = started.elapsed();
    let drain = Instant::now();
    while counter.get() < accepted && drain.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let end = sample(started, accepted, &counter);
    let processed = counter.get();
    assert_eq!(processed, accepted, "every accepted event processed, once");
    let dead = sluice.server.state.dead_letters.count("dev").await.unwrap();
    assert_eq!(dead, 0, "the reference workload has no bad events");
    let db = sluice.data.path().join("logs.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM logs WHERE tenant_id = 'dev'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(stored as u64, accepted, "every accepted event stored");

    let warm = &samples[warm.unwrap_or(samples.len() - 1)];
    let first = &samples[0];
    println!(
        "soak summary: {:.0}s sending, {accepted} events accepted ({:.0} events/s offered {rate}), {pushed_back} requests pushed back, all processed and stored, none dead-lettered; store {:.0} MiB\n  rss: start {:.1} MiB, after warm-up (t={}s) {:.1} MiB, end {:.1} MiB\n  fds: start {}, after warm-up {}, end {}",
        sent.as_secs_f64(),
        accepted as f64 / sent.as_secs_f64(),
        dir_bytes(sluice.data.path()) as f64 / (1 << 20) as f64,
        first.rss_mib,
        warm.at.as_secs(),
        warm.rss_mib,
        end.rss_mib,
        first.fds,
        warm.fds,
        end.fds
    );
    assert!(
        end.fds <= warm.fds + 16,
        "descriptors grew after warm-up: {} then {}",
        warm.fds,
        end.fds
    );
    sluice.server.shutdown().await.unwrap();
}
