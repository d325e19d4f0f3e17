//! Loki's push API: `POST /loki/api/v1/push`, so promtail, Grafana Alloy,
//! the Docker driver and Loki client libraries send to Sluice unchanged.
//! Decoding and the mapping to payloads are
//! `sluice_formats::shippers::loki`; this is the endpoint.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
pub use sluice_formats::shippers::loki::*;

use crate::api::{ApiError, AppState, auth::Authenticated};

/// `POST /loki/api/v1/push`.
pub async fn push(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    super::check_tenant_headers(&headers, &tenant)?;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let limits = state.decode_limits();
    let streams = decode_body(
        text(header::CONTENT_TYPE),
        text(header::CONTENT_ENCODING),
        &body,
        &limits,
    )?;
    let payloads = payloads(&streams, &limits)?;
    if payloads.is_empty() {
        return Ok(StatusCode::NO_CONTENT);
    }
    super::enqueue(&state, &tenant, payloads).await?;
    Ok(StatusCode::NO_CONTENT)
}
