//! The HTTP API. In: requests; the tenant comes from the API key, always.
//! Out: JSON. Built as `app(state) -> Router` so tests drive it without
//! sockets, and served by [`crate::server`] with body limits, timeouts and
//! graceful shutdown.

pub mod auth;
mod dashboard;
mod dead_letters;
mod error;
pub mod incidents;
mod logs;
mod ops;
mod pipelines;
mod query;
pub mod reports;
pub mod tail;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::LimitsConfig;
use crate::ingest::decode::DecodeLimits;
use crate::ingest::rate::TenantRates;
use crate::pipeline::Registry;
use crate::queue::Producer;
use crate::runner::Sinks;
use crate::runtime::PluginRuntime;
use crate::store::{DeadLetterStore, IncidentStore, LogStore, TenantStore};

/// Longest a request may take before the server answers 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything handlers need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Tenants and keys.
    pub tenants: Arc<dyn TenantStore>,
    /// Processed events.
    pub logs: Arc<dyn LogStore>,
    /// Incidents.
    pub incidents: Arc<dyn IncidentStore>,
    /// Dead letters.
    pub dead_letters: Arc<dyn DeadLetterStore>,
    /// The queue's producing side.
    pub producer: Arc<dyn Producer>,
    /// Live pipelines.
    pub registry: Arc<Registry>,
    /// The plugin runtime (replay under a pinned version).
    pub runtime: Arc<PluginRuntime>,
    /// Sinks (replay under a pinned version writes through them).
    pub sinks: Arc<Sinks>,
    /// Ingest limits.
    pub limits: LimitsConfig,
    /// Per-tenant rates.
    pub rate: Arc<TenantRates>,
    /// Token for `/v1/admin`.
    pub admin_token: Arc<str>,
    /// Prometheus rendering.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Live-tail connections.
    pub tail: Arc<tail::TailHub>,
    /// Signals (reports).
    pub signals: Arc<dyn crate::store::SignalStore>,
}

impl AppState {
    /// Decoding limits from the configured ingest limits.
    pub fn decode_limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_body_bytes: self.limits.max_body_bytes,
            max_events: self.limits.max_events_per_request,
            max_line_bytes: self.limits.max_line_bytes,
        }
    }
}

/// The whole API.
pub fn app(state: AppState) -> Router {
    // Compressed bodies may be up to the decompressed limit too.
    let body_limit = state.limits.max_body_bytes + (64 << 10);
    Router::new()
        .route("/v1/logs", post(crate::ingest::post_logs).get(logs::list))
        .route("/v1/logs/{id}", get(logs::get_one))
        .route("/v1/tail", get(tail::tail))
        .route("/v1/reports/weekly", get(reports::weekly))
        .route("/v1/incidents", get(incidents::list))
        .route(
            "/v1/incidents/{id}",
            get(incidents::get_one).patch(incidents::update),
        )
        .route("/v1/metrics/overview", get(logs::overview))
        .route("/v1/pipelines", get(pipelines::list))
        .route("/v1/pipelines/rollback", post(pipelines::rollback))
        .route("/v1/dead-letters", get(dead_letters::list))
        .route("/v1/dead-letters/{id}", get(dead_letters::get_one))
        .route("/v1/dead-letters/replay", post(dead_letters::replay))
        .route(
            "/v1/admin/pipelines/rollback",
            post(pipelines::admin_rollback),
        )
        .route("/v1/admin/dead-letters", get(dead_letters::admin_list))
        .route(
            "/v1/admin/dead-letters/replay",
            post(dead_letters::admin_replay),
        )
        .route("/v1/otlp/v1/logs", post(crate::ingest::otlp::post_logs))
        .route("/loki/api/v1/push", post(crate::ingest::loki::push))
        .route("/", get(dashboard::root))
        .route("/dashboard/app.js", get(dashboard::script))
        .route("/dashboard/app.css", get(dashboard::stylesheet))
        .merge(elasticsearch())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(ops::panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The Elasticsearch-compatible routes, every answer marked with the
/// product header the official clients check. (Its info document at `GET /`
/// is served by [`dashboard::root`], which shares the path with the UI.)
fn elasticsearch() -> Router<AppState> {
    use crate::ingest::elastic;
    Router::new()
        .route("/_bulk", post(elastic::bulk).put(elastic::bulk))
        .route(
            "/{index}/_bulk",
            post(elastic::bulk_index).put(elastic::bulk_index),
        )
        .layer(axum::middleware::map_response(elastic::with_product))
}
