//! Stores: where processed events, incidents, dead letters, tenants and API
//! keys live. In: processed batches from the runner, alerts, dead letters,
//! admin commands. Out: pages of results for the query API and the CLI.
//!
//! Each concept is one trait; adapters implement it per backend:
//! SQLite for the embedded default (`sqlite/`), ClickHouse for logs and
//! PostgreSQL for the rest in production. Every method takes the tenant, and
//! every query filters by it: no method can read across tenants, except the
//! operator's dead-letter listing, which says so.

pub mod clickhouse_logs;
pub mod discard;
pub mod model;
pub mod retention;
pub mod signals;
pub mod sql;
pub mod sqlite_logs;

use std::sync::Arc;

use async_trait::async_trait;

pub use model::*;

use crate::event::DeadLetter;
use crate::runtime::{Alert, FingerprintMerge};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend is unreachable or refused the operation; retrying later
    /// may succeed (the runner holds the batch and does not commit it).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (bad cursor, bad filter); retrying will not help.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No such record for this tenant.
    #[error("not found")]
    NotFound,
    /// The backend rejected these rows as bad data; retrying will not help.
    #[error("rejected by the store: {0}")]
    Rejected(String),
}

impl StoreError {
    /// Whether the same call may succeed later.
    pub fn is_retriable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// Bounded label for metrics.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "unavailable",
            StoreError::Invalid(_) => "invalid",
            StoreError::NotFound => "not_found",
            StoreError::Rejected(_) => "rejected",
        }
    }
}

/// Processed events: written in batches, queried by the API.
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// Store processed events. Idempotent on (tenant, event id): a replayed
    /// event never shows twice in queries.
    async fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError>;

    /// One page of a tenant's events, newest first.
    async fn query(&self, tenant: &str, query: &LogQuery) -> Result<Page<StoredEvent>, StoreError>;

    /// One event of a tenant by id.
    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredEvent>, StoreError>;

    /// Volume and error rate over time, by service and level, top fingerprints.
    async fn overview(&self, tenant: &str, query: &OverviewQuery) -> Result<Overview, StoreError>;

    /// Delete a tenant's events whose event time is before `before_ns`:
    /// per-tenant retention. Returns once the deletion is visible to queries.
    async fn expire(&self, tenant: &str, before_ns: i64) -> Result<(), StoreError>;
}

/// Incidents: one open incident per (tenant, group), where the group is the
/// alert's fingerprint when it has one and its key otherwise.
#[async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    /// Create or update incidents from alerts; returns what changed (for
    /// notifications). A resolved incident whose group alerts again is
    /// reopened (status `open`, `reopened` incremented).
    async fn record_alerts(
        &self,
        tenant: &str,
        alerts: &[Alert],
        now_ns: i64,
    ) -> Result<Vec<IncidentChange>, StoreError>;

    /// Fold incidents of fingerprint `old` into `new` after a template generalised.
    async fn merge_fingerprints(
        &self,
        tenant: &str,
        merges: &[FingerprintMerge],
    ) -> Result<(), StoreError>;

    /// One page of a tenant's incidents, most recently seen first.
    async fn list(&self, tenant: &str, query: &IncidentQuery)
    -> Result<Page<Incident>, StoreError>;

    /// One incident of a tenant.
    async fn get(&self, tenant: &str, id: &str) -> Result<Option<Incident>, StoreError>;

    /// Acknowledge, assign or resolve.
    async fn update(
        &self,
        tenant: &str,
        id: &str,
        patch: &IncidentPatch,
        now_ns: i64,
    ) -> Result<(Incident, Vec<IncidentChange>), StoreError>;
}

/// Dead letters: events that could not be processed, kept for inspection
/// and replay.
#[async_trait]
pub trait DeadLetterStore: Send + Sync + 'static {
    /// Keep these dead letters.
    async fn insert(&self, letters: &[DeadLetter]) -> Result<(), StoreError>;

    /// One page of dead letters; `tenant: None` is the operator's view of all.
    async fn list(
        &self,
        tenant: Option<&str>,
        query: &DeadLetterQuery,
    ) -> Result<Page<DeadLetterRecord>, StoreError>;

    /// One dead letter.
    async fn get(
        &self,
        tenant: Option<&str>,
        id: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError>;

    /// Mark dead letters as replayed (they stay visible, flagged).
    async fn mark_replayed(&self, ids: &[String], now_ns: i64) -> Result<(), StoreError>;

    /// Count of dead letters not yet replayed, per tenant.
    async fn count(&self, tenant: &str) -> Result<u64, StoreError>;
}

/// Signals: daily counts kept when raw logs are not.
#[async_trait]
pub trait SignalStore: Send + Sync + 'static {
    /// Add a batch's counts and first-seen fingerprints.
    async fn record(&self, batch: &signals::SignalBatch) -> Result<(), StoreError>;

    /// A tenant's counters for days `from_day..=to_day`, one project or all
    /// (summed).
    async fn counts(
        &self,
        tenant: &str,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<signals::SignalRow>, StoreError>;

    /// Fingerprints first seen in `from_day..=to_day`.
    async fn new_fingerprints(
        &self,
        tenant: &str,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<signals::NewFingerprint>, StoreError>;
}

/// Tenants and their API keys. Keys are stored as SHA-256 hashes only; the
/// plaintext is shown once, at creation.
#[async_trait]
pub trait TenantStore: Send + Sync + 'static {
    /// Create a tenant; an existing name is `Invalid`.
    async fn create_tenant(&self, name: &str, now_ns: i64) -> Result<Tenant, StoreError>;

    /// All tenants.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Create a key for a tenant; returns its record and the plaintext.
    async fn create_key(
        &self,
        tenant: &str,
        label: &str,
        now_ns: i64,
    ) -> Result<(ApiKey, String), StoreError>;

    /// A tenant's keys (never the plaintext).
    async fn list_keys(&self, tenant: &str) -> Result<Vec<ApiKey>, StoreError>;

    /// Revoke a key by id; it stops authenticating immediately.
    async fn revoke_key(&self, key_id: &str, now_ns: i64) -> Result<ApiKey, StoreError>;

    /// The tenant a presented plaintext key belongs to, unless unknown or revoked.
    async fn authenticate(&self, presented: &str) -> Result<Option<String>, StoreError>;
}

/// The stores a running Sluice uses, chosen by config.
#[derive(Clone)]
pub struct Stores {
    /// Tenants and keys.
    pub tenants: Arc<dyn TenantStore>,
    /// Processed events.
    pub logs: Arc<dyn LogStore>,
    /// Incidents.
    pub incidents: Arc<dyn IncidentStore>,
    /// Dead letters.
    pub dead_letters: Arc<dyn DeadLetterStore>,
    /// Signals.
    pub signals: Arc<dyn SignalStore>,
}

/// The database-backed stores (everything but the log store).
#[derive(Clone)]
pub struct DatabaseStores {
    /// Tenants and keys.
    pub tenants: Arc<dyn TenantStore>,
    /// Incidents.
    pub incidents: Arc<dyn IncidentStore>,
    /// Dead letters.
    pub dead_letters: Arc<dyn DeadLetterStore>,
    /// Signals.
    pub signals: Arc<dyn SignalStore>,
}

/// Open the database the config names: `sluice.db` under the data
/// directory, or PostgreSQL.
pub async fn open_database(config: &crate::config::Config) -> Result<DatabaseStores, StoreError> {
    use crate::config::DatabaseConfig;
    let database = match &config.database {
        DatabaseConfig::Sqlite => {
            sql::SqlDatabase::open_sqlite(&config.data_dir.join("sluice.db")).await?
        }
        DatabaseConfig::Postgres { url } => sql::SqlDatabase::open_postgres(url).await?,
    };
    Ok(Arc::new(database).stores())
}

/// Open the log store the config names.
pub async fn open_logs(config: &crate::config::Config) -> Result<Arc<dyn LogStore>, StoreError> {
    use crate::config::LogStoreConfig;
    Ok(match &config.log_store {
        LogStoreConfig::Sqlite => {
            Arc::new(sqlite_logs::SqliteLogStore::open(&config.data_dir.join("logs.db")).await?)
        }
        LogStoreConfig::Clickhouse { url, database } => {
            Arc::new(clickhouse_logs::ClickHouseLogStore::open(url, database).await?)
        }
        LogStoreConfig::Discard => Arc::new(discard::DiscardLogStore),
    })
}

/// Open every store the config names.
pub async fn open(config: &crate::config::Config) -> Result<Stores, StoreError> {
    let database = open_database(config).await?;
    let logs = open_logs(config).await?;
    Ok(Stores {
        tenants: database.tenants,
        logs,
        incidents: database.incidents,
        dead_letters: database.dead_letters,
        signals: database.signals,
    })
}
