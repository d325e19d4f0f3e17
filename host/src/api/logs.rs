//! `GET /v1/logs`, `GET /v1/logs/{id}`, `GET /v1/metrics/overview`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::query::Params;
use super::{ApiError, AppState, auth::Authenticated};
use crate::event::json::{format_fingerprint, format_ns, to_json};
use crate::pipeline::registry::now_ns;
use crate::store::{LogQuery, OverviewQuery, StoredEvent, page_size};

/// One stored event in the API's shape.
pub fn stored_json(stored: &StoredEvent) -> Value {
    let mut value = to_json(&stored.event);
    value["pipeline"] = json!(stored.pipeline);
    value["pipeline_version"] = json!(stored.pipeline_version);
    value
}

/// `GET /v1/logs?service&level&fingerprint&project&since&until&q&limit&cursor`
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut params = Params::new(raw);
    let query = LogQuery {
        service: params.text("service"),
        level: params.level("level")?,
        fingerprint: params.fingerprint("fingerprint")?,
        project: params.text("project"),
        since_ns: params.time("since")?,
        until_ns: params.time("until")?,
        text: params.text("q"),
        limit: page_size(params.number("limit")?.unwrap_or(0) as usize),
        cursor: params.text("cursor"),
    };
    params.finish()?;
    let page = state.logs.query(&tenant, &query).await?;
    Ok(Json(json!({
        "events": page.items.iter().map(stored_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /v1/logs/{id}`
pub async fn get_one(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.logs.get(&tenant, &id).await? {
        Some(stored) => Ok(Json(stored_json(&stored))),
        None => Err(ApiError::not_found("event")),
    }
}

/// `GET /v1/metrics/overview?since&until&bucket_seconds&top`
pub async fn overview(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut params = Params::new(raw);
    let until = params.time("until")?.unwrap_or_else(now_ns);
    let since = params
        .time("since")?
        .unwrap_or(until - 24 * 3600 * 1_000_000_000);
    let bucket_s = params
        .number("bucket_seconds")?
        .unwrap_or(3600)
        .clamp(1, 7 * 86400);
    let top = params.number("top")?.unwrap_or(10).min(100) as usize;
    params.finish()?;
    if since >= until {
        return Err(
            ApiError::bad_request("invalid_parameter", "`since` must be before `until`")
                .at_field("since"),
        );
    }
    let bucket_ns = bucket_s as i64 * 1_000_000_000;
    if (until - since) / bucket_ns > 10_000 {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "more than 10000 buckets; widen bucket_seconds",
        )
        .at_field("bucket_seconds"));
    }
    let overview = state
        .logs
        .overview(
            &tenant,
            &OverviewQuery {
                since_ns: since,
                until_ns: until,
                bucket_ns,
                top,
            },
        )
        .await?;
    let total: u64 = overview.buckets.iter().map(|b| b.total).sum();
    let errors: u64 = overview.buckets.iter().map(|b| b.errors).sum();
    Ok(Json(json!({
        "since": format_ns(since),
        "until": format_ns(until),
        "bucket_seconds": bucket_s,
        "total": total,
        "errors": errors,
        "error_rate": if total == 0 { 0.0 } else { errors as f64 / total as f64 },
        "buckets": overview.buckets.iter().map(|b| json!({
            "start": format_ns(b.start_ns), "total": b.total, "errors": b.errors,
            "error_rate": if b.total == 0 { 0.0 } else { b.errors as f64 / b.total as f64 },
        })).collect::<Vec<_>>(),
        "services": overview.services,
        "service_buckets": overview.service_buckets.iter().map(|b| json!({
            "service": b.service, "start": format_ns(b.start_ns), "total": b.total, "errors": b.errors,
            "error_rate": if b.total == 0 { 0.0 } else { b.errors as f64 / b.total as f64 },
        })).collect::<Vec<_>>(),
        "levels": overview.levels,
        "top_fingerprints": overview.top_fingerprints.iter().map(|f| json!({
            "fingerprint": format_fingerprint(f.fingerprint), "template": f.template, "total": f.total,
        })).collect::<Vec<_>>(),
    })))
}
