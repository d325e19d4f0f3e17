//! Writing a batch's results to every sink before its delivery is
//! acknowledged. Retriable failures (a store down) are retried with backoff
//! for as long as it takes, holding the batch, so the queue fills and
//! ingest sheds load instead of losing events. Rows a store rejects as bad
//! data are isolated by bisection and become dead letters; the rest of the
//! batch is stored.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::BatchOutput;
use crate::event::DeadLetter;
use crate::pipeline::registry::now_ns;
use crate::store::{
    DeadLetterStore, IncidentChange, IncidentStore, LogStore, StoreError, StoredEvent,
};

/// First wait after a retriable failure; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// Longest wait between retries of a store that is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Something that sees every batch of processed events after it is stored
/// (live tail, signal aggregates).
pub trait Tap: Send + Sync + 'static {
    /// Events of one batch after their chain: stored ones, and processed
    /// ones of signal-only pipelines, each with its pipeline version.
    fn processed(&self, events: &[&StoredEvent]);
}

/// Something told about incident changes (notifications).
pub trait IncidentListener: Send + Sync + 'static {
    /// Incidents created, reopened, updated.
    fn changed(&self, tenant: &str, changes: &[IncidentChange]);
}

/// Every place results go.
#[derive(Clone)]
pub struct Sinks {
    /// Processed events.
    pub logs: Arc<dyn LogStore>,
    /// Alerts → incidents.
    pub incidents: Arc<dyn IncidentStore>,
    /// Events that failed.
    pub dead_letters: Arc<dyn DeadLetterStore>,
    /// Observers of processed events.
    pub taps: Vec<Arc<dyn Tap>>,
    /// Daily counts (signals).
    pub signals: Arc<dyn crate::store::SignalStore>,
    /// Observers of incident changes.
    pub incident_listeners: Vec<Arc<dyn IncidentListener>>,
    /// Raised while a store is being retried, so ingest sheds load.
    pub backpressure: Arc<crate::queue::Backpressure>,
}

impl Sinks {
    /// Store everything in `out`; returns once all of it is stored.
    pub async fn write(&self, out: BatchOutput) {
        let BatchOutput {
            stored,
            mut dead,
            alerts,
            merges,
            signals_only,
            signals,
            processed: _,
        } = out;
        // Three independent stores (often three servers): written at once.
        let logs_and_dead_letters = async {
            if !stored.is_empty() {
                let mut rejected = Vec::new();
                self.insert_logs(&stored, &mut rejected).await;
                dead.extend(rejected);
            }
            if !dead.is_empty() {
                retry(&self.backpressure, "dead letters", || {
                    self.dead_letters.insert(&dead)
                })
                .await;
                record_dead_letters(&dead);
            }
        };
        let incidents = self.write_incidents(alerts, merges);
        let signals = async {
            if !signals.is_empty() {
                retry(&self.backpressure, "signals", || {
                    self.signals.record(&signals)
                })
                .await;
            }
        };
        tokio::join!(logs_and_dead_letters, incidents, signals);
        if !self.taps.is_empty() {
            let events: Vec<&StoredEvent> = stored.iter().chain(signals_only.iter()).collect();
            for tap in &self.taps {
                tap.processed(&events);
            }
        }
    }

    /// Fold alerts into incidents (telling the listeners) and apply
    /// fingerprint merges, tenant by tenant.
    async fn write_incidents(
        &self,
        alerts: Vec<(String, crate::runtime::Alert)>,
        merges: Vec<(String, crate::runtime::FingerprintMerge)>,
    ) {
        let mut by_tenant: BTreeMap<String, Vec<crate::runtime::Alert>> = BTreeMap::new();
        for (tenant, alert) in alerts {
            by_tenant.entry(tenant).or_default().push(alert);
        }
        for (tenant, alerts) in &by_tenant {
            let now = now_ns();
            // One alert per attempt: each is stored in its own transaction, so
            // a retry redoes only the alert that failed. Retrying the whole
            // list would fold the alerts already stored in a second time (an
            // incident resolved meanwhile would reopen) and drop their
            // changes from the notifications.
            let mut changes = Vec::with_capacity(alerts.len());
            for alert in alerts {
                changes.extend(
                    retry(&self.backpressure, "incidents", || {
                        self.incidents
                            .record_alerts(tenant, std::slice::from_ref(alert), now)
                    })
                    .await,
                );
            }
            for listener in &self.incident_listeners {
                listener.changed(tenant, &changes);
            }
        }
        let mut merges_by_tenant: BTreeMap<String, Vec<crate::runtime::FingerprintMerge>> =
            BTreeMap::new();
        for (tenant, merge) in merges {
            merges_by_tenant.entry(tenant).or_default().push(merge);
        }
        for (tenant, merges) in &merges_by_tenant {
            retry(&self.backpressure, "incident merges", || {
                self.incidents.merge_fingerprints(tenant, merges)
            })
            .await;
        }
    }

    /// Insert rows; rows the store rejects as bad data go to `rejected`.
    async fn insert_logs(&self, rows: &[StoredEvent], rejected: &mut Vec<DeadLetter>) {
        // Explicit stack instead of recursion: async recursion needs boxing.
        let mut pending: Vec<&[StoredEvent]> = vec![rows];
        while let Some(chunk) = pending.pop() {
            match retry_unless_rejected(&self.backpressure, "log store", || self.logs.insert(chunk))
                .await
            {
                Ok(()) => {}
                Err(why) if chunk.len() == 1 => {
                    let row = &chunk[0];
                    tracing::warn!(tenant = %row.event.tenant, id = %row.event.id, %why, "log store rejected an event; dead-lettered");
                    let mut letter = DeadLetter::unprocessed(
                        row.event.clone(),
                        "(log store)",
                        "store_rejected",
                        why,
                        now_ns(),
                    );
                    letter.pipeline = row.pipeline.clone();
                    letter.pipeline_version = row.pipeline_version;
                    rejected.push(letter);
                }
                Err(_) => {
                    let (left, right) = chunk.split_at(chunk.len() / 2);
                    pending.push(right);
                    pending.push(left);
                }
            }
        }
    }
}

fn record_dead_letters(dead: &[DeadLetter]) {
    for letter in dead {
        metrics::counter!("sluice_dead_letters_total", "tenant" => letter.tenant.clone(), "step" => letter.step.clone(), "code" => letter.code.clone()).increment(1);
    }
}

/// Retry a store call until it succeeds; non-retriable errors are logged
/// and given up (they cannot succeed), retriable ones retried with backoff.
async fn retry<T: Default, F, Fut>(
    pressure: &crate::queue::Backpressure,
    what: &str,
    mut call: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        match call().await {
            Ok(value) => {
                pressure
                    .0
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                return value;
            }
            Err(error) if error.is_retriable() => {
                pressure.0.store(true, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(sink = what, %error, retry_in_ms = backoff.as_millis() as u64, "sink unavailable; holding the batch and retrying");
                metrics::counter!("sluice_sink_retries_total", "sink" => what.to_owned())
                    .increment(1);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(error) => {
                tracing::error!(sink = what, %error, "sink refused a write that cannot succeed; data lost");
                metrics::counter!("sluice_sink_failures_total", "sink" => what.to_owned())
                    .increment(1);
                return T::default();
            }
        }
    }
}

/// Like [`retry`], but hands back a rejection of the data for bisection.
async fn retry_unless_rejected<F, Fut>(
    pressure: &crate::queue::Backpressure,
    what: &str,
    mut call: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        match call().await {
            Ok(()) => {
                pressure
                    .0
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                return Ok(());
            }
            Err(StoreError::Rejected(why)) => return Err(why),
            Err(error) if error.is_retriable() => {
                pressure.0.store(true, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(sink = what, %error, retry_in_ms = backoff.as_millis() as u64, "sink unavailable; holding the batch and retrying");
                metrics::counter!("sluice_sink_retries_total", "sink" => what.to_owned())
                    .increment(1);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(error) => return Err(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::runtime::{Alert, FingerprintMerge};
    use crate::store::discard::DiscardLogStore;
    use crate::store::sql::SqlDatabase;
    use crate::store::{Incident, IncidentChangeKind, IncidentPatch, IncidentQuery, Page};

    /// The real store, storing each alert on its own as the SQL store does,
    /// except that the `fail_at`-th alert it is handed fails once, after
    /// the alerts before it in the same call were stored.
    struct FailsOnce {
        inner: Arc<dyn IncidentStore>,
        alerts: AtomicUsize,
        fail_at: usize,
    }

    #[async_trait]
    impl IncidentStore for FailsOnce {
        async fn record_alerts(
            &self,
            tenant: &str,
            alerts: &[Alert],
            now_ns: i64,
        ) -> Result<Vec<IncidentChange>, StoreError> {
            let mut changes = Vec::new();
            for alert in alerts {
                if self.alerts.fetch_add(1, Ordering::SeqCst) == self.fail_at {
                    return Err(StoreError::Unavailable("planted".to_owned()));
                }
                let one = std::slice::from_ref(alert);
                changes.extend(self.inner.record_alerts(tenant, one, now_ns).await?);
            }
            Ok(changes)
        }
        async fn merge_fingerprints(
            &self,
            tenant: &str,
            merges: &[FingerprintMerge],
        ) -> Result<(), StoreError> {
            self.inner.merge_fingerprints(tenant, merges).await
        }
        async fn list(
            &self,
            tenant: &str,
            query: &IncidentQuery,
        ) -> Result<Page<Incident>, StoreError> {
            self.inner.list(tenant, query).await
        }
        async fn get(&self, tenant: &str, id: &str) -> Result<Option<Incident>, StoreError> {
            self.inner.get(tenant, id).await
        }
        async fn update(
            &self,
            tenant: &str,
            id: &str,
            patch: &IncidentPatch,
            now_ns: i64,
        ) -> Result<(Incident, Vec<IncidentChange>), StoreError> {
            self.inner.update(tenant, id, patch, now_ns).await
        }
    }

    #[derive(Default)]
    struct Heard(Mutex<Vec<IncidentChangeKind>>);

    impl IncidentListener for Heard {
        fn changed(&self, _tenant: &str, changes: &[IncidentChange]) {
            let mut heard = self.0.lock().expect("not poisoned");
            heard.extend(changes.iter().map(|c| c.kind));
        }
    }

    fn alert(key: &str) -> Alert {
        Alert {
            rule: "errors".to_owned(),
            severity: crate::runtime::bindings::Severity::Error,
            title: format!("{key} fired"),
            key: key.to_owned(),
            fingerprint: None,
            service: None,
            window_count: 5,
            window_ns: 60_000_000_000,
            baseline: None,
            sample_event_ids: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// A store failure part-way through a batch's alerts retries only the
    /// alert that failed: the ones already stored are not folded in twice,
    /// and every change still reaches the listeners.
    #[tokio::test]
    async fn a_failed_alert_is_retried_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = Arc::new(
            SqlDatabase::open_sqlite(&dir.path().join("sluice.db"))
                .await
                .expect("database"),
        );
        let stores = database.stores();
        let incidents = Arc::new(FailsOnce {
            inner: stores.incidents.clone(),
            alerts: AtomicUsize::new(0),
            fail_at: 1,
        });
        let heard = Arc::new(Heard::default());
        let sinks = Sinks {
            logs: Arc::new(DiscardLogStore),
            incidents: incidents.clone(),
            dead_letters: stores.dead_letters.clone(),
            taps: Vec::new(),
            signals: stores.signals.clone(),
            incident_listeners: vec![heard.clone()],
            backpressure: Arc::new(crate::queue::Backpressure(AtomicBool::new(false))),
        };
        let alerts = vec![
            ("acme".to_owned(), alert("first")),
            ("acme".to_owned(), alert("second")),
        ];
        sinks.write_incidents(alerts, Vec::new()).await;

        let heard = heard.0.lock().expect("not poisoned").clone();
        assert_eq!(
            heard,
            [IncidentChangeKind::Created, IncidentChangeKind::Created]
        );
        let page = stores
            .incidents
            .list("acme", &IncidentQuery::default())
            .await
            .expect("list");
        assert_eq!(page.items.len(), 2);
        assert!(
            page.items.iter().all(|incident| incident.count == 1),
            "an alert stored twice: {:?}",
            page.items.iter().map(|i| i.count).collect::<Vec<_>>()
        );
    }
}
