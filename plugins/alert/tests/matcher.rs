//! Matchers: each condition alone, and combined (all must hold). Each case
//! runs a threshold-1 rule, so "matches" means "raises an alert".

mod common;

use common::*;
use sluice_plugin_sdk::{Event, Level};

fn matches(match_table: &str, event: Event) -> bool {
    let config = format!(
        r#"
[[rules]]
id = "m"
kind = "threshold"
severity = "info"
threshold = 1
match = {match_table}
"#
    );
    let mut h = harness(&config);
    !run(&mut h, vec![event]).is_empty()
}

fn event() -> Event {
    let mut e = ev("e", T0, "payment-api", Level::Error)
        .with_attr("http.status", 503i64)
        .with_attr("region", "eu-west-1")
        .with_attr("retry", true);
    e.message = "Connection to DB-7.internal TIMED OUT after 30s".to_owned();
    e.fingerprint = Some(0xdead_beef);
    e
}

#[test]
fn an_empty_match_table_matches_everything() {
    assert!(matches("{}", Event::new("")));
}

#[test]
fn level_is_at_or_above() {
    assert!(matches(
        r#"{ level = "warn" }"#,
        event().with_level(Level::Warn)
    ));
    assert!(matches(
        r#"{ level = "warn" }"#,
        event().with_level(Level::Fatal)
    ));
    assert!(!matches(
        r#"{ level = "warn" }"#,
        event().with_level(Level::Info)
    ));
    assert!(matches(
        r#"{ level = "warning" }"#,
        event().with_level(Level::Error)
    ));
    let mut no_level = event();
    no_level.level = None;
    assert!(
        !matches(r#"{ level = "trace" }"#, no_level),
        "no level never matches a level floor"
    );
}

#[test]
fn service_equals_or_is_in_a_list() {
    assert!(matches(r#"{ service = "payment-api" }"#, event()));
    assert!(
        !matches(r#"{ service = "payment" }"#, event()),
        "equality, not prefix"
    );
    assert!(matches(r#"{ service = ["a", "payment-api"] }"#, event()));
    let many: Vec<String> = (0..20).map(|i| format!("\"s{i}\"")).collect();
    let list = format!("{{ service = [{}, \"payment-api\"] }}", many.join(", "));
    assert!(matches(&list, event()), "long lists use a set");
    let list = format!("{{ service = [{}] }}", many.join(", "));
    assert!(!matches(&list, event()));
    let mut no_service = event();
    no_service.service = None;
    assert!(!matches(r#"{ service = "payment-api" }"#, no_service));
}

#[test]
fn fingerprint_equals() {
    assert!(matches(r#"{ fingerprint = "00000000deadbeef" }"#, event()));
    assert!(matches(r#"{ fingerprint = ["1", "deadbeef"] }"#, event()));
    assert!(!matches(r#"{ fingerprint = "deadbeee" }"#, event()));
}

#[test]
fn attribute_equals_reads_numbers_and_booleans_as_text() {
    assert!(matches(
        r#"{ attributes = { "http.status" = 503 } }"#,
        event()
    ));
    assert!(matches(
        r#"{ attributes = { "http.status" = "503" } }"#,
        event()
    ));
    assert!(!matches(
        r#"{ attributes = { "http.status" = 500 } }"#,
        event()
    ));
    assert!(matches(
        r#"{ attributes = { region = "eu-west-1" } }"#,
        event()
    ));
    assert!(!matches(
        r#"{ attributes = { region = "EU-WEST-1" } }"#,
        event()
    ));
    assert!(matches(r#"{ attributes = { retry = true } }"#, event()));
    assert!(!matches(r#"{ attributes = { missing = "x" } }"#, event()));
    assert!(matches(
        r#"{ attributes = { region = "eu-west-1", "http.status" = 503 } }"#,
        event()
    ));
    assert!(!matches(
        r#"{ attributes = { region = "eu-west-1", "http.status" = 404 } }"#,
        event()
    ));
}

#[test]
fn attribute_exists() {
    assert!(matches(
        r#"{ has_attributes = ["region", "retry"] }"#,
        event()
    ));
    assert!(!matches(
        r#"{ has_attributes = ["region", "user"] }"#,
        event()
    ));
}

#[test]
fn message_contains_ignores_case() {
    assert!(matches(r#"{ message_contains = "timed out" }"#, event()));
    assert!(matches(r#"{ message_contains = "db-7" }"#, event()));
    assert!(matches(
        r#"{ message_contains = ["refused", "Timed Out"] }"#,
        event()
    ));
    assert!(!matches(
        r#"{ message_contains = ["refused", "reset"] }"#,
        event()
    ));
    let mut accented = event();
    accented.message = "Échec de la connexion".to_owned();
    assert!(matches(
        r#"{ message_contains = "ÉCHEC" }"#,
        accented.clone()
    ));
    assert!(matches(r#"{ message_contains = "échec" }"#, accented));
}

#[test]
fn message_regex_only_when_asked() {
    assert!(matches(r#"{ message_regex = 'after \d+s$' }"#, event()));
    assert!(!matches(r#"{ message_regex = '^after' }"#, event()));
}

#[test]
fn combined_conditions_must_all_hold() {
    let all = r#"{ level = "error", service = "payment-api", fingerprint = "deadbeef",
        attributes = { "http.status" = 503 }, has_attributes = ["region"],
        message_contains = "timed out", message_regex = 'DB-\d' }"#;
    assert!(matches(all, event()));
    assert!(!matches(all, event().with_level(Level::Warn)));
    assert!(!matches(all, event().with_service("web")));
    assert!(!matches(all, event().with_attr("http.status", 500i64)));
    let mut other = event();
    other.message = "Connection to DB-7.internal refused".to_owned();
    assert!(!matches(all, other));
    let mut other = event();
    other.message = "Connection to db.internal timed out".to_owned();
    assert!(!matches(all, other), "the regex is case-sensitive");
}
