//! `GET /v1/tail`: processed events as they happen, over a WebSocket.
//!
//! The hub is a [`Tap`] on every processed batch. Each connection
//! registers a subscriber for its tenant with a server-side filter and a
//! bounded buffer; a client that reads slower than events arrive loses the
//! excess, and is told how many with a `{"type":"dropped","count":N}`
//! message before the next event, so a slow browser never grows the
//! server's memory. A subscriber only ever sees its own tenant's events:
//! the tenant comes from the API key, never from the request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::mpsc;

use super::logs::stored_json;
use super::query::Params;
use super::{ApiError, AppState, auth::Authenticated};
use crate::runner::sinks::Tap;
use crate::runtime::Level;
use crate::store::StoredEvent;

/// Events buffered per connection before the excess is dropped.
pub const TAIL_BUFFER: usize = 1_000;

/// What a connection wants to see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailFilter {
    /// Exact service.
    pub service: Option<String>,
    /// Exact level.
    pub level: Option<Level>,
    /// Exact fingerprint.
    pub fingerprint: Option<u64>,
    /// Case-insensitive substring of the message (stored lower-cased).
    pub text: Option<String>,
}

impl TailFilter {
    fn matches(&self, stored: &StoredEvent) -> bool {
        let event = &stored.event;
        self.service
            .as_ref()
            .is_none_or(|s| event.service.as_deref() == Some(s.as_str()))
            && self.level.is_none_or(|l| event.level == Some(l))
            && self
                .fingerprint
                .is_none_or(|f| event.fingerprint == Some(f))
            && self
                .text
                .as_ref()
                .is_none_or(|t| event.message.to_lowercase().contains(t.as_str()))
    }
}

struct Subscriber {
    filter: TailFilter,
    events: mpsc::Sender<Arc<str>>,
    dropped: Arc<AtomicU64>,
}

/// Every live-tail connection, by tenant.
#[derive(Default)]
pub struct TailHub {
    subscribers: Mutex<HashMap<String, Vec<Subscriber>>>,
}

/// One connection's side: events to send and the count of those lost.
pub struct Subscription {
    /// Matching events, in processing order, as the messages to send.
    pub events: mpsc::Receiver<Arc<str>>,
    /// Events lost to a full buffer since the last notice.
    pub dropped: Arc<AtomicU64>,
}

impl TailHub {
    /// Register a connection of `tenant` with `filter`.
    pub fn subscribe(&self, tenant: &str, filter: TailFilter) -> Subscription {
        let (sender, events) = mpsc::channel(TAIL_BUFFER);
        let dropped = Arc::new(AtomicU64::new(0));
        self.subscribers
            .lock()
            .entry(tenant.to_owned())
            .or_default()
            .push(Subscriber {
                filter,
                events: sender,
                dropped: dropped.clone(),
            });
        Subscription { events, dropped }
    }

    /// Live connections of a tenant (metrics, tests).
    pub fn connections(&self, tenant: &str) -> usize {
        self.subscribers.lock().get(tenant).map_or(0, Vec::len)
    }
}

impl Tap for TailHub {
    fn processed(&self, events: &[&StoredEvent]) {
        let mut subscribers = self.subscribers.lock();
        if subscribers.is_empty() {
            return;
        }
        for stored in events {
            // Each event goes to its own tenant's connections only.
            let Some(list) = subscribers.get(stored.event.tenant.as_str()) else {
                continue;
            };
            // Rendered once per event, for however many connections want it.
            let mut message: Option<Arc<str>> = None;
            for subscriber in list {
                if !subscriber.filter.matches(stored) {
                    continue;
                }
                let text = message.get_or_insert_with(|| {
                    json!({"type": "event", "event": stored_json(stored)})
                        .to_string()
                        .into()
                });
                if subscriber.events.try_send(text.clone()).is_err()
                    && !subscriber.events.is_closed()
                {
                    subscriber.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        subscribers.retain(|_, list| {
            list.retain(|subscriber| !subscriber.events.is_closed());
            !list.is_empty()
        });
    }
}

/// `GET /v1/tail?service&level&fingerprint&q` (WebSocket upgrade). The key
/// comes as on every route, or, from browsers, as the subprotocol
/// `sluice.key.<key>`, which the answer then selects.
pub async fn tail(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Query(raw): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    mut upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // A browser that sent its key as the subprotocol `sluice.key.<key>`
    // fails the handshake unless the server selects a protocol it offered.
    if let Some(key) = super::auth::websocket_key(&headers) {
        let chosen = format!("{}{key}", super::auth::WEBSOCKET_KEY_PROTOCOL);
        if let Ok(value) = axum::http::HeaderValue::from_str(&chosen) {
            upgrade.set_selected_protocol(value);
        }
    }
    let mut params = Params::new(raw);
    let filter = TailFilter {
        service: params.text("service"),
        level: params.level("level")?,
        fingerprint: params.fingerprint("fingerprint")?,
        text: params.text("q").map(|t| t.to_lowercase()),
    };
    params.finish()?;
    let subscription = state.tail.subscribe(&tenant, filter);
    metrics::gauge!("sluice_tail_connections").increment(1.0);
    Ok(upgrade.on_upgrade(move |socket| async move {
        stream(socket, subscription).await;
        metrics::gauge!("sluice_tail_connections").decrement(1.0);
    }))
}

async fn stream(mut socket: WebSocket, mut subscription: Subscription) {
    loop {
        tokio::select! {
            event = subscription.events.recv() => {
                let Some(event) = event else { return };
                let dropped = subscription.dropped.swap(0, Ordering::Relaxed);
                if dropped > 0 {
                    let notice = json!({"type": "dropped", "count": dropped});
                    if socket.send(Message::Text(notice.to_string().into())).await.is_err() {
                        return;
                    }
                }
                if socket.send(Message::Text(event.as_ref().into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // The client closed, or went away.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Event;
    use serde_json::Value;

    fn stored(tenant: &str, level: Level, message: &str) -> StoredEvent {
        StoredEvent {
            event: Event {
                id: message.to_owned(),
                tenant: tenant.to_owned(),
                project: None,
                received_ns: 0,
                timestamp_ns: None,
                service: Some("api".into()),
                level: Some(level),
                message: message.to_owned(),
                attributes: Vec::new(),
                raw: None,
                fingerprint: Some(7),
                template: None,
            },
            pipeline: "default".into(),
            pipeline_version: 1,
        }
    }

    #[test]
    fn a_subscriber_sees_only_its_tenants_matching_events_and_counts_what_overflows() {
        let hub = TailHub::default();
        let filter = TailFilter {
            level: Some(Level::Error),
            text: Some("disk".into()),
            ..TailFilter::default()
        };
        let mut mine = hub.subscribe("acme", filter);
        let batch: Vec<StoredEvent> = [stored("globex", Level::Error, "Disk full")]
            .into_iter()
            .chain(
                (0..TAIL_BUFFER + 5)
                    .map(|i| stored("acme", Level::Error, &format!("Disk {i} full"))),
            )
            .chain([stored("acme", Level::Info, "disk ok")])
            .collect();
        hub.processed(&batch.iter().collect::<Vec<_>>());
        let mut received = 0;
        while let Ok(message) = mine.events.try_recv() {
            let message: Value = serde_json::from_str(&message).unwrap();
            assert_eq!(message["type"], "event");
            let event = &message["event"];
            assert_eq!(event["tenant"], "acme");
            assert_eq!(event["level"], "error");
            received += 1;
        }
        assert_eq!(received, TAIL_BUFFER);
        assert_eq!(mine.dropped.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let hub = TailHub::default();
        drop(hub.subscribe("acme", TailFilter::default()));
        assert_eq!(hub.connections("acme"), 1);
        let batch = [stored("acme", Level::Info, "x")];
        hub.processed(&batch.iter().collect::<Vec<_>>());
        assert_eq!(hub.connections("acme"), 0);
    }
}
