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
//! Every field with a column is read back from it; `body` (JSON) holds only
//! the rest: typed attributes, the raw payload, and which of timestamp and
//! service are absent. Rows written before that carry the whole event in
//! `body` and still read back as written.
//!
//! The SQL sticks to what both the ClickHouse Debian ships (18.16) and
//! current releases accept; the client runs with schema validation off
//! because 18.16 knows neither the setting nor the format validation needs.

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};

use super::{
    DAY_NS, EVENT_COLUMNS, FingerprintCount, LevelCount, LogQuery, LogStore, Overview,
    OverviewBucket, OverviewQuery, Page, ServiceBucket, ServiceCount, StoreError, StoredEvent,
    TimeCursor, event_time_ns, lay_body, page_size,
};
use crate::event::json::{level_name, parse_level, rest_json, value_to_json};
use crate::runtime::{Event, Value};

/// Processed events in ClickHouse.
pub struct ClickHouseLogStore {
    client: Client,
}

/// A row as it is written, borrowing the event's strings.
#[derive(Debug, Row, Serialize)]
struct LogRow<'a> {
    tenant_id: &'a str,
    id: &'a str,
    time_ns: i64,
    received_ns: i64,
    project: Option<&'a str>,
    service: &'a str,
    level: &'static str,
    message: &'a str,
    template: Option<&'a str>,
    fingerprint: Option<u64>,
    attribute_keys: Vec<&'a str>,
    attribute_values: Vec<Cow<'a, str>>,
    pipeline: &'a str,
    pipeline_version: u64,
    body: String,
}

/// A row as queries read it back: the columns that hold an event's fields,
/// and the body with the rest (fields in [`EVENT_COLUMNS`]' order).
#[derive(Debug, Row, Deserialize)]
struct EventRow {
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
        let server = Client::default()
            .with_url(url)
            .with_validation(false)
            .with_setting("max_read_buffer_size", READ_BUFFER_BYTES.to_string());
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
            .insert::<LogRow<'_>>("logs")
            .await
            .map_err(unavailable)?;
        for stored in rows {
            let row = log_row(stored);
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

/// Each column file of each part a query reads gets a read buffer of this
/// size (ClickHouse's default is 1 MiB). A query without a time range reads
/// every part of every day: 750 parts × 13 columns at 1 MiB went past the
/// server's 10 GB per-query limit; at 64 KiB it takes 600 MB.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Days (UTC) per INSERT block; see [`LogStore::insert`].
const DAYS_PER_INSERT: usize = 50;

/// Longest retention waits for ClickHouse to apply a deletion.
const MUTATION_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The row `stored` is written as.
fn log_row(stored: &StoredEvent) -> LogRow<'_> {
    let event = &stored.event;
    LogRow {
        tenant_id: &event.tenant,
        id: &event.id,
        time_ns: event_time_ns(&stored.event),
        received_ns: event.received_ns,
        project: event.project.as_deref(),
        service: event.service.as_deref().unwrap_or_default(),
        level: event.level.map(level_name).unwrap_or_default(),
        message: &event.message,
        template: event.template.as_deref(),
        fingerprint: event.fingerprint,
        attribute_keys: event.attributes.iter().map(|a| a.key.as_str()).collect(),
        attribute_values: event
            .attributes
            .iter()
            .map(|a| attribute_text(&a.value))
            .collect(),
        pipeline: &stored.pipeline,
        pipeline_version: stored.pipeline_version,
        body: rest_json(event),
    }
}

/// An attribute's value as the text `attribute_values` holds: text as is,
/// anything else as compact JSON.
fn attribute_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Text(text) => Cow::Borrowed(text),
        other => match value_to_json(other) {
            serde_json::Value::String(text) => Cow::Owned(text),
            json => Cow::Owned(json.to_string()),
        },
    }
}

/// An event from its columns with its body laid over them. Rows written
/// before the body was slimmed carry the whole event there, which wins.
fn from_row(row: EventRow) -> Result<StoredEvent, StoreError> {
    let mut event = Event {
        id: row.id,
        tenant: row.tenant_id,
        project: row.project,
        received_ns: row.received_ns,
        timestamp_ns: Some(row.time_ns),
        service: Some(row.service),
        level: parse_level(&row.level),
        message: row.message,
        attributes: Vec::new(),
        raw: None,
        fingerprint: row.fingerprint,
        template: row.template,
    };
    lay_body(&mut event, &row.body)?;
    Ok(StoredEvent {
        event,
        pipeline: row.pipeline,
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
            "SELECT {EVENT_COLUMNS} FROM logs FINAL{sql} \
             ORDER BY time_ns DESC, id DESC LIMIT {}",
            limit + 1
        );
        let mut rows = bind_all(self.client.query(&text), binds)
            .fetch_all::<EventRow>()
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
        let items = rows.into_iter().map(from_row).collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        // The id alone names no partition: find the event's time in three
        // narrow columns first (duplicates share it, so no `FINAL`), then
        // read the whole row from the one day and key range it is in,
        // instead of every column of every part.
        let time_ns = self
            .client
            .query("SELECT time_ns FROM logs WHERE tenant_id = ? AND id = ? LIMIT 1")
            .bind(tenant)
            .bind(id)
            .fetch_optional::<i64>()
            .await
            .map_err(unavailable)?;
        let Some(time_ns) = time_ns else {
            return Ok(None);
        };
        let row = self
            .client
            .query(&format!(
                "SELECT {EVENT_COLUMNS} FROM logs FINAL \
                 WHERE tenant_id = ? AND time_ns = ? AND id = ? LIMIT 1"
            ))
            .bind(tenant)
            .bind(time_ns)
            .bind(id)
            .fetch_optional::<EventRow>()
            .await
            .map_err(unavailable)?;
        row.map(from_row).transpose()
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
    use crate::event::json::to_json;
    use crate::runtime::{Attribute, Level};

    /// What a query reads back of `row`.
    fn read_back(row: LogRow<'_>) -> StoredEvent {
        from_row(EventRow {
            tenant_id: row.tenant_id.to_owned(),
            id: row.id.to_owned(),
            time_ns: row.time_ns,
            received_ns: row.received_ns,
            project: row.project.map(str::to_owned),
            service: row.service.to_owned(),
            level: row.level.to_owned(),
            message: row.message.to_owned(),
            template: row.template.map(str::to_owned),
            fingerprint: row.fingerprint,
            pipeline: row.pipeline.to_owned(),
            pipeline_version: row.pipeline_version,
            body: row.body,
        })
        .unwrap()
    }

    fn stored(event: Event) -> StoredEvent {
        StoredEvent {
            event,
            pipeline: "default".into(),
            pipeline_version: 7,
        }
    }

    fn full_event() -> Event {
        Event {
            id: "e1".into(),
            tenant: "acme".into(),
            project: Some("p".into()),
            received_ns: 2_000,
            timestamp_ns: Some(1_000),
            service: Some("api".into()),
            level: Some(Level::Warn),
            message: "disk 91% full".into(),
            attributes: vec![
                Attribute {
                    key: "n".into(),
                    value: Value::Integer(5),
                },
                Attribute {
                    key: "ratio".into(),
                    value: Value::Float(0.5),
                },
                Attribute {
                    key: "ok".into(),
                    value: Value::Boolean(true),
                },
                Attribute {
                    key: "gone".into(),
                    value: Value::Null,
                },
                Attribute {
                    key: "list".into(),
                    value: Value::Json("[1,2]".into()),
                },
                Attribute {
                    key: "user".into(),
                    value: Value::Text("[EMAIL]".into()),
                },
            ],
            raw: Some("raw line".into()),
            fingerprint: Some(0xdead_beef),
            template: Some("disk <*> full".into()),
        }
    }

    #[test]
    fn events_read_back_exactly_from_columns_and_the_rest() {
        let full = stored(full_event());
        assert_eq!(read_back(log_row(&full)), full);
        let bare = stored(Event {
            project: None,
            timestamp_ns: None,
            service: None,
            level: None,
            attributes: Vec::new(),
            raw: None,
            fingerprint: None,
            template: None,
            ..full_event()
        });
        assert_eq!(read_back(log_row(&bare)), bare);
        let empty_service = stored(Event {
            service: Some(String::new()),
            ..full_event()
        });
        assert_eq!(read_back(log_row(&empty_service)), empty_service);
    }

    #[test]
    fn the_body_holds_only_what_no_column_has() {
        let body = log_row(&stored(full_event())).body;
        for column_field in ["\"message\"", "\"id\"", "\"template\"", "disk"] {
            assert!(!body.contains(column_field), "{column_field} in {body}");
        }
        let bare = Event {
            attributes: Vec::new(),
            raw: None,
            ..full_event()
        };
        assert_eq!(log_row(&stored(bare)).body, "{}");
    }

    #[test]
    fn attribute_values_are_text_for_sql() {
        let texts: Vec<String> = [
            Value::Text("[EMAIL]".into()),
            Value::Integer(500),
            Value::Float(0.5),
            Value::Boolean(true),
            Value::Null,
            Value::Json("[1, {\"a\": 2}]".into()),
        ]
        .iter()
        .map(|value| attribute_text(value).into_owned())
        .collect();
        assert_eq!(
            texts,
            ["[EMAIL]", "500", "0.5", "true", "null", "[1,{\"a\":2}]"]
        );
    }

    #[test]
    fn rows_with_the_whole_event_in_the_body_read_back_as_written() {
        let old = stored(Event {
            timestamp_ns: None,
            ..full_event()
        });
        let mut row = log_row(&old);
        row.body = to_json(&old.event).to_string();
        assert_eq!(read_back(row), old);
    }

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
