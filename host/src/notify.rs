//! Webhook notifications of incident changes, per tenant.
//!
//! Targets come from the tenant's pipeline (`[[sinks.notify]]`), so they
//! reload with it. Each change becomes one delivery per target, with an id
//! derived from the change itself: the same change reported twice (a
//! replay, a retried batch) is sent once, and receivers can deduplicate
//! retries by `X-Sluice-Delivery`. A delivery is retried with exponential
//! backoff on network errors, 429 and 5xx; deliveries run concurrently, so
//! one slow receiver does not hold up the others.
//!
//! Signed bodies carry `X-Sluice-Timestamp` (Unix seconds) and
//! `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`
//! keyed with the target's secret, so a receiver can check both origin and
//! freshness.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};

use crate::api::incidents::incident_json;
use crate::pipeline::Registry;
use crate::pipeline::spec::{NotifyFormat, NotifyTarget};
use crate::runner::sinks::IncidentListener;
use crate::store::{IncidentChange, IncidentChangeKind};

/// Deliveries waiting to be sent before new ones are dropped (and counted).
const QUEUE: usize = 10_000;

/// Delivery ids remembered for deduplication.
const REMEMBERED: usize = 100_000;

/// Attempts per delivery, and the first pause between them (doubling).
const ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Deliveries in flight at once.
const CONCURRENCY: usize = 16;

/// One webhook call to make.
#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    event: String,
    tenant: String,
    url: String,
    body: String,
    secret: Option<String>,
}

/// Recently queued delivery ids, oldest first out.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    /// True the first time an id is offered.
    fn first(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

/// Turns incident changes into webhook deliveries.
pub struct Notifier {
    registry: Arc<Registry>,
    queue: mpsc::Sender<Delivery>,
    seen: Mutex<Seen>,
}

impl Notifier {
    /// Start the sender task on the current Tokio runtime.
    pub fn start(registry: Arc<Registry>) -> Arc<Self> {
        let (queue, deliveries) = mpsc::channel(QUEUE);
        tokio::spawn(send_all(deliveries));
        Arc::new(Self {
            registry,
            queue,
            seen: Mutex::new(Seen::default()),
        })
    }
}

impl IncidentListener for Notifier {
    fn changed(&self, tenant: &str, changes: &[IncidentChange]) {
        let Some(pipeline) = self.registry.snapshot().for_tenant(tenant) else {
            return;
        };
        for target in &pipeline.sinks.notify {
            for change in changes {
                if !target.wants(change.kind) {
                    continue;
                }
                let delivery = delivery(tenant, target, change);
                if !self.seen.lock().first(&delivery.id) {
                    continue;
                }
                if self.queue.try_send(delivery).is_err() {
                    metrics::counter!("sluice_notifications_dropped_total", "tenant" => tenant.to_owned())
                        .increment(1);
                    tracing::warn!(%tenant, "notification queue full; a notification was dropped");
                }
            }
        }
    }
}

fn kind_name(kind: IncidentChangeKind) -> &'static str {
    match kind {
        IncidentChangeKind::Created => "created",
        IncidentChangeKind::Reopened => "reopened",
        IncidentChangeKind::Updated => "updated",
        IncidentChangeKind::Acknowledged => "acknowledged",
        IncidentChangeKind::Assigned => "assigned",
        IncidentChangeKind::Resolved => "resolved",
    }
}

/// The delivery of `change` to `target`; its id names the change (tenant,
/// incident, kind, and the incident's state after it) and the target.
fn delivery(tenant: &str, target: &NotifyTarget, change: &IncidentChange) -> Delivery {
    let incident = &change.incident;
    let kind = kind_name(change.kind);
    let state = format!(
        "{tenant}\n{}\n{kind}\n{}\n{}\n{:?}\n{:?}\n{}",
        incident.id,
        incident.count,
        incident.reopened,
        incident.status,
        incident.assignee,
        target.url.get_ref()
    );
    let id = hex::encode(&Sha256::digest(state.as_bytes())[..16]);
    let event = format!("incident.{kind}");
    let body = match target.format {
        NotifyFormat::Json => json!({
            "type": event,
            "delivery_id": id,
            "tenant": tenant,
            "incident": incident_json(incident),
        }),
        NotifyFormat::Slack => slack(tenant, kind, change),
    };
    Delivery {
        id,
        event,
        tenant: tenant.to_owned(),
        url: target.url.get_ref().clone(),
        body: body.to_string(),
        secret: target.secret.clone(),
    }
}

fn slack(tenant: &str, kind: &str, change: &IncidentChange) -> Value {
    let incident = &change.incident;
    let mut text = format!(
        "[{}] {} — {kind} ({tenant}",
        incident.severity, incident.title
    );
    if let Some(service) = &incident.service {
        text.push_str(&format!(", {service}"));
    }
    text.push(')');
    if let Some(assignee) = &incident.assignee
        && change.kind == IncidentChangeKind::Assigned
    {
        text.push_str(&format!(" → {assignee}"));
    }
    json!({ "text": text })
}

/// `sha256=<hex>` of `"{timestamp}.{body}"` keyed with `secret`.
pub fn signature(secret: &str, timestamp: u64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn send_all(mut deliveries: mpsc::Receiver<Delivery>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(delivery) = deliveries.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let client = client.clone();
        tokio::spawn(async move {
            send(&client, &delivery).await;
            drop(slot);
        });
    }
}

async fn send(client: &reqwest::Client, delivery: &Delivery) {
    let mut pause = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut request = client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("x-sluice-delivery", &delivery.id)
            .header("x-sluice-event", &delivery.event)
            .header("x-sluice-timestamp", timestamp.to_string())
            .body(delivery.body.clone());
        if let Some(secret) = &delivery.secret {
            request = request.header(
                "x-sluice-signature",
                signature(secret, timestamp, &delivery.body),
            );
        }
        let outcome = match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response)
                if response.status().is_server_error() || response.status().as_u16() == 429 =>
            {
                Err(format!("HTTP {}", response.status()))
            }
            Ok(response) => {
                // 4xx: the receiver refuses this delivery; retrying will not help.
                tracing::warn!(tenant = %delivery.tenant, url = %delivery.url, status = %response.status(), "notification refused");
                metrics::counter!("sluice_notifications_failed_total", "tenant" => delivery.tenant.clone()).increment(1);
                return;
            }
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(()) => {
                metrics::counter!("sluice_notifications_sent_total", "tenant" => delivery.tenant.clone()).increment(1);
                return;
            }
            Err(why) if attempt < ATTEMPTS => {
                tracing::debug!(tenant = %delivery.tenant, url = %delivery.url, %why, attempt, "notification failed; retrying");
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            Err(why) => {
                tracing::warn!(tenant = %delivery.tenant, url = %delivery.url, %why, "notification failed after {ATTEMPTS} attempts");
                metrics::counter!("sluice_notifications_failed_total", "tenant" => delivery.tenant.clone()).increment(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_first_once_and_forgotten_only_after_many_others() {
        let mut seen = Seen::default();
        assert!(seen.first("a"));
        assert!(!seen.first("a"));
        for i in 0..REMEMBERED {
            seen.first(&i.to_string());
        }
        assert!(seen.first("a"), "the oldest id is forgotten past the bound");
    }

    #[test]
    fn signatures_cover_timestamp_and_body() {
        let one = signature("s3cret", 1_700_000_000, "{}");
        assert!(one.starts_with("sha256=") && one.len() == 7 + 64);
        assert_ne!(one, signature("s3cret", 1_700_000_001, "{}"));
        assert_ne!(one, signature("s3cret", 1_700_000_000, "{ }"));
        assert_ne!(one, signature("other", 1_700_000_000, "{}"));
    }
}
