//! New-fingerprint rules: silent learning during warm-up (again after a
//! restart), one alert per new fingerprint, bounded memory, hourly budget.

mod common;

use common::*;
use sluice_plugin_sdk::{Level, Plugin, Severity, Value};

const NEW_ERRORS: &str = r#"
[[rules]]
id = "new-error-fingerprint"
kind = "new-fingerprint"
severity = "warning"
match = { level = "error" }
warmup = "30m"
"#;

#[test]
fn learns_during_warm_up_and_alerts_on_the_first_new_one_after() {
    let mut h = harness(NEW_ERRORS);
    let learned: Vec<_> = (0..20)
        .map(|i| {
            fp_ev(
                &format!("w{i}"),
                T0 + i * MIN,
                "api",
                Level::Error,
                100 + i as u64,
            )
        })
        .collect();
    assert!(run(&mut h, learned).is_empty(), "warm-up learns silently");
    // 29 minutes in: still warming up, a new fingerprint is learned, not raised.
    let alerts = run(
        &mut h,
        vec![fp_ev("w29", T0 + 29 * MIN, "api", Level::Error, 555)],
    );
    assert!(alerts.is_empty());

    let mut new = fp_ev(
        "n1",
        T0 + 31 * MIN,
        "payment-api",
        Level::Error,
        0xdead_beef,
    );
    new.template = Some("Connection to <*> timed out after <*>s".to_owned());
    let mut again = new.clone();
    again.id = "n2".to_owned();
    let mut known = fp_ev("k", T0 + 31 * MIN, "api", Level::Error, 555);
    known.timestamp_ns = Some(T0 + 32 * MIN);
    let alerts = run(&mut h, vec![new, again, known]);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = &alerts[0];
    assert_eq!(alert.rule, "new-error-fingerprint");
    assert_eq!(alert.severity, Severity::Warning);
    assert_eq!(
        alert.title,
        "New error log template from payment-api: Connection to <*> timed out after <*>s"
    );
    assert_eq!(alert.key, "new-error-fingerprint:00000000deadbeef");
    assert_eq!(alert.fingerprint, Some(0xdead_beef));
    assert_eq!(alert.service.as_deref(), Some("payment-api"));
    assert_eq!(alert.window_count, 1);
    assert_eq!(alert.window_ns, 0);
    assert_eq!(alert.baseline, None);
    assert_eq!(alert.sample_event_ids, ["n1"]);
    assert_eq!(
        attr(alert, "template"),
        Some(&Value::Text(
            "Connection to <*> timed out after <*>s".into()
        ))
    );
    assert_eq!(attr(alert, "level"), Some(&Value::Text("error".into())));
    assert_eq!(
        attr(alert, "group_by"),
        Some(&Value::Text("fingerprint".into()))
    );
}

#[test]
fn the_message_stands_in_for_a_missing_template() {
    let mut h = harness(&NEW_ERRORS.replace("30m", "0s"));
    let mut event = fp_ev("e", T0, "api", Level::Fatal, 9);
    event.template = None;
    event.message = "disk full on /dev/sda1".to_owned();
    let alerts = run(&mut h, vec![event]);
    assert_eq!(
        alerts[0].title,
        "New error log template from api: disk full on /dev/sda1"
    );
    assert_eq!(attr(&alerts[0], "template"), None);
}

#[test]
fn events_below_the_level_or_without_fingerprint_are_not_learned_or_raised() {
    let mut h = harness(NEW_ERRORS);
    let mut events = vec![fp_ev("start", T0, "api", Level::Error, 1)];
    events.push(fp_ev("info", T0 + 31 * MIN, "api", Level::Info, 2));
    let mut bare = ev("bare", T0 + 31 * MIN, "api", Level::Error);
    bare.fingerprint = None;
    events.push(bare);
    assert!(run(&mut h, events).is_empty());
    // Fingerprint 2 was seen at info level only: at error level it is new.
    let alerts = run(
        &mut h,
        vec![fp_ev("err", T0 + 32 * MIN, "api", Level::Error, 2)],
    );
    assert_eq!(keys(&alerts), ["new-error-fingerprint:0000000000000002"]);
}

#[test]
fn a_rebuilt_instance_learns_again_instead_of_storming() {
    let mut h = harness(NEW_ERRORS);
    let warm: Vec<_> = (0..50)
        .map(|i| fp_ev(&format!("a{i}"), T0 + i * S, "api", Level::Error, i as u64))
        .collect();
    run(&mut h, warm);
    // The instance faults and is rebuilt an hour later; the same 50 templates return.
    let mut rebuilt = harness(NEW_ERRORS);
    let later = T0 + 60 * MIN;
    let back: Vec<_> = (0..50)
        .map(|i| {
            fp_ev(
                &format!("b{i}"),
                later + i * S,
                "api",
                Level::Error,
                i as u64,
            )
        })
        .collect();
    assert!(run(&mut rebuilt, back).is_empty());
    let after_warmup: Vec<_> = (0..50)
        .map(|i| {
            fp_ev(
                &format!("c{i}"),
                later + 31 * MIN + i * S,
                "api",
                Level::Error,
                i as u64,
            )
        })
        .collect();
    assert!(
        run(&mut rebuilt, after_warmup).is_empty(),
        "all known again"
    );
}

#[test]
fn a_tick_before_any_event_starts_the_warm_up() {
    let mut h = harness(NEW_ERRORS);
    assert!(h.tick(T0).is_empty());
    let alerts = run(
        &mut h,
        vec![fp_ev("e", T0 + 31 * MIN, "api", Level::Error, 7)],
    );
    assert_eq!(alerts.len(), 1, "warm-up ran from the first tick");
}

#[test]
fn known_fingerprints_are_capped() {
    let mut p = plugin(
        r#"{"rules": [{"id": "nf", "kind": "new-fingerprint", "severity": "info",
            "warmup": "0s", "max_fingerprints": 100, "max_alerts_per_hour": 100000}]}"#,
    );
    let mut out = sluice_plugin_sdk::Output::default();
    for i in 0..1_000u64 {
        let mut event = fp_ev(&format!("e{i}"), T0 + i as i64 * S, "api", Level::Info, i);
        p.process(&mut event, &mut out).expect("pass");
        assert!(
            p.tracked()[0].1 <= 100,
            "more fingerprints than max_fingerprints"
        );
    }
}

#[test]
fn the_least_recently_seen_fingerprints_are_forgotten_first() {
    let mut h = harness(
        r#"
[[rules]]
id = "nf"
kind = "new-fingerprint"
severity = "info"
warmup = "0s"
max_fingerprints = 100
max_alerts_per_hour = 100000
"#,
    );
    let events: Vec<_> = (0..1_000u64)
        .map(|i| fp_ev(&format!("e{i}"), T0 + i as i64 * S, "api", Level::Info, i))
        .collect();
    assert_eq!(run(&mut h, events).len(), 1_000);
    let probe = |fp| fp_ev("probe", T0 + 2_000 * S, "api", Level::Info, fp);
    assert!(
        run(&mut h, vec![probe(999)]).is_empty(),
        "recently seen: still known"
    );
    assert_eq!(run(&mut h, vec![probe(0)]).len(), 1, "forgotten: new again");
}

#[test]
fn a_deploy_full_of_new_templates_is_held_to_the_hourly_budget() {
    let mut h = harness(&NEW_ERRORS.replace("warmup", "max_alerts_per_hour = 10\nwarmup"));
    run(&mut h, vec![fp_ev("start", T0, "api", Level::Error, 1)]);
    let deploy: Vec<_> = (0..500)
        .map(|i| {
            fp_ev(
                &format!("d{i}"),
                T0 + 31 * MIN,
                "api",
                Level::Error,
                1_000 + i as u64,
            )
        })
        .collect();
    let alerts = run(&mut h, deploy);
    assert_eq!(alerts.len(), 10);
    assert_eq!(alerts[0].sample_event_ids, ["d0"]);
}
