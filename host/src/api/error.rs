//! Every rejection as an HTTP status plus a JSON body naming the problem:
//!
//! ```json
//! {"error": {"code": "invalid_event", "message": "expected a string", "line": 3, "field": "timestamp"}}
//! ```
//!
//! Messages describe the request, never Sluice's internals.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use sluice_formats::InputError;

use crate::store::StoreError;

/// An API error.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable, bounded code clients can switch on.
    pub code: &'static str,
    /// What is wrong, for a human.
    pub message: String,
    /// 1-based line (or array element) of the offending event.
    pub line: Option<usize>,
    /// The offending field.
    pub field: Option<String>,
    /// When to try again (429/503).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            line: None,
            field: None,
            retry_after: None,
        }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// Attach the line of the offending event.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Attach the offending field.
    pub fn at_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Attach a Retry-After.
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(line) = self.line {
            error["line"] = json!(line);
        }
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        if let Some(wait) = self.retry_after {
            error["retry_after_seconds"] = json!(retry_seconds(wait));
        }
        json!({ "error": error })
    }
}

fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&retry_seconds(wait).max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> Self {
        Self {
            status: error.status,
            code: error.code,
            message: error.message,
            line: error.line,
            field: error.field,
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::Invalid(message) => ApiError::bad_request("invalid_request", message),
            StoreError::Unavailable(_) => {
                tracing::warn!(%error, "store unavailable while serving a request");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "storage is temporarily unavailable",
                )
                .retry_after(Duration::from_secs(5))
            }
            StoreError::Rejected(message) => ApiError::bad_request("rejected", message),
        }
    }
}
