//! Every store adapter against the same conformance suite: SQLite always,
//! PostgreSQL and ClickHouse on the servers `scripts/services.sh up` starts.

use std::sync::Arc;

use sluice::store::sql::SqlDatabase;
use sluice::store::sqlite_logs::SqliteLogStore;
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
async fn sqlite_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = SqliteLogStore::open(&dir.path().join("logs.db"))
        .await
        .expect("open");
    stores::logs(Arc::new(logs)).await;
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
