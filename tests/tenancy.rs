//! Tenancy, checked on what is stored rather than only on what the API
//! shows: every row of every table names a tenant, no store holds a usable
//! API key (not even one a tenant logged by mistake), and every query
//! endpoint answers a foreign key as if the other tenant's data did not
//! exist.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_tests::server::TestServer;

const WAIT: Duration = Duration::from_secs(60);

/// 6 fatal and 14 info events, one the chain fails, and one that carries
/// the sender's own key in a message and an attribute.
fn body(tenant: &str, key: &str) -> String {
    let mut lines: Vec<String> = (0..20)
        .map(|i| {
            let (level, message) = if i < 6 {
                ("FATAL", format!("Out of memory in worker {i}"))
            } else {
                ("INFO", format!("{tenant} heartbeat {i}"))
            };
            json!({"service": "api", "level": level, "message": message}).to_string()
        })
        .collect();
    lines.push(json!({"service": "api", "level": "INFO", "message": "fail"}).to_string());
    lines.push(
        json!({"service": "api", "level": "WARN",
               "message": format!("retrying with Authorization: Bearer {key}"),
               "api_key": key})
        .to_string(),
    );
    lines.join("\n") + "\n"
}

async fn wait_for(sluice: &TestServer, key: &str, path: &str, field: &str) -> Vec<Value> {
    let started = std::time::Instant::now();
    loop {
        let (_, page) = sluice.get(path, key).await;
        let items = page[field].as_array().cloned().unwrap_or_default();
        if !items.is_empty() || started.elapsed() > WAIT {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every table of a SQLite file: (table, rows, rows without a tenant).
async fn sqlite_tenancy(path: &std::path::Path) -> Vec<(String, i64, i64)> {
    use sqlx::Row;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("open sqlite");
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(&pool)
    .await
    .expect("tables")
    .iter()
    .map(|row| row.get::<String, _>(0))
    .collect();
    let mut found = Vec::new();
    for table in tables {
        // The tenants table is keyed by the tenant's name; every other
        // table carries `tenant_id`.
        let column = if table == "tenants" {
            "name"
        } else {
            "tenant_id"
        };
        // Table names come from the file's own catalogue.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), sum(CASE WHEN {column} IS NULL OR {column} = '' THEN 1 ELSE 0 END) \
             FROM {table}"
        )))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("table {table} has no {column} column: {e}"));
        found.push((
            table,
            row.get::<i64, _>(0),
            row.get::<Option<i64>, _>(1).unwrap_or(0),
        ));
    }
    pool.close().await;
    found
}

/// Every byte a store directory holds (database files, WAL, journals).
fn dump(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && name.contains(".db") {
            bytes.extend(std::fs::read(&path).expect("read store file"));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_hold_tenants_on_every_row_no_keys_and_answer_foreign_keys_with_nothing() {
    let pipelines = tempfile::tempdir().unwrap();
    std::fs::write(
        pipelines.path().join("default.toml"),
        "[pipeline]\ndefault = true\n\n[[steps]]\nplugin = \"normalize\"\n\n[[steps]]\nplugin = \"redact\"\n\n[[steps]]\nplugin = \"testkit\"\n\n[[steps]]\nplugin = \"fingerprint\"\n\n[[steps]]\nplugin = \"alert\"\n",
    )
    .unwrap();
    let dir = pipelines.path().to_owned();
    let sluice = TestServer::start_with(|c| c.pipelines_dir = dir, Vec::new()).await;
    let globex = sluice.tenant("globex").await;
    let tenants = [("dev", sluice.key.clone()), ("globex", globex.clone())];
    for (tenant, key) in &tenants {
        let (status, answer) = sluice
            .post("/v1/logs", key, "application/x-ndjson", body(tenant, key))
            .await;
        assert_eq!(status, 202, "{answer}");
    }
    for (_, key) in &tenants {
        assert_eq!(sluice.wait_for_logs(key, 21, WAIT).await.len(), 21);
        assert!(
            !wait_for(&sluice, key, "/v1/incidents", "incidents")
                .await
                .is_empty()
        );
        assert_eq!(
            wait_for(&sluice, key, "/v1/dead-letters", "dead_letters")
                .await
                .len(),
            1
        );
    }

    // Every endpoint, with globex's key, on dev's records.
    let dev_log = sluice.all_logs(&sluice.key, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dev_incident = wait_for(&sluice, &sluice.key, "/v1/incidents", "incidents").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dev_letter =
        wait_for(&sluice, &sluice.key, "/v1/dead-letters", "dead_letters").await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    for path in [
        format!("/v1/logs/{dev_log}"),
        format!("/v1/incidents/{dev_incident}"),
        format!("/v1/dead-letters/{dev_letter}"),
    ] {
        assert_eq!(sluice.get(&path, &globex).await.0, 404, "{path}");
    }
    let patched = sluice
        .http
        .patch(format!("{}/v1/incidents/{dev_incident}", sluice.url))
        .bearer_auth(&globex)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 404);
    let (status, replay) = sluice
        .post(
            "/v1/dead-letters/replay",
            &globex,
            "application/json",
            json!({"ids": [dev_letter]}).to_string(),
        )
        .await;
    assert!(
        status == 404 || replay["replayed"] == 0,
        "a foreign dead letter is never replayed: {status} {replay}"
    );
    for (path, field) in [
        ("/v1/logs?limit=1000", "events"),
        ("/v1/incidents", "incidents"),
        ("/v1/dead-letters", "dead_letters"),
    ] {
        let (_, page) = sluice.get(path, &globex).await;
        let items = page[field].as_array().cloned().unwrap_or_default();
        assert!(!items.is_empty(), "{path}");
        for item in &items {
            // Incidents carry no tenant field: their sample events must be
            // globex's own.
            if let Some(samples) = item["sample_event_ids"].as_array() {
                for sample in samples {
                    let path = format!("/v1/logs/{}", sample.as_str().unwrap());
                    assert_eq!(sluice.get(&path, &globex).await.0, 200, "{item}");
                }
                continue;
            }
            let tenant = item["tenant"]
                .as_str()
                .or_else(|| item["event"]["tenant"].as_str());
            assert_eq!(tenant, Some("globex"), "{path}: {item}");
        }
    }
    let (_, overview) = sluice
        .get(
            "/v1/metrics/overview?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&bucket_seconds=31536000",
            &globex,
        )
        .await;
    assert_eq!(overview["total"], 21, "{overview}");
    for path in ["/v1/admin/dead-letters", "/v1/pipelines/rollback"] {
        let response = sluice
            .http
            .get(format!("{}{path}", sluice.url))
            .bearer_auth(&globex)
            .send()
            .await
            .unwrap();
        assert!(
            [401, 403, 405].contains(&response.status().as_u16()),
            "{path}: {}",
            response.status()
        );
    }

    // What is stored: every row names its tenant; no key anywhere.
    let data = sluice.data.path().to_owned();
    sluice.server.shutdown().await.unwrap();
    for file in ["sluice.db", "logs.db"] {
        for (table, rows, without) in sqlite_tenancy(&data.join(file)).await {
            assert_eq!(
                without, 0,
                "{file}: {without} rows of {table} name no tenant"
            );
            assert!(
                rows > 0,
                "{file}: {table} is empty; the check would prove nothing"
            );
        }
    }
    let stored = dump(&data);
    assert!(stored.len() > 10_000, "the dump holds the stores");
    assert!(
        contains(&stored, "globex heartbeat"),
        "the dump is readable text"
    );
    for (tenant, key) in &tenants {
        let secret = key.rsplit('_').next().unwrap();
        assert!(
            !contains(&stored, key) && !contains(&stored, secret),
            "{tenant}'s API key is readable in the stores"
        );
    }
}
