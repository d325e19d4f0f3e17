//! `GET /v1/pipelines` (versions and status), rollback for one's own tenant
//! and, with the admin token, for any tenant.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Admin, Authenticated};
use super::{ApiError, AppState};
use crate::event::json::format_ns;
use crate::pipeline::Pipeline;

fn pipeline_json(p: &Pipeline) -> Value {
    json!({
        "name": p.name,
        "version": p.version,
        "file": p.path.display().to_string(),
        "default": p.is_default,
        "tenants": p.tenants,
        "published": format_ns(p.published_ns),
        "restores": p.restores,
        "steps": p.steps.iter().map(|s| json!({
            "name": s.name,
            "plugin": s.plugin.info.name,
            "plugin_version": s.plugin.info.version,
            "sha256": s.plugin.sha256,
            "memory_mb": s.limits.memory_bytes >> 20,
            "timeout_ms": s.limits.deadline.as_millis() as u64,
        })).collect::<Vec<_>>(),
        "sinks": p.sinks,
    })
}

/// `GET /v1/pipelines`: the pipeline serving the caller, its history, the
/// status of every file (errors of rejected changes included), and the
/// caller's dead-letter count.
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let serving = state.registry.snapshot().for_tenant(&tenant);
    let history = serving
        .as_ref()
        .map(|p| state.registry.history(&p.name))
        .unwrap_or_default();
    let files = state.registry.status();
    let dead_letters = state.dead_letters.count(&tenant).await?;
    Ok(Json(json!({
        "tenant": tenant,
        "serving": serving.as_deref().map(pipeline_json),
        "history": history.iter().map(|p| json!({"version": p.version, "published": format_ns(p.published_ns), "restores": p.restores})).collect::<Vec<_>>(),
        "files": files,
        "dead_letters": dead_letters,
    })))
}

/// `POST /v1/pipelines/rollback`: the caller's tenant back to the previous version.
pub async fn rollback(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>, ApiError> {
    do_rollback(&state, &tenant)
}

/// Body of the admin rollback.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    tenant: String,
}

/// `POST /v1/admin/pipelines/rollback` with `{"tenant": "…"}`.
pub async fn admin_rollback(
    State(state): State<AppState>,
    _admin: Admin,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: RollbackRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("expected {{\"tenant\": \"…\"}}: {e}"),
        )
    })?;
    do_rollback(&state, &request.tenant)
}

fn do_rollback(state: &AppState, tenant: &str) -> Result<Json<Value>, ApiError> {
    let restored = state.registry.rollback(tenant).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no_rollback",
            e.to_string(),
        )
    })?;
    Ok(Json(
        json!({ "tenant": tenant, "serving": pipeline_json(&restored) }),
    ))
}
