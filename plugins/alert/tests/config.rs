//! Config: the default rule set, an empty rule list, and errors that name the
//! rule (index and id) and the field.

mod common;

use common::*;
use sluice_plugin_sdk::{Level, Severity};

#[test]
fn the_default_rule_set_is_an_error_spike_fatal_threshold_and_new_error_fingerprint() {
    let p = plugin("{}");
    let ids: Vec<&str> = p.tracked().iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        ["error-spike", "fatal-events", "new-error-fingerprint"]
    );

    let mut h = harness("");
    let alerts = run(&mut h, vec![ev("f", T0, "checkout", Level::Fatal)]);
    assert_eq!(keys(&alerts), ["fatal-events:checkout"]);
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert_eq!(alerts[0].title, "1 fatal event from checkout in 5m");
}

#[test]
fn an_empty_rule_list_is_valid_and_never_alerts() {
    let mut h = harness("rules = []");
    assert!(run(&mut h, vec![ev("f", T0, "checkout", Level::Fatal)]).is_empty());
    assert!(h.tick(T0 + 3_600 * S).is_empty());
}

const GOOD: &str = r#"
[[rules]]
id = "ok"
kind = "threshold"
severity = "info"
threshold = 1
"#;

/// A config of one good rule followed by `second` (a `[[rules]]` body).
fn second_rule(second: &str) -> String {
    format!("{GOOD}\n[[rules]]\n{second}")
}

fn assert_names(error: &str, field: &str) {
    assert!(
        error.contains("rules[1] (id \"bad\")"),
        "rule not named: {error}"
    );
    assert!(
        error.contains(&format!("field `{field}`")),
        "field `{field}` not named: {error}"
    );
}

#[test]
fn errors_name_the_rule_and_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id = \"bad\"\nkind = \"treshold\"\nseverity = \"info\"",
            "kind",
            "unknown variant `treshold`",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"fatal\"",
            "severity",
            "unknown variant `fatal`",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\nwindoww = \"5m\"",
            "windoww",
            "unknown field",
        ),
        (
            "id = \"bad\"\nkind = \"threshold\"\nseverity = \"info\"",
            "threshold",
            "required",
        ),
        (
            "id = \"bad\"\nkind = \"threshold\"\nseverity = \"info\"\nthreshold = 0",
            "threshold",
            "at least 1",
        ),
        (
            "id = \"bad\"\nkind = \"threshold\"\nseverity = \"info\"\nthreshold = 1\nwindow = \"5 min\"",
            "window",
            "invalid duration",
        ),
        (
            "id = \"bad\"\nkind = \"threshold\"\nseverity = \"info\"\nthreshold = 1\nwindow = \"10ms\"",
            "window",
            "between 1s and 30d",
        ),
        (
            "id = \"bad\"\nkind = \"threshold\"\nseverity = \"info\"\nthreshold = 1\nfactor = 2.0",
            "factor",
            "does not apply to kind `threshold`",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\nfactor = 1.0",
            "factor",
            "above 1",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\nbaseline_windows = 100",
            "baseline_windows",
            "1 to 48",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\nmin_count = 0",
            "min_count",
            "at least 1",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\ngroup_by = \"host\"",
            "group_by",
            "unknown grouping",
        ),
        (
            "id = \"bad\"\nkind = \"spike\"\nseverity = \"info\"\nmax_groups = 0",
            "max_groups",
            "1 to 100000",
        ),
        (
            "id = \"bad\"\nkind = \"new-fingerprint\"\nseverity = \"info\"\ngroup_by = \"service\"",
            "group_by",
            "does not apply",
        ),
        (
            "id = \"bad\"\nkind = \"new-fingerprint\"\nseverity = \"info\"\ncooldown = \"1m\"",
            "cooldown",
            "each fingerprint alerts once",
        ),
        (
            "id = \"bad\"\nkind = \"new-fingerprint\"\nseverity = \"info\"\nmax_fingerprints = 0",
            "max_fingerprints",
            "1 to 1000000",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nwindow = \"2h\"\nforget_after = \"1h\"",
            "forget_after",
            "longer than `window`",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\ncooldown = \"0s\"",
            "cooldown",
            "between 1s and 30d",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmax_alerts_per_hour = 0",
            "max_alerts_per_hour",
            "at least 1",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\ntitle = \"{cnt} silent\"",
            "title",
            "unknown placeholder {cnt}",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { levl = \"error\" }",
            "match.levl",
            "unknown field",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { level = \"severe\" }",
            "match.level",
            "unknown variant",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { message_regex = \"(\" }",
            "match.message_regex",
            "invalid regex",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { fingerprint = \"xyz\" }",
            "match.fingerprint",
            "not 1 to 16 hex digits",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { service = [] }",
            "match.service",
            "at least one",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { message_contains = \"\" }",
            "match.message_contains",
            "non-empty",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { attributes = { a = [1] } }",
            "match.attributes.a",
            "text, numbers or booleans",
        ),
        (
            "id = \"bad\"\nkind = \"absence\"\nseverity = \"info\"\nmatch = { service = 5 }",
            "match.service",
            "a string or a list of strings",
        ),
    ];
    for (rule, field, message) in cases {
        let error = config_error(&second_rule(rule));
        assert_names(&error, field);
        assert!(error.contains(message), "expected {message:?} in: {error}");
    }
}

#[test]
fn a_duplicate_id_is_named() {
    let error = config_error(&format!("{GOOD}\n{GOOD}"));
    assert!(
        error.contains("rules[1] (id \"ok\"): field `id`: another rule has the same id"),
        "{error}"
    );
}

#[test]
fn a_rule_without_an_id_is_named_by_index() {
    let error = config_error(&second_rule("kind = \"spike\"\nseverity = \"info\""));
    assert!(error.contains("rules[1] (id (no id))"), "{error}");
    assert!(error.contains("missing field `id`"), "{error}");
}

#[test]
fn unknown_top_level_keys_are_refused() {
    let error = config_error("rule = []");
    assert!(error.contains("unknown field `rule`"), "{error}");
}

#[test]
fn a_custom_title_is_used() {
    let mut h = harness(
        r#"
[[rules]]
id = "pay"
kind = "threshold"
severity = "error"
match = { level = "error", service = "payment-api" }
threshold = 2
window = "90s"
title = "{rule}: {count}/{threshold} {level}s on {service} in {window} ({severity}) {{sic}}"
"#,
    );
    let alerts = run(&mut h, burst("e", 2, T0, S, "payment-api", Level::Error));
    assert_eq!(
        alerts[0].title,
        "pay: 2/2 errors on payment-api in 1m30s (error) {sic}"
    );
}
