//! The shippers' protocols: OTLP/HTTP logs (protobuf and JSON), Loki push
//! (snappy protobuf and JSON), Elasticsearch bulk; with and without gzip.

use sluice_formats::body::{DecodeLimits, inflate};
use sluice_formats::shippers::{elastic, loki, otlp};

/// Small limits, so the fuzzer reaches every limit's error path.
pub const LIMITS: DecodeLimits = DecodeLimits {
    max_body_bytes: 32 << 10,
    max_events: 64,
    max_line_bytes: 2 << 10,
};

/// The protocol and wire encoding, chosen by the first input byte (modulo
/// their count); the next multiple chooses the [`Wrapping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP `application/x-protobuf`.
    OtlpProtobuf,
    /// OTLP/JSON.
    OtlpJson,
    /// Loki `application/x-protobuf`; the target snappy-compresses the body
    /// unless the wrapping says the bytes are sent as they are.
    LokiProtobuf,
    /// Loki JSON.
    LokiJson,
    /// Elasticsearch bulk into `/_bulk`.
    Bulk,
    /// Elasticsearch bulk into `/{index}/_bulk`.
    BulkIndex,
}

const PROTOCOLS: [Protocol; 6] = [
    Protocol::OtlpProtobuf,
    Protocol::OtlpJson,
    Protocol::LokiProtobuf,
    Protocol::LokiJson,
    Protocol::Bulk,
    Protocol::BulkIndex,
];

/// What is done to the body before it is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// The fuzzer's bytes (snappy-compressed by the target for Loki protobuf).
    Plain,
    /// As `Plain`, then gzip-compressed with `Content-Encoding: gzip`.
    Gzip,
    /// The fuzzer's bytes exactly as they are, whatever the protocol expects.
    Raw,
}

const WRAPPINGS: [Wrapping; 3] = [Wrapping::Plain, Wrapping::Gzip, Wrapping::Raw];

/// An input for this target: the choice byte, then the body.
pub fn input(protocol: Protocol, wrapping: Wrapping, body: &[u8]) -> Vec<u8> {
    let p = PROTOCOLS.iter().position(|x| *x == protocol).unwrap_or(0);
    let w = WRAPPINGS.iter().position(|x| *x == wrapping).unwrap_or(0);
    let mut out = vec![(w * PROTOCOLS.len() + p) as u8];
    out.extend_from_slice(body);
    out
}

/// Decode as the endpoint does; what is accepted must respect every limit
/// and be one JSON object per record, what is refused a 4xx.
pub fn check(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let choice = usize::from(choice);
    let protocol = PROTOCOLS[choice % PROTOCOLS.len()];
    let wrapping = WRAPPINGS[(choice / PROTOCOLS.len()) % WRAPPINGS.len()];
    let mut body = body.to_vec();
    if protocol == Protocol::LokiProtobuf && wrapping != Wrapping::Raw {
        body = snap::raw::Encoder::new()
            .compress_vec(&body)
            .expect("snappy into memory");
    }
    let mut encoding = None;
    if wrapping == Wrapping::Gzip {
        body = crate::gzip(&body);
        encoding = Some("gzip");
    }
    let result = match protocol {
        Protocol::OtlpProtobuf | Protocol::OtlpJson => {
            let content_type = if protocol == Protocol::OtlpJson {
                "application/json"
            } else {
                "application/x-protobuf"
            };
            otlp::Encoding::from_content_type(Some(content_type)).and_then(|encoding_| {
                let inflated = inflate(encoding, &body, &LIMITS)?;
                let request = otlp::decode_request(encoding_, &inflated)?;
                let decoded = otlp::payloads(&request, &LIMITS)?;
                assert!(decoded.payloads.len() + decoded.rejected <= LIMITS.max_events);
                Ok(decoded.payloads)
            })
        }
        Protocol::LokiProtobuf | Protocol::LokiJson => {
            let content_type = if protocol == Protocol::LokiJson {
                "application/json"
            } else {
                "application/x-protobuf"
            };
            loki::decode_body(Some(content_type), encoding, &body, &LIMITS)
                .and_then(|streams| loki::payloads(&streams, &LIMITS))
        }
        Protocol::Bulk | Protocol::BulkIndex => {
            let index = (protocol == Protocol::BulkIndex).then_some("logs-fuzz");
            inflate(encoding, &body, &LIMITS).and_then(|inflated| {
                let items = elastic::parse_bulk(&inflated, index, &LIMITS)?;
                let queued = items.iter().filter(|i| i.outcome.is_ok()).count();
                let mut ids = (0..queued).map(|i| format!("id-{i}"));
                let answer = elastic::answer(&items, &mut ids, 1);
                let answered = answer["items"].as_array().map_or(0, Vec::len);
                assert_eq!(answered, items.len(), "one answer per item");
                assert_eq!(
                    answer["errors"].as_bool(),
                    Some(queued < items.len()),
                    "errors flag disagrees with the items"
                );
                Ok(items.into_iter().filter_map(|i| i.outcome.ok()).collect())
            })
        }
    };
    crate::check_decoded(result, &LIMITS, true);
}
