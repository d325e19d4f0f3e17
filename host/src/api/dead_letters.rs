//! Dead letters: list, show, replay. A tenant sees and replays its own;
//! the admin token sees and replays everyone's. Replay runs the original
//! events through the pipeline version in force (via the queue), or through
//! a pinned earlier version when one is named.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Admin, Authenticated};
use super::query::Params;
use super::{ApiError, AppState};
use crate::event::json::format_ns;
use crate::pipeline::registry::now_ns;
use crate::runner::BatchOutput;
use crate::runner::chain::Chain;
use crate::store::{DeadLetterQuery, DeadLetterRecord, page_size};

/// Most dead letters one replay call takes.
const MAX_REPLAY: usize = 10_000;

fn record_json(record: &DeadLetterRecord) -> Value {
    let mut value = record.letter.to_json();
    value["id"] = json!(record.id);
    value["replayed_at"] = json!(record.replayed_at_ns.map(format_ns));
    value
}

fn query(raw: HashMap<String, String>) -> Result<(DeadLetterQuery, Option<String>), ApiError> {
    let mut params = Params::new(raw);
    let query = DeadLetterQuery {
        step: params.text("step"),
        include_replayed: params.flag("include_replayed")?,
        limit: page_size(params.number("limit")?.unwrap_or(0) as usize),
        cursor: params.text("cursor"),
    };
    let tenant = params.text("tenant");
    params.finish()?;
    Ok((query, tenant))
}

async fn list_for(
    state: &AppState,
    tenant: Option<&str>,
    q: &DeadLetterQuery,
) -> Result<Json<Value>, ApiError> {
    let page = state.dead_letters.list(tenant, q).await?;
    Ok(Json(json!({
        "dead_letters": page.items.iter().map(record_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /v1/dead-letters?step&include_replayed&limit&cursor`
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (q, claimed) = query(raw)?;
    if claimed.is_some_and(|t| t != tenant) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "tenant_mismatch",
            "the API key decides the tenant",
        ));
    }
    list_for(&state, Some(&tenant), &q).await
}

/// `GET /v1/admin/dead-letters?tenant&…`: every tenant's, or one.
pub async fn admin_list(
    State(state): State<AppState>,
    _admin: Admin,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (q, tenant) = query(raw)?;
    list_for(&state, tenant.as_deref(), &q).await
}

/// `GET /v1/dead-letters/{id}`
pub async fn get_one(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.dead_letters.get(Some(&tenant), &id).await? {
        Some(record) => Ok(Json(record_json(&record))),
        None => Err(ApiError::not_found("dead letter")),
    }
}

/// Body of a replay request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// These dead letters.
    #[serde(default)]
    ids: Vec<String>,
    /// Every dead letter not yet replayed (of the tenant, or of all tenants for the admin).
    #[serde(default)]
    all: bool,
    /// Only this tenant (admin).
    #[serde(default)]
    tenant: Option<String>,
    /// Run under this pipeline version instead of the one in force.
    #[serde(default)]
    pipeline_version: Option<u64>,
}

fn parse_replay(body: &[u8]) -> Result<ReplayRequest, ApiError> {
    let request: ReplayRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("expected {{\"ids\": […]}} or {{\"all\": true}}: {e}"),
        )
    })?;
    if request.ids.is_empty() && !request.all {
        return Err(ApiError::bad_request(
            "empty_replay",
            "name dead letters with `ids` or set `all`",
        ));
    }
    Ok(request)
}

/// `POST /v1/dead-letters/replay`
pub async fn replay(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = parse_replay(&body)?;
    if request.tenant.as_ref().is_some_and(|t| *t != tenant) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "tenant_mismatch",
            "the API key decides the tenant",
        ));
    }
    do_replay(&state, Some(&tenant), request).await
}

/// `POST /v1/admin/dead-letters/replay`
pub async fn admin_replay(
    State(state): State<AppState>,
    _admin: Admin,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = parse_replay(&body)?;
    let tenant = request.tenant.clone();
    do_replay(&state, tenant.as_deref(), request).await
}

async fn do_replay(
    state: &AppState,
    tenant: Option<&str>,
    request: ReplayRequest,
) -> Result<Json<Value>, ApiError> {
    let mut records = Vec::new();
    if request.all {
        let mut cursor = None;
        loop {
            let page = state
                .dead_letters
                .list(
                    tenant,
                    &DeadLetterQuery {
                        limit: 1000,
                        cursor,
                        ..DeadLetterQuery::default()
                    },
                )
                .await?;
            records.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() || records.len() >= MAX_REPLAY {
                break;
            }
        }
        records.truncate(MAX_REPLAY);
    } else {
        for id in &request.ids {
            match state.dead_letters.get(tenant, id).await? {
                Some(record) if record.replayed_at_ns.is_none() => records.push(record),
                Some(_) => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "already_replayed",
                        format!("dead letter {id} was already replayed"),
                    ));
                }
                None => return Err(ApiError::not_found(&format!("dead letter {id}"))),
            }
        }
    }
    if records.is_empty() {
        return Ok(Json(json!({ "replayed": 0, "ids": [] })));
    }
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let events: Vec<_> = records.iter().map(|r| r.letter.event.clone()).collect();
    match request.pipeline_version {
        None => {
            state.producer.publish(events).await.map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    e.to_string(),
                )
                .retry_after(std::time::Duration::from_secs(1))
            })?;
        }
        Some(version) => replay_pinned(state, events, version).await?,
    }
    state.dead_letters.mark_replayed(&ids, now_ns()).await?;
    metrics::counter!("sluice_dead_letters_replayed_total").increment(ids.len() as u64);
    Ok(Json(
        json!({ "replayed": ids.len(), "ids": ids, "pipeline_version": request.pipeline_version }),
    ))
}

/// Run events through an earlier pipeline version directly, then store the
/// results as the runner would.
async fn replay_pinned(
    state: &AppState,
    events: Vec<crate::runtime::Event>,
    version: u64,
) -> Result<(), ApiError> {
    let mut by_tenant: HashMap<String, Vec<crate::runtime::Event>> = HashMap::new();
    for event in events {
        by_tenant
            .entry(event.tenant.clone())
            .or_default()
            .push(event);
    }
    let snapshot = state.registry.snapshot();
    let mut output = BatchOutput::default();
    for (tenant, events) in by_tenant {
        let name = snapshot
            .for_tenant(&tenant)
            .map(|p| p.name.clone())
            .ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::CONFLICT,
                    "no_pipeline",
                    format!("tenant {tenant} has no pipeline"),
                )
            })?;
        let pipeline = state
            .registry
            .history(&name)
            .into_iter()
            .find(|p| p.version == version)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "unknown_version",
                    format!("pipeline {name} has no version {version} in its history"),
                )
                .at_field("pipeline_version")
            })?;
        let runtime = state.runtime.clone();
        let partial = tokio::task::spawn_blocking(move || {
            let mut out = BatchOutput::default();
            let mut chain = Chain::start(&runtime, pipeline, &tenant)
                .map_err(|(step, e)| format!("step {step}: {e}"))?;
            chain.run(events, &mut out, None);
            Ok::<_, String>(out)
        })
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "replay task failed",
            )
        })?
        .map_err(|e| ApiError::new(axum::http::StatusCode::CONFLICT, "init_failed", e))?;
        output.absorb(partial);
    }
    state.sinks.write(output).await;
    Ok(())
}
