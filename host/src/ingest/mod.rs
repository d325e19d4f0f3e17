//! HTTP ingest: `POST /v1/logs`, and the shippers' protocols beside it
//! (`otlp`: OTLP/HTTP logs, `loki`: Loki push, `elastic`: Elasticsearch
//! bulk), each of which turns its records into JSON payloads ([`record`])
//! that the normalize plugin reads, then shares [`enqueue`].
//!
//! In: a request with an API key and a body of events. Out: events on the
//! queue, each with an id (UUIDv7), the key's tenant and the time received,
//! and a `202 {"accepted": n, "ids": […]}` sent only after the queue holds
//! them. The key alone decides the tenant: a header naming another tenant
//! is refused; a `tenant` field inside an event is just data.
//!
//! Partial batches: none on `/v1/logs` and Loki push. A request is
//! accepted whole or rejected whole (bad event, limit, rate, full queue),
//! so resending a rejected request never duplicates anything. The protocols
//! whose clients expect per-record answers differ only where their clients
//! drop the refused part rather than resend it: OTLP's `partial_success`
//! (a record too long) and Elasticsearch's per-item status (a bad document).

pub use sluice_formats::body as decode;
pub mod elastic;
pub mod loki;
pub mod otlp;
pub mod rate;
pub use sluice_formats::shippers::record;

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::api::{ApiError, AppState, auth::Authenticated};
use crate::pipeline::registry::now_ns;
use crate::queue::QueueError;
use crate::runtime::Event;

/// Headers by which a client might try to pick a tenant; honoured never.
const TENANT_HEADERS: [&str; 3] = ["x-sluice-tenant", "x-tenant", "x-scope-orgid"];

/// `POST /v1/logs`.
pub async fn post_logs(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_tenant_headers(&headers, &tenant)?;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let limits = state.decode_limits();
    let payloads = decode::decode(
        text(header::CONTENT_TYPE),
        text(header::CONTENT_ENCODING),
        &body,
        &limits,
    )?;
    accept(&state, &tenant, payloads).await
}

/// Refuse a request whose headers name a tenant other than the key's.
pub fn check_tenant_headers(headers: &HeaderMap, tenant: &str) -> Result<(), ApiError> {
    for name in TENANT_HEADERS {
        if let Some(claimed) = headers.get(name).and_then(|v| v.to_str().ok())
            && claimed != tenant
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_mismatch",
                format!("header `{name}` names another tenant; the API key decides the tenant"),
            ));
        }
    }
    Ok(())
}

/// Rate-limit, stamp and queue payloads for `tenant`, answering as
/// `/v1/logs` does.
pub async fn accept(
    state: &AppState,
    tenant: &str,
    payloads: Vec<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let count = payloads.len();
    let ids = enqueue(state, tenant, payloads).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "accepted": count, "ids": ids })),
    ))
}

/// Rate-limit, stamp and queue payloads for `tenant`, returning the event
/// ids in payload order: the shared tail of every ingest protocol, each of
/// which answers in its own shape around it.
pub async fn enqueue(
    state: &AppState,
    tenant: &str,
    payloads: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let count = payloads.len();
    state.rate.check(tenant, count)?;
    let received = now_ns();
    let mut ids = Vec::with_capacity(count);
    let events: Vec<Event> = payloads
        .into_iter()
        .map(|raw| {
            let id = uuid::Uuid::now_v7().to_string();
            ids.push(id.clone());
            Event {
                id,
                tenant: tenant.to_owned(),
                received_ns: received,
                raw: Some(raw),
                ..crate::runtime::pack::blank_event()
            }
        })
        .collect();
    state.producer.publish(events).await.map_err(|error| match error {
        QueueError::Full { retry_after } => {
            metrics::counter!("sluice_ingest_rejected_total", "tenant" => tenant.to_owned(), "reason" => "queue_full").increment(count as u64);
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_full", "Sluice is behind; retry later").retry_after(retry_after)
        }
        QueueError::Unavailable(why) => {
            tracing::warn!(%tenant, %why, "queue unavailable; request refused");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "queue_unavailable", "the queue is unavailable; retry later")
                .retry_after(Duration::from_secs(2))
        }
    })?;
    metrics::counter!("sluice_events_ingested_total", "tenant" => tenant.to_owned())
        .increment(count as u64);
    Ok(ids)
}
