//! OTLP/HTTP logs: `POST /v1/otlp/v1/logs`, so an OpenTelemetry exporter
//! configured with the endpoint base `http://host/v1/otlp` (it appends
//! `/v1/logs`) talks to Sluice unchanged. Decoding and the mapping to
//! payloads are `sluice_formats::shippers::otlp`; this is the endpoint.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use prost::Message;
pub use sluice_formats::shippers::otlp::*;

use super::decode;
use crate::api::{ApiError, AppState, auth::Authenticated};

/// `POST /v1/otlp/v1/logs`.
pub async fn post_logs(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    super::check_tenant_headers(&headers, &tenant)?;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let encoding = Encoding::from_content_type(text(header::CONTENT_TYPE))?;
    let limits = state.decode_limits();
    let body = decode::inflate(text(header::CONTENT_ENCODING), &body, &limits)?;
    let request = decode_request(encoding, &body)?;
    let decoded = payloads(&request, &limits)?;
    let rejected = decoded.rejected;
    if !decoded.payloads.is_empty() {
        super::enqueue(&state, &tenant, decoded.payloads).await?;
    }
    Ok(response(encoding, rejected, limits.max_line_bytes))
}

/// The OTLP answer: empty on full success, `partial_success` otherwise.
fn response(encoding: Encoding, rejected: usize, max_line_bytes: usize) -> Response {
    let answer = ExportLogsServiceResponse {
        partial_success: (rejected > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: format!(
                "{rejected} log record(s) longer than {max_line_bytes} bytes once decoded were rejected"
            ),
        }),
    };
    let body = match encoding {
        Encoding::Protobuf => answer.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&answer).unwrap_or_else(|_| b"{}".to_vec()),
    };
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_success_is_answered_in_the_request_encoding() {
        let answer = response(Encoding::Protobuf, 2, 10);
        assert_eq!(
            answer.headers()[header::CONTENT_TYPE],
            "application/x-protobuf"
        );
        let answer = response(Encoding::Json, 0, 10);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
    }
}
