//! Benchmark: many tenants on one process. Each new tenant sends one event
//! (its first batch builds its chain) and then a second one; prints the
//! end-to-end latency of first and second events and the resident memory
//! per tenant, the two costs that decide how many tenants one process can
//! hold, and what starting each step of the default chain costs. Never
//! fails on timing.
//!
//! ```text
//! SLUICE_BENCH_TENANTS=1000 cargo test -p sluice-tests --test tenants -- --ignored --nocapture
//! ```
//!
//! More than about 3,900 tenants need a higher `vm.max_map_count` (see
//! `host/src/runtime/capacity.rs`); `SLUICE_BENCH_BATCH=1000` adds a phase
//! where every tenant sends one 1,000-event batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sluice::pipeline::PreparedStep;
use sluice::runner::sinks::Tap;
use sluice::runtime::{InitContext, StepLimits, StepRunner};
use sluice::store::StoredEvent;
use sluice_tests::server::TestServer;
use sluice_tests::{mapping_count, percentile, pss_bytes, rss_bytes};

/// When each event id was processed (until `count_only` is set), and how
/// many events were.
#[derive(Default)]
struct Seen {
    at: Mutex<HashMap<String, Instant>>,
    count: AtomicUsize,
    count_only: AtomicBool,
}

impl Tap for Seen {
    fn processed(&self, events: &[&StoredEvent]) {
        self.count.fetch_add(events.len(), Ordering::Relaxed);
        if self.count_only.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        let mut seen = self.at.lock();
        for stored in events {
            seen.insert(stored.event.id.clone(), now);
        }
    }
}

async fn latency(sluice: &TestServer, seen: &Seen, key: &str, message: &str) -> f64 {
    let sent = Instant::now();
    let (status, answer) = sluice
        .post(
            "/v1/logs",
            key,
            "application/x-ndjson",
            format!("{{\"service\":\"api\",\"level\":\"info\",\"message\":\"{message}\"}}\n"),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["ids"][0].as_str().expect("id").to_owned();
    loop {
        if let Some(at) = seen.at.lock().get(&id) {
            return at.duration_since(sent).as_secs_f64() * 1e3;
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let (_, letters) = sluice.get("/v1/dead-letters", key).await;
            panic!(
                "event not processed; dead letters: {}",
                letters["dead_letters"]
            );
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints latencies and memory per tenant, run on demand"]
async fn new_tenants_first_batch_cost_and_memory_per_tenant() {
    let tenants: usize = std::env::var("SLUICE_BENCH_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seen = Arc::new(Seen::default());
    let sluice = TestServer::start_with(
        |c| c.runner.tick_ms = 60_000,
        vec![seen.clone() as Arc<dyn Tap>],
    )
    .await;
    // Warm the process (plugins compiled, first tenant's chain built).
    latency(&sluice, &seen, &sluice.key, "warm").await;
    let rss_before = rss_bytes();
    let pss_before = pss_bytes();
    let maps_before = mapping_count();
    let (mut first, mut second, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..tenants {
        let key = sluice.tenant(&format!("bench-{n}")).await;
        first.push(latency(&sluice, &seen, &key, "first").await);
        second.push(latency(&sluice, &seen, &key, "second").await);
        keys.push(key);
    }
    let rss_after = rss_bytes();
    let pss_after = pss_bytes();
    let maps_after = mapping_count();
    first.sort_by(f64::total_cmp);
    second.sort_by(f64::total_cmp);
    println!(
        "{tenants} new tenants: first event p50 {:.2} ms, p99 {:.2} ms; second event p50 {:.2} ms, \
         p99 {:.2} ms; first-batch cost p50 {:.2} ms; RSS +{:.0} MiB ({:.0} KiB per tenant); \
         PSS +{:.0} MiB ({:.0} KiB per tenant); \
         {:.1} memory mappings per tenant ({maps_after} in all)",
        percentile(&first, 0.5),
        percentile(&first, 0.99),
        percentile(&second, 0.5),
        percentile(&second, 0.99),
        percentile(&first, 0.5) - percentile(&second, 0.5),
        (rss_after.saturating_sub(rss_before)) as f64 / (1 << 20) as f64,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0 / tenants as f64,
        (pss_after.saturating_sub(pss_before)) as f64 / (1 << 20) as f64,
        (pss_after.saturating_sub(pss_before)) as f64 / 1024.0 / tenants as f64,
        maps_after.saturating_sub(maps_before) as f64 / tenants as f64,
    );
    busy_tenants(&sluice, &seen, &keys, pss_before).await;
    start_cost_by_step(&sluice);
    sluice.server.shutdown().await.expect("shutdown");
}

/// With `SLUICE_BENCH_BATCH=N`, every tenant then sends one batch of `N`
/// reference-workload events: an instance's heap keeps the high-water mark
/// of the largest batch it saw, so a busy tenant holds more than an idle one.
async fn busy_tenants(sluice: &TestServer, seen: &Seen, keys: &[String], pss_before: u64) {
    let batch: usize = std::env::var("SLUICE_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if batch == 0 {
        return;
    }
    let body = sluice_tests::reference_bodies(batch, batch).remove(0);
    seen.count_only.store(true, Ordering::Relaxed);
    let start = seen.count.load(Ordering::Relaxed);
    for key in keys {
        loop {
            let (status, answer) = sluice
                .post("/v1/logs", key, "application/x-ndjson", body.clone())
                .await;
            match status {
                202 => break,
                // The queue is full: wait for the workers, as a shipper would.
                503 => tokio::time::sleep(Duration::from_millis(100)).await,
                _ => panic!("{status}: {answer}"),
            }
        }
    }
    let began = Instant::now();
    while seen.count.load(Ordering::Relaxed) < start + keys.len() * batch {
        assert!(
            began.elapsed() < Duration::from_secs(600),
            "batches not processed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pss = pss_bytes().saturating_sub(pss_before);
    println!(
        "after one {batch}-event batch per tenant: PSS +{:.0} MiB ({:.0} KiB per tenant)",
        pss as f64 / (1 << 20) as f64,
        pss as f64 / 1024.0 / keys.len() as f64,
    );
}

/// Where a new tenant's first batch and memory go: for each step of the
/// default chain, starting its instance (instantiate + `init` with the
/// step's config), its first one-event batch, and what 100 such instances
/// hold resident; and the same for a plugin that keeps nothing, the floor
/// every instance costs.
fn start_cost_by_step(sluice: &TestServer) {
    let state = &sluice.server.state;
    let snapshot = state.registry.snapshot();
    let pipeline = snapshot
        .for_tenant("a-new-tenant")
        .expect("default pipeline");
    let mut report = Vec::new();
    // The floor: a plugin that keeps nothing (the test fixture, passing).
    let floor = PreparedStep {
        name: "floor".to_owned(),
        plugin: state
            .runtime
            .load_file(&sluice_tests::plugin("fixtures/testkit"))
            .expect("testkit"),
        plugin_path: sluice_tests::plugin("fixtures/testkit"),
        config_json: "{}".to_owned(),
        limits: StepLimits::default(),
    };
    for step in pipeline.steps.iter().chain([&floor]) {
        let (mut start, mut first) = (Vec::new(), Vec::new());
        let mut kept = Vec::new();
        let (rss_before, pss_before) = (rss_bytes(), pss_bytes());
        for n in 0..100 {
            let tenant = format!("start-cost-{n}");
            let context = InitContext {
                tenant: tenant.clone(),
                pipeline: pipeline.name.clone(),
                step: step.name.clone(),
            };
            let began = Instant::now();
            let mut runner = StepRunner::new(
                state.runtime.clone(),
                step.plugin.clone(),
                context,
                step.config_json.clone(),
                step.limits.clone(),
            )
            .expect("step starts");
            start.push(began.elapsed().as_secs_f64() * 1e3);
            let batch =
                sluice_tests::events(&tenant, &["GET /health 200 in 3 ms for user@example.com"]);
            let began = Instant::now();
            runner.run(&batch);
            first.push(began.elapsed().as_secs_f64() * 1e3);
            kept.push(runner);
        }
        let resident = rss_bytes().saturating_sub(rss_before) as f64 / 1024.0 / 100.0;
        let proportional = pss_bytes().saturating_sub(pss_before) as f64 / 1024.0 / 100.0;
        start.sort_by(f64::total_cmp);
        first.sort_by(f64::total_cmp);
        report.push(format!(
            "{}: start p50 {:.2} ms, first batch p50 {:.2} ms, RSS {resident:.0} KiB, PSS {proportional:.0} KiB",
            step.name,
            percentile(&start, 0.5),
            percentile(&first, 0.5)
        ));
    }
    println!(
        "start cost by step (instantiate + init; then one event; memory per instance): {}",
        report.join("; ")
    );
}
