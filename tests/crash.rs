//! Two real `sluice` processes in one consumer group on the production
//! servers; one is SIGKILLed mid-stream. Everything either accepted is
//! stored, and queries never show a duplicate.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice_tests::production::tenant_key;
use sluice_tests::{root, service, stores::unique_tenant};

/// The `sluice` binary of this build (`host/tests/cli.rs` makes cargo build it).
fn sluice_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let path = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("sluice");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test --workspace`",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Process {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sluice run` configured through `SLUICE_*` variables, as an operator would.
async fn spawn(run: &str, http: &reqwest::Client) -> Process {
    let data = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let log = std::fs::File::create(data.path().join("sluice.log")).expect("log file");
    let child = Command::new(sluice_bin())
        .arg("run")
        .current_dir(root())
        .env("SLUICE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SLUICE_DATA_DIR", data.path())
        .env("SLUICE_CACHE_DIR", root().join("target/test-cache"))
        .env("SLUICE_DEV_TENANT", "false")
        .env("SLUICE_QUEUE__KIND", "kafka")
        .env(
            "SLUICE_QUEUE__BROKERS",
            service("SLUICE_TEST_KAFKA_BROKERS"),
        )
        .env("SLUICE_QUEUE__TOPIC", format!("sluice.raw.{run}"))
        .env("SLUICE_QUEUE__DLQ_TOPIC", format!("sluice.dlq.{run}"))
        .env("SLUICE_QUEUE__GROUP", format!("sluice.{run}"))
        .env("SLUICE_QUEUE__PARTITIONS", "4")
        .env("SLUICE_LOG_STORE__KIND", "clickhouse")
        .env(
            "SLUICE_LOG_STORE__URL",
            service("SLUICE_TEST_CLICKHOUSE_URL"),
        )
        .env("SLUICE_LOG_STORE__DATABASE", "sluice_e2e")
        .env("SLUICE_DATABASE__KIND", "postgres")
        .env("SLUICE_DATABASE__URL", service("SLUICE_TEST_POSTGRES_URL"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn sluice");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(format!("{url}/readyz")).send().await
            && response.status().is_success()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sluice did not become ready; log: {}",
            std::fs::read_to_string(data.path().join("sluice.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Process {
        child,
        url,
        _data: data,
    }
}

fn body(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| {
            json!({"service": "api", "level": "INFO", "message": format!("request {i} served"),
                   "timestamp": format!("2025-02-01T13:{:02}:{:02}Z", (i / 60) % 60, i % 60)})
            .to_string()
                + "\n"
        })
        .collect()
}

/// Every stored id of the key's tenant, all pages (duplicates kept, to count them).
async fn stored_ids(http: &reqwest::Client, url: &str, key: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{url}/v1/logs?limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let response = http.get(path).bearer_auth(key).send().await.expect("query");
        let page: Value = response.json().await.expect("json");
        for event in page["events"].as_array().into_iter().flatten() {
            ids.push(event["id"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

/// The victim is SIGKILLed after 4,000 of 10,000 events; a replacement
/// process starts, as a supervisor (systemd, Kubernetes) would start one,
/// and the group hands the dead member's partitions on. Requests after the
/// kill go to the survivor and the replacement.
///
/// With tansu 0.6 the hand-over needs that join: the broker evicts the dead
/// member after the session timeout, but the survivor's rejoin then keeps
/// only its own partitions (observed: revoked [2, 3], assigned [2, 3]); a
/// new member's join reassigns all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_consumer_mid_stream_loses_nothing() {
    // Several tenants, so their events spread over the partitions and both
    // processes own some when the victim dies.
    let mut keys = Vec::new();
    for _ in 0..4 {
        keys.push(tenant_key("crash").await.1);
    }
    let run = unique_tenant("crash-run");
    let http = reqwest::Client::new();
    let mut victim = spawn(&run, &http).await;
    let survivor = spawn(&run, &http).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut accepted: Vec<HashSet<String>> = vec![HashSet::new(); keys.len()];
    let mut replacement: Option<Process> = None;
    for n in 0..20 {
        if n == 8 {
            victim.child.kill().expect("SIGKILL");
            let _ = victim.child.wait();
            replacement = Some(spawn(&run, &http).await);
        }
        let target = match &replacement {
            None if n % 2 == 0 => &victim.url,
            Some(replacement) if n % 2 == 0 => &replacement.url,
            _ => &survivor.url,
        };
        let response = http
            .post(format!("{target}/v1/logs"))
            .bearer_auth(&keys[n % keys.len()])
            .header("content-type", "application/x-ndjson")
            .body(body(n * 500, (n + 1) * 500))
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 202);
        let answer: Value = response.json().await.expect("json");
        for id in answer["ids"].as_array().expect("ids") {
            accepted[n % keys.len()].insert(id.as_str().expect("id").to_owned());
        }
    }
    assert_eq!(accepted.iter().map(HashSet::len).sum::<usize>(), 10_000);

    for (key, accepted) in keys.iter().zip(&accepted) {
        let started = Instant::now();
        let ids = loop {
            let ids = stored_ids(&http, &survivor.url, key).await;
            if ids.len() >= accepted.len() || started.elapsed() > Duration::from_secs(120) {
                break ids;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let distinct: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(distinct.len(), ids.len(), "queries never show a duplicate");
        let missing = accepted.difference(&distinct).count();
        assert_eq!(
            missing, 0,
            "{missing} accepted events lost after the SIGKILL"
        );
        assert_eq!(&distinct, accepted);
    }
}
