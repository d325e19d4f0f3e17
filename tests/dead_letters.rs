//! Dead letters: stored with their reason, visible through the API and the
//! CLI, and replayed through the current or a pinned pipeline version.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use sluice_tests::server::TestServer;

fn pipeline(dir: &Path, with_testkit: bool) {
    let testkit = if with_testkit {
        "\n[[steps]]\nplugin = \"testkit\"\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("default.toml"),
        format!("[pipeline]\ndefault = true\n\n[[steps]]\nplugin = \"normalize\"\n{testkit}"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_events_are_dead_lettered_listed_and_replayed() {
    let pipelines = tempfile::tempdir().unwrap();
    pipeline(pipelines.path(), true);
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let registry = sluice.server.state.registry.clone();
    let failing_version = registry.snapshot().for_tenant("dev").unwrap().version;

    assert_eq!(
        sluice
            .post(
                "/v1/logs",
                &sluice.key,
                "text/plain",
                "ok one\nfail\nok two\n"
            )
            .await
            .0,
        202
    );
    sluice
        .wait_for_logs(&sluice.key, 2, Duration::from_secs(30))
        .await;
    let mut letters = Vec::new();
    let started = Instant::now();
    while letters.is_empty() && started.elapsed() < Duration::from_secs(30) {
        let (_, page) = sluice.get("/v1/dead-letters", &sluice.key).await;
        letters = page["dead_letters"].as_array().cloned().unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter["tenant"], "dev");
    assert_eq!(letter["step"], "testkit");
    assert_eq!(letter["code"], "rejected");
    assert_eq!(letter["error"], "rejected by plugin: asked to fail");
    assert_eq!(letter["plugin"], "sluice-fixture-testkit@0.1.0");
    assert_eq!(letter["plugin_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(letter["pipeline_version"], failing_version);
    assert_eq!(
        letter["event"]["raw"], "fail",
        "the original event, as it entered the pipeline"
    );
    let id = letter["id"].as_str().unwrap().to_owned();
    assert_eq!(
        sluice
            .get(&format!("/v1/dead-letters/{id}"), &sluice.key)
            .await
            .0,
        200
    );
    let (_, listing) = sluice.get("/v1/pipelines", &sluice.key).await;
    assert_eq!(listing["dead_letters"], 1);

    // The operator's CLI sees it in the same database.
    let exe = std::env::current_exe().unwrap();
    let sluice_bin = exe.parent().and_then(Path::parent).unwrap().join("sluice");
    let output = Command::new(&sluice_bin)
        .args(["dlq", "list"])
        .env("SLUICE_DATA_DIR", sluice.data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&id) && stdout.contains("rejected"),
        "{stdout}"
    );

    // Replaying under the failing version (pinned) fails it again…
    let (status, answer) = sluice
        .post(
            "/v1/dead-letters/replay",
            &sluice.key,
            "application/json",
            json!({"ids": [id], "pipeline_version": failing_version}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, page) = sluice.get("/v1/dead-letters", &sluice.key).await;
    let again = page["dead_letters"].as_array().unwrap().clone();
    assert_eq!(
        again.len(),
        1,
        "replayed under the same version, it failed again: {page}"
    );
    assert_ne!(again[0]["id"].as_str().unwrap(), id);

    // …and once the pipeline is fixed, replaying through the current version stores it.
    pipeline(pipelines.path(), false);
    let started = Instant::now();
    while registry.snapshot().for_tenant("dev").unwrap().version == failing_version {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, answer) = sluice
        .post(
            "/v1/dead-letters/replay",
            &sluice.key,
            "application/json",
            r#"{"all": true}"#,
        )
        .await;
    assert_eq!(
        (status, answer["replayed"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
    let events = sluice
        .wait_for_logs(&sluice.key, 3, Duration::from_secs(30))
        .await;
    assert!(
        events.iter().any(|e| e["message"] == "fail"),
        "replayed event stored"
    );
    let (_, page) = sluice.get("/v1/dead-letters", &sluice.key).await;
    assert_eq!(page["dead_letters"].as_array().map(Vec::len), Some(0));
    let (_, page) = sluice
        .get("/v1/dead-letters?include_replayed=true", &sluice.key)
        .await;
    assert_eq!(page["dead_letters"].as_array().map(Vec::len), Some(2));
    sluice.server.shutdown().await.unwrap();
}

/// A process holds a bounded number of plugin instances (by default what
/// the kernel's mapping limit leaves room for). A tenant whose chain would
/// pass it gets dead letters that say which limit to raise; the process
/// stays healthy and the tenants it already serves go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_past_the_instance_limit_gets_dead_letters_and_the_others_go_on() {
    let pipelines = tempfile::tempdir().unwrap();
    pipeline(pipelines.path(), false);
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(
        |c| {
            c.pipelines_dir = dir;
            c.runner.max_plugin_instances = Some(1);
        },
        Vec::new(),
    )
    .await;
    let post = |key: String, body: &'static str| {
        let sluice = &sluice;
        async move { sluice.post("/v1/logs", &key, "text/plain", body).await.0 }
    };
    assert_eq!(post(sluice.key.clone(), "first\n").await, 202);
    sluice
        .wait_for_logs(&sluice.key, 1, Duration::from_secs(30))
        .await;

    let late = sluice.tenant("late").await;
    assert_eq!(post(late.clone(), "no room\n").await, 202);
    let mut letters = Vec::new();
    let started = Instant::now();
    while letters.is_empty() && started.elapsed() < Duration::from_secs(30) {
        let (_, page) = sluice.get("/v1/dead-letters", &late).await;
        letters = page["dead_letters"].as_array().cloned().unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        letters.len(),
        1,
        "the late tenant's event is kept, not lost"
    );
    assert_eq!(letters[0]["code"], "init_failed");
    let error = letters[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("1 plugin instances") && error.contains("runner.max_plugin_instances"),
        "{error}"
    );
    assert_eq!(letters[0]["event"]["raw"], "no room");
    assert_eq!(letters[0]["plugin"], "sluice-plugin-normalize@0.1.0");

    // The tenant already served goes on, and the gauge shows the one instance.
    assert_eq!(post(sluice.key.clone(), "second\n").await, 202);
    sluice
        .wait_for_logs(&sluice.key, 2, Duration::from_secs(30))
        .await;
    let metrics = sluice.metrics().await;
    assert!(
        metrics.contains("sluice_plugin_instances 1\n")
            && metrics.contains("sluice_plugin_instance_capacity 1\n"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("instances"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
