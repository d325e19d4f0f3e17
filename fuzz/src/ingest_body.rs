//! `POST /v1/logs` bodies: every content type, with and without gzip.

use sluice_formats::body::{DecodeLimits, decode};

/// Small limits, so the fuzzer reaches every limit's error path.
pub const LIMITS: DecodeLimits = DecodeLimits {
    max_body_bytes: 16 << 10,
    max_events: 64,
    max_line_bytes: 2 << 10,
};

/// Content types the first input byte chooses from (modulo their count).
pub const CONTENT_TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("application/x-ndjson"),
    Some("text/plain"),
    Some("application/json; charset=utf-8"),
    Some("application/jsonl"),
    Some(" TEXT/PLAIN ;q=1"),
    Some("application/x-protobuf"),
    None,
];

/// How the body reaches the decoder, chosen by the first byte divided by
/// the number of content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No `Content-Encoding`.
    None,
    /// The body gzip-compressed here, so the inflated text is the fuzzer's.
    Gzip,
    /// `Content-Encoding: gzip` on the body as it is (mostly not gzip).
    GzipClaimed,
    /// An encoding Sluice does not take.
    Brotli,
}

/// A request body for the fuzzer: one byte choosing the content type and
/// encoding, then the body.
pub fn input(content_type: usize, encoding: Encoding, body: &[u8]) -> Vec<u8> {
    let encoding = match encoding {
        Encoding::None => 0,
        Encoding::Gzip => 1,
        Encoding::GzipClaimed => 2,
        Encoding::Brotli => 3,
    };
    let mut out = vec![(encoding * CONTENT_TYPES.len() + content_type) as u8];
    out.extend_from_slice(body);
    out
}

/// Decode the request; accepted bodies must respect every limit and yield
/// only events Sluice can read.
pub fn check(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let choice = usize::from(choice);
    let content_type = CONTENT_TYPES[choice % CONTENT_TYPES.len()];
    let encoding = [
        Encoding::None,
        Encoding::Gzip,
        Encoding::GzipClaimed,
        Encoding::Brotli,
    ][(choice / CONTENT_TYPES.len()) % 4];
    let gzipped;
    let (encoding, body) = match encoding {
        Encoding::None => (None, body),
        Encoding::Gzip => {
            gzipped = crate::gzip(body);
            (Some("gzip"), gzipped.as_slice())
        }
        Encoding::GzipClaimed => (Some("gzip"), body),
        Encoding::Brotli => (Some("br"), body),
    };
    let is_text =
        content_type.is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("text/plain"));
    let result = decode(content_type, encoding, body, &LIMITS);
    if let Ok(payloads) = &result {
        assert!(!payloads.is_empty(), "accepted a request without events");
        assert!(
            payloads.iter().all(|p| !p.trim().is_empty()),
            "an empty event"
        );
    }
    crate::check_decoded(result, &LIMITS, !is_text);
}
