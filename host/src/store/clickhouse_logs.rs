//! The production log store: processed events in ClickHouse.
//!
//! The table is a `ReplacingMergeTree` ordered by (tenant, time, id), so an
//! event delivered twice (at-least-once from Kafka) collapses into one row,
//! and every query reads with `FINAL` so duplicates never show before the
//! background merge has run. Partitions are days of event time; per-tenant
//! retention deletes with a mutation (`ALTER TABLE … DELETE`).
//!
//! Attributes are also kept as two parallel arrays (`attribute_keys`,
//! `attribute_values`, values as text) so operators can filter on them in
//! SQL: `attribute_values[indexOf(attribute_keys, 'http.status')] = '500'`
//! (18.16 has no `Map` type).
//!
//! The SQL sticks to what both the ClickHouse Debian ships (18.16) and
//! current releases accept; the client runs with schema validation off
//! because 18.16 knows neither the setting nor the format validation needs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};

use super::{
    DAY_NS, FingerprintCount, LevelCount, LogQuery, LogStore, Overview, OverviewBucket,
    OverviewQuery, Page, ServiceBucket, ServiceCount, StoreError, StoredEvent, TimeCursor,
    event_time_ns, page_size,
};
use crate::event::json::{from_json, level_name, to_json, value_to_json};

/// Processed events in ClickHouse.
pub struct ClickHouseLogStore {
    client: Client,
}

#[derive(Debug, Row, Serialize, Deserialize)]
struct LogRow {
    tenant_id: String,
    id: String,
    time_ns: i64,
    received_ns: i64,
    project: Option<String>,
    service: String,
    level: String,
    message: String,
    template: Option<String>,
    fingerprint: Option<u64>,
    attribute_keys: Vec<String>,
    attribute_values: Vec<String>,
    pipeline: String,
    pipeline_version: u64,
    body: String,
}

#[derive(Debug, Row, Deserialize)]
struct BodyRow {
    id: String,
    time_ns: i64,
    pipeline: String,
    pipeline_version: u64,
    body: String,
}

fn unavailable(error: clickhouse::error::Error) -> StoreError {
    StoreError::Unavailable(format!("clickhouse: {error}"))
}

/// Server error codes that mean "these rows are bad data": retrying the
/// same rows can never succeed, so the runner isolates them as dead letters
/// instead of holding the batch forever. Everything else (network, timeouts,
/// too many parts, memory) is worth retrying.
const BAD_DATA_CODES: &[u32] = &[
    6,   // CANNOT_PARSE_TEXT
    26,  // CANNOT_PARSE_QUOTED_STRING
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    38,  // CANNOT_PARSE_DATE
    41,  // CANNOT_PARSE_DATETIME
    53,  // TYPE_MISMATCH
    69,  // ARGUMENT_OUT_OF_BOUND
    70,  // CANNOT_CONVERT_TYPE
    72,  // CANNOT_PARSE_NUMBER
    117, // INCORRECT_DATA
    131, // TOO_LARGE_STRING_SIZE
    395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a `throwIf` check in a column default)
    469, // VIOLATED_CONSTRAINT (a table `CONSTRAINT … CHECK`)
];

/// The server's error code in a response body (`Code: 395, …` on 18.16,
/// `Code: 469. DB::Exception: …` on current releases).
fn server_code(message: &str) -> Option<u32> {
    let rest = &message[message.find("Code: ")? + "Code: ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// An insert's failure: a rejection of the rows, or a reason to retry.
fn insert_failed(error: clickhouse::error::Error) -> StoreError {
    if let clickhouse::error::Error::BadResponse(message) = &error
        && server_code(message).is_some_and(|code| BAD_DATA_CODES.contains(&code))
    {
        return StoreError::Rejected(format!("clickhouse: {message}"));
    }
    unavailable(error)
}

/// ClickHouse identifiers are quoted with backquotes; refuse anything odd
/// rather than escape it.
fn check_identifier(name: &str) -> Result<(), StoreError> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "clickhouse database name {name:?} must be letters, digits and '_'"
        )))
    }
}

impl ClickHouseLogStore {
    /// Connect to `url` (`http://host:8123`), create the database and the
    /// table if missing.
    pub async fn open(url: &str, database: &str) -> Result<Self, StoreError> {
        check_identifier(database)?;
        let server = Client::default().with_url(url).with_validation(false);
        server
            .query(&format!("CREATE DATABASE IF NOT EXISTS `{database}`"))
            .execute()
            .await
            .map_err(unavailable)?;
        let client = server.with_database(database);
        client
            .query(
                "CREATE TABLE IF NOT EXISTS logs (
                    tenant_id String,
                    id String,
                    time_ns Int64,
                    received_ns Int64,
                    project Nullable(String),
                    service String,
                    level String,
                    message String,
                    template Nullable(String),
                    fingerprint Nullable(UInt64),
                    attribute_keys Array(String),
                    attribute_values Array(String),
                    pipeline String,
                    pipeline_version UInt64,
                    body String
                ) ENGINE = ReplacingMergeTree()
                PARTITION BY toDate(toDateTime(intDiv(time_ns, 1000000000)))
                ORDER BY (tenant_id, time_ns, id)",
            )
            .execute()
            .await
            .map_err(unavailable)?;
        let store = Self { client };
        store.migrate().await?;
        Ok(store)
    }

    /// Bring a table made by an earlier version up to date. 18.16 has no
    /// `ADD COLUMN IF NOT EXISTS`, so look first.
    async fn migrate(&self) -> Result<(), StoreError> {
        let has_attributes = self
            .client
            .query(
                "SELECT count() FROM system.columns WHERE database = currentDatabase() \
                 AND table = 'logs' AND name = 'attribute_keys'",
            )
            .fetch_one::<u64>()
            .await
            .map_err(unavailable)?;
        if has_attributes == 0 {
            self.client
                .query(
                    "ALTER TABLE logs ADD COLUMN attribute_keys Array(String) AFTER fingerprint, \
                     ADD COLUMN attribute_values Array(String) AFTER attribute_keys",
                )
                .execute()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// One INSERT of rows.
    async fn insert_block(
        &self,
        rows: impl Iterator<Item = &StoredEvent>,
    ) -> Result<(), StoreError> {
        let mut insert = self
            .client
            .insert::<LogRow>("logs")
            .await
            .map_err(unavailable)?;
        for stored in rows {
            let event = &stored.event;
            let row = LogRow {
                tenant_id: event.tenant.clone(),
                id: event.id.clone(),
                time_ns: event_time_ns(&stored.event),
                received_ns: event.received_ns,
                project: event.project.clone(),
                service: event.service.clone().unwrap_or_default(),
                level: event.level.map(level_name).unwrap_or_default().to_owned(),
                message: event.message.clone(),
                template: event.template.clone(),
                fingerprint: event.fingerprint,
                attribute_keys: event.attributes.iter().map(|a| a.key.clone()).collect(),
                attribute_values: event
                    .attributes
                    .iter()
                    .map(|a| match value_to_json(&a.value) {
                        serde_json::Value::String(text) => text,
                        other => other.to_string(),
                    })
                    .collect(),
                pipeline: stored.pipeline.clone(),
                pipeline_version: stored.pipeline_version,
                body: to_json(event).to_string(),
            };
            insert.write(&row).await.map_err(insert_failed)?;
        }
        insert.end().await.map_err(insert_failed)
    }

    /// Wait until no deletion on `logs` is pending: mutations run in the
    /// background, and retention promises the rows are gone from queries.
    async fn wait_for_mutations(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        loop {
            let pending = self
                .client
                .query(
                    "SELECT count() FROM system.mutations \
                     WHERE database = currentDatabase() AND table = 'logs' AND is_done = 0",
                )
                .fetch_one::<u64>()
                .await
                .map_err(unavailable)?;
            if pending == 0 {
                return Ok(());
            }
            if started.elapsed() > MUTATION_WAIT {
                return Err(StoreError::Unavailable(format!(
                    "clickhouse: {pending} deletions still running after {} s",
                    MUTATION_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Days (UTC) per INSERT block; see [`LogStore::insert`].
const DAYS_PER_INSERT: usize = 50;

/// Longest retention waits for ClickHouse to apply a deletion.
const MUTATION_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

fn from_body(row: &BodyRow) -> Result<StoredEvent, StoreError> {
    let json: serde_json::Value = serde_json::from_str(&row.body)
        .map_err(|error| StoreError::Rejected(format!("stored event: {error}")))?;
    let event =
        from_json(&json).map_err(|error| StoreError::Rejected(format!("stored event: {error}")))?;
    Ok(StoredEvent {
        event,
        pipeline: row.pipeline.clone(),
        pipeline_version: row.pipeline_version,
    })
}

/// `WHERE` clause text and its bound values, in order.
enum Bound {
    Text(String),
    Int(i64),
    Unsigned(u64),
}

fn filters(tenant: &str, query: &LogQuery) -> (String, Vec<Bound>) {
    let mut sql = String::from(" WHERE tenant_id = ?");
    let mut binds = vec![Bound::Text(tenant.to_owned())];
    if let Some(service) = &query.service {
        sql.push_str(" AND service = ?");
        binds.push(Bound::Text(service.clone()));
    }
    if let Some(level) = query.level {
        sql.push_str(" AND level = ?");
        binds.push(Bound::Text(level_name(level).to_owned()));
    }
    if let Some(fingerprint) = query.fingerprint {
        sql.push_str(" AND fingerprint = ?");
        binds.push(Bound::Unsigned(fingerprint));
    }
    if let Some(project) = &query.project {
        sql.push_str(" AND project = ?");
        binds.push(Bound::Text(project.clone()));
    }
    if let Some(since) = query.since_ns {
        sql.push_str(" AND time_ns >= ?");
        binds.push(Bound::Int(since));
    }
    if let Some(until) = query.until_ns {
        sql.push_str(" AND time_ns < ?");
        binds.push(Bound::Int(until));
    }
    if let Some(text) = &query.text {
        sql.push_str(" AND positionCaseInsensitiveUTF8(message, ?) > 0");
        binds.push(Bound::Text(text.clone()));
    }
    (sql, binds)
}

fn bind_all(mut query: clickhouse::query::Query, binds: Vec<Bound>) -> clickhouse::query::Query {
    for bound in binds {
        query = match bound {
            Bound::Text(text) => query.bind(text),
            Bound::Int(n) => query.bind(n),
            Bound::Unsigned(n) => query.bind(n),
        };
    }
    query
}

#[async_trait]
impl LogStore for ClickHouseLogStore {
    async fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        // ClickHouse refuses an INSERT block spanning more than 100
        // partitions (days here): a replay of old logs would fail forever.
        // Blocks of at most 50 UTC days stay under it in any server time zone.
        let mut by_day: BTreeMap<i64, Vec<&StoredEvent>> = BTreeMap::new();
        for stored in events {
            by_day
                .entry(event_time_ns(&stored.event).div_euclid(DAY_NS))
                .or_default()
                .push(stored);
        }
        let days: Vec<Vec<&StoredEvent>> = by_day.into_values().collect();
        for block in days.chunks(DAYS_PER_INSERT) {
            self.insert_block(block.iter().flatten().copied()).await?;
        }
        Ok(())
    }

    async fn expire(&self, tenant: &str, before_ns: i64) -> Result<(), StoreError> {
        // A mutation rewrites only the parts holding matching rows; the
        // same statement on 18.16 and current releases (no per-tenant TTL
        // expression needed, so each tenant's period can differ and change).
        self.client
            .query("ALTER TABLE logs DELETE WHERE tenant_id = ? AND time_ns < ?")
            .bind(tenant)
            .bind(before_ns)
            .execute()
            .await
            .map_err(unavailable)?;
        self.wait_for_mutations().await
    }

    async fn query(&self, tenant: &str, query: &LogQuery) -> Result<Page<StoredEvent>, StoreError> {
        let limit = page_size(query.limit);
        let (mut sql, mut binds) = filters(tenant, query);
        if let Some(cursor) = &query.cursor {
            let cursor = TimeCursor::decode(cursor)?;
            sql.push_str(" AND (time_ns < ? OR (time_ns = ? AND id < ?))");
            binds.extend([
                Bound::Int(cursor.time_ns),
                Bound::Int(cursor.time_ns),
                Bound::Text(cursor.id),
            ]);
        }
        let text = format!(
            "SELECT id, time_ns, pipeline, pipeline_version, body FROM logs FINAL{sql} \
             ORDER BY time_ns DESC, id DESC LIMIT {}",
            limit + 1
        );
        let mut rows = bind_all(self.client.query(&text), binds)
            .fetch_all::<BodyRow>()
            .await
            .map_err(unavailable)?;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| {
                TimeCursor {
                    time_ns: last.time_ns,
                    id: last.id.clone(),
                }
                .encode()
            })
        } else {
            None
        };
        let items = rows.iter().map(from_body).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let row = self
            .client
            .query(
                "SELECT id, time_ns, pipeline, pipeline_version, body FROM logs FINAL \
                 WHERE tenant_id = ? AND id = ? LIMIT 1",
            )
            .bind(tenant)
            .bind(id)
            .fetch_optional::<BodyRow>()
            .await
            .map_err(unavailable)?;
        row.as_ref().map(from_body).transpose()
    }

    async fn overview(&self, tenant: &str, query: &OverviewQuery) -> Result<Overview, StoreError> {
        if query.bucket_ns <= 0 || query.until_ns <= query.since_ns {
            return Err(StoreError::Invalid(
                "overview needs since < until and a positive bucket".to_owned(),
            ));
        }
        #[derive(Row, Deserialize)]
        struct Bucket {
            bucket: i64,
            total: u64,
            errors: u64,
        }
        #[derive(Row, Deserialize)]
        struct Group {
            name: String,
            total: u64,
            errors: u64,
        }
        #[derive(Row, Deserialize)]
        struct Top {
            fingerprint: u64,
            template: Option<String>,
            total: u64,
        }
        let range = "FROM logs FINAL WHERE tenant_id = ? AND time_ns >= ? AND time_ns < ?";
        let errors = "countIf(level IN ('error', 'fatal'))";
        let ranged = |text: String| {
            self.client
                .query(&text)
                .bind(tenant)
                .bind(query.since_ns)
                .bind(query.until_ns)
        };
        let buckets = self
            .client
            .query(&format!(
                "SELECT intDiv(time_ns - ?, ?) AS bucket, count() AS total, {errors} AS errors \
                 {range} GROUP BY bucket ORDER BY bucket"
            ))
            .bind(query.since_ns)
            .bind(query.bucket_ns)
            .bind(tenant)
            .bind(query.since_ns)
            .bind(query.until_ns)
            .fetch_all::<Bucket>()
            .await
            .map_err(unavailable)?;
        let services = ranged(format!(
            "SELECT service AS name, count() AS total, {errors} AS errors {range} \
             GROUP BY name ORDER BY total DESC, name"
        ))
        .fetch_all::<Group>()
        .await
        .map_err(unavailable)?;
        #[derive(Row, Deserialize)]
        struct ServiceRow {
            name: String,
            bucket: i64,
            total: u64,
            errors: u64,
        }
        let service_buckets = self
            .client
            .query(&format!(
                "SELECT service AS name, intDiv(time_ns - ?, ?) AS bucket, count() AS total, \
                 {errors} AS errors {range} GROUP BY name, bucket ORDER BY bucket, name"
            ))
            .bind(query.since_ns)
            .bind(query.bucket_ns)
            .bind(tenant)
            .bind(query.since_ns)
            .bind(query.until_ns)
            .fetch_all::<ServiceRow>()
            .await
            .map_err(unavailable)?;
        let levels = ranged(format!(
            "SELECT level AS name, count() AS total, toUInt64(0) AS errors {range} \
             GROUP BY name ORDER BY total DESC, name"
        ))
        .fetch_all::<Group>()
        .await
        .map_err(unavailable)?;
        let top = ranged(format!(
            "SELECT assumeNotNull(fingerprint) AS fingerprint, any(template) AS template, \
             count() AS total {range} AND fingerprint IS NOT NULL \
             GROUP BY fingerprint ORDER BY total DESC, fingerprint LIMIT {}",
            query.top
        ))
        .fetch_all::<Top>()
        .await
        .map_err(unavailable)?;
        Ok(Overview {
            buckets: buckets
                .into_iter()
                .map(|b| OverviewBucket {
                    start_ns: query.bucket_start(b.bucket),
                    total: b.total,
                    errors: b.errors,
                })
                .collect(),
            service_buckets: service_buckets
                .into_iter()
                .map(|b| ServiceBucket {
                    service: b.name,
                    start_ns: query.bucket_start(b.bucket),
                    total: b.total,
                    errors: b.errors,
                })
                .collect(),
            services: services
                .into_iter()
                .map(|g| ServiceCount {
                    service: g.name,
                    total: g.total,
                    errors: g.errors,
                })
                .collect(),
            levels: levels
                .into_iter()
                .map(|g| LevelCount {
                    level: g.name,
                    total: g.total,
                })
                .collect(),
            top_fingerprints: top
                .into_iter()
                .map(|t| FingerprintCount {
                    fingerprint: t.fingerprint,
                    template: t.template,
                    total: t.total,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_codes_are_read_from_both_message_styles() {
        assert_eq!(
            server_code("Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf'"),
            Some(395)
        );
        assert_eq!(
            server_code("Code: 469. DB::Exception: Constraint `t` is violated"),
            Some(469)
        );
        assert_eq!(server_code("connection reset"), None);
    }

    #[test]
    fn only_bad_data_is_a_rejection() {
        let bad = clickhouse::error::Error::BadResponse(
            "Code: 469. DB::Exception: Constraint violated".into(),
        );
        assert!(matches!(insert_failed(bad), StoreError::Rejected(_)));
        let parts = clickhouse::error::Error::BadResponse(
            "Code: 252. DB::Exception: Too many parts".into(),
        );
        assert!(matches!(insert_failed(parts), StoreError::Unavailable(_)));
        assert!(matches!(
            insert_failed(clickhouse::error::Error::TimedOut),
            StoreError::Unavailable(_)
        ));
    }
}
