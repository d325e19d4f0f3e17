//! Incidents: alerts folded per (tenant, group) with a lifecycle.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Sql, SqlDatabase, from_i64, push_cursor, split_page, store_error, to_i64};
use crate::event::json::severity_name;
use crate::runtime::{Alert, FingerprintMerge};
use crate::store::{
    INCIDENT_SAMPLES, Incident, IncidentChange, IncidentChangeKind, IncidentPatch, IncidentQuery,
    IncidentStatus, IncidentStore, Page, StoreError, TimeCursor, page_size,
};

const COLUMNS: &str = "SELECT tenant_id, id, group_key, fingerprint, rule, title, severity, \
     service, status, assignee, alert_count, first_seen_ns, last_seen_ns, sample_event_ids, \
     reopened, resolved_at_ns FROM incidents WHERE tenant_id = ";

/// The group an alert folds into: its fingerprint when it has one, so every
/// rule about one print statement lands in one incident; its key otherwise.
pub fn group_key(alert: &Alert) -> String {
    match alert.fingerprint {
        Some(fingerprint) => fingerprint_group(fingerprint),
        None => alert.key.clone(),
    }
}

fn fingerprint_group(fingerprint: u64) -> String {
    format!("fp:{fingerprint:016x}")
}

fn severity_rank(name: &str) -> u8 {
    match name {
        "critical" => 3,
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

fn higher_severity(a: &str, b: &str) -> String {
    if severity_rank(b) > severity_rank(a) {
        b.to_owned()
    } else {
        a.to_owned()
    }
}

/// Append ids, keep the newest [`INCIDENT_SAMPLES`], no duplicates.
fn add_samples(samples: &mut Vec<String>, new: &[String]) {
    for id in new {
        if !samples.contains(id) {
            samples.push(id.clone());
        }
    }
    let excess = samples.len().saturating_sub(INCIDENT_SAMPLES);
    samples.drain(..excess);
}

fn from_row(row: &AnyRow) -> Result<Incident, StoreError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(store_error);
    let int = |column: &str| row.try_get::<i64, _>(column).map_err(store_error);
    let status_text = text("status")?;
    let status = IncidentStatus::parse(&status_text)
        .ok_or_else(|| StoreError::Rejected(format!("stored incident status {status_text:?}")))?;
    let samples: Vec<String> = serde_json::from_str(&text("sample_event_ids")?)
        .map_err(|error| StoreError::Rejected(format!("stored incident samples: {error}")))?;
    let fingerprint: Option<i64> = row.try_get("fingerprint").map_err(store_error)?;
    Ok(Incident {
        id: text("id")?,
        tenant: text("tenant_id")?,
        group_key: text("group_key")?,
        fingerprint: fingerprint.map(from_i64),
        rule: text("rule")?,
        title: text("title")?,
        severity: text("severity")?,
        service: row.try_get("service").map_err(store_error)?,
        status,
        assignee: row.try_get("assignee").map_err(store_error)?,
        count: u64::try_from(int("alert_count")?).unwrap_or_default(),
        first_seen_ns: int("first_seen_ns")?,
        last_seen_ns: int("last_seen_ns")?,
        sample_event_ids: samples,
        reopened: u64::try_from(int("reopened")?).unwrap_or_default(),
        resolved_at_ns: row.try_get("resolved_at_ns").map_err(store_error)?,
    })
}

fn samples_json(incident: &Incident) -> String {
    serde_json::Value::from(incident.sample_event_ids.clone()).to_string()
}

fn count_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl SqlDatabase {
    async fn find_group(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: &str,
        group: &str,
    ) -> Result<Option<Incident>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.bind(tenant).push(" AND group_key = ").bind(group);
        if self.is_postgres {
            sql.push(" FOR UPDATE");
        }
        let row = sql
            .query()
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn insert_incident(
        conn: &mut sqlx::AnyConnection,
        incident: &Incident,
    ) -> Result<(), StoreError> {
        Sql::new(
            "INSERT INTO incidents (tenant_id, id, group_key, fingerprint, rule, title, severity, \
             service, status, assignee, alert_count, first_seen_ns, last_seen_ns, \
             sample_event_ids, reopened, resolved_at_ns) VALUES (",
        )
        .bind(incident.tenant.as_str())
        .push(", ")
        .bind(incident.id.as_str())
        .push(", ")
        .bind(incident.group_key.as_str())
        .push(", ")
        .bind(incident.fingerprint.map(to_i64))
        .push(", ")
        .bind(incident.rule.as_str())
        .push(", ")
        .bind(incident.title.as_str())
        .push(", ")
        .bind(incident.severity.as_str())
        .push(", ")
        .bind(incident.service.as_deref())
        .push(", ")
        .bind(incident.status.as_str())
        .push(", ")
        .bind(incident.assignee.as_deref())
        .push(", ")
        .bind(count_i64(incident.count))
        .push(", ")
        .bind(incident.first_seen_ns)
        .push(", ")
        .bind(incident.last_seen_ns)
        .push(", ")
        .bind(samples_json(incident))
        .push(", ")
        .bind(count_i64(incident.reopened))
        .push(", ")
        .bind(incident.resolved_at_ns)
        .push(")")
        .query()
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// Write every mutable column of an existing incident.
    async fn save_incident(
        conn: &mut sqlx::AnyConnection,
        incident: &Incident,
    ) -> Result<(), StoreError> {
        Sql::new("UPDATE incidents SET group_key = ")
            .bind(incident.group_key.as_str())
            .push(", fingerprint = ")
            .bind(incident.fingerprint.map(to_i64))
            .push(", rule = ")
            .bind(incident.rule.as_str())
            .push(", title = ")
            .bind(incident.title.as_str())
            .push(", severity = ")
            .bind(incident.severity.as_str())
            .push(", service = ")
            .bind(incident.service.as_deref())
            .push(", status = ")
            .bind(incident.status.as_str())
            .push(", assignee = ")
            .bind(incident.assignee.as_deref())
            .push(", alert_count = ")
            .bind(count_i64(incident.count))
            .push(", first_seen_ns = ")
            .bind(incident.first_seen_ns)
            .push(", last_seen_ns = ")
            .bind(incident.last_seen_ns)
            .push(", sample_event_ids = ")
            .bind(samples_json(incident))
            .push(", reopened = ")
            .bind(count_i64(incident.reopened))
            .push(", resolved_at_ns = ")
            .bind(incident.resolved_at_ns)
            .push(" WHERE tenant_id = ")
            .bind(incident.tenant.as_str())
            .push(" AND id = ")
            .bind(incident.id.as_str())
            .query()
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn record_alert(
        &self,
        tenant: &str,
        alert: &Alert,
        now_ns: i64,
    ) -> Result<IncidentChange, StoreError> {
        let group = group_key(alert);
        let severity = severity_name(alert.severity);
        let mut tx = self.begin_write().await?;
        let change = match self.find_group(&mut tx, tenant, &group).await? {
            None => {
                let mut incident = Incident {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant: tenant.to_owned(),
                    group_key: group,
                    fingerprint: alert.fingerprint,
                    rule: alert.rule.clone(),
                    title: alert.title.clone(),
                    severity: severity.to_owned(),
                    service: alert.service.clone(),
                    status: IncidentStatus::Open,
                    assignee: None,
                    count: 1,
                    first_seen_ns: now_ns,
                    last_seen_ns: now_ns,
                    sample_event_ids: Vec::new(),
                    reopened: 0,
                    resolved_at_ns: None,
                };
                add_samples(&mut incident.sample_event_ids, &alert.sample_event_ids);
                Self::insert_incident(&mut tx, &incident).await?;
                IncidentChange {
                    kind: IncidentChangeKind::Created,
                    incident,
                }
            }
            Some(mut incident) => {
                let kind = if incident.status == IncidentStatus::Resolved {
                    incident.status = IncidentStatus::Open;
                    incident.reopened += 1;
                    incident.severity = severity.to_owned();
                    IncidentChangeKind::Reopened
                } else {
                    incident.severity = higher_severity(&incident.severity, severity);
                    IncidentChangeKind::Updated
                };
                incident.rule = alert.rule.clone();
                incident.title = alert.title.clone();
                if alert.service.is_some() {
                    incident.service = alert.service.clone();
                }
                incident.count += 1;
                incident.last_seen_ns = incident.last_seen_ns.max(now_ns);
                add_samples(&mut incident.sample_event_ids, &alert.sample_event_ids);
                Self::save_incident(&mut tx, &incident).await?;
                IncidentChange { kind, incident }
            }
        };
        tx.commit().await.map_err(store_error)?;
        Ok(change)
    }

    async fn merge_one(&self, tenant: &str, merge: &FingerprintMerge) -> Result<(), StoreError> {
        if merge.old == merge.new {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let old_group = fingerprint_group(merge.old);
        let Some(old) = self.find_group(&mut tx, tenant, &old_group).await? else {
            return Ok(());
        };
        let new_group = fingerprint_group(merge.new);
        match self.find_group(&mut tx, tenant, &new_group).await? {
            None => {
                let mut moved = old;
                moved.group_key = new_group;
                moved.fingerprint = Some(merge.new);
                Self::save_incident(&mut tx, &moved).await?;
            }
            Some(mut target) => {
                target.count += old.count;
                target.first_seen_ns = target.first_seen_ns.min(old.first_seen_ns);
                if old.last_seen_ns > target.last_seen_ns {
                    target.last_seen_ns = old.last_seen_ns;
                    target.rule = old.rule.clone();
                    target.title = old.title.clone();
                }
                target.severity = higher_severity(&target.severity, &old.severity);
                // The merged incident is as alive as the livelier of the two.
                if target.status == IncidentStatus::Resolved
                    && old.status != IncidentStatus::Resolved
                {
                    target.status = old.status;
                    target.resolved_at_ns = None;
                }
                if target.assignee.is_none() {
                    target.assignee = old.assignee.clone();
                }
                target.reopened = target.reopened.max(old.reopened);
                let mut samples = old.sample_event_ids.clone();
                add_samples(&mut samples, &target.sample_event_ids);
                target.sample_event_ids = samples;
                Sql::new("DELETE FROM incidents WHERE tenant_id = ")
                    .bind(tenant)
                    .push(" AND id = ")
                    .bind(old.id.as_str())
                    .query()
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                Self::save_incident(&mut tx, &target).await?;
            }
        }
        tx.commit().await.map_err(store_error)
    }
}

#[async_trait]
impl IncidentStore for SqlDatabase {
    async fn record_alerts(
        &self,
        tenant: &str,
        alerts: &[Alert],
        now_ns: i64,
    ) -> Result<Vec<IncidentChange>, StoreError> {
        let _one_at_a_time = self.incidents_lock.lock().await;
        let mut changes = Vec::with_capacity(alerts.len());
        for alert in alerts {
            // Another process may create the group's incident between our
            // read and our insert; the unique index refuses ours, and the
            // second attempt finds theirs and updates it.
            let change = match self.record_alert(tenant, alert, now_ns).await {
                Err(StoreError::Invalid(_)) => self.record_alert(tenant, alert, now_ns).await?,
                other => other?,
            };
            changes.push(change);
        }
        Ok(changes)
    }

    async fn merge_fingerprints(
        &self,
        tenant: &str,
        merges: &[FingerprintMerge],
    ) -> Result<(), StoreError> {
        let _one_at_a_time = self.incidents_lock.lock().await;
        for merge in merges {
            self.merge_one(tenant, merge).await?;
        }
        Ok(())
    }

    async fn list(
        &self,
        tenant: &str,
        query: &IncidentQuery,
    ) -> Result<Page<Incident>, StoreError> {
        let limit = page_size(query.limit);
        let mut sql = Sql::new(COLUMNS);
        sql.bind(tenant);
        if let Some(status) = query.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        if let Some(fingerprint) = query.fingerprint {
            sql.push(" AND fingerprint = ").bind(to_i64(fingerprint));
        }
        push_cursor(&mut sql, "last_seen_ns", query.cursor.as_deref())?;
        sql.push(" ORDER BY last_seen_ns DESC, id DESC LIMIT ")
            .bind(limit as i64 + 1);
        let rows = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(split_page(rows, limit, |incident| TimeCursor {
            time_ns: incident.last_seen_ns,
            id: incident.id.clone(),
        }))
    }

    async fn get(&self, tenant: &str, id: &str) -> Result<Option<Incident>, StoreError> {
        let mut sql = Sql::new(COLUMNS);
        sql.bind(tenant).push(" AND id = ").bind(id);
        sql.fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }

    async fn update(
        &self,
        tenant: &str,
        id: &str,
        patch: &IncidentPatch,
        now_ns: i64,
    ) -> Result<(Incident, Vec<IncidentChange>), StoreError> {
        let _one_at_a_time = self.incidents_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(COLUMNS);
        sql.bind(tenant).push(" AND id = ").bind(id);
        if self.is_postgres {
            sql.push(" FOR UPDATE");
        }
        let row = sql
            .query()
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        let mut incident = from_row(&row)?;
        let mut kinds = Vec::new();
        if let Some(status) = patch.status
            && status != incident.status
        {
            match status {
                IncidentStatus::Acknowledged if incident.status == IncidentStatus::Resolved => {
                    return Err(StoreError::Invalid(
                        "cannot acknowledge a resolved incident; reopen it with status \"open\" first"
                            .to_owned(),
                    ));
                }
                IncidentStatus::Acknowledged => kinds.push(IncidentChangeKind::Acknowledged),
                IncidentStatus::Resolved => {
                    incident.resolved_at_ns = Some(now_ns);
                    kinds.push(IncidentChangeKind::Resolved);
                }
                IncidentStatus::Open => {
                    if incident.status == IncidentStatus::Resolved {
                        incident.reopened += 1;
                    }
                    kinds.push(IncidentChangeKind::Reopened);
                }
            }
            incident.status = status;
        }
        if let Some(assignee) = &patch.assignee {
            let assignee = assignee.as_deref().map(str::trim).filter(|a| !a.is_empty());
            if assignee != incident.assignee.as_deref() {
                incident.assignee = assignee.map(str::to_owned);
                kinds.push(IncidentChangeKind::Assigned);
            }
        }
        if !kinds.is_empty() {
            Self::save_incident(&mut tx, &incident).await?;
        }
        tx.commit().await.map_err(store_error)?;
        let changes = kinds
            .into_iter()
            .map(|kind| IncidentChange {
                kind,
                incident: incident.clone(),
            })
            .collect();
        Ok((incident, changes))
    }
}
