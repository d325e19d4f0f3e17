//! Signals: daily counters added to with upserts, so concurrent batches
//! (and processes) add up instead of overwriting each other.

use async_trait::async_trait;
use sqlx::Row;

use super::{Sql, SqlDatabase, store_error};
use crate::store::signals::{NewFingerprint, SignalBatch, SignalRow};
use crate::store::{SignalStore, StoreError};

/// Rows per statement: 6 values each stays far below both databases' limits.
const ROWS_PER_STATEMENT: usize = 500;

fn project_filter(sql: &mut Sql, project: Option<&str>) {
    if let Some(project) = project {
        sql.push(" AND project = ").bind(project);
    }
}

#[async_trait]
impl SignalStore for SqlDatabase {
    async fn record(&self, batch: &SignalBatch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let counts: Vec<_> = batch.counts.iter().collect();
        let fingerprints: Vec<_> = batch.fingerprints.iter().collect();
        let mut tx = self.begin_write().await?;
        for chunk in counts.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(
                "INSERT INTO signal_counts (tenant_id, project, day, dimension, item, count) VALUES ",
            );
            for (n, (key, count)) in chunk.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { ", (" })
                    .bind(key.tenant.as_str())
                    .push(", ")
                    .bind(key.project.as_str())
                    .push(", ")
                    .bind(key.day)
                    .push(", ")
                    .bind(key.dimension.as_str())
                    .push(", ")
                    .bind(key.item.as_str())
                    .push(", ")
                    .bind(i64::try_from(**count).unwrap_or(i64::MAX))
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (tenant_id, project, day, dimension, item) \
                 DO UPDATE SET count = signal_counts.count + excluded.count",
            );
            sql.query().execute(&mut *tx).await.map_err(store_error)?;
        }
        for chunk in fingerprints.chunks(ROWS_PER_STATEMENT) {
            let mut sql = Sql::new(
                "INSERT INTO signal_fingerprints (tenant_id, project, fingerprint, first_day, template) VALUES ",
            );
            for (n, (key, (day, template))) in chunk.iter().enumerate() {
                sql.push(if n == 0 { "(" } else { ", (" })
                    .bind(key.tenant.as_str())
                    .push(", ")
                    .bind(key.project.as_str())
                    .push(", ")
                    .bind(key.fingerprint.as_str())
                    .push(", ")
                    .bind(*day)
                    .push(", ")
                    .bind(template.as_deref())
                    .push(")");
            }
            sql.push(
                " ON CONFLICT (tenant_id, project, fingerprint) DO UPDATE SET first_day = \
                 CASE WHEN excluded.first_day < signal_fingerprints.first_day \
                 THEN excluded.first_day ELSE signal_fingerprints.first_day END",
            );
            sql.query().execute(&mut *tx).await.map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn counts(
        &self,
        tenant: &str,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<SignalRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT day, dimension, item, CAST(SUM(count) AS BIGINT) AS total \
             FROM signal_counts WHERE tenant_id = ",
        );
        sql.bind(tenant)
            .push(" AND day >= ")
            .bind(from_day)
            .push(" AND day <= ")
            .bind(to_day);
        project_filter(&mut sql, project);
        sql.push(" GROUP BY day, dimension, item ORDER BY day, dimension, item");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(SignalRow {
                    day: row.try_get("day").map_err(store_error)?,
                    dimension: row.try_get("dimension").map_err(store_error)?,
                    item: row.try_get("item").map_err(store_error)?,
                    count: u64::try_from(row.try_get::<i64, _>("total").map_err(store_error)?)
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn new_fingerprints(
        &self,
        tenant: &str,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<NewFingerprint>, StoreError> {
        let mut sql = Sql::new(
            "SELECT fingerprint, MIN(first_day) AS first_day, MAX(template) AS template \
             FROM signal_fingerprints WHERE tenant_id = ",
        );
        sql.bind(tenant);
        project_filter(&mut sql, project);
        sql.push(" GROUP BY fingerprint HAVING MIN(first_day) >= ")
            .bind(from_day)
            .push(" AND MIN(first_day) <= ")
            .bind(to_day)
            .push(" ORDER BY first_day, fingerprint");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(NewFingerprint {
                    fingerprint: row.try_get("fingerprint").map_err(store_error)?,
                    first_day: row.try_get("first_day").map_err(store_error)?,
                    template: row.try_get("template").map_err(store_error)?,
                })
            })
            .collect()
    }
}
