//! What every store adapter must do, whatever its backend: run against
//! SQLite, PostgreSQL and ClickHouse by `tests/stores.rs`. Tenant names are
//! unique per call, so runs against a shared server never see each other.

use std::sync::Arc;

use sluice::runtime::bindings::Severity;
use sluice::runtime::{Alert, Attribute, Event, FingerprintMerge, Level, Value};
use sluice::store::{
    DeadLetterQuery, DeadLetterStore, IncidentChangeKind, IncidentPatch, IncidentQuery,
    IncidentStatus, IncidentStore, LogQuery, LogStore, OverviewQuery, StoreError, StoredEvent,
    TenantStore,
};

/// A tenant name no other test run uses.
pub fn unique_tenant(prefix: &str) -> String {
    format!("{prefix}-{}", uuid_like())
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}{:x}{}",
        nanos,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

const SECOND: i64 = 1_000_000_000;
const BASE: i64 = 1_738_413_296 * SECOND;

fn alert(
    rule: &str,
    key: &str,
    fingerprint: Option<u64>,
    severity: Severity,
    samples: &[&str],
) -> Alert {
    Alert {
        rule: rule.to_owned(),
        severity,
        title: format!("{rule} fired"),
        key: key.to_owned(),
        fingerprint,
        service: Some("api".to_owned()),
        window_count: 5,
        window_ns: 60 * SECOND,
        baseline: None,
        sample_event_ids: samples.iter().map(|s| (*s).to_owned()).collect(),
        attributes: Vec::new(),
    }
}

/// Tenants are unique, keys authenticate until revoked, nothing stores the plaintext.
pub async fn tenants_and_keys(store: Arc<dyn TenantStore>) {
    let tenant = unique_tenant("keys");
    store
        .create_tenant(&tenant, BASE)
        .await
        .expect("create tenant");
    assert!(matches!(
        store.create_tenant(&tenant, BASE).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_tenant("bad name!", BASE).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        store
            .list_tenants()
            .await
            .expect("list")
            .iter()
            .any(|t| t.name == tenant)
    );
    assert!(matches!(
        store
            .create_key(&unique_tenant("missing"), "ci", BASE)
            .await,
        Err(StoreError::Invalid(_))
    ));

    let (key, plaintext) = store
        .create_key(&tenant, "ci", BASE)
        .await
        .expect("create key");
    let (_, other) = store
        .create_key(&tenant, "laptop", BASE + 1)
        .await
        .expect("second key");
    assert_ne!(plaintext, other);
    assert_eq!(
        store.authenticate(&plaintext).await.expect("auth"),
        Some(tenant.clone())
    );
    assert_eq!(
        store
            .authenticate(&format!("{plaintext}x"))
            .await
            .expect("auth"),
        None
    );
    let keys = store.list_keys(&tenant).await.expect("list keys");
    assert_eq!(keys.len(), 2);
    assert!(
        format!("{keys:?}").find(&plaintext).is_none(),
        "listing shows no plaintext"
    );

    let revoked = store.revoke_key(&key.id, BASE + 5).await.expect("revoke");
    assert_eq!(revoked.revoked_ns, Some(BASE + 5));
    assert_eq!(store.authenticate(&plaintext).await.expect("auth"), None);
    assert_eq!(
        store.authenticate(&other).await.expect("auth"),
        Some(tenant.clone())
    );
    assert!(matches!(
        store.revoke_key("no-such-key", BASE).await,
        Err(StoreError::NotFound)
    ));
}

/// Alerts fold into one incident per group, with a lifecycle, merges and paging.
pub async fn incidents(store: Arc<dyn IncidentStore>) {
    let tenant = unique_tenant("incidents");
    let other = unique_tenant("intruder");
    let fp = 0xdead_beef_0000_0001_u64;

    let first = store
        .record_alerts(
            &tenant,
            &[alert(
                "errors",
                "k1",
                Some(fp),
                Severity::Warning,
                &["e1", "e2"],
            )],
            BASE,
        )
        .await
        .expect("record");
    assert_eq!(first[0].kind, IncidentChangeKind::Created);
    let id = first[0].incident.id.clone();
    let samples: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
    let sample_refs: Vec<&str> = samples.iter().map(String::as_str).collect();
    let second = store
        .record_alerts(
            &tenant,
            &[alert(
                "spike",
                "k2",
                Some(fp),
                Severity::Critical,
                &sample_refs,
            )],
            BASE + SECOND,
        )
        .await
        .expect("record");
    assert_eq!(second[0].kind, IncidentChangeKind::Updated);
    let incident = store.get(&tenant, &id).await.expect("get").expect("exists");
    assert_eq!(incident.count, 2);
    assert_eq!(incident.severity, "critical");
    assert_eq!(incident.group_key, format!("fp:{fp:016x}"));
    assert_eq!(incident.fingerprint, Some(fp));
    assert_eq!(
        (incident.first_seen_ns, incident.last_seen_ns),
        (BASE, BASE + SECOND)
    );
    assert_eq!(incident.sample_event_ids.len(), 10, "samples are capped");
    assert_eq!(
        incident.sample_event_ids.last().map(String::as_str),
        Some("s11")
    );
    assert_eq!(
        store.get(&other, &id).await.expect("get"),
        None,
        "foreign tenant sees nothing"
    );
    assert!(matches!(
        store
            .update(&other, &id, &IncidentPatch::default(), BASE)
            .await,
        Err(StoreError::NotFound)
    ));

    // Lifecycle: acknowledge, assign, resolve, recur.
    let ack = IncidentPatch {
        status: Some(IncidentStatus::Acknowledged),
        assignee: Some(Some("maria".into())),
    };
    let (updated, changes) = store
        .update(&tenant, &id, &ack, BASE + 2 * SECOND)
        .await
        .expect("ack");
    assert_eq!(updated.status, IncidentStatus::Acknowledged);
    assert_eq!(updated.assignee.as_deref(), Some("maria"));
    let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            IncidentChangeKind::Acknowledged,
            IncidentChangeKind::Assigned
        ]
    );
    let resolve = IncidentPatch {
        status: Some(IncidentStatus::Resolved),
        assignee: None,
    };
    let (resolved, _) = store
        .update(&tenant, &id, &resolve, BASE + 3 * SECOND)
        .await
        .expect("resolve");
    assert_eq!(
        (resolved.status, resolved.resolved_at_ns),
        (IncidentStatus::Resolved, Some(BASE + 3 * SECOND))
    );
    assert!(matches!(
        store.update(&tenant, &id, &ack, BASE).await,
        Err(StoreError::Invalid(_))
    ));
    let again = store
        .record_alerts(
            &tenant,
            &[alert("errors", "k1", Some(fp), Severity::Warning, &["e9"])],
            BASE + 4 * SECOND,
        )
        .await
        .expect("recur");
    assert_eq!(again[0].kind, IncidentChangeKind::Reopened);
    assert_eq!(
        again[0].incident.id, id,
        "recurrence reopens the same incident"
    );
    assert_eq!(
        (
            again[0].incident.status,
            again[0].incident.reopened,
            again[0].incident.count
        ),
        (IncidentStatus::Open, 1, 3)
    );
    assert_eq!(
        again[0].incident.severity, "warning",
        "a reopened incident starts from the new alert's severity"
    );

    // Alerts without a fingerprint group by key.
    let by_key = store
        .record_alerts(
            &tenant,
            &[
                alert("absence", "heartbeat", None, Severity::Error, &[]),
                alert("absence", "heartbeat", None, Severity::Error, &[]),
            ],
            BASE + 5 * SECOND,
        )
        .await
        .expect("record");
    assert_eq!(by_key[0].incident.id, by_key[1].incident.id);
    assert_eq!(by_key[1].incident.group_key, "heartbeat");

    // Merges: into an existing incident folds; into a new fingerprint renames.
    let (a, b, c, d) = (0xa_u64, 0xb_u64, 0xc_u64, 0xd_u64);
    for (fp, n) in [(a, 2), (b, 3), (c, 1)] {
        for _ in 0..n {
            store
                .record_alerts(
                    &tenant,
                    &[alert("errors", "x", Some(fp), Severity::Error, &[])],
                    BASE + 6 * SECOND,
                )
                .await
                .expect("record");
        }
    }
    let merges = [
        FingerprintMerge {
            old: a,
            new: b,
            template: "t".into(),
        },
        FingerprintMerge {
            old: c,
            new: d,
            template: "t".into(),
        },
        FingerprintMerge {
            old: a,
            new: b,
            template: "t".into(),
        },
    ];
    store
        .merge_fingerprints(&tenant, &merges)
        .await
        .expect("merge");
    let list = |fingerprint| IncidentQuery {
        fingerprint: Some(fingerprint),
        ..IncidentQuery::default()
    };
    assert!(
        store
            .list(&tenant, &list(a))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    let merged = store.list(&tenant, &list(b)).await.expect("list").items;
    assert_eq!(merged.iter().map(|i| i.count).collect::<Vec<_>>(), [5]);
    let renamed = store.list(&tenant, &list(d)).await.expect("list").items;
    assert_eq!(
        (renamed.len(), renamed[0].group_key.clone()),
        (1, format!("fp:{d:016x}"))
    );

    // Paging walks every incident once, most recent first.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list(
                &tenant,
                &IncidentQuery {
                    limit: 2,
                    cursor: cursor.clone(),
                    ..IncidentQuery::default()
                },
            )
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|i| (i.last_seen_ns, i.id.clone())));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seen:?}"
    );
    let open = IncidentQuery {
        status: Some(IncidentStatus::Open),
        ..IncidentQuery::default()
    };
    assert_eq!(
        store.list(&tenant, &open).await.expect("list").items.len(),
        4
    );
    assert!(
        store
            .list(&other, &IncidentQuery::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert!(matches!(
        store
            .list(
                &tenant,
                &IncidentQuery {
                    cursor: Some("garbage!".into()),
                    ..IncidentQuery::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
}

/// An event with two attributes (`http.status` 500, `user` `[EMAIL]`),
/// project `p1` and the template `payment <*> failed`.
pub fn test_event(
    tenant: &str,
    id: &str,
    time_ns: i64,
    service: &str,
    level: Level,
    message: &str,
    fingerprint: u64,
) -> Event {
    Event {
        id: id.to_owned(),
        tenant: tenant.to_owned(),
        project: Some("p1".to_owned()),
        received_ns: time_ns + SECOND,
        timestamp_ns: Some(time_ns),
        service: Some(service.to_owned()),
        level: Some(level),
        message: message.to_owned(),
        attributes: vec![
            Attribute {
                key: "http.status".into(),
                value: Value::Integer(500),
            },
            Attribute {
                key: "user".into(),
                value: Value::Text("[EMAIL]".into()),
            },
        ],
        raw: None,
        fingerprint: Some(fingerprint),
        template: Some("payment <*> failed".to_owned()),
    }
}

/// Dead letters keep the original event, are tenant-scoped, page and replay.
pub async fn dead_letters(store: Arc<dyn DeadLetterStore>) {
    use sluice::event::DeadLetter;
    let tenant = unique_tenant("dlq");
    let other = unique_tenant("dlq-other");
    let letter = |tenant: &str, n: i64, step: &str| DeadLetter {
        tenant: tenant.to_owned(),
        pipeline: "default".into(),
        pipeline_version: 7,
        step: step.to_owned(),
        plugin: "normalize".into(),
        plugin_version: "0.1.0".into(),
        plugin_sha256: "ab".repeat(32),
        code: "panic".into(),
        error: "plugin panicked: boom".into(),
        event: test_event(
            tenant,
            &format!("ev-{n}"),
            BASE + n * SECOND,
            "api",
            Level::Error,
            "boom",
            1,
        ),
        failed_at_ns: BASE + n * SECOND,
    };
    let mine: Vec<DeadLetter> = (0..5)
        .map(|n| letter(&tenant, n, if n < 3 { "parse" } else { "redact" }))
        .collect();
    store.insert(&mine).await.expect("insert");
    store
        .insert(&[letter(&other, 9, "parse")])
        .await
        .expect("insert");

    assert_eq!(store.count(&tenant).await.expect("count"), 5);
    let all = store
        .list(Some(&tenant), &DeadLetterQuery::default())
        .await
        .expect("list");
    assert_eq!(all.items.len(), 5);
    assert_eq!(all.items[0].letter, mine[4], "newest first, stored exactly");
    let parse = DeadLetterQuery {
        step: Some("parse".into()),
        ..DeadLetterQuery::default()
    };
    assert_eq!(
        store
            .list(Some(&tenant), &parse)
            .await
            .expect("list")
            .items
            .len(),
        3
    );

    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let query = DeadLetterQuery {
            limit: 2,
            cursor: cursor.clone(),
            ..DeadLetterQuery::default()
        };
        let page = store.list(Some(&tenant), &query).await.expect("page");
        ids.extend(page.items.iter().map(|r| r.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(ids.len(), 5);

    let foreign = store
        .list(Some(&other), &DeadLetterQuery::default())
        .await
        .expect("list")
        .items;
    assert_eq!(foreign.len(), 1);
    assert_eq!(
        store.get(Some(&tenant), &foreign[0].id).await.expect("get"),
        None
    );
    assert!(
        store
            .get(None, &foreign[0].id)
            .await
            .expect("get")
            .is_some(),
        "operator sees all"
    );

    store
        .mark_replayed(&ids[..2], BASE + 100 * SECOND)
        .await
        .expect("mark");
    assert_eq!(store.count(&tenant).await.expect("count"), 3);
    assert_eq!(
        store
            .list(Some(&tenant), &DeadLetterQuery::default())
            .await
            .expect("list")
            .items
            .len(),
        3
    );
    let everything = DeadLetterQuery {
        include_replayed: true,
        ..DeadLetterQuery::default()
    };
    let listed = store
        .list(Some(&tenant), &everything)
        .await
        .expect("list")
        .items;
    assert_eq!(
        listed
            .iter()
            .filter(|r| r.replayed_at_ns == Some(BASE + 100 * SECOND))
            .count(),
        2
    );

    // A quarantined tenant's batch: hundreds of letters in one call, more
    // than one INSERT statement holds; every one stored exactly.
    let flooded = unique_tenant("dlq-flooded");
    let many: Vec<DeadLetter> = (0..450).map(|n| letter(&flooded, n, "parse")).collect();
    store.insert(&many).await.expect("insert many");
    assert_eq!(store.count(&flooded).await.expect("count"), 450);
    let listed = store
        .list(
            Some(&flooded),
            &DeadLetterQuery {
                limit: 1000,
                ..DeadLetterQuery::default()
            },
        )
        .await
        .expect("list")
        .items;
    assert_eq!(listed.len(), 450);
    for (record, letter) in listed.iter().zip(many.iter().rev()) {
        assert_eq!(&record.letter, letter, "newest first, stored exactly");
    }
}

/// Logs are idempotent on (tenant, id), filtered, paged and summarised.
pub async fn logs(store: Arc<dyn LogStore>) {
    let tenant = unique_tenant("logs");
    let other = unique_tenant("logs-other");
    let stored = |event: Event| StoredEvent {
        event,
        pipeline: "default".into(),
        pipeline_version: 3,
    };
    let mut events = Vec::new();
    for n in 0..30_i64 {
        let (service, level, fp) = match n % 3 {
            0 => ("api", Level::Error, 11),
            1 => ("web", Level::Info, 22),
            _ => ("api", Level::Info, 22),
        };
        let message = format!("payment {n} failed for 100% of_users");
        events.push(stored(test_event(
            &tenant,
            &format!("{n:04}"),
            BASE + n * SECOND,
            service,
            level,
            &message,
            fp,
        )));
    }
    store.insert(&events).await.expect("insert");
    store
        .insert(&events[..10])
        .await
        .expect("replay is harmless");
    store
        .insert(&[stored(test_event(
            &other,
            "0000",
            BASE,
            "api",
            Level::Error,
            "secret",
            11,
        ))])
        .await
        .expect("insert other");

    let query = |q: LogQuery| q;
    let all = store
        .query(
            &tenant,
            &query(LogQuery {
                limit: 100,
                ..LogQuery::default()
            }),
        )
        .await
        .expect("query");
    assert_eq!(all.items.len(), 30, "replays never show twice");
    assert_eq!(all.items[0], events[29], "newest first, stored exactly");
    assert_eq!(all.next_cursor, None);

    let count = |q: LogQuery| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            store
                .query(&tenant, &LogQuery { limit: 1000, ..q })
                .await
                .expect("query")
                .items
                .len()
        }
    };
    assert_eq!(
        count(LogQuery {
            service: Some("api".into()),
            ..LogQuery::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(LogQuery {
            level: Some(Level::Error),
            ..LogQuery::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(LogQuery {
            fingerprint: Some(22),
            ..LogQuery::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(LogQuery {
            project: Some("p1".into()),
            ..LogQuery::default()
        })
        .await,
        30
    );
    assert_eq!(
        count(LogQuery {
            project: Some("p2".into()),
            ..LogQuery::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(LogQuery {
            since_ns: Some(BASE + 10 * SECOND),
            until_ns: Some(BASE + 20 * SECOND),
            ..LogQuery::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(LogQuery {
            text: Some("PAYMENT 1".into()),
            ..LogQuery::default()
        })
        .await,
        11,
        "case-insensitive substring"
    );
    assert_eq!(
        count(LogQuery {
            text: Some("100%".into()),
            ..LogQuery::default()
        })
        .await,
        30
    );
    assert_eq!(
        count(LogQuery {
            text: Some("0%".into()),
            ..LogQuery::default()
        })
        .await,
        30
    );
    assert_eq!(
        count(LogQuery {
            text: Some("1_0".into()),
            ..LogQuery::default()
        })
        .await,
        0,
        "wildcards are literal"
    );
    assert_eq!(
        count(LogQuery {
            text: Some("of_users".into()),
            ..LogQuery::default()
        })
        .await,
        30
    );

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(
                &tenant,
                &LogQuery {
                    limit: 7,
                    cursor: cursor.clone(),
                    ..LogQuery::default()
                },
            )
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|e| e.event.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..30).rev().map(|n| format!("{n:04}")).collect();
    assert_eq!(seen, expected, "pages walk every event once, newest first");

    assert_eq!(
        store.get(&tenant, "0005").await.expect("get"),
        Some(events[5].clone())
    );
    assert_eq!(store.get(&other, "0005").await.expect("get"), None);
    assert_eq!(store.get(&tenant, "missing").await.expect("get"), None);

    // An event without the optional fields (never parsed) and one with its
    // raw payload and a structured attribute read back exactly as well.
    let sparse = unique_tenant("logs-sparse");
    let bare = stored(Event {
        project: None,
        timestamp_ns: None,
        service: None,
        level: None,
        attributes: Vec::new(),
        fingerprint: None,
        template: None,
        ..test_event(&sparse, "bare", BASE, "-", Level::Info, "unparsed", 0)
    });
    let mut raw = test_event(&sparse, "raw", BASE, "", Level::Debug, "{\"a\":1}", 0);
    raw.raw = Some("{\"a\":1}".into());
    raw.attributes.push(sluice::runtime::Attribute {
        key: "list".into(),
        value: sluice::runtime::Value::Json("[1,{\"b\":2.5}]".into()),
    });
    let raw = stored(raw);
    store
        .insert(&[bare.clone(), raw.clone()])
        .await
        .expect("insert sparse");
    assert_eq!(store.get(&sparse, "bare").await.expect("get"), Some(bare));
    assert_eq!(store.get(&sparse, "raw").await.expect("get"), Some(raw));
    assert!(matches!(
        store
            .query(
                &tenant,
                &LogQuery {
                    cursor: Some("%%%".into()),
                    ..LogQuery::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));

    let overview = store
        .overview(
            &tenant,
            &OverviewQuery {
                since_ns: BASE,
                until_ns: BASE + 30 * SECOND,
                bucket_ns: 10 * SECOND,
                top: 1,
            },
        )
        .await
        .expect("overview");
    let buckets: Vec<(i64, u64, u64)> = overview
        .buckets
        .iter()
        .map(|b| (b.start_ns - BASE, b.total, b.errors))
        .collect();
    assert_eq!(
        buckets,
        [(0, 10, 4), (10 * SECOND, 10, 3), (20 * SECOND, 10, 3)]
    );
    let services: Vec<(String, u64, u64)> = overview
        .services
        .iter()
        .map(|s| (s.service.clone(), s.total, s.errors))
        .collect();
    assert_eq!(
        services,
        [("api".to_owned(), 20, 10), ("web".to_owned(), 10, 0)]
    );
    let by_service: Vec<(String, i64, u64, u64)> = overview
        .service_buckets
        .iter()
        .map(|b| (b.service.clone(), b.start_ns - BASE, b.total, b.errors))
        .collect();
    assert_eq!(by_service.len(), 6, "two services in three buckets");
    assert_eq!(
        by_service[..2],
        [("api".to_owned(), 0, 7, 4), ("web".to_owned(), 0, 3, 0)]
    );
    let levels: Vec<(String, u64)> = overview
        .levels
        .iter()
        .map(|l| (l.level.clone(), l.total))
        .collect();
    assert_eq!(levels, [("info".to_owned(), 20), ("error".to_owned(), 10)]);
    assert_eq!(overview.top_fingerprints.len(), 1);
    assert_eq!(
        (
            overview.top_fingerprints[0].fingerprint,
            overview.top_fingerprints[0].total
        ),
        (22, 20)
    );
    assert_eq!(
        overview.top_fingerprints[0].template.as_deref(),
        Some("payment <*> failed")
    );

    // Retention: the tenant's events before the cut-off go, later ones and
    // other tenants' stay; expiring again is harmless.
    for _ in 0..2 {
        store
            .expire(&tenant, BASE + 10 * SECOND)
            .await
            .expect("expire");
    }
    let kept: Vec<String> = store
        .query(
            &tenant,
            &LogQuery {
                limit: 100,
                ..LogQuery::default()
            },
        )
        .await
        .expect("query after expiry")
        .items
        .iter()
        .map(|e| e.event.id.clone())
        .collect();
    let expected: Vec<String> = (10..30).rev().map(|n| format!("{n:04}")).collect();
    assert_eq!(kept, expected, "only events at or after the cut-off remain");
    assert_eq!(store.get(&tenant, "0009").await.expect("get"), None);
    assert!(
        store.get(&other, "0000").await.expect("get").is_some(),
        "another tenant's old events are untouched"
    );

    // One batch spanning 150 days (a replay of old logs) is stored whole.
    let days = unique_tenant("logs-days");
    let spread: Vec<StoredEvent> = (0..150_i64)
        .map(|n| {
            stored(test_event(
                &days,
                &format!("{n:04}"),
                BASE - n * 86_400 * SECOND,
                "api",
                Level::Info,
                "old",
                1,
            ))
        })
        .collect();
    store.insert(&spread).await.expect("insert 150 days");
    let page = store
        .query(
            &days,
            &LogQuery {
                limit: 1000,
                ..LogQuery::default()
            },
        )
        .await
        .expect("query 150 days");
    assert_eq!(page.items.len(), 150);
}

/// Signals add up across batches, stay per tenant and project, and know
/// the first day of each fingerprint.
pub async fn signals(store: Arc<dyn sluice::store::SignalStore>) {
    use sluice::store::DAY_NS;
    use sluice::store::signals::SignalBatch;
    let tenant = unique_tenant("signals");
    let other = unique_tenant("signals-other");
    let event = |tenant: &str, day: i64, level: Level, fingerprint: u64| {
        let mut event = test_event(
            tenant,
            "x",
            day * DAY_NS + SECOND,
            "api",
            level,
            "m",
            fingerprint,
        );
        event.template = Some(format!("template {fingerprint}"));
        event
    };
    for _ in 0..2 {
        let mut batch = SignalBatch::default();
        batch.add(&event(&tenant, 100, Level::Error, 1));
        batch.add(&event(&tenant, 101, Level::Info, 1));
        batch.add(&event(&tenant, 101, Level::Info, 2));
        batch.add(&event(&other, 101, Level::Info, 9));
        store.record(&batch).await.expect("record");
    }
    let rows = store.counts(&tenant, None, 100, 101).await.expect("counts");
    let count = |day: i64, dimension: &str, item: &str| {
        rows.iter()
            .find(|r| r.day == day && r.dimension == dimension && r.item == item)
            .map_or(0, |r| r.count)
    };
    assert_eq!(count(100, "total", ""), 2, "batches add up");
    assert_eq!(count(101, "total", ""), 4);
    assert_eq!(count(100, "level", "error"), 2);
    assert_eq!(count(101, "level", "info"), 4);
    assert_eq!(count(101, "service", "api"), 4);
    assert_eq!(count(101, "fingerprint", "0000000000000002"), 2);
    assert_eq!(
        count(101, "fingerprint", "0000000000000009"),
        0,
        "tenants stay apart"
    );
    assert!(
        store
            .counts(&tenant, Some("p2"), 100, 101)
            .await
            .expect("counts")
            .is_empty()
    );
    assert_eq!(
        store
            .counts(&tenant, Some("p1"), 100, 101)
            .await
            .expect("counts"),
        rows
    );
    let new = store
        .new_fingerprints(&tenant, None, 101, 101)
        .await
        .expect("new fingerprints");
    assert_eq!(
        new.len(),
        1,
        "fingerprint 1 was first seen the day before: {new:?}"
    );
    assert_eq!(new[0].fingerprint, "0000000000000002");
    assert_eq!(new[0].first_day, 101);
    assert_eq!(new[0].template.as_deref(), Some("template 2"));
}
