//! The dashboard in a real browser: headless Chromium, driven over
//! WebDriver by `tests/browser/dashboard.py` (Selenium), against an
//! embedded Sluice. A user signs in, searches and pages through logs,
//! sees hostile log lines as inert text, watches a new event arrive in the
//! live tail, and acknowledges, assigns and resolves an incident; the test
//! then checks on the server that what the page did really happened.
//!
//! Chromium, chromedriver and Selenium are installed by
//! `scripts/services.sh up`. Alone:
//! `export SLUICE_TEST_PYTHON=$(scripts/services.sh python)` then
//! `cargo test -p sluice-tests --test browser`. Screenshots of every step
//! are left in `target/browser-artefacts/` (under `CARGO_TARGET_DIR` when
//! set).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::server::TestServer;
use sluice_tests::{root, service};

const WAIT: Duration = Duration::from_secs(60);

fn artefacts() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("browser-artefacts")
}

fn ndjson(lines: impl IntoIterator<Item = Value>) -> String {
    lines.into_iter().map(|l| l.to_string() + "\n").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_searches_tails_and_resolves_an_incident_in_the_dashboard() {
    let sluice = TestServer::start().await;
    // Another tenant's events must never show.
    let globex = sluice.tenant("globex").await;
    let theirs =
        ndjson([json!({"service": "checkout", "level": "info", "message": "globex order pwned"})]);
    assert_eq!(
        sluice
            .post("/v1/logs", &globex, "application/x-ndjson", theirs)
            .await
            .0,
        202
    );

    let mut lines: Vec<Value> = (0..130)
        .map(|i| json!({"service": "checkout", "level": "info", "message": format!("order {i} placed")}))
        .collect();
    lines.push(json!({"service": "web", "level": "warn", "message": "<img src=x onerror=\"window.__pwned=1\">"}));
    lines.push(json!({"service": "web", "level": "warn", "message": "<script>window.__pwned=2</script><b>pwned</b>"}));
    // Fatal events of one service raise an incident on the default chain.
    lines.extend((0..6).map(|i| {
        json!({"service": "payment-api", "level": "FATAL", "message": format!("Out of memory in worker {i}")})
    }));
    let total = lines.len();
    assert_eq!(
        sluice
            .post(
                "/v1/logs",
                &sluice.key,
                "application/x-ndjson",
                ndjson(lines)
            )
            .await
            .0,
        202
    );
    assert_eq!(
        sluice.wait_for_logs(&sluice.key, total, WAIT).await.len(),
        total
    );
    let mut incidents = Vec::new();
    for _ in 0..100 {
        let (_, page) = sluice.get("/v1/incidents", &sluice.key).await;
        incidents = page["incidents"].as_array().cloned().unwrap_or_default();
        if !incidents.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        incidents.len(),
        1,
        "fatal events must raise one incident: {incidents:#?}"
    );

    let output = tokio::process::Command::new(service("SLUICE_TEST_PYTHON"))
        .arg(root().join("tests/browser/dashboard.py"))
        .arg(&sluice.url)
        .arg(&sluice.key)
        .arg(artefacts())
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "dashboard.py failed: {}\nstdout: {stdout}\nstderr: {}\nscreenshots: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        artefacts().display()
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("dashboard.py prints JSON");

    // Signing in.
    assert!(
        !seen["wrong_key_error"].as_str().unwrap().is_empty(),
        "{seen}"
    );
    assert_eq!(seen["tenant"], "tenant dev", "{seen}");
    assert_eq!(seen["key_in_session_storage"], true);
    assert_eq!(seen["key_in_local_storage"], false);
    assert_eq!(seen["key_in_urls"], false);
    // Search with filters and pagination: 100 on the first page, all 130 after "Older".
    assert_eq!(seen["first_page_services"], json!(["checkout"]));
    assert_eq!(seen["search_total"], 130);
    assert_eq!(seen["more_after_last_page"], false);
    // Hostile log lines are shown verbatim and never become markup or script.
    assert_eq!(
        seen["hostile_messages"],
        json!([
            "<img src=x onerror=\"window.__pwned=1\">",
            "<script>window.__pwned=2</script><b>pwned</b>"
        ])
    );
    assert_eq!(seen["hostile_elements"], 0);
    assert_eq!(seen["pwned"], Value::Null);
    // Live tail: only the event matching the filter, which arrived after connecting.
    let tail = seen["tail_messages"].as_array().unwrap();
    assert_eq!(tail.len(), 1, "{tail:?}");
    assert!(
        tail[0].as_str().unwrap().starts_with("tail event arrived "),
        "{tail:?}"
    );
    // Incident lifecycle, and the server agrees.
    assert_eq!(seen["incident_status_before"], "open");
    assert_eq!(seen["incident_status_after"], "resolved");
    let id = seen["incident_id"].as_str().unwrap();
    assert_eq!(id, incidents[0]["id"]);
    let (status, incident) = sluice
        .get(&format!("/v1/incidents/{id}"), &sluice.key)
        .await;
    assert_eq!(status, 200);
    assert_eq!(incident["status"], "resolved", "{incident}");
    assert_eq!(incident["assignee"], "alice", "{incident}");
    // Charts and pipelines rendered from the API.
    assert!(seen["chart_bars"].as_u64().unwrap() > 0, "{seen}");
    let services = seen["chart_services"].as_array().unwrap();
    let lines = seen["service_lines"].as_array().unwrap();
    for name in ["checkout", "payment-api", "web"] {
        assert!(services.contains(&json!(name)), "{services:?}");
        assert!(
            lines.contains(&json!(name)),
            "a line per service over time: {lines:?}"
        );
    }
    assert_eq!(
        seen["service_error_lines"].as_u64(),
        Some(lines.len() as u64),
        "{seen}"
    );
    assert_eq!(seen["dead_letters"], "0");
    assert!(seen["steps"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(seen["page_errors"], json!([]), "the page logged errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_tail_takes_the_key_as_subprotocol_and_echoes_it() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let sluice = TestServer::start().await;
    let connect = |key: &str| {
        let mut request = format!("{}/v1/tail", sluice.url.replace("http", "ws"))
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            format!("sluice.key.{key}").parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request)
    };
    assert!(
        connect("slk_wrong_key").await.is_err(),
        "an unknown key is refused"
    );
    let (_socket, response) = connect(&sluice.key)
        .await
        .expect("the key as subprotocol is accepted");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        format!("sluice.key.{}", sluice.key).as_str()
    );
    // Over plain HTTP the subprotocol header is no credential.
    let response = sluice
        .http
        .get(format!("{}/v1/logs", sluice.url))
        .header(
            "sec-websocket-protocol",
            format!("sluice.key.{}", sluice.key),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
