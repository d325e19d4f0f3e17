//! Real `sluice` processes in one consumer group on the production servers,
//! killed (SIGKILL) or joining and leaving mid-stream. Everything accepted
//! is stored, and queries never show a duplicate.

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

impl Process {
    /// SIGTERM, as a deployment stops a process, and wait for it to drain,
    /// commit and leave the group.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "sluice exited with {status} on SIGTERM");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sluice did not stop within 60 s of SIGTERM");
    }
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

/// The group's committed offset and the high watermark of each partition:
/// tells a partition nobody consumes (committed < high) from a skipped one.
fn group_offsets(run: &str) -> String {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let topic = format!("sluice.raw.{run}");
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", service("SLUICE_TEST_KAFKA_BROKERS"))
        .set("group.id", format!("sluice.{run}"))
        .create()
        .expect("consumer");
    let mut list = rdkafka::TopicPartitionList::new();
    for partition in 0..4 {
        list.add_partition(&topic, partition);
    }
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .map(|l| {
            format!(
                "{:?}",
                l.elements()
                    .iter()
                    .map(|e| (e.partition(), e.offset()))
                    .collect::<Vec<_>>()
            )
        })
        .unwrap_or_else(|e| e.to_string());
    let high: Vec<_> = (0..4)
        .map(|p| {
            consumer
                .fetch_watermarks(&topic, p, Duration::from_secs(10))
                .map(|w| w.1)
                .ok()
        })
        .collect();
    format!("committed {committed}; high watermarks {high:?}")
}

/// A stream of requests from several tenants, so events spread over the
/// partitions and every process owns some; what each tenant had accepted.
struct Stream {
    keys: Vec<String>,
    accepted: Vec<HashSet<String>>,
    sent: usize,
}

/// Events per request.
const REQUEST: usize = 500;

impl Stream {
    async fn new(tenants: usize) -> Self {
        let mut keys = Vec::new();
        for _ in 0..tenants {
            keys.push(tenant_key("crash").await.1);
        }
        Self {
            accepted: vec![HashSet::new(); keys.len()],
            keys,
            sent: 0,
        }
    }

    /// POST the next request (the next tenant in turn) to `url`.
    async fn send(&mut self, http: &reqwest::Client, url: &str) {
        let n = self.sent / REQUEST;
        let tenant = n % self.keys.len();
        let response = http
            .post(format!("{url}/v1/logs"))
            .bearer_auth(&self.keys[tenant])
            .header("content-type", "application/x-ndjson")
            .body(body(self.sent, self.sent + REQUEST))
            .send()
            .await
            .expect("post");
        assert_eq!(response.status().as_u16(), 202);
        let answer: Value = response.json().await.expect("json");
        for id in answer["ids"].as_array().expect("ids") {
            self.accepted[tenant].insert(id.as_str().expect("id").to_owned());
        }
        self.sent += REQUEST;
    }

    /// Every accepted event is stored, and queries show each once.
    async fn assert_all_stored_once(&self, http: &reqwest::Client, url: &str) {
        assert_eq!(
            self.accepted.iter().map(HashSet::len).sum::<usize>(),
            self.sent
        );
        for (key, accepted) in self.keys.iter().zip(&self.accepted) {
            let started = Instant::now();
            let ids = loop {
                let ids = stored_ids(http, url, key).await;
                if ids.len() >= accepted.len() || started.elapsed() > Duration::from_secs(120) {
                    break ids;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            let distinct: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(distinct.len(), ids.len(), "queries never show a duplicate");
            let missing = accepted.difference(&distinct).count();
            assert_eq!(missing, 0, "{missing} accepted events lost");
            assert_eq!(&distinct, accepted);
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
    let mut stream = Stream::new(4).await;
    let run = unique_tenant("crash-run");
    let http = reqwest::Client::new();
    let mut processes = vec![spawn(&run, &http).await, spawn(&run, &http).await];
    tokio::time::sleep(Duration::from_secs(2)).await;
    for n in 0..20 {
        if n == 8 {
            processes.remove(0); // dropped: SIGKILL
            processes.push(spawn(&run, &http).await);
        }
        let url = processes[n % 2].url.clone();
        stream.send(&http, &url).await;
    }
    stream
        .assert_all_stored_once(&http, &processes[0].url)
        .await;
}

/// Twenty SIGKILLs at random points of a stream over four tenants, each
/// victim replaced by a new process. The seed is printed; set
/// `SLUICE_TEST_SEED` to replay a run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sigkills_at_random_points_lose_nothing() {
    let seed: u64 = std::env::var("SLUICE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("seed {seed}");
    let mut state = seed | 1;
    let mut random = move |below: u64| {
        // xorshift64: enough to vary where the kills land.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let mut stream = Stream::new(4).await;
    let run = unique_tenant("kills-run");
    let http = reqwest::Client::new();
    let mut processes = vec![spawn(&run, &http).await, spawn(&run, &http).await];
    for _ in 0..20 {
        for _ in 0..(1 + random(3)) {
            let url = processes[random(2) as usize].url.clone();
            stream.send(&http, &url).await;
        }
        // Let the consumers get into the batch just sent, for a random while.
        tokio::time::sleep(Duration::from_millis(random(400))).await;
        processes.remove(random(2) as usize); // dropped: SIGKILL
        processes.push(spawn(&run, &http).await);
    }
    println!("{} events over 20 kills", stream.sent);
    // tansu only reassigns a dead member's partitions when a member joins
    // after its eviction (see the test above): let the session timeout
    // (10 s) evict the last victims, then join once more.
    tokio::time::sleep(Duration::from_secs(12)).await;
    processes.push(spawn(&run, &http).await);
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!("{}", group_offsets(&run));
    stream
        .assert_all_stored_once(&http, &processes[0].url)
        .await;
}

/// Rebalance churn: a second consumer joins and leaves (SIGTERM: drain,
/// commit, leave) 20 times while the stream goes on through the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_joining_and_leaving_twenty_times_loses_nothing() {
    let mut stream = Stream::new(4).await;
    let run = unique_tenant("churn-run");
    let http = reqwest::Client::new();
    let steady = spawn(&run, &http).await;
    for _ in 0..20 {
        let visitor = spawn(&run, &http).await;
        stream.send(&http, &steady.url).await;
        stream.send(&http, &visitor.url).await;
        visitor.terminate();
        stream.send(&http, &steady.url).await;
    }
    stream.assert_all_stored_once(&http, &steady.url).await;
}
