//! Absence rules: fire on the tick after the silence, once per cooldown;
//! expected services from config; forgetting retired groups.

mod common;

use common::*;
use sluice_plugin_sdk::{Level, Severity, Value};

const SILENT_SERVICE: &str = r#"
[[rules]]
id = "service-silent"
kind = "absence"
severity = "critical"
group_by = "service"
window = "15m"
cooldown = "30m"
"#;

#[test]
fn fires_on_the_first_tick_after_the_silence_and_once_per_cooldown() {
    let mut h = harness(SILENT_SERVICE);
    run(&mut h, vec![ev("last", T0, "payment-api", Level::Info)]);
    assert!(h.tick(T0 + 15 * MIN - S).is_empty(), "one second short");
    let alerts = h.tick(T0 + 15 * MIN);
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule, "service-silent");
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.title, "No events from payment-api in the last 15m");
    assert_eq!(alert.key, "service-silent:payment-api");
    assert_eq!(alert.service.as_deref(), Some("payment-api"));
    assert_eq!(alert.window_count, 0);
    assert_eq!(alert.window_ns, 15 * MIN);
    assert!(alert.sample_event_ids.is_empty());
    assert_eq!(attr(alert, "silent_seconds"), Some(&Value::Integer(900)));
    assert_eq!(attr(alert, "last_seen_ns"), Some(&Value::Integer(T0)));

    assert!(h.tick(T0 + 16 * MIN).is_empty(), "cooldown");
    assert!(h.tick(T0 + 44 * MIN).is_empty(), "cooldown");
    let again = h.tick(T0 + 45 * MIN);
    assert_eq!(keys(&again), ["service-silent:payment-api"]);
    assert_eq!(
        attr(&again[0], "silent_seconds"),
        Some(&Value::Integer(2_700))
    );
}

#[test]
fn an_event_ends_the_silence() {
    let mut h = harness(SILENT_SERVICE);
    run(&mut h, vec![ev("a", T0, "api", Level::Info)]);
    run(&mut h, vec![ev("b", T0 + 10 * MIN, "api", Level::Info)]);
    assert!(h.tick(T0 + 20 * MIN).is_empty());
    assert_eq!(h.tick(T0 + 25 * MIN).len(), 1);
}

#[test]
fn a_late_event_received_now_still_proves_the_sender_alive() {
    let mut h = harness(SILENT_SERVICE);
    let mut late = ev("late", T0 - 60 * MIN, "api", Level::Info);
    late.received_ns = T0;
    run(&mut h, vec![late]);
    assert!(h.tick(T0 + 10 * MIN).is_empty());
}

#[test]
fn each_silent_service_alerts_in_name_order() {
    let mut h = harness(SILENT_SERVICE);
    run(
        &mut h,
        vec![
            ev("w", T0, "web", Level::Info),
            ev("a", T0, "api", Level::Info),
            ev("b", T0 + 10 * MIN, "billing", Level::Info),
        ],
    );
    let alerts = h.tick(T0 + 15 * MIN);
    assert_eq!(keys(&alerts), ["service-silent:api", "service-silent:web"]);
}

#[test]
fn expected_services_alert_even_if_never_seen_since_the_start() {
    let mut h = harness(
        r#"
[[rules]]
id = "heartbeat"
kind = "absence"
severity = "error"
match = { service = ["payments", "ledger"] }
group_by = "service"
window = "5m"
"#,
    );
    run(&mut h, vec![ev("p", T0, "payments", Level::Info)]);
    run(&mut h, vec![ev("x", T0, "other", Level::Info)]);
    assert!(h.tick(T0 + 4 * MIN).is_empty());
    let alerts = h.tick(T0 + 5 * MIN);
    assert_eq!(keys(&alerts), ["heartbeat:ledger", "heartbeat:payments"]);
    assert_eq!(alerts[0].title, "No events from ledger in the last 5m");
}

#[test]
fn an_ungrouped_rule_watches_all_matching_events_from_the_first_tick() {
    let mut h = harness(
        r#"
[[rules]]
id = "no-checkout-logs"
kind = "absence"
severity = "warning"
match = { service = "checkout" }
window = "10m"
"#,
    );
    assert!(h.tick(T0).is_empty());
    run(&mut h, vec![ev("other", T0 + 5 * MIN, "api", Level::Info)]);
    let alerts = h.tick(T0 + 10 * MIN);
    assert_eq!(keys(&alerts), ["no-checkout-logs"]);
    assert_eq!(alerts[0].title, "No events from checkout in the last 10m");
    assert_eq!(alerts[0].service.as_deref(), Some("checkout"));
}

#[test]
fn a_service_silent_past_forget_after_is_dropped_but_an_expected_one_is_not() {
    let mut h = harness(
        r#"
[[rules]]
id = "silent"
kind = "absence"
severity = "warning"
match = { service = ["kept", "retired"] }
group_by = "service"
window = "5m"
cooldown = "5m"
forget_after = "1h"
"#,
    );
    let rule2 = r#"
[[rules]]
id = "silent"
kind = "absence"
severity = "warning"
group_by = "service"
window = "5m"
cooldown = "5m"
forget_after = "1h"
"#;
    run(&mut h, vec![ev("k", T0, "kept", Level::Info)]);
    assert_eq!(h.tick(T0 + 59 * MIN).len(), 2);
    assert_eq!(
        h.tick(T0 + 2 * 60 * MIN).len(),
        2,
        "expected services are never forgotten"
    );

    let mut h = harness(rule2);
    run(&mut h, vec![ev("r", T0, "retired", Level::Info)]);
    assert_eq!(h.tick(T0 + 59 * MIN).len(), 1);
    assert!(h.tick(T0 + 60 * MIN).is_empty(), "forgotten after 1h");
    assert!(h.tick(T0 + 3 * 60 * MIN).is_empty());
}

#[test]
fn silent_groups_are_capped() {
    let mut p = plugin(
        r#"{"rules": [{"id": "a", "kind": "absence", "severity": "info",
            "group_by": "attribute:host", "max_groups": 20}]}"#,
    );
    let mut out = sluice_plugin_sdk::Output::default();
    use sluice_plugin_sdk::Plugin;
    for i in 0..500i64 {
        let mut event = ev(&format!("e{i}"), T0 + i * S, "api", Level::Info)
            .with_attr("host", format!("host-{i}"));
        p.process(&mut event, &mut out).expect("pass");
    }
    assert!(p.tracked()[0].1 <= 20);
    p.tick(T0 + 60 * MIN, &mut out);
    assert!(p.tracked()[0].1 <= 20);
}
