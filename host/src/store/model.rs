//! Records and queries shared by every store adapter, so the API and the
//! CLI speak one language whatever the backend.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::DeadLetter;
use crate::runtime::{Event, Level};

/// Most rows one page may hold, whatever the caller asks.
pub const MAX_PAGE: usize = 1_000;

/// Rows per page when the caller does not say.
pub const DEFAULT_PAGE: usize = 100;

/// Sample event ids kept per incident.
pub const INCIDENT_SAMPLES: usize = 10;

/// A processed event as stored, with the pipeline version it ran under.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The event after the whole chain.
    pub event: Event,
    /// Pipeline name.
    pub pipeline: String,
    /// Pipeline version.
    pub pipeline_version: u64,
}

/// One page of results and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters for a log query. All set filters must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogQuery {
    /// Exact service.
    pub service: Option<String>,
    /// Exact level.
    pub level: Option<Level>,
    /// Exact fingerprint.
    pub fingerprint: Option<u64>,
    /// Exact project.
    pub project: Option<String>,
    /// Event time at or after (ns).
    pub since_ns: Option<i64>,
    /// Event time before (ns).
    pub until_ns: Option<i64>,
    /// Case-insensitive substring of the message.
    pub text: Option<String>,
    /// Rows per page (capped at [`MAX_PAGE`]).
    pub limit: usize,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// Pagination cursor for time-ordered rows: (time, id) of the last row
/// returned; the next page starts strictly after it (older).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeCursor {
    /// Time of the last row (ns).
    pub time_ns: i64,
    /// Id of the last row (tie-breaker).
    pub id: String,
}

impl TimeCursor {
    /// Opaque text form.
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}:{}", self.time_ns, self.id))
    }

    /// Parse the text form; a tampered cursor is an error.
    pub fn decode(text: &str) -> Result<Self, super::StoreError> {
        use base64::Engine;
        let invalid = || super::StoreError::Invalid("malformed cursor".to_owned());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (time, id) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            time_ns: time.parse().map_err(|_| invalid())?,
            id: id.to_owned(),
        })
    }
}

/// Nanoseconds per day: retention periods, day partitions and daily
/// signals all count in UTC days.
pub const DAY_NS: i64 = 86_400_000_000_000;

/// The columns a log store reads an event back from, in this order; the
/// rest is in `body` ([`lay_body`]).
pub const EVENT_COLUMNS: &str = "tenant_id, id, time_ns, received_ns, project, service, level, \
                                 message, template, fingerprint, pipeline, pipeline_version, body";

/// Lay a stored `body` (`event::json::rest_json`, or the whole event as
/// rows of earlier versions hold it) over the event read from the columns.
pub fn lay_body(event: &mut Event, body: &str) -> Result<(), super::StoreError> {
    let rejected = |error: String| super::StoreError::Rejected(format!("stored event: {error}"));
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|error| rejected(error.to_string()))?;
    crate::event::json::apply_json(&json, event).map_err(|error| rejected(error.to_string()))
}

/// The time an event is filed under in every store: its own, or when it
/// was received.
pub fn event_time_ns(event: &Event) -> i64 {
    event.timestamp_ns.unwrap_or(event.received_ns)
}

/// What the overview covers.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewQuery {
    /// Start of the range (ns).
    pub since_ns: i64,
    /// End of the range (ns).
    pub until_ns: i64,
    /// Width of one time bucket (ns).
    pub bucket_ns: i64,
    /// How many top fingerprints to return.
    pub top: usize,
}

impl OverviewQuery {
    /// Start (ns) of the bucket numbered `bucket` from `since_ns`.
    pub fn bucket_start(&self, bucket: i64) -> i64 {
        self.since_ns
            .saturating_add(bucket.saturating_mul(self.bucket_ns))
    }
}

/// Volume and errors over time for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    /// Per time bucket: total and error count (error and fatal).
    pub buckets: Vec<OverviewBucket>,
    /// Per service: total and error count.
    pub services: Vec<ServiceCount>,
    /// Per service and time bucket: total and error count (charts by
    /// service over time), ordered by bucket then service.
    pub service_buckets: Vec<ServiceBucket>,
    /// Per level: count.
    pub levels: Vec<LevelCount>,
    /// Most frequent fingerprints.
    pub top_fingerprints: Vec<FingerprintCount>,
}

/// One time bucket of the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverviewBucket {
    /// Bucket start (ns).
    pub start_ns: i64,
    /// Events in the bucket.
    pub total: u64,
    /// Error and fatal events in the bucket.
    pub errors: u64,
}

/// One service's share of one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceBucket {
    /// Service name (`""` when unknown).
    pub service: String,
    /// Bucket start (ns).
    pub start_ns: i64,
    /// Events.
    pub total: u64,
    /// Error and fatal events.
    pub errors: u64,
}

/// Volume of one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCount {
    /// Service name (`""` when unknown).
    pub service: String,
    /// Events.
    pub total: u64,
    /// Error and fatal events.
    pub errors: u64,
}

/// Volume of one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelCount {
    /// Level name (`""` when unknown).
    pub level: String,
    /// Events.
    pub total: u64,
}

/// Volume of one fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FingerprintCount {
    /// Fingerprint.
    pub fingerprint: u64,
    /// A template text for it.
    pub template: Option<String>,
    /// Events.
    pub total: u64,
}

/// Lifecycle of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Firing, nobody on it.
    Open,
    /// Somebody is on it.
    Acknowledged,
    /// Over; a new alert for its group reopens it.
    Resolved,
}

impl IncidentStatus {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Resolved => "resolved",
        }
    }

    /// Parse the stored or API name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(IncidentStatus::Open),
            "acknowledged" => Some(IncidentStatus::Acknowledged),
            "resolved" => Some(IncidentStatus::Resolved),
            _ => None,
        }
    }
}

/// An incident: alerts of one group for one tenant, with a lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Stable id.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Group: `fp:<16 hex>` for a fingerprint, else the alert key.
    pub group_key: String,
    /// Fingerprint, when grouped by one.
    pub fingerprint: Option<u64>,
    /// Rule of the latest alert.
    pub rule: String,
    /// Title of the latest alert.
    pub title: String,
    /// Highest severity seen (`info`, `warning`, `error`, `critical`).
    pub severity: String,
    /// Service of the latest alert.
    pub service: Option<String>,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Who is on it.
    pub assignee: Option<String>,
    /// Alerts folded into it.
    pub count: u64,
    /// First alert (ns).
    pub first_seen_ns: i64,
    /// Latest alert (ns).
    pub last_seen_ns: i64,
    /// Up to [`INCIDENT_SAMPLES`] event ids, newest last.
    pub sample_event_ids: Vec<String>,
    /// Times it was reopened after being resolved.
    pub reopened: u64,
    /// When it was last resolved (ns).
    pub resolved_at_ns: Option<i64>,
}

/// A change worth notifying about.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentChange {
    /// What happened.
    pub kind: IncidentChangeKind,
    /// The incident after the change.
    pub incident: Incident,
}

pub use sluice_formats::IncidentChangeKind;

/// Filters for listing incidents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    /// Only this status.
    pub status: Option<IncidentStatus>,
    /// Only this fingerprint.
    pub fingerprint: Option<u64>,
    /// Rows per page (capped at [`MAX_PAGE`]).
    pub limit: usize,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A change requested through `PATCH /v1/incidents/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// New status.
    #[serde(default)]
    pub status: Option<IncidentStatus>,
    /// New assignee; `Some(None)` (JSON `null`) unassigns.
    #[serde(default, deserialize_with = "double_option")]
    pub assignee: Option<Option<String>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(de).map(Some)
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetterRecord {
    /// Store id.
    pub id: String,
    /// The dead letter.
    pub letter: DeadLetter,
    /// When it was replayed, if it was (ns).
    pub replayed_at_ns: Option<i64>,
}

/// Filters for listing dead letters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeadLetterQuery {
    /// Only this step.
    pub step: Option<String>,
    /// Include already replayed letters.
    pub include_replayed: bool,
    /// Rows per page (capped at [`MAX_PAGE`]).
    pub limit: usize,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tenant {
    /// Name, unique; events carry it.
    pub name: String,
    /// Creation time (ns).
    pub created_ns: i64,
}

/// An API key's record; the plaintext is never stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    /// Key id (also the visible prefix of the plaintext).
    pub id: String,
    /// Tenant the key authenticates as.
    pub tenant: String,
    /// Free-form label.
    pub label: String,
    /// Creation time (ns).
    pub created_ns: i64,
    /// Revocation time (ns), if revoked.
    pub revoked_ns: Option<i64>,
}

/// API key material: format `slk_<id>_<secret>`, where the id is public (it
/// names the key in listings) and the secret is 32 random bytes, base62.
pub mod keys {
    use super::*;

    /// A new key: (id, plaintext, hash of plaintext).
    pub fn generate() -> (String, String, String) {
        let id = random_base62(10);
        let plaintext = format!("slk_{id}_{}", random_base62(43));
        let hash = hash(&plaintext);
        (id, plaintext, hash)
    }

    /// The stored form of a presented key. Keys carry 256 bits of
    /// randomness, so a fast hash is enough: there is nothing to brute-force.
    pub fn hash(presented: &str) -> String {
        hex::encode(Sha256::digest(presented.as_bytes()))
    }

    fn random_base62(len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(len);
        while out.len() < len {
            for byte in uuid::Uuid::new_v4().as_bytes() {
                // Rejection sampling keeps the alphabet uniform.
                if (*byte as usize) < 248 && out.len() < len {
                    out.push(ALPHABET[*byte as usize % 62] as char);
                }
            }
        }
        out
    }
}

/// Clamp a requested page size.
pub fn page_size(requested: usize) -> usize {
    if requested == 0 {
        DEFAULT_PAGE
    } else {
        requested.min(MAX_PAGE)
    }
}

impl From<DeadLetter> for DeadLetterRecord {
    fn from(letter: DeadLetter) -> Self {
        Self {
            id: String::new(),
            letter,
            replayed_at_ns: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let cursor = TimeCursor {
            time_ns: 1_738_413_296_000_000_000,
            id: "0193a1c2-7d4e".into(),
        };
        assert_eq!(TimeCursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(TimeCursor::decode("not a cursor!").is_err());
    }

    #[test]
    fn keys_are_unique_and_hashed() {
        let (id, plaintext, hash) = keys::generate();
        assert!(plaintext.starts_with(&format!("slk_{id}_")));
        assert_eq!(plaintext.len(), 4 + 10 + 1 + 43);
        assert_eq!(keys::hash(&plaintext), hash);
        assert!(!hash.contains(&plaintext));
        assert_ne!(keys::generate().1, plaintext);
    }

    #[test]
    fn page_size_is_clamped() {
        assert_eq!(page_size(0), DEFAULT_PAGE);
        assert_eq!(page_size(5), 5);
        assert_eq!(page_size(1_000_000), MAX_PAGE);
    }

    #[test]
    fn patch_distinguishes_unassign_from_absent() {
        let unassign: IncidentPatch = serde_json::from_str(r#"{"assignee": null}"#).unwrap();
        assert_eq!(unassign.assignee, Some(None));
        let absent: IncidentPatch = serde_json::from_str(r#"{"status": "resolved"}"#).unwrap();
        assert_eq!(absent.assignee, None);
        assert!(serde_json::from_str::<IncidentPatch>(r#"{"colour": 1}"#).is_err());
    }
}
