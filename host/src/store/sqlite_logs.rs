//! The embedded log store: processed events in `logs.db` (SQLite, WAL).
//! Every event field is a column (filters and sort keys among them); `body`
//! holds the rest as JSON (`event::json::rest_json`: typed attributes, the
//! raw payload, an absent timestamp or service), so what the API returns
//! is exactly what the chain produced. Rows of earlier versions carry the
//! whole event in `body` and read back unchanged.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::sql::{from_i64, store_error, to_i64};
use super::{
    EVENT_COLUMNS, FingerprintCount, LevelCount, LogQuery, LogStore, Overview, OverviewBucket,
    OverviewQuery, Page, ServiceBucket, ServiceCount, StoreError, StoredEvent, TimeCursor,
    event_time_ns, lay_body, page_size,
};
use crate::event::json::{level_name, parse_level, rest_json};
use crate::runtime::Event;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite_logs");

/// Rows per INSERT statement: 12 bound values each stays far below
/// SQLite's limit on variables per statement.
const ROWS_PER_INSERT: usize = 500;

/// Processed events in SQLite.
pub struct SqliteLogStore {
    pool: SqlitePool,
}

impl SqliteLogStore {
    /// Open (and create or migrate) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Unavailable(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!("cannot open {}: {error}", path.display()))
            })?;
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Unavailable(format!("log store migration failed: {error}"))
        })?;
        Ok(Self { pool })
    }
}

impl SqliteLogStore {
    /// Rows of an overview query whose `?1`, `?2`, `?3` are the tenant and
    /// the time range, and `?4`, when the query has one, is `fourth`.
    async fn in_range(
        &self,
        sql: String,
        tenant: &str,
        query: &OverviewQuery,
        fourth: Option<i64>,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant.to_owned())
            .bind(query.since_ns)
            .bind(query.until_ns);
        if let Some(fourth) = fourth {
            statement = statement.bind(fourth);
        }
        statement.fetch_all(&self.pool).await.map_err(store_error)
    }
}

/// An event from its columns with its body laid over them. Rows written
/// before the body held only the rest carry the whole event there, which
/// wins.
fn from_row(row: &SqliteRow) -> Result<StoredEvent, StoreError> {
    let get_text = |column: &str| row.try_get::<String, _>(column).map_err(store_error);
    let get_optional = |column: &str| {
        row.try_get::<Option<String>, _>(column)
            .map_err(store_error)
    };
    let fingerprint: Option<i64> = row.try_get("fingerprint").map_err(store_error)?;
    let mut event = Event {
        id: get_text("id")?,
        tenant: get_text("tenant_id")?,
        project: get_optional("project")?,
        received_ns: row.try_get("received_ns").map_err(store_error)?,
        timestamp_ns: Some(row.try_get("time_ns").map_err(store_error)?),
        service: get_optional("service")?,
        level: get_optional("level")?.as_deref().and_then(parse_level),
        message: get_text("message")?,
        attributes: Vec::new(),
        raw: None,
        fingerprint: fingerprint.map(from_i64),
        template: get_optional("template")?,
    };
    lay_body(&mut event, &get_text("body")?)?;
    let version: i64 = row.try_get("pipeline_version").map_err(store_error)?;
    Ok(StoredEvent {
        event,
        pipeline: get_text("pipeline")?,
        pipeline_version: u64::try_from(version).unwrap_or_default(),
    })
}

/// `LIKE` pattern matching `text` anywhere, with its wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn push_filters(sql: &mut QueryBuilder<Sqlite>, tenant: &str, query: &LogQuery) {
    sql.push(" WHERE tenant_id = ").push_bind(tenant.to_owned());
    if let Some(service) = &query.service {
        sql.push(" AND service = ").push_bind(service.clone());
    }
    if let Some(level) = query.level {
        sql.push(" AND level = ").push_bind(level_name(level));
    }
    if let Some(fingerprint) = query.fingerprint {
        sql.push(" AND fingerprint = ")
            .push_bind(to_i64(fingerprint));
    }
    if let Some(project) = &query.project {
        sql.push(" AND project = ").push_bind(project.clone());
    }
    if let Some(since) = query.since_ns {
        sql.push(" AND time_ns >= ").push_bind(since);
    }
    if let Some(until) = query.until_ns {
        sql.push(" AND time_ns < ").push_bind(until);
    }
    if let Some(text) = &query.text {
        sql.push(" AND message LIKE ")
            .push_bind(contains_pattern(text))
            .push(" ESCAPE '\\'");
    }
}

fn count(row: &SqliteRow, column: &str) -> Result<u64, StoreError> {
    let n: Option<i64> = row.try_get(column).map_err(store_error)?;
    Ok(u64::try_from(n.unwrap_or_default()).unwrap_or_default())
}

#[async_trait]
impl LogStore for SqliteLogStore {
    async fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let mut sql = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO logs (tenant_id, id, time_ns, received_ns, project, \
                 service, level, message, template, fingerprint, pipeline, pipeline_version, body) ",
            );
            sql.push_values(chunk, |mut row, stored| {
                let event = &stored.event;
                row.push_bind(event.tenant.clone())
                    .push_bind(event.id.clone())
                    .push_bind(event_time_ns(&stored.event))
                    .push_bind(event.received_ns)
                    .push_bind(event.project.clone())
                    .push_bind(event.service.clone())
                    .push_bind(event.level.map(level_name))
                    .push_bind(event.message.clone())
                    .push_bind(event.template.clone())
                    .push_bind(event.fingerprint.map(to_i64))
                    .push_bind(stored.pipeline.clone())
                    .push_bind(i64::try_from(stored.pipeline_version).unwrap_or(i64::MAX))
                    .push_bind(rest_json(event));
            });
            sql.build().execute(&mut *tx).await.map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn expire(&self, tenant: &str, before_ns: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM logs WHERE tenant_id = ? AND time_ns < ?")
            .bind(tenant)
            .bind(before_ns)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn query(&self, tenant: &str, query: &LogQuery) -> Result<Page<StoredEvent>, StoreError> {
        let limit = page_size(query.limit);
        let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {EVENT_COLUMNS} FROM logs"));
        push_filters(&mut sql, tenant, query);
        if let Some(cursor) = &query.cursor {
            let cursor = TimeCursor::decode(cursor)?;
            sql.push(" AND (time_ns < ")
                .push_bind(cursor.time_ns)
                .push(" OR (time_ns = ")
                .push_bind(cursor.time_ns)
                .push(" AND id < ")
                .push_bind(cursor.id)
                .push("))");
        }
        sql.push(" ORDER BY time_ns DESC, id DESC LIMIT ")
            .push_bind(limit as i64 + 1);
        let rows = sql
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        let mut next_cursor = None;
        for (index, row) in rows.iter().enumerate() {
            if index == limit {
                let last = &rows[index - 1];
                next_cursor = Some(
                    TimeCursor {
                        time_ns: last.try_get("time_ns").map_err(store_error)?,
                        id: last.try_get("id").map_err(store_error)?,
                    }
                    .encode(),
                );
                break;
            }
            items.push(from_row(row)?);
        }
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM logs WHERE tenant_id = ? AND id = ?"
        )))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn overview(&self, tenant: &str, query: &OverviewQuery) -> Result<Overview, StoreError> {
        if query.bucket_ns <= 0 || query.until_ns <= query.since_ns {
            return Err(StoreError::Invalid(
                "overview needs since < until and a positive bucket".to_owned(),
            ));
        }
        let range = " FROM logs WHERE tenant_id = ?1 AND time_ns >= ?2 AND time_ns < ?3";
        let errors = "SUM(CASE WHEN level IN ('error', 'fatal') THEN 1 ELSE 0 END)";
        let buckets = self.in_range(
            format!(
            "SELECT (time_ns - ?2) / ?4 AS bucket, COUNT(*) AS total, {errors} AS errors{range} \
             GROUP BY bucket ORDER BY bucket"
        ),
            tenant,
            query,
            Some(query.bucket_ns),
        )
        .await?
        .iter()
        .map(|row| {
            let bucket: i64 = row.try_get("bucket").map_err(store_error)?;
            Ok(OverviewBucket {
                start_ns: query.bucket_start(bucket),
                total: count(row, "total")?,
                errors: count(row, "errors")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let services = self.in_range(
            format!(
            "SELECT COALESCE(service, '') AS service, COUNT(*) AS total, {errors} AS errors{range} \
             GROUP BY 1 ORDER BY total DESC, service"
        ),
            tenant,
            query,
            None,
        )
        .await?
        .iter()
        .map(|row| {
            Ok(ServiceCount {
                service: row.try_get("service").map_err(store_error)?,
                total: count(row, "total")?,
                errors: count(row, "errors")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let service_buckets = self
            .in_range(
                format!(
                    "SELECT COALESCE(service, '') AS service, (time_ns - ?2) / ?4 AS bucket, \
                     COUNT(*) AS total, {errors} AS errors{range} \
                     GROUP BY 1, bucket ORDER BY bucket, service"
                ),
                tenant,
                query,
                Some(query.bucket_ns),
            )
            .await?
            .iter()
            .map(|row| {
                let bucket: i64 = row.try_get("bucket").map_err(store_error)?;
                Ok(ServiceBucket {
                    service: row.try_get("service").map_err(store_error)?,
                    start_ns: query.bucket_start(bucket),
                    total: count(row, "total")?,
                    errors: count(row, "errors")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let levels = self
            .in_range(
                format!(
                    "SELECT COALESCE(level, '') AS level, COUNT(*) AS total{range} \
             GROUP BY 1 ORDER BY total DESC, level"
                ),
                tenant,
                query,
                None,
            )
            .await?
            .iter()
            .map(|row| {
                Ok(LevelCount {
                    level: row.try_get("level").map_err(store_error)?,
                    total: count(row, "total")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let top_fingerprints = self
            .in_range(
                format!(
                    "SELECT fingerprint, MAX(template) AS template, COUNT(*) AS total{range} \
             AND fingerprint IS NOT NULL GROUP BY fingerprint ORDER BY total DESC, fingerprint \
             LIMIT ?4"
                ),
                tenant,
                query,
                Some(i64::try_from(query.top).unwrap_or(i64::MAX)),
            )
            .await?
            .iter()
            .map(|row| {
                let fingerprint: i64 = row.try_get("fingerprint").map_err(store_error)?;
                Ok(FingerprintCount {
                    fingerprint: from_i64(fingerprint),
                    template: row.try_get("template").map_err(store_error)?,
                    total: count(row, "total")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Overview {
            buckets,
            services,
            service_buckets,
            levels,
            top_fingerprints,
        })
    }
}
