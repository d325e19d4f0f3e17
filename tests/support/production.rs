//! The production path's test set-up: a config on the servers
//! `scripts/services.sh up` started, and tenants in their shared PostgreSQL.

use std::path::Path;

use sluice::config::{Config, DatabaseConfig, KafkaConfig, LogStoreConfig, QueueConfig};
use sluice::store::TenantStore;
use sluice::store::sql::SqlDatabase;

use crate::server::test_config;
use crate::stores::unique_tenant;
use crate::{root, service};

/// Kafka, ClickHouse and PostgreSQL, with topics and a consumer group of
/// `run`'s own, so runs never see each other's events.
pub fn production_config(data: &Path, run: &str) -> Config {
    let mut config = test_config(data, &root().join("pipelines"));
    config.dev_tenant = false;
    config.queue = QueueConfig::Kafka(KafkaConfig {
        brokers: service("SLUICE_TEST_KAFKA_BROKERS"),
        topic: format!("sluice.raw.{run}"),
        dlq_topic: format!("sluice.dlq.{run}"),
        group: format!("sluice.{run}"),
        partitions: 4,
        capacity_events: 200_000,
        ..KafkaConfig::default()
    });
    config.log_store = clickhouse_logs("sluice_e2e");
    config.database = DatabaseConfig::Postgres {
        url: service("SLUICE_TEST_POSTGRES_URL"),
    };
    config
}

/// A fresh tenant named after `prefix` and a key for it, in the shared
/// PostgreSQL: (tenant, plaintext key).
pub async fn tenant_key(prefix: &str) -> (String, String) {
    let tenant = unique_tenant(prefix);
    let key = create_tenant(&tenant).await;
    (tenant, key)
}

/// Create `tenant` in the shared PostgreSQL; returns a plaintext key for it.
pub async fn create_tenant(tenant: &str) -> String {
    let database = SqlDatabase::open_postgres(&service("SLUICE_TEST_POSTGRES_URL"))
        .await
        .expect("postgres");
    database.create_tenant(tenant, 0).await.expect("tenant");
    let (_, key) = database.create_key(tenant, "e2e", 0).await.expect("key");
    key
}

/// A ClickHouse database name of its own, starting with `prefix`, for a
/// test that changes a table or must not see other runs' rows.
pub fn unique_database(prefix: &str) -> String {
    unique_tenant(prefix).replace(['-', '.'], "_")
}

/// Logs in `database` of the test ClickHouse.
pub fn clickhouse_logs(database: &str) -> LogStoreConfig {
    LogStoreConfig::Clickhouse {
        url: service("SLUICE_TEST_CLICKHOUSE_URL"),
        database: database.to_owned(),
    }
}

/// Run `sql` on the test ClickHouse over HTTP; its answer, or a panic
/// naming the server's error.
pub async fn clickhouse_sql(sql: impl Into<String>) -> String {
    let response = reqwest::Client::new()
        .post(service("SLUICE_TEST_CLICKHOUSE_URL"))
        .body(sql.into())
        .send()
        .await
        .expect("clickhouse");
    let ok = response.status().is_success();
    let body = response.text().await.unwrap_or_default();
    assert!(ok, "clickhouse: {body}");
    body
}
