//! Noisy neighbour: tenant A's plugin loops forever on every event and A
//! sends ten times its rate limit, while tenant B sends a steady trickle on
//! the default chain. B must not notice: every request accepted, every event
//! stored, never a dead letter; A is refused past its rate with
//! `Retry-After`, and what A got accepted ends as dead letters (timeout,
//! then quarantine), none lost silently.
//!
//! B is named so that it lands on A's worker: the case where A's looping
//! batches could hold B's events back. The test prints B's end-to-end
//! latency (tap time − post time) alone and beside A; timing is not
//! asserted here (figures and the command are in BENCHMARKS.md). Longer
//! phases: `SLUICE_NOISY_PHASE_S=60 cargo test -p sluice-tests --test
//! noisy_neighbour -- --nocapture`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sluice::queue::worker_for;
use sluice::runner::sinks::Tap;
use sluice::store::{DeadLetterQuery, StoredEvent};
use sluice_tests::server::TestServer;
use sluice_tests::{percentile, root};

/// Per-tenant rate (events/s) and burst; B sends half of it, A ten times it.
const RATE: u32 = 200;
/// B: events per request, one request every [`TICK`] (100 events/s).
const B_EVENTS: usize = 5;
/// A: events per request, one request every [`TICK`] (2,000 events/s).
const A_EVENTS: usize = 100;
const TICK: Duration = Duration::from_millis(50);
const WORKERS: usize = 2;

/// When each event came out of its chain, first time seen.
#[derive(Default)]
struct Clock(Mutex<HashMap<String, Instant>>);

impl Tap for Clock {
    fn processed(&self, events: &[&StoredEvent]) {
        let now = Instant::now();
        let mut seen = self.0.lock();
        for stored in events {
            seen.entry(stored.event.id.clone()).or_insert(now);
        }
    }
}

fn write_pipelines(dir: &Path) {
    std::fs::copy(
        root().join("pipelines/default.toml"),
        dir.join("default.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("noisy.toml"),
        "[pipeline]\ntenants = [\"a\"]\n\n[[steps]]\nplugin = \"normalize\"\n\n[[steps]]\nplugin = \"testkit\"\n[steps.config]\nnormal = \"pass\"\n",
    )
    .unwrap();
}

fn phase_length() -> Duration {
    let seconds = std::env::var("SLUICE_NOISY_PHASE_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    Duration::from_secs(seconds)
}

/// B's steady sender: every request must be accepted; returns each accepted
/// id with the instant its request was sent.
async fn send_b(
    sluice: &TestServer,
    key: &str,
    phase: &str,
    length: Duration,
) -> Vec<(String, Instant)> {
    let mut sent = Vec::new();
    let mut interval = tokio::time::interval(TICK);
    let started = Instant::now();
    let mut request = 0;
    while started.elapsed() < length {
        interval.tick().await;
        let body: String = (0..B_EVENTS)
            .map(|i| {
                format!("{{\"level\":\"info\",\"service\":\"checkout\",\"message\":\"{phase} request {request} event {i} for user{i}@example.com\"}}\n")
            })
            .collect();
        let posted = Instant::now();
        let (status, answer) = sluice
            .post("/v1/logs", key, "application/x-ndjson", body)
            .await;
        assert_eq!(
            status, 202,
            "B's request {request} in phase {phase}: {answer}"
        );
        for id in answer["ids"].as_array().unwrap() {
            sent.push((id.as_str().unwrap().to_owned(), posted));
        }
        request += 1;
    }
    sent
}

/// A's flood: ten times its rate. Returns (accepted ids, refused requests).
async fn flood_a(
    http: reqwest::Client,
    url: String,
    key: String,
    length: Duration,
) -> (Vec<String>, usize) {
    let mut accepted = Vec::new();
    let mut refused = 0;
    let mut interval = tokio::time::interval(TICK);
    let body: String = "loop\n".repeat(A_EVENTS);
    let started = Instant::now();
    while started.elapsed() < length {
        interval.tick().await;
        let response = http
            .post(format!("{url}/v1/logs"))
            .bearer_auth(&key)
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            202 => {
                let answer: serde_json::Value = response.json().await.unwrap();
                accepted.extend(
                    answer["ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned()),
                );
            }
            429 => {
                let retry: u64 = response
                    .headers()
                    .get("retry-after")
                    .expect("429 carries Retry-After")
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry >= 1);
                let answer: serde_json::Value = response.json().await.unwrap();
                assert_eq!(answer["error"]["code"], "rate_limited", "{answer}");
                refused += 1;
            }
            other => panic!("A got {other}"),
        }
    }
    (accepted, refused)
}

fn latencies_ms(clock: &Clock, sent: &[(String, Instant)]) -> Vec<f64> {
    let seen = clock.0.lock();
    let mut ms: Vec<f64> = sent
        .iter()
        .filter_map(|(id, posted)| Some(seen.get(id)?.duration_since(*posted).as_secs_f64() * 1e3))
        .collect();
    ms.sort_by(f64::total_cmp);
    ms
}

async fn wait_processed(clock: &Clock, ids: &[(String, Instant)]) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let done = {
            let seen = clock.0.lock();
            ids.iter().all(|(id, _)| seen.contains_key(id))
        };
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_flooding_tenant_does_not_hurt_its_neighbour() {
    let pipelines = tempfile::tempdir().unwrap();
    write_pipelines(pipelines.path());
    let dir = pipelines.path().to_owned();
    let clock = Arc::new(Clock::default());
    let sluice = TestServer::start_with(
        |c| {
            c.pipelines_dir = dir;
            c.runner.workers = Some(WORKERS);
            c.limits.tenant_events_per_second = RATE;
            c.limits.tenant_burst_events = RATE;
        },
        vec![clock.clone() as Arc<dyn Tap>],
    )
    .await;
    // B shares A's worker: the neighbour A could hurt most.
    let b = (0..)
        .map(|i| format!("b{i}"))
        .find(|b| worker_for(b, WORKERS) == worker_for("a", WORKERS))
        .unwrap();
    let key_a = sluice.tenant("a").await;
    let key_b = sluice.tenant(&b).await;
    let length = phase_length();

    // B alone.
    let solo = send_b(&sluice, &key_b, "solo", length).await;
    wait_processed(&clock, &solo).await;

    // B while A floods.
    let flood = tokio::spawn(flood_a(
        sluice.http.clone(),
        sluice.url.clone(),
        key_a.clone(),
        length,
    ));
    let noisy = send_b(&sluice, &key_b, "noisy", length).await;
    let (a_accepted, a_refused) = flood.await.unwrap();
    wait_processed(&clock, &noisy).await;

    let solo_ms = latencies_ms(&clock, &solo);
    let noisy_ms = latencies_ms(&clock, &noisy);
    let (s50, s99) = (percentile(&solo_ms, 0.5), percentile(&solo_ms, 0.99));
    let (n50, n99) = (percentile(&noisy_ms, 0.5), percentile(&noisy_ms, 0.99));
    let (s90, n90) = (percentile(&solo_ms, 0.9), percentile(&noisy_ms, 0.9));
    let stalled = noisy_ms.iter().filter(|&&ms| ms > 100.0).count();
    println!(
        "noisy neighbour ({}s phases, B {} events/s, A {} events/s against a limit of {RATE}/s; A accepted {} events, refused {a_refused} requests):\n  B solo:  p50 {s50:.1} ms, p90 {s90:.1} ms, p99 {s99:.1} ms, max {:.1} ms over {} events\n  B noisy: p50 {n50:.1} ms, p90 {n90:.1} ms, p99 {n99:.1} ms, max {:.1} ms over {} events ({stalled} over 100 ms)\n  p99 ratio noisy/solo {:.2}",
        length.as_secs(),
        B_EVENTS as u64 * 1000 / TICK.as_millis() as u64,
        A_EVENTS as u64 * 1000 / TICK.as_millis() as u64,
        a_accepted.len(),
        solo_ms[solo_ms.len() - 1],
        solo_ms.len(),
        noisy_ms[noisy_ms.len() - 1],
        noisy_ms.len(),
        n99 / s99
    );
    // B: everything processed and stored, nothing dead-lettered.
    let b_ids: HashSet<&str> = solo
        .iter()
        .chain(&noisy)
        .map(|(id, _)| id.as_str())
        .collect();
    let stored = sluice.all_logs(&key_b, "").await;
    let stored_ids: HashSet<&str> = stored.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(stored_ids, b_ids, "every event B sent is stored, once");
    assert_eq!(stored.len(), b_ids.len());
    let dead = &sluice.server.state.dead_letters;
    assert_eq!(dead.count(&b).await.unwrap(), 0, "B never dead-lettered");

    // A: refused past its rate, and what got in ends as dead letters.
    let a_requests = a_refused + a_accepted.len() / A_EVENTS;
    assert!(
        a_refused * 10 >= a_requests * 7,
        "A sends ten times its rate, so most of its requests are refused: {a_refused} of {a_requests}"
    );
    assert!(!a_accepted.is_empty(), "A's burst gets in");
    let started = Instant::now();
    while dead.count("a").await.unwrap() < a_accepted.len() as u64
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut letters = HashMap::new();
    let mut codes: HashMap<String, usize> = HashMap::new();
    let mut cursor = None;
    loop {
        let page = dead
            .list(
                Some("a"),
                &DeadLetterQuery {
                    limit: 1000,
                    cursor,
                    ..DeadLetterQuery::default()
                },
            )
            .await
            .unwrap();
        for record in page.items {
            *codes.entry(record.letter.code.clone()).or_default() += 1;
            assert_eq!(record.letter.step, "testkit");
            letters.insert(record.letter.event.id.clone(), record.letter.code);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let accepted: HashSet<&String> = a_accepted.iter().collect();
    let lettered: HashSet<&String> = letters.keys().collect();
    assert!(
        lettered == accepted,
        "every event A got accepted is a dead letter, once: {} accepted, {} dead letters ({codes:?}), {} of them accepted",
        accepted.len(),
        lettered.len(),
        lettered.intersection(&accepted).count()
    );
    assert!(
        codes
            .keys()
            .all(|c| ["timeout", "unisolated", "quarantined"].contains(&c.as_str())),
        "{codes:?}"
    );
    assert!(
        codes.get("quarantined").copied().unwrap_or(0) > 0,
        "the looping step is quarantined for A: {codes:?}"
    );
    assert!(
        sluice.all_logs(&key_a, "").await.is_empty(),
        "A stores nothing"
    );

    println!("  A's dead letters by code: {codes:?}");
    sluice.server.shutdown().await.unwrap();
}

/// The mechanism behind the figures above, asserted by order rather than by
/// time: on a single worker, A's looping plugin costs that worker one
/// deadline before A moves to the worker's isolation lane, so B's events,
/// queued behind A's, are stored while A's batch is still being recovered
/// there. Without the lane the worker recovers A's batch itself (several
/// deadlines) and B's events wait until A's dead letters are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulting_tenant_is_recovered_apart_from_the_tenants_behind_it() {
    let pipelines = tempfile::tempdir().unwrap();
    write_pipelines(pipelines.path());
    let dir = pipelines.path().to_owned();
    let clock = Arc::new(Clock::default());
    let sluice = TestServer::start_with(
        |c| {
            c.pipelines_dir = dir;
            c.runner.workers = Some(1);
        },
        vec![clock.clone() as Arc<dyn Tap>],
    )
    .await;
    let key_a = sluice.tenant("a").await;
    let key_b = sluice.tenant("b").await;

    // testkit loops on the message `loop`.
    let (status, _) = sluice
        .post("/v1/logs", &key_a, "text/plain", "loop\n".repeat(100))
        .await;
    assert_eq!(status, 202);
    let (status, answer) = sluice
        .post(
            "/v1/logs",
            &key_b,
            "application/x-ndjson",
            "{\"message\":\"b 1\"}\n{\"message\":\"b 2\"}\n",
        )
        .await;
    assert_eq!(status, 202);
    let b_ids: Vec<String> = answer["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();

    // Watch A's dead letters appear while waiting for B's events.
    let dead = &sluice.server.state.dead_letters;
    let started = Instant::now();
    let mut a_lettered_at = None;
    let mut b_stored_at = None;
    while (a_lettered_at.is_none() || b_stored_at.is_none())
        && started.elapsed() < Duration::from_secs(30)
    {
        if a_lettered_at.is_none() && dead.count("a").await.unwrap() > 0 {
            a_lettered_at = Some(Instant::now());
        }
        if b_stored_at.is_none() {
            let seen = clock.0.lock();
            let times: Option<Vec<Instant>> =
                b_ids.iter().map(|id| seen.get(id).copied()).collect();
            b_stored_at = times.and_then(|t| t.into_iter().max());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (Some(a_lettered_at), Some(b_stored_at)) = (a_lettered_at, b_stored_at) else {
        panic!("after 30 s: A dead-lettered at {a_lettered_at:?}, B stored at {b_stored_at:?}");
    };
    assert!(
        b_stored_at < a_lettered_at,
        "B's events waited for A's recovery: stored {:?} after A's first dead letters",
        b_stored_at.duration_since(a_lettered_at)
    );
    while dead.count("a").await.unwrap() < 100 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        dead.count("a").await.unwrap(),
        100,
        "every A event is a dead letter"
    );
    assert_eq!(dead.count("b").await.unwrap(), 0);
    let metrics = sluice.metrics().await;
    assert!(
        metrics.contains("sluice_tenants_isolated_total{tenant=\"a\"} 1"),
        "one tenant moved to the lane"
    );
    sluice.server.shutdown().await.unwrap();
}
