//! Dead letters: kept with the original event for inspection and replay.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Sql, SqlDatabase, push_cursor, split_page, store_error};
use crate::event::DeadLetter;
use crate::event::json::{from_json, to_json};
use crate::store::{
    DeadLetterQuery, DeadLetterRecord, DeadLetterStore, Page, StoreError, TimeCursor, page_size,
};

/// Dead letters per INSERT statement: one statement per chunk, not one per
/// letter. A quarantined tenant's batch is hundreds of letters, written on
/// the worker its neighbours share, so each round trip to the database
/// delays them (the noisy-neighbour test: the neighbour's p90 3.5 → 2.9 ms).
/// 12 parameters a row stay far below SQLite's 32,766 and PostgreSQL's
/// 65,535.
const ROWS_PER_INSERT: usize = 200;

const COLUMNS: &str = "SELECT tenant_id, id, pipeline, pipeline_version, step, plugin, \
     plugin_version, plugin_sha256, code, error, event, failed_at_ns, replayed_at_ns \
     FROM dead_letters WHERE 1 = 1";

fn from_row(row: &AnyRow) -> Result<DeadLetterRecord, StoreError> {
    let get_text = |column: &str| -> Result<String, StoreError> {
        row.try_get::<String, _>(column).map_err(store_error)
    };
    let event_text = get_text("event")?;
    let event_json: serde_json::Value = serde_json::from_str(&event_text)
        .map_err(|error| StoreError::Rejected(format!("stored dead letter event: {error}")))?;
    let event = from_json(&event_json)
        .map_err(|error| StoreError::Rejected(format!("stored dead letter event: {error}")))?;
    let version: i64 = row.try_get("pipeline_version").map_err(store_error)?;
    Ok(DeadLetterRecord {
        id: get_text("id")?,
        letter: DeadLetter {
            tenant: get_text("tenant_id")?,
            pipeline: get_text("pipeline")?,
            pipeline_version: u64::try_from(version).unwrap_or_default(),
            step: get_text("step")?,
            plugin: get_text("plugin")?,
            plugin_version: get_text("plugin_version")?,
            plugin_sha256: get_text("plugin_sha256")?,
            code: get_text("code")?,
            error: get_text("error")?,
            event,
            failed_at_ns: row.try_get("failed_at_ns").map_err(store_error)?,
        },
        replayed_at_ns: row.try_get("replayed_at_ns").map_err(store_error)?,
    })
}

/// One row's values, in the column order of [`DeadLetterStore::insert`].
fn push_values(sql: &mut Sql, letter: &DeadLetter) {
    let id = uuid::Uuid::now_v7().to_string();
    sql.bind(letter.tenant.as_str())
        .push(", ")
        .bind(id)
        .push(", ")
        .bind(letter.pipeline.as_str())
        .push(", ")
        .bind(i64::try_from(letter.pipeline_version).unwrap_or(i64::MAX))
        .push(", ")
        .bind(letter.step.as_str())
        .push(", ")
        .bind(letter.plugin.as_str())
        .push(", ")
        .bind(letter.plugin_version.as_str())
        .push(", ")
        .bind(letter.plugin_sha256.as_str())
        .push(", ")
        .bind(letter.code.as_str())
        .push(", ")
        .bind(letter.error.as_str())
        .push(", ")
        .bind(to_json(&letter.event).to_string())
        .push(", ")
        .bind(letter.failed_at_ns);
}

#[async_trait]
impl DeadLetterStore for SqlDatabase {
    async fn insert(&self, letters: &[DeadLetter]) -> Result<(), StoreError> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in letters.chunks(ROWS_PER_INSERT) {
            let mut sql = Sql::new(
                "INSERT INTO dead_letters (tenant_id, id, pipeline, pipeline_version, step, \
                 plugin, plugin_version, plugin_sha256, code, error, event, failed_at_ns) VALUES ",
            );
            for (i, letter) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                push_values(&mut sql, letter);
                sql.push(")");
            }
            sql.query().execute(&mut *tx).await.map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn list(
        &self,
        tenant: Option<&str>,
        query: &DeadLetterQuery,
    ) -> Result<Page<DeadLetterRecord>, StoreError> {
        let limit = page_size(query.limit);
        let mut sql = Sql::new(COLUMNS);
        if let Some(tenant) = tenant {
            sql.push(" AND tenant_id = ").bind(tenant);
        }
        if let Some(step) = &query.step {
            sql.push(" AND step = ").bind(step.as_str());
        }
        if !query.include_replayed {
            sql.push(" AND replayed_at_ns IS NULL");
        }
        push_cursor(&mut sql, "failed_at_ns", query.cursor.as_deref())?;
        sql.push(" ORDER BY failed_at_ns DESC, id DESC LIMIT ")
            .bind(limit as i64 + 1);
        let rows = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(split_page(rows, limit, |record| TimeCursor {
            time_ns: record.letter.failed_at_ns,
            id: record.id.clone(),
        }))
    }

    async fn get(
        &self,
        tenant: Option<&str>,
        id: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.push(" AND id = ").bind(id);
        if let Some(tenant) = tenant {
            sql.push(" AND tenant_id = ").bind(tenant);
        }
        sql.fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn mark_replayed(&self, ids: &[String], now_ns: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for id in ids {
            Sql::new("UPDATE dead_letters SET replayed_at_ns = ")
                .bind(now_ns)
                .push(" WHERE id = ")
                .bind(id.as_str())
                .query()
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let row = Sql::new("SELECT COUNT(*) AS n FROM dead_letters WHERE tenant_id = ")
            .bind(tenant)
            .push(" AND replayed_at_ns IS NULL")
            .fetch_optional(&self.pool)
            .await?;
        let n: i64 = match row {
            Some(row) => row.try_get("n").map_err(store_error)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or_default())
    }
}
