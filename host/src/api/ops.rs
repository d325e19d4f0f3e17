//! Health, readiness, Prometheus metrics, and the answers for unknown
//! routes and handler panics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, AppState};
use crate::runtime::capacity::LimitSource;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: a pipeline is loaded and the stores answer.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let pipelines = state.registry.snapshot().pipelines().count();
    let stores = state.tenants.list_tenants().await.is_ok();
    let ready = pipelines > 0 && stores;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({ "ready": ready, "pipelines": pipelines, "stores": stores, "queue_depth": state.producer.depth() })),
    )
        .into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("sluice_queue_depth").set(state.producer.depth() as f64);
    let slots = state.runtime.slots();
    metrics::gauge!("sluice_plugin_instances").set(slots.live() as f64);
    if slots.limit() != LimitSource::Unbounded {
        metrics::gauge!("sluice_plugin_instance_capacity").set(slots.capacity() as f64);
    }
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => ApiError::not_found("metrics recorder").into_response(),
    }
}

/// Any route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// A handler panicked: answer 500 without leaking the panic text.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
    .into_response()
}
