//! Every store adapter against the same conformance suite: SQLite always,
//! PostgreSQL and ClickHouse on the servers `scripts/services.sh up` starts.

use std::sync::Arc;

use sluice::store::sql::SqlDatabase;
use sluice::store::sqlite_logs::SqliteLogStore;
use sluice_tests::production::{clickhouse_sql, unique_database};
use sluice_tests::{service, stores};

async fn sqlite() -> (tempfile::TempDir, Arc<SqlDatabase>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = SqlDatabase::open_sqlite(&dir.path().join("sluice.db"))
        .await
        .expect("open sqlite");
    (dir, Arc::new(database))
}

#[tokio::test]
async fn sqlite_tenants_and_keys() {
    let (_dir, db) = sqlite().await;
    stores::tenants_and_keys(db).await;
}

#[tokio::test]
async fn sqlite_incidents() {
    let (_dir, db) = sqlite().await;
    stores::incidents(db).await;
}

#[tokio::test]
async fn sqlite_dead_letters() {
    let (_dir, db) = sqlite().await;
    stores::dead_letters(db).await;
}

#[tokio::test]
async fn sqlite_signals() {
    let (_dir, db) = sqlite().await;
    stores::signals(db).await;
}

#[tokio::test]
async fn postgres_signals() {
    stores::signals(postgres().await).await;
}

#[tokio::test]
async fn sqlite_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = SqliteLogStore::open(&dir.path().join("logs.db"))
        .await
        .expect("open");
    stores::logs(Arc::new(logs)).await;
}

/// A `logs.db` made before the rowid table (migration 1 only, with events
/// in it) keeps every event through the upgrade, and replays stay no-ops.
#[tokio::test]
async fn sqlite_log_store_upgrade_keeps_events() {
    use sluice::store::LogStore;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("logs.db");
    let whole = sluice::event::from_json(&serde_json::json!({
        "id": "e2", "tenant": "acme", "received": 6, "level": "warn", "message": "whole",
        "attributes": {"n": 5, "list": [1, 2]}, "raw": "whole n=5"
    }))
    .expect("an event");
    let first = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        sluice_tests::root().join("host/migrations/sqlite_logs/0001_init.sql"),
        first.path().join("0001_init.sql"),
    )
    .expect("copy migration 1");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("create");
        sqlx::migrate::Migrator::new(first.path())
            .await
            .expect("migration 1")
            .run(&pool)
            .await
            .expect("run migration 1");
        sqlx::query(
            "INSERT INTO logs (tenant_id, id, time_ns, received_ns, service, level, message, \
             pipeline, pipeline_version, body) VALUES ('acme', 'e1', 5, 6, 'api', 'info', 'kept', \
             'default', 1, '{\"id\":\"e1\",\"tenant\":\"acme\",\"message\":\"kept\",\
             \"received\":\"1970-01-01T00:00:00.000000006Z\"}')",
        )
        .execute(&pool)
        .await
        .expect("an old event");
        // As versions before the slim body wrote it: the whole event in
        // `body`, its columns beside it.
        sqlx::query(
            "INSERT INTO logs (tenant_id, id, time_ns, received_ns, service, level, message, \
             pipeline, pipeline_version, body) VALUES ('acme', 'e2', 6, 6, NULL, 'warn', 'whole', \
             'default', 1, ?)",
        )
        .bind(sluice::event::to_json(&whole).to_string())
        .execute(&pool)
        .await
        .expect("an old whole event");
        pool.close().await;
    }
    let logs = SqliteLogStore::open(&path).await.expect("upgrade");
    let kept = logs.get("acme", "e1").await.expect("get").expect("kept");
    assert_eq!(kept.event.message, "kept");
    let read = logs.get("acme", "e2").await.expect("get").expect("kept");
    assert_eq!(read.event, whole, "an old body reads back exactly");
    logs.insert(std::slice::from_ref(&kept))
        .await
        .expect("replay");
    let page = logs
        .query(
            "acme",
            &sluice::store::LogQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("query");
    assert_eq!(
        page.items.len(),
        2,
        "a replay after the upgrade is still a no-op"
    );
}

#[tokio::test]
async fn sqlite_reopens_an_existing_database() {
    let (dir, db) = sqlite().await;
    stores::tenants_and_keys(db.clone()).await;
    drop(db);
    let again = SqlDatabase::open_sqlite(&dir.path().join("sluice.db"))
        .await
        .expect("reopen runs no migration twice");
    stores::tenants_and_keys(Arc::new(again)).await;
}

async fn postgres() -> Arc<SqlDatabase> {
    let url = service("SLUICE_TEST_POSTGRES_URL");
    Arc::new(
        SqlDatabase::open_postgres(&url)
            .await
            .expect("open postgres"),
    )
}

#[tokio::test]
async fn postgres_tenants_and_keys() {
    stores::tenants_and_keys(postgres().await).await;
}

#[tokio::test]
async fn postgres_incidents() {
    stores::incidents(postgres().await).await;
}

#[tokio::test]
async fn postgres_dead_letters() {
    stores::dead_letters(postgres().await).await;
}

#[tokio::test]
async fn clickhouse_logs() {
    let url = service("SLUICE_TEST_CLICKHOUSE_URL");
    let logs = sluice::store::clickhouse_logs::ClickHouseLogStore::open(&url, "sluice_test")
        .await
        .expect("open clickhouse");
    stores::logs(Arc::new(logs)).await;
}

/// A log table made before attributes had columns gains them on open, and
/// attributes become filterable in SQL.
#[tokio::test]
async fn clickhouse_upgrades_an_older_table_and_keeps_attributes_as_columns() {
    use sluice::store::{LogStore, StoredEvent};

    let url = service("SLUICE_TEST_CLICKHOUSE_URL");
    let database = unique_database("sluice_upgrade");
    clickhouse_sql(format!("CREATE DATABASE `{database}`")).await;
    clickhouse_sql(format!(
        "CREATE TABLE `{database}`.logs (tenant_id String, id String, time_ns Int64, \
         received_ns Int64, project Nullable(String), service String, level String, \
         message String, template Nullable(String), fingerprint Nullable(UInt64), \
         pipeline String, pipeline_version UInt64, body String) \
         ENGINE = ReplacingMergeTree() \
         PARTITION BY toDate(toDateTime(intDiv(time_ns, 1000000000))) \
         ORDER BY (tenant_id, time_ns, id)"
    ))
    .await;
    let logs = sluice::store::clickhouse_logs::ClickHouseLogStore::open(&url, &database)
        .await
        .expect("open upgrades the table");
    sluice::store::clickhouse_logs::ClickHouseLogStore::open(&url, &database)
        .await
        .expect("a second open finds nothing to do");
    let event = stores::test_event(
        "acme",
        "e1",
        1_700_000_000_000_000_000,
        "api",
        sluice::runtime::Level::Error,
        "payment failed",
        1,
    );
    logs.insert(&[StoredEvent {
        event,
        pipeline: "default".into(),
        pipeline_version: 1,
    }])
    .await
    .expect("insert");
    let found = clickhouse_sql(format!(
        "SELECT id, attribute_values[indexOf(attribute_keys, 'user')] FROM `{database}`.logs \
         WHERE attribute_values[indexOf(attribute_keys, 'http.status')] = '500'"
    ))
    .await;
    assert_eq!(found.trim(), "e1\t[EMAIL]");
    clickhouse_sql(format!("DROP DATABASE `{database}`")).await;
}
