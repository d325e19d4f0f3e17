//! The database stores (tenants and keys, incidents, dead letters, signals) on SQLite
//! or PostgreSQL through sqlx's `Any` driver: one adapter and one portable
//! migration set, so the embedded default and production run the same
//! queries and cannot drift apart.

mod dead_letters;
mod incidents;
mod signals;
mod tenants;

use std::path::Path;
use std::sync::{Arc, Once};

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor};

use super::{DatabaseStores, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/database");

/// Tenants, keys, incidents and dead letters in one SQL database.
pub struct SqlDatabase {
    pool: AnyPool,
    /// Alerts of one process are folded one at a time, so two workers never
    /// race to create the same incident; across processes the unique index
    /// on (tenant, group) decides and the loser retries.
    incidents_lock: tokio::sync::Mutex<()>,
    /// PostgreSQL locks rows it is about to update (`FOR UPDATE`); SQLite
    /// has one writer at a time anyway and no such clause.
    is_postgres: bool,
}

impl SqlDatabase {
    /// `sluice.db` (or any SQLite file), created if missing, in WAL mode.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Unavailable(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url, 4).await
    }

    /// A PostgreSQL database by URL (`postgres://user:password@host/db`).
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        Self::open(url, 8).await
    }

    async fn open(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot open the database: {error}"))
            })?;
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Unavailable(format!("database migration failed: {error}"))
        })?;
        Ok(Self {
            pool,
            incidents_lock: tokio::sync::Mutex::new(()),
            is_postgres: url.starts_with("postgres"),
        })
    }

    /// A transaction that is going to write. On SQLite it takes the write
    /// lock at `BEGIN IMMEDIATE`: a deferred transaction that reads first
    /// and then writes fails at once with `SQLITE_BUSY` (the busy timeout
    /// does not apply to that upgrade) when another connection wrote in
    /// between, which the concurrent stores of a batch make likely.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Any>, StoreError> {
        let began = if self.is_postgres {
            self.pool.begin().await
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        };
        began.map_err(store_error)
    }

    /// The three stores this database backs.
    pub fn stores(self: Arc<Self>) -> DatabaseStores {
        DatabaseStores {
            tenants: self.clone(),
            incidents: self.clone(),
            dead_letters: self.clone(),
            signals: self,
        }
    }
}

/// Map a driver error: unique violations are the caller's mistake,
/// constraint failures bad data, everything else a backend to retry later.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Invalid(format!("already exists: {}", db.message()))
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() || db.is_check_violation() => {
            StoreError::Rejected(db.message().to_owned())
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => StoreError::Rejected(error.to_string()),
        _ => StoreError::Unavailable(error.to_string()),
    }
}

/// One bound value of a [`Sql`] statement.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Param::Int(Some(value))
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Self {
        Param::Int(value)
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param::Text(Some(value.to_owned()))
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param::Text(Some(value))
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Self {
        Param::Text(value)
    }
}

impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Self {
        Param::Text(value.map(str::to_owned))
    }
}

/// A statement with numbered placeholders (`$1`, `$2`, …), the one syntax
/// both SQLite and PostgreSQL accept; built up with filters appended only
/// when set. `Any` has no placeholder syntax of its own, so sqlx's
/// `QueryBuilder` would write `?`, which PostgreSQL refuses.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Append SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.params.len().to_string());
        self
    }

    pub(crate) fn query(&self) -> Query<'static, Any, AnyArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.text.clone()));
        for param in &self.params {
            query = match param {
                Param::Int(value) => query.bind(*value),
                Param::Text(value) => query.bind(value.clone()),
            };
        }
        query
    }

    pub(crate) async fn fetch_all(&self, pool: &AnyPool) -> Result<Vec<AnyRow>, StoreError> {
        self.query().fetch_all(pool).await.map_err(store_error)
    }

    pub(crate) async fn fetch_optional(
        &self,
        pool: &AnyPool,
    ) -> Result<Option<AnyRow>, StoreError> {
        self.query().fetch_optional(pool).await.map_err(store_error)
    }

    pub(crate) async fn execute(&self, pool: &AnyPool) -> Result<u64, StoreError> {
        self.query()
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(store_error)
    }
}

/// A u64 (fingerprint) as the i64 with the same bits, the widest integer
/// both databases store.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The inverse of [`to_i64`].
pub(crate) fn from_i64(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// Rows fetched one past the page size tell whether another page exists.
pub(crate) fn split_page<T>(
    mut rows: Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> super::TimeCursor,
) -> super::Page<T> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| cursor_of(last).encode())
    } else {
        None
    };
    super::Page {
        items: rows,
        next_cursor,
    }
}

/// Append the "strictly older than the cursor" condition for rows ordered
/// by (`time_column` DESC, id DESC).
pub(crate) fn push_cursor(
    sql: &mut Sql,
    time_column: &str,
    cursor: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(cursor) = cursor {
        let cursor = super::TimeCursor::decode(cursor)?;
        sql.push(&format!(" AND ({time_column} < "))
            .bind(cursor.time_ns)
            .push(&format!(" OR ({time_column} = "))
            .bind(cursor.time_ns)
            .push(" AND id < ")
            .bind(cursor.id)
            .push("))");
    }
    Ok(())
}
