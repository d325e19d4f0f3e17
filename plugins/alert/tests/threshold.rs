//! Threshold rules: boundaries, cooldown, windows in event time, grouping,
//! memory caps and the hourly alert budget.

mod common;

use common::*;
use sluice_plugin_sdk::{Level, Severity, Value};

const PAYMENT_ERRORS: &str = r#"
[[rules]]
id = "payment-errors"
kind = "threshold"
severity = "error"
match = { level = "error" }
group_by = "service"
threshold = 5
window = "5m"
cooldown = "10m"
"#;

#[test]
fn four_events_do_not_fire_the_fifth_does_with_a_full_record() {
    let mut h = harness(PAYMENT_ERRORS);
    let events = burst("e", 4, T0, S, "payment-api", Level::Error);
    assert!(run(&mut h, events).is_empty(), "N-1 events must not fire");

    let alerts = run(
        &mut h,
        vec![ev("e4", T0 + 4 * S, "payment-api", Level::Error)],
    );
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule, "payment-errors");
    assert_eq!(alert.severity, Severity::Error);
    assert_eq!(alert.title, "5 error events from payment-api in 5m");
    assert_eq!(alert.key, "payment-errors:payment-api");
    assert_eq!(alert.service.as_deref(), Some("payment-api"));
    assert_eq!(alert.fingerprint, None);
    assert_eq!(alert.window_count, 5);
    assert_eq!(alert.window_ns, 5 * MIN);
    assert_eq!(alert.baseline, None);
    assert_eq!(alert.sample_event_ids, ["e0", "e1", "e2", "e3", "e4"]);
    assert_eq!(
        attr(alert, "group_by"),
        Some(&Value::Text("service".into()))
    );
    assert_eq!(
        attr(alert, "group"),
        Some(&Value::Text("payment-api".into()))
    );
    assert_eq!(attr(alert, "threshold"), Some(&Value::Integer(5)));
}

#[test]
fn samples_are_the_latest_five() {
    let mut h = harness(&PAYMENT_ERRORS.replace("threshold = 5", "threshold = 8"));
    let alerts = run(&mut h, burst("e", 8, T0, S, "api", Level::Error));
    assert_eq!(alerts[0].sample_event_ids, ["e3", "e4", "e5", "e6", "e7"]);
}

#[test]
fn cooldown_suppresses_then_the_rule_fires_again() {
    let mut h = harness(PAYMENT_ERRORS);
    let alerts = run(&mut h, burst("a", 5, T0, S, "api", Level::Error));
    assert_eq!(alerts.len(), 1);
    // Still above the threshold, but within the 10m cooldown.
    let alerts = run(
        &mut h,
        burst("b", 20, T0 + 10 * S, 20 * S, "api", Level::Error),
    );
    assert!(alerts.is_empty(), "cooldown must suppress: {alerts:?}");
    // The first alert went out at T0+4s; at T0+4s+10m the cooldown is over.
    let alerts = run(
        &mut h,
        burst("c", 5, T0 + 4 * S + 10 * MIN, S, "api", Level::Error),
    );
    assert_eq!(keys(&alerts), ["payment-errors:api"]);
}

#[test]
fn events_that_left_the_window_do_not_count() {
    let mut h = harness(PAYMENT_ERRORS);
    assert!(run(&mut h, burst("a", 4, T0, S, "api", Level::Error)).is_empty());
    // Six minutes later the four earlier events are out of the 5m window.
    let alerts = run(&mut h, burst("b", 4, T0 + 6 * MIN, S, "api", Level::Error));
    assert!(alerts.is_empty(), "{alerts:?}");
    let alerts = run(
        &mut h,
        vec![ev("b4", T0 + 6 * MIN + 5 * S, "api", Level::Error)],
    );
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].window_count, 5);
    assert_eq!(alerts[0].sample_event_ids, ["b0", "b1", "b2", "b3", "b4"]);
}

#[test]
fn out_of_order_events_within_the_window_count_and_old_ones_are_ignored() {
    let mut h = harness(PAYMENT_ERRORS);
    let mut events = vec![ev("now", T0 + 4 * MIN, "api", Level::Error)];
    // A day-old event and one from long before the epoch: ignored, harmless.
    events.push(ev("old", T0 - 86_400 * S, "api", Level::Error));
    events.push(ev("ancient", i64::MIN + 1, "api", Level::Error));
    // Earlier within the window, out of order.
    events.extend(burst("late", 3, T0 + MIN, S, "api", Level::Error));
    assert!(run(&mut h, events).is_empty());
    let alerts = run(&mut h, vec![ev("x", T0 + 30 * S, "api", Level::Error)]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].window_count, 5);
}

#[test]
fn a_sender_clock_hours_ahead_does_not_blind_the_rule() {
    let mut h = harness(PAYMENT_ERRORS);
    // Sent by a host whose clock is 3 hours fast, received at T0.
    let mut skewed = ev("skewed", T0 + 3 * 3_600 * S, "api", Level::Error);
    skewed.received_ns = T0;
    let mut events = vec![skewed];
    events.extend(burst("e", 4, T0 + 2 * MIN, S, "api", Level::Error));
    let alerts = run(&mut h, events);
    assert_eq!(alerts.len(), 1, "the correct events still count");
    assert_eq!(alerts[0].window_count, 5);
}

#[test]
fn each_service_fires_under_its_own_key() {
    let mut h = harness(PAYMENT_ERRORS);
    let mut events = burst("a", 5, T0, S, "api", Level::Error);
    events.extend(burst("w", 4, T0, S, "web", Level::Error));
    events.push(ev("w4", T0 + 5 * S, "web", Level::Error));
    events.extend(burst("i", 9, T0, S, "api", Level::Info));
    let alerts = run(&mut h, events);
    assert_eq!(keys(&alerts), ["payment-errors:api", "payment-errors:web"]);
}

#[test]
fn events_without_the_grouped_value_share_one_group() {
    let mut h = harness(&PAYMENT_ERRORS.replace("threshold = 5", "threshold = 2"));
    let mut a = ev("a", T0, "x", Level::Error);
    a.service = None;
    let mut b = ev("b", T0 + S, "x", Level::Error);
    b.service = None;
    let alerts = run(&mut h, vec![a, b]);
    assert_eq!(keys(&alerts), ["payment-errors:(none)"]);
    assert_eq!(alerts[0].service, None);
    assert_eq!(alerts[0].title, "2 error events from unknown in 5m");
}

#[test]
fn ungrouped_rule_has_one_key_and_names_a_pinned_service() {
    let mut h = harness(
        r#"
[[rules]]
id = "checkout-fatal"
kind = "threshold"
severity = "critical"
match = { level = "fatal", service = "checkout" }
threshold = 2
"#,
    );
    let alerts = run(&mut h, burst("f", 2, T0, S, "checkout", Level::Fatal));
    assert_eq!(keys(&alerts), ["checkout-fatal"]);
    assert_eq!(alerts[0].title, "2 fatal events from checkout in 5m");
    assert_eq!(alerts[0].service.as_deref(), Some("checkout"));
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert!(alerts[0].attributes.iter().all(|a| a.key != "group"));
}

#[test]
fn grouping_by_fingerprint_reports_it() {
    let mut h = harness(
        r#"
[[rules]]
id = "hot-template"
kind = "threshold"
severity = "warning"
group_by = "fingerprint"
threshold = 3
window = "1m"
"#,
    );
    let mut events: Vec<_> = (0..3)
        .map(|i| {
            fp_ev(
                &format!("a{i}"),
                T0 + i * S,
                "api",
                Level::Info,
                0xdead_beef,
            )
        })
        .collect();
    events.extend((0..2).map(|i| fp_ev(&format!("b{i}"), T0 + i * S, "api", Level::Info, 7)));
    let alerts = run(&mut h, events);
    assert_eq!(keys(&alerts), ["hot-template:00000000deadbeef"]);
    assert_eq!(alerts[0].fingerprint, Some(0xdead_beef));
    assert_eq!(alerts[0].service.as_deref(), Some("api"));
    assert_eq!(
        alerts[0].title,
        "3 events with fingerprint 00000000deadbeef in 1m"
    );
}

#[test]
fn grouping_by_attribute_uses_its_value_as_text() {
    let mut h = harness(
        r#"
[[rules]]
id = "status"
kind = "threshold"
severity = "warning"
group_by = "attribute:http.status"
threshold = 2
"#,
    );
    let a = ev("a", T0, "api", Level::Warn).with_attr("http.status", 503i64);
    let b = ev("b", T0 + S, "api", Level::Warn).with_attr("http.status", "503");
    let c = ev("c", T0 + S, "api", Level::Warn).with_attr("http.status", 404i64);
    let alerts = run(&mut h, vec![a, b, c]);
    assert_eq!(keys(&alerts), ["status:503"]);
    assert_eq!(alerts[0].title, "2 events with http.status=503 in 5m");
    assert_eq!(
        attr(&alerts[0], "group_by"),
        Some(&Value::Text("attribute:http.status".into()))
    );
}

#[test]
fn distinct_groups_are_capped() {
    let mut p = plugin(
        r#"{"rules": [{"id": "by-user", "kind": "threshold", "severity": "info",
            "group_by": "attribute:user", "threshold": 1000, "max_groups": 50}]}"#,
    );
    let mut out = sluice_plugin_sdk::Output::default();
    for i in 0..10_000i64 {
        let mut event = ev(&format!("e{i}"), T0 + i * 1_000_000, "api", Level::Info)
            .with_attr("user", format!("user-{i}"));
        sluice_plugin_sdk::Plugin::process(&mut p, &mut event, &mut out).expect("pass");
        assert!(p.tracked()[0].1 <= 50, "more groups than max_groups");
    }
    let (id, groups) = p.tracked()[0];
    assert_eq!(id, "by-user");
    assert!(
        groups >= 45,
        "a full table evicts a tenth at a time, not all: {groups}"
    );
}

#[test]
fn idle_groups_are_forgotten_on_tick() {
    let mut p = plugin(
        r#"{"rules": [{"id": "t", "kind": "threshold", "severity": "info",
            "group_by": "service", "threshold": 100, "window": "1m", "cooldown": "2m"}]}"#,
    );
    let mut out = sluice_plugin_sdk::Output::default();
    use sluice_plugin_sdk::Plugin;
    for (i, service) in ["a", "b", "c"].iter().enumerate() {
        p.process(
            &mut ev(&format!("e{i}"), T0, service, Level::Info),
            &mut out,
        )
        .expect("pass");
    }
    p.process(&mut ev("late", T0 + 2 * MIN, "d", Level::Info), &mut out)
        .expect("pass");
    p.tick(T0 + 2 * MIN, &mut out);
    assert_eq!(p.tracked(), [("t", 4)], "kept for the 2m cooldown horizon");
    p.process(
        &mut ev("later", T0 + 2 * MIN + S, "d", Level::Info),
        &mut out,
    )
    .expect("pass");
    p.tick(T0 + 2 * MIN + S, &mut out);
    assert_eq!(p.tracked(), [("t", 1)]);
}

#[test]
fn hourly_budget_caps_alerts_across_groups() {
    let mut h = harness(
        r#"
[[rules]]
id = "any-error"
kind = "threshold"
severity = "error"
match = { level = "error" }
group_by = "service"
threshold = 1
max_alerts_per_hour = 3
"#,
    );
    let events: Vec<_> = (0..10)
        .map(|i| {
            ev(
                &format!("e{i}"),
                T0 + i * S,
                &format!("svc-{i}"),
                Level::Error,
            )
        })
        .collect();
    assert_eq!(run(&mut h, events).len(), 3);
    // The next hour of event time has a fresh budget.
    let next_hour = (T0 / (3_600 * S) + 1) * 3_600 * S;
    let events: Vec<_> = (0..10)
        .map(|i| {
            ev(
                &format!("n{i}"),
                next_hour + i * S,
                &format!("new-{i}"),
                Level::Error,
            )
        })
        .collect();
    assert_eq!(run(&mut h, events).len(), 3);
    let logs = h.logs();
    assert!(
        logs.iter()
            .any(|(_, line)| line.contains("max_alerts_per_hour (3)")),
        "{logs:?}"
    );
}
