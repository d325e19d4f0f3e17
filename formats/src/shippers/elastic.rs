//! The Elasticsearch bulk API: `POST /_bulk` and `POST /{index}/_bulk`, so
//! Filebeat, Logstash, Fluent Bit's `es` output and Elasticsearch clients
//! (`helpers.bulk`) send to Sluice unchanged; plus the `GET /` info document
//! those clients read first.
//!
//! In: NDJSON action/document pairs. `index` and `create` documents become
//! events (the document is the payload, as if sent to `/v1/logs`);
//! `delete` and `update` are answered per item as unsupported. Out: the
//! per-item answer shape clients parse, with `X-Elastic-Product:
//! Elasticsearch` (official clients refuse a server without it).
//!
//! The index name becomes the attribute `index` of each document (unless
//! the document has its own `index` field), not the project: Beats and
//! Logstash write date-stamped indices (`filebeat-8.14.0-2025.02.01`), and a
//! project per day would scatter one source's logs. Set the project inside
//! the documents (`project_id`) or with the pipeline's `static_fields`.
//!
//! Items fail alone (a document that is not a JSON object, or too long:
//! status 400 in its item); limits on the whole request, the tenant's rate
//! and a full queue fail the request. Field types are not checked as on
//! `/v1/logs`: ECS documents nest (`service.name`, `log.level`), which
//! normalize reads as dotted paths.

use serde_json::{Map, Value, json};

use crate::body::{self as decode, DecodeLimits};
use crate::error::InputError;

/// The Elasticsearch version Sluice presents: clients of the 8.x line
/// accept it, and Beats pick their 8.x request shapes from it.
pub const COMPATIBLE_VERSION: &str = "8.11.0";

/// The attribute the index name goes to.
pub const INDEX_ATTRIBUTE: &str = "index";

/// One bulk item as decoded.
#[derive(Debug, PartialEq)]
pub struct Item {
    /// `index`, `create`, `delete` or `update`.
    pub action: String,
    /// Target index.
    pub index: String,
    /// Id the client gave.
    pub id: Option<String>,
    /// The payload to queue, or why this item failed.
    pub outcome: Result<String, ItemError>,
}

/// Why one item failed: an HTTP status and an Elasticsearch error type.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemError {
    /// Status in the item.
    pub status: u16,
    /// Elasticsearch's error type (`mapper_parsing_exception`, …).
    pub kind: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Decode the NDJSON body into items. A broken action line fails the whole
/// request (the pairing of the lines after it is unknowable).
pub fn parse_bulk(
    body: &[u8],
    default_index: Option<&str>,
    limits: &DecodeLimits,
) -> Result<Vec<Item>, InputError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| InputError::bad_request("invalid_utf8", "the body is not valid UTF-8"))?;
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let mut items = Vec::new();
    while let Some((number, line)) = lines.next() {
        let action: Map<String, Value> = serde_json::from_str(line).map_err(|e| {
            InputError::bad_request(
                "invalid_action",
                format!("the action line is not a JSON object: {e}"),
            )
            .at_line(number)
        })?;
        let mut entries = action.into_iter();
        let (Some((name, meta)), None) = (entries.next(), entries.next()) else {
            return Err(InputError::bad_request(
                "invalid_action",
                "an action line holds exactly one of index, create, delete, update",
            )
            .at_line(number));
        };
        let meta = meta.as_object().cloned().unwrap_or_default();
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .or(default_index)
            .unwrap_or_default()
            .to_owned();
        let id = meta.get("_id").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let outcome = match name.as_str() {
            "index" | "create" => {
                let Some((_, source)) = lines.next() else {
                    return Err(InputError::bad_request(
                        "invalid_action",
                        format!("the `{name}` action has no document after it"),
                    )
                    .at_line(number));
                };
                document(source, &index, limits)
            }
            "update" | "delete" => {
                if name == "update" {
                    let _ = lines.next();
                }
                Err(ItemError {
                    status: 400,
                    kind: "illegal_argument_exception",
                    reason: format!(
                        "Sluice stores logs append-only: `{name}` is not supported; use index or create"
                    ),
                })
            }
            other => {
                return Err(InputError::bad_request(
                    "invalid_action",
                    format!(
                        "unknown bulk action `{other}`; expected index, create, delete or update"
                    ),
                )
                .at_line(number));
            }
        };
        items.push(Item {
            action: name,
            index,
            id,
            outcome,
        });
        if items.len() > limits.max_events {
            return Err(decode::too_many(limits.max_events));
        }
    }
    if items.is_empty() {
        return Err(InputError::bad_request(
            "empty",
            "the request carries no actions",
        ));
    }
    Ok(items)
}

/// One document as a payload, with the index added.
fn document(source: &str, index: &str, limits: &DecodeLimits) -> Result<String, ItemError> {
    let parsing = |reason: String| ItemError {
        status: 400,
        kind: "document_parsing_exception",
        reason,
    };
    if source.len() > limits.max_line_bytes {
        return Err(parsing(format!(
            "the document is longer than {} bytes",
            limits.max_line_bytes
        )));
    }
    // Only "a JSON object" is checked, not `/v1/logs`' field types: ECS
    // documents nest (`"service": {"name": ..}`, `"log": {"level": ..}`),
    // and normalize reads the dotted paths.
    let mut fields: Map<String, Value> = serde_json::from_str(source).map_err(|e| {
        parsing(format!(
            "the document is not a JSON object: {e} (column {})",
            e.column()
        ))
    })?;
    if !index.is_empty() && !fields.contains_key(INDEX_ATTRIBUTE) {
        fields.insert(INDEX_ATTRIBUTE.into(), Value::from(index));
    }
    Ok(Value::Object(fields).to_string())
}

/// The bulk answer; `ids` yields the event id of each queued item in order.
pub fn answer(items: &[Item], ids: &mut impl Iterator<Item = String>, took_ms: u128) -> Value {
    let mut errors = false;
    let mut seq_no = 0u64;
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let body = match &item.outcome {
                Ok(_) => {
                    let event_id = ids.next().unwrap_or_default();
                    seq_no += 1;
                    json!({
                        "_index": item.index,
                        "_id": item.id.clone().unwrap_or(event_id),
                        "_version": 1,
                        "result": "created",
                        "_shards": {"total": 1, "successful": 1, "failed": 0},
                        "_seq_no": seq_no - 1,
                        "_primary_term": 1,
                        "status": 201
                    })
                }
                Err(error) => {
                    errors = true;
                    json!({
                        "_index": item.index,
                        "_id": item.id,
                        "status": error.status,
                        "error": {"type": error.kind, "reason": error.reason, "index": item.index}
                    })
                }
            };
            let mut result = Map::new();
            result.insert(item.action.clone(), body);
            Value::Object(result)
        })
        .collect();
    json!({ "took": u64::try_from(took_ms).unwrap_or(u64::MAX), "errors": errors, "items": results })
}

#[cfg(test)]
#[path = "elastic_tests.rs"]
mod tests;
