//! Who is calling: the API key (`Authorization: Bearer <key>` or
//! `X-API-Key`) decides the tenant; the admin token (operators, the CLI)
//! reaches the `/v1/admin` routes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};

/// The tenant of a request with a valid, unrevoked key.
pub struct Authenticated(pub String);

/// A request carrying the admin token.
pub struct Admin;

fn presented(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(value.trim());
    }
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(key) = presented(parts) else {
            return Err(ApiError::unauthorized(
                "send an API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            ));
        };
        match state.tenants.authenticate(key).await? {
            Some(tenant) => Ok(Authenticated(tenant)),
            None => Err(ApiError::unauthorized("unknown or revoked API key")),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = presented(parts)
            .ok_or_else(|| ApiError::unauthorized("send the admin token as a bearer token"))?;
        let expected = state.admin_token.as_bytes();
        // Constant-time comparison: the token is a secret.
        let same = token.len() == expected.len()
            && token
                .bytes()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized("invalid admin token"))
        }
    }
}
