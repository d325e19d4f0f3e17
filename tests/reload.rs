//! Hot reload under load: the pipeline file is rewritten 200 times (100
//! valid swaps, 100 invalid edits between them) while 100,000 events stream
//! in. Every event
//! is processed exactly once, by exactly one version; versions only go up
//! per tenant; invalid edits never interrupt the version in force.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use sluice::runner::sinks::Tap;
use sluice::store::StoredEvent;
use sluice_tests::server::TestServer;

/// Records which pipeline version processed each event, every time.
#[derive(Default)]
struct Recorder(Mutex<HashMap<String, Vec<u64>>>);

impl Tap for Recorder {
    fn processed(&self, events: &[&StoredEvent]) {
        let mut seen = self.0.lock();
        for stored in events {
            seen.entry(stored.event.id.clone())
                .or_default()
                .push(stored.pipeline_version);
        }
    }
}

fn pipeline(normal: &str, valid: bool) -> String {
    let typo = if valid { "" } else { "retries = 3\n" };
    format!(
        "[pipeline]\ndefault = true\n\n[[steps]]\nplugin = \"normalize\"\n\n[[steps]]\nplugin = \"testkit\"\n{typo}[steps.config]\nnormal = \"{normal}\"\n"
    )
}

fn write(dir: &Path, text: &str) {
    // Write then rename, as editors and deploy tools do.
    let tmp = dir.join(".default.toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join("default.toml")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_swaps_under_100k_events_lose_nothing_and_process_each_once() {
    let pipelines = tempfile::tempdir().unwrap();
    write(pipelines.path(), &pipeline("pass", true));
    let recorder = Arc::new(Recorder::default());
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(
        |c| {
            c.pipelines_dir = dir;
            c.queue = sluice::config::QueueConfig::Memory {
                capacity_events: 1_000_000,
            };
        },
        vec![recorder.clone() as Arc<dyn Tap>],
    )
    .await;
    let registry = sluice.server.state.registry.clone();
    let first_version = registry.snapshot().for_tenant("dev").unwrap().version;

    // Editor: 200 rewrites, invalid ones between valid ones.
    let editor_dir = pipelines.path().to_owned();
    let editor_registry = registry.clone();
    let editor = tokio::spawn(async move {
        let mut latencies = Vec::new();
        for i in 0..200 {
            let valid = i % 2 == 0;
            let normal = if (i / 2) % 2 == 0 { "keep" } else { "pass" };
            let before = editor_registry
                .snapshot()
                .for_tenant("dev")
                .unwrap()
                .version;
            let written = Instant::now();
            write(&editor_dir, &pipeline(normal, valid));
            if valid {
                while editor_registry
                    .snapshot()
                    .for_tenant("dev")
                    .unwrap()
                    .version
                    == before
                {
                    assert!(
                        written.elapsed() < Duration::from_secs(20),
                        "edit {i} never served"
                    );
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                latencies.push(written.elapsed());
            } else {
                tokio::time::sleep(Duration::from_millis(60)).await;
                assert_eq!(
                    editor_registry
                        .snapshot()
                        .for_tenant("dev")
                        .unwrap()
                        .version,
                    before,
                    "invalid edit {i} must keep the running version"
                );
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        latencies
    });

    // Sender: 200 requests of 500 events while the editor works.
    let mut accepted: Vec<String> = Vec::with_capacity(100_000);
    for request in 0..200 {
        let body: String = (0..500)
            .map(|i| {
                format!("{{\"message\":\"request {request} event {i}\",\"level\":\"info\"}}\n")
            })
            .collect();
        let (status, answer) = sluice
            .post("/v1/logs", &sluice.key, "application/x-ndjson", body)
            .await;
        assert_eq!(status, 202, "{answer}");
        accepted.extend(
            answer["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        tokio::time::sleep(Duration::from_millis(70)).await;
    }
    let latencies = editor.await.unwrap();

    let started = Instant::now();
    while recorder.0.lock().len() < accepted.len() && started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = recorder.0.lock().clone();
    assert_eq!(accepted.len(), 100_000);
    assert_eq!(seen.len(), accepted.len(), "every accepted event processed");
    let mut last = 0;
    for id in &accepted {
        let versions = &seen[id];
        assert_eq!(
            versions.len(),
            1,
            "event {id} processed {} times",
            versions.len()
        );
        assert!(
            versions[0] >= last,
            "versions went down: {} after {last}",
            versions[0]
        );
        last = versions[0];
    }
    let final_version = registry.snapshot().for_tenant("dev").unwrap().version;
    assert_eq!(
        final_version,
        first_version + 100,
        "100 valid edits, 100 refused"
    );
    let status = registry.status();
    assert!(
        status
            .iter()
            .any(|f| f.serving_version == Some(final_version))
    );
    let stored = sluice.all_logs(&sluice.key, "").await.len();
    assert_eq!(stored, 100_000, "every event stored once");

    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "reload: file write to new version serving over {} valid edits: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms.len(),
        ms[ms.len() / 2],
        ms[ms.len() * 9 / 10],
        ms[ms.len() - 1]
    );
    sluice.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_the_previous_version_under_a_new_number() {
    let pipelines = tempfile::tempdir().unwrap();
    write(pipelines.path(), &pipeline("pass", true));
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let registry = sluice.server.state.registry.clone();
    let v1 = registry.snapshot().for_tenant("dev").unwrap();
    write(pipelines.path(), &pipeline("upper", true));
    let started = Instant::now();
    while registry.snapshot().for_tenant("dev").unwrap().version == v1.version {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let v2 = registry.snapshot().for_tenant("dev").unwrap();
    let (status, answer) = sluice
        .post(
            "/v1/pipelines/rollback",
            &sluice.key,
            "application/json",
            "",
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let v3 = registry.snapshot().for_tenant("dev").unwrap();
    assert!(v3.version > v2.version, "versions only go up");
    assert_eq!(v3.restores, Some(v1.version));
    assert_eq!(v3.content_hash, v1.content_hash);
    // The rollback serves: an ordinary message is no longer upper-cased.
    sluice
        .post("/v1/logs", &sluice.key, "text/plain", "quiet please")
        .await;
    let events = sluice
        .wait_for_logs(&sluice.key, 1, Duration::from_secs(30))
        .await;
    assert_eq!(events[0]["message"], "quiet please");
    assert_eq!(events[0]["pipeline_version"], v3.version);
    let (_, listing) = sluice.get("/v1/pipelines", &sluice.key).await;
    assert_eq!(listing["serving"]["version"], v3.version);
    assert_eq!(listing["serving"]["restores"], v1.version);
    sluice.server.shutdown().await.unwrap();
}
