//! `GET /v1/incidents`, `GET /v1/incidents/{id}`, `PATCH /v1/incidents/{id}`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::query::Params;
use super::{ApiError, AppState, auth::Authenticated};
use crate::event::json::{format_fingerprint, format_ns};
use crate::pipeline::registry::now_ns;
use crate::store::{Incident, IncidentPatch, IncidentQuery, IncidentStatus, page_size};

/// An incident in the API's shape.
pub fn incident_json(incident: &Incident) -> Value {
    json!({
        "id": incident.id,
        "group": incident.group_key,
        "fingerprint": incident.fingerprint.map(format_fingerprint),
        "rule": incident.rule,
        "title": incident.title,
        "severity": incident.severity,
        "service": incident.service,
        "status": incident.status,
        "assignee": incident.assignee,
        "count": incident.count,
        "first_seen": format_ns(incident.first_seen_ns),
        "last_seen": format_ns(incident.last_seen_ns),
        "sample_event_ids": incident.sample_event_ids,
        "reopened": incident.reopened,
        "resolved_at": incident.resolved_at_ns.map(format_ns),
    })
}

/// `GET /v1/incidents?status&fingerprint&limit&cursor`
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let mut params = Params::new(raw);
    let status = match params.text("status") {
        None => None,
        Some(text) => Some(IncidentStatus::parse(&text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_parameter",
                "expected open, acknowledged or resolved",
            )
            .at_field("status")
        })?),
    };
    let query = IncidentQuery {
        status,
        fingerprint: params.fingerprint("fingerprint")?,
        limit: page_size(params.number("limit")?.unwrap_or(0) as usize),
        cursor: params.text("cursor"),
    };
    params.finish()?;
    let page = state.incidents.list(&tenant, &query).await?;
    Ok(Json(json!({
        "incidents": page.items.iter().map(incident_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /v1/incidents/{id}`
pub async fn get_one(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.incidents.get(&tenant, &id).await? {
        Some(incident) => Ok(Json(incident_json(&incident))),
        None => Err(ApiError::not_found("incident")),
    }
}

/// `PATCH /v1/incidents/{id}` with `{"status": "acknowledged"|"resolved"|"open", "assignee": "…"|null}`
pub async fn update(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let patch: IncidentPatch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("expected {{\"status\": …, \"assignee\": …}}: {e}"),
        )
    })?;
    if patch.status.is_none() && patch.assignee.is_none() {
        return Err(ApiError::bad_request(
            "empty_patch",
            "set `status` and/or `assignee`",
        ));
    }
    let (incident, changes) = state
        .incidents
        .update(&tenant, &id, &patch, now_ns())
        .await?;
    for listener in &state.sinks.incident_listeners {
        listener.changed(&tenant, &changes);
    }
    Ok(Json(incident_json(&incident)))
}
