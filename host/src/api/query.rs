//! Query-string parameters, strictly: an unknown or malformed parameter is
//! a 400 naming it, not silently ignored.

use std::collections::HashMap;

use super::ApiError;
use crate::event::json::{parse_level, parse_time};
use crate::runtime::Level;

/// Parameters of one request, consumed by name.
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Wrap the parsed query string.
    pub fn new(values: HashMap<String, String>) -> Self {
        Self { values }
    }

    /// A text parameter.
    pub fn text(&mut self, name: &str) -> Option<String> {
        self.values.remove(name).filter(|v| !v.is_empty())
    }

    /// A time: RFC 3339, or an integer of nanoseconds.
    pub fn time(&mut self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        if let Ok(ns) = text.parse::<i64>() {
            return Ok(Some(ns));
        }
        parse_time(&text).map(Some).ok_or_else(|| {
            ApiError::bad_request("invalid_parameter", "expected an RFC 3339 time").at_field(name)
        })
    }

    /// A level name.
    pub fn level(&mut self, name: &str) -> Result<Option<Level>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        parse_level(&text).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_parameter",
                "expected trace, debug, info, warn, error or fatal",
            )
            .at_field(name)
        })
    }

    /// A fingerprint (16 hex digits).
    pub fn fingerprint(&mut self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        u64::from_str_radix(&text, 16).map(Some).map_err(|_| {
            ApiError::bad_request("invalid_parameter", "expected 16 hex digits").at_field(name)
        })
    }

    /// A non-negative integer.
    pub fn number(&mut self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|_| {
            ApiError::bad_request("invalid_parameter", "expected a non-negative integer")
                .at_field(name)
        })
    }

    /// A boolean (`true`/`false`).
    pub fn flag(&mut self, name: &str) -> Result<bool, ApiError> {
        match self.text(name).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(
                ApiError::bad_request("invalid_parameter", "expected true or false").at_field(name),
            ),
        }
    }

    /// Refuse what was not consumed.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.values.into_keys().next() {
            None => Ok(()),
            Some(unknown) => Err(
                ApiError::bad_request("unknown_parameter", "no such parameter").at_field(unknown),
            ),
        }
    }
}
