//! The dashboard: a static page, script and stylesheet compiled into the
//! binary, so `sluice` serves its own UI with no Node toolchain or asset
//! directory at run time. The page talks to the same `/v1` API as every
//! other client, with the API key the user signs in with.
//!
//! `GET /` is shared with the Elasticsearch-compatible info document that
//! the official clients and Beats fetch: browsers (whose `Accept` names
//! `text/html`) get the dashboard, everything else the info document.

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");

/// Only our own script, style and API: log lines are attacker-controlled,
/// so even a rendering bug must not let one run script or load anything.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Whether the request comes from a browser navigating to the page: its
/// `Accept` names `text/html`. The Elasticsearch clients send
/// `application/json` or `application/vnd.elasticsearch+json`, curl `*/*`.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            media
                .split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/html"))
        })
}

/// `GET /`: the dashboard for browsers, the Elasticsearch info document
/// (with its product header) for everyone else.
pub async fn root(headers: HeaderMap) -> Response {
    if wants_html(&headers) {
        asset(INDEX_HTML, "text/html; charset=utf-8")
    } else {
        let info = crate::ingest::elastic::info().await.into_response();
        crate::ingest::elastic::with_product(info).await
    }
}

/// `GET /dashboard/app.js`.
pub async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

/// `GET /dashboard/app.css`.
pub async fn stylesheet() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The assets change with the binary; revalidate rather than cache stale UI.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_want_html_and_clients_do_not() {
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(wants_html(&accept("TEXT/HTML; q=1")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept(
            "application/vnd.elasticsearch+json; compatible-with=8"
        )));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn root_serves_the_page_to_browsers_and_info_to_clients() {
        let page = root(accept("text/html")).await;
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let body = to_bytes(page.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("/dashboard/app.js"));

        let info = root(accept(
            "application/vnd.elasticsearch+json; compatible-with=8",
        ))
        .await;
        assert_eq!(info.headers()["x-elastic-product"], "Elasticsearch");
        let body = to_bytes(info.into_body(), usize::MAX).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["tagline"], "You Know, for Search");
    }

    #[test]
    fn the_script_never_writes_html() {
        // Event fields are attacker-controlled: the script renders with
        // textContent and DOM nodes only.
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!APP_JS.contains(sink), "app.js uses {sink}");
        }
    }
}
