//! Who is calling: the API key decides the tenant, however the client sends
//! it (see [`presented`]: bearer, `X-API-Key`, Elasticsearch's `ApiKey`,
//! HTTP Basic with the key as password); the admin token (operators, the
//! CLI) reaches the `/v1/admin` routes.

use std::borrow::Cow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};

/// The tenant of a request with a valid, unrevoked key.
pub struct Authenticated(pub String);

/// A request carrying the admin token.
pub struct Admin;

/// The key a request presents, in any of the ways clients send one:
///
/// - `X-API-Key: <key>`;
/// - `Authorization: Bearer <key>` (OpenTelemetry exporters, curl);
/// - `Authorization: ApiKey <key>`, or `ApiKey base64(<id>:<key>)` as the
///   Elasticsearch clients encode an (id, key) pair: the id is ignored;
/// - `Authorization: Basic base64(<user>:<key>)`, the key as password
///   (promtail, Loki clients, Filebeat); the user name is ignored;
/// - on a WebSocket upgrade only, the subprotocol `sluice.key.<key>` (see
///   [`websocket_key`]): browsers cannot set headers on a WebSocket, and a
///   key in the URL would end up in access logs.
fn presented(parts: &Parts) -> Option<Cow<'_, str>> {
    if let Some(value) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(Cow::Borrowed(value.trim()));
    }
    let Some(value) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return websocket_key(&parts.headers).map(Cow::Borrowed);
    };
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(Cow::Borrowed(token))
    } else if scheme.eq_ignore_ascii_case("apikey") {
        if token.starts_with(KEY_PREFIX) {
            return Some(Cow::Borrowed(token));
        }
        decoded_pair(token).map(Cow::Owned)
    } else if scheme.eq_ignore_ascii_case("basic") {
        decoded_pair(token).map(Cow::Owned)
    } else {
        None
    }
}

/// The prefix of the WebSocket subprotocol that carries an API key.
pub const WEBSOCKET_KEY_PROTOCOL: &str = "sluice.key.";

/// The key a WebSocket upgrade offers as the subprotocol
/// `sluice.key.<key>` in `Sec-WebSocket-Protocol` (the one header a browser's
/// `new WebSocket(url, protocols)` can set). Requests that are not a
/// WebSocket upgrade never authenticate this way, so the header cannot
/// stand in for `Authorization` on the rest of the API.
pub fn websocket_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let upgrade = headers.get(axum::http::header::UPGRADE)?.to_str().ok()?;
    if !upgrade.trim().eq_ignore_ascii_case("websocket") {
        return None;
    }
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|protocol| protocol.trim().strip_prefix(WEBSOCKET_KEY_PROTOCOL))
        .filter(|key| !key.is_empty())
}

/// Every Sluice key starts so; an `ApiKey` token that does not is base64.
const KEY_PREFIX: &str = "slk_";

/// The part after the first `:` of a base64 `a:b` pair, if non-empty.
fn decoded_pair(token: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (_, secret) = text.split_once(':')?;
    (!secret.is_empty()).then(|| secret.to_owned())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(key) = presented(parts) else {
            return Err(ApiError::unauthorized(
                "send an API key: `Authorization: Bearer <key>`, `X-API-Key: <key>`, `Authorization: ApiKey <key>` or HTTP Basic with the key as password",
            ));
        };
        match state.tenants.authenticate(&key).await? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn key_of(header: &str, value: &str) -> Option<String> {
        let (parts, ()) = axum::http::Request::builder()
            .header(header, value)
            .body(())
            .unwrap()
            .into_parts();
        presented(&parts).map(Cow::into_owned)
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn every_shipper_scheme_yields_the_key() {
        let key = "slk_ABC_secret";
        assert_eq!(key_of("x-api-key", key).as_deref(), Some(key));
        assert_eq!(
            key_of("authorization", &format!("Bearer {key}")).as_deref(),
            Some(key)
        );
        assert_eq!(
            key_of("authorization", &format!("ApiKey {key}")).as_deref(),
            Some(key)
        );
        assert_eq!(
            key_of(
                "authorization",
                &format!("ApiKey {}", b64(&format!("some-id:{key}")))
            )
            .as_deref(),
            Some(key)
        );
        assert_eq!(
            key_of(
                "authorization",
                &format!("basic {}", b64(&format!("promtail:{key}")))
            )
            .as_deref(),
            Some(key)
        );
    }

    fn key_of_headers(headers: &[(&str, &str)]) -> Option<String> {
        let mut request = axum::http::Request::builder();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        presented(&parts).map(Cow::into_owned)
    }

    #[test]
    fn a_websocket_upgrade_may_offer_the_key_as_its_subprotocol() {
        let key = "slk_ABC_secret";
        let protocol = format!("chat, sluice.key.{key}");
        assert_eq!(
            key_of_headers(&[
                ("upgrade", "websocket"),
                ("sec-websocket-protocol", &protocol)
            ])
            .as_deref(),
            Some(key)
        );
        // Not an upgrade: the subprotocol header is no credential.
        assert_eq!(
            key_of_headers(&[("sec-websocket-protocol", &protocol)]),
            None
        );
        // An empty key is none.
        assert_eq!(
            key_of_headers(&[
                ("upgrade", "websocket"),
                ("sec-websocket-protocol", "sluice.key.")
            ]),
            None
        );
        // A header the client did set wins.
        assert_eq!(
            key_of_headers(&[
                ("upgrade", "websocket"),
                ("sec-websocket-protocol", &protocol),
                ("authorization", "Bearer slk_other_key"),
            ])
            .as_deref(),
            Some("slk_other_key")
        );
    }

    #[test]
    fn malformed_credentials_present_nothing() {
        assert_eq!(
            key_of("authorization", &format!("Basic {}", b64("user-only"))),
            None
        );
        assert_eq!(
            key_of("authorization", &format!("Basic {}", b64("user:"))),
            None
        );
        assert_eq!(key_of("authorization", "Basic !!!"), None);
        assert_eq!(key_of("authorization", "ApiKey not-base64!"), None);
        assert_eq!(key_of("authorization", "Digest abc"), None);
    }
}
