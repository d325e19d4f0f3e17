//! The Elasticsearch bulk API: `POST /_bulk`, `POST /{index}/_bulk` and the
//! `GET /` info document clients read first, so Beats, Logstash and the
//! official clients send to Sluice unchanged. Decoding and the per-item
//! answer are `sluice_formats::shippers::elastic`; these are the endpoints.

use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
pub use sluice_formats::shippers::elastic::*;

use super::decode;
use crate::api::{ApiError, AppState, auth::Authenticated};

/// `POST /_bulk`.
pub async fn bulk(
    state: State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    bulk_into(state, auth, None, headers, body).await
}

/// `POST /{index}/_bulk`.
pub async fn bulk_index(
    state: State<AppState>,
    auth: Authenticated,
    Path(index): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    bulk_into(state, auth, Some(index), headers, body).await
}

async fn bulk_into(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    default_index: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    super::check_tenant_headers(&headers, &tenant)?;
    let limits = state.decode_limits();
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let body = decode::inflate(encoding, &body, &limits)?;
    let items = parse_bulk(&body, default_index.as_deref(), &limits)?;
    let payloads: Vec<String> = items
        .iter()
        .filter_map(|item| item.outcome.as_ref().ok().cloned())
        .collect();
    let ids = if payloads.is_empty() {
        Vec::new()
    } else {
        super::enqueue(&state, &tenant, payloads).await?
    };
    let mut ids = ids.into_iter();
    let answer = answer(&items, &mut ids, started.elapsed().as_millis());
    Ok(Json(answer).into_response())
}

/// `GET /` (and `HEAD /`): the info document clients and Beats read to
/// learn the version before they send anything.
pub async fn info() -> Json<Value> {
    Json(json!({
        "name": "sluice",
        "cluster_name": "sluice",
        "cluster_uuid": "sluice",
        "version": {
            "number": COMPATIBLE_VERSION,
            "build_flavor": "default",
            "build_type": "sluice",
            "build_snapshot": false,
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    }))
}

/// Add `X-Elastic-Product: Elasticsearch`, which the official clients
/// check on every successful response; a layer on the Elasticsearch
/// routes, so errors and auth rejections carry it too.
pub async fn with_product(mut response: Response) -> Response {
    response.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    response
}
