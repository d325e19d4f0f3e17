//! Per-tenant retention. Each tenant's pipeline says how long its processed
//! events are kept (`[sinks] retention_days`); a background pass deletes
//! what is older, tenant by tenant, in whichever log store is configured.
//! Tenants differ (a free tier keeps 3 days, an audit tenant a year), so
//! this is a per-tenant delete rather than one table-wide TTL.
//!
//! Every `sluice` process runs the pass; the deletes are idempotent, so
//! several processes in one deployment only repeat each other's work.

use std::sync::Arc;
use std::time::Duration;

use super::{DAY_NS, LogStore, StoreError, TenantStore};
use crate::pipeline::registry::{Registry, Snapshot, now_ns};

/// The cut-off each tenant with a retention period has at `now_ns`: its
/// events with an earlier event time are due for deletion.
pub fn cutoffs(snapshot: &Snapshot, tenants: &[String], now_ns: i64) -> Vec<(String, i64)> {
    tenants
        .iter()
        .filter_map(|tenant| {
            let pipeline = snapshot.for_tenant(tenant)?;
            let days = *pipeline.sinks.retention_days.as_ref()?.get_ref();
            Some((
                tenant.clone(),
                now_ns.saturating_sub(i64::from(days).saturating_mul(DAY_NS)),
            ))
        })
        .collect()
}

/// One pass: delete every tenant's expired events. A tenant whose delete
/// fails is reported and the pass goes on with the others.
pub async fn enforce(
    snapshot: &Snapshot,
    tenants: &dyn TenantStore,
    logs: &dyn LogStore,
    now_ns: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let names: Vec<String> = tenants
        .list_tenants()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let due = cutoffs(snapshot, &names, now_ns);
    let mut done = Vec::with_capacity(due.len());
    for (tenant, before_ns) in due {
        match logs.expire(&tenant, before_ns).await {
            Ok(()) => done.push((tenant, before_ns)),
            Err(error) => {
                tracing::warn!(%tenant, %error, "retention: cannot delete expired events");
            }
        }
    }
    Ok(done)
}

/// Run [`enforce`] now and then every `every`, until the task is aborted.
pub fn spawn(
    registry: Arc<Registry>,
    tenants: Arc<dyn TenantStore>,
    logs: Arc<dyn LogStore>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let snapshot = registry.snapshot();
            match enforce(&snapshot, tenants.as_ref(), logs.as_ref(), now_ns()).await {
                Ok(done) => {
                    metrics::counter!("sluice_retention_passes_total").increment(1);
                    if !done.is_empty() {
                        tracing::info!(tenants = done.len(), "retention pass done");
                    }
                }
                Err(error) => tracing::warn!(%error, "retention pass failed"),
            }
        }
    })
}
