//! A rejected input, as the HTTP API reports it: status, a stable code, a
//! message, and where the problem is.

use http::StatusCode;

/// Why a request body was refused. The service turns it into its JSON error
/// body (`{"error": {"code", "message", "line", "field"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
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
}

impl InputError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            line: None,
            field: None,
        }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
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
}
