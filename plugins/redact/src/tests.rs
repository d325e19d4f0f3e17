//! The plugin through the SDK harness, as the host drives it: config errors,
//! fields covered, replacement modes, key rules, outcomes.

use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Outcome, Value};

use super::Redact;

fn harness(config: &str) -> Harness<Redact> {
    Harness::<Redact>::new(config).unwrap()
}

fn config_error(config: &str) -> String {
    Harness::<Redact>::new(config).err().unwrap()
}

fn one(h: &mut Harness<Redact>, event: Event) -> Event {
    h.kept(vec![event]).remove(0)
}

const SECRET: &str = "hash_secret = \"tenant-acme-0123456789\"\n";

#[test]
fn clean_event_passes_without_copy() {
    let mut h = harness("");
    let result = h.process(vec![
        Event::new("GET /api/v1/orders/242082 completed in 694ms status=200")
            .with_attr("metadata.trace_id", "d0e873a0-000c-6d07")
            .with_attr("n", 5i64),
    ]);
    assert_eq!(result.outcomes, vec![Outcome::Pass]);
}

#[test]
fn message_attributes_and_raw_are_redacted() {
    let mut h = harness("");
    let mut event = Event::new("User heidi.484@shop.example.net logged in from 202.54.25.125")
        .with_attr("metadata.user_ip", "8.229.214.100")
        .with_attr("metadata.trace_id", "d0e873a0-000c-6d07");
    event.raw = Some(r#"{"message":"card 4111 1111 1111 1111","password":"hunter2"}"#.into());
    let out = one(&mut h, event);
    assert_eq!(out.message, "User [EMAIL] logged in from [IPV4]");
    assert_eq!(out.attr_str("metadata.user_ip"), Some("[IPV4]"));
    assert_eq!(
        out.attr_str("metadata.trace_id"),
        Some("d0e873a0-000c-6d07")
    );
    assert_eq!(
        out.raw.as_deref(),
        Some(r#"{"message":"card [CREDIT_CARD]","password":"[SECRET]"}"#)
    );
}

#[test]
fn hash_mode_gives_equal_tokens_for_equal_values() {
    let mut h = harness(&format!("mode = \"hash\"\n{SECRET}"));
    let out = h.kept(vec![
        Event::new("login bob@example.com"),
        Event::new("logout Bob@Example.com"),
        Event::new("login eve@example.com"),
    ]);
    let token = |e: &Event| e.message.split(' ').nth(1).unwrap().to_owned();
    assert_eq!(token(&out[0]), token(&out[1]));
    assert_ne!(token(&out[0]), token(&out[2]));
    assert!(
        token(&out[0]).starts_with("[EMAIL:") && token(&out[0]).len() == 20,
        "{}",
        token(&out[0])
    );

    let mut other = harness("mode = \"hash\"\nhash_secret = \"tenant-other-0123456789\"");
    assert_ne!(
        one(&mut other, Event::new("login bob@example.com")).message,
        out[0].message
    );
}

#[test]
fn per_detector_modes_override_the_default() {
    let mut h = harness(&format!(
        "mode = \"label\"\nmodes = {{ credit_card = \"partial\", email = \"hash\" }}\n{SECRET}"
    ));
    let out = one(
        &mut h,
        Event::new("card 4111-1111-1111-1111 for a@b.io at 1.2.3.4"),
    );
    let parts: Vec<&str> = out.message.split(' ').collect();
    assert_eq!(parts[1], "[CREDIT_CARD:…1111]");
    assert!(parts[3].starts_with("[EMAIL:"), "{}", out.message);
    assert_eq!(parts[5], "[IPV4]");
}

#[test]
fn hash_mode_without_a_secret_is_a_config_error() {
    assert!(config_error("mode = \"hash\"").contains("`hash_secret` is required"));
    assert!(config_error("modes = { phone = \"hash\" }").contains("`hash_secret` is required"));
    assert!(config_error("mode = \"hash\"\nhash_secret = \"short\"").contains("at least 16"));
}

#[test]
fn config_errors_name_the_setting() {
    assert!(
        config_error("disable = [\"emails\"]").contains("`disable`: unknown detector `emails`")
    );
    assert!(config_error("enable = [\"ipv5\"]").contains("unknown detector `ipv5`"));
    assert!(config_error("modes = { nope = \"label\" }").contains("`modes.nope`"));
    assert!(config_error("mode = \"blur\"").contains("unknown variant `blur`"));
    assert!(config_error("colour = 1").contains("unknown field `colour`"));
    let bad_regex = "[[custom]]\nname = \"x\"\npattern = \"(\"";
    assert!(config_error(bad_regex).contains("custom pattern 0"));
    let clash = "[[custom]]\nname = \"email\"\npattern = \"x\"";
    assert!(config_error(clash).contains("`custom[0].name`"));
}

#[test]
fn enable_and_disable_choose_detectors() {
    let mut h = harness("enable = [\"email\", \"ipv4\"]\ndisable = [\"ipv4\"]");
    let out = one(&mut h, Event::new("a@b.io 1.2.3.4 +1-555-201-3344"));
    assert_eq!(out.message, "[EMAIL] 1.2.3.4 +1-555-201-3344");
}

#[test]
fn custom_patterns_with_labels_and_modes() {
    let mut h = harness(
        "modes = { employee = \"partial\" }\n\
         [[custom]]\nname = \"employee\"\npattern = 'EMP-\\d{6}'\n\
         [[custom]]\nname = \"ticket\"\npattern = 'ticket=(\\w+)'\nlabel = \"TICKET_ID\"",
    );
    let out = one(&mut h, Event::new("EMP-123456 opened ticket=ABC12"));
    assert_eq!(out.message, "[EMPLOYEE:…3456] opened ticket=[TICKET_ID]");
}

#[test]
fn allow_lists_from_config() {
    let mut h = harness(
        "allow = [\"127.0.0.1\", \"support@acme.com\"]\nallow_patterns = ['.*@acme\\.internal']",
    );
    let out = one(
        &mut h,
        Event::new("127.0.0.1 support@acme.com ops@acme.internal bob@gmail.com 10.0.0.1"),
    );
    assert_eq!(
        out.message,
        "127.0.0.1 support@acme.com ops@acme.internal [EMAIL] [IPV4]"
    );
}

#[test]
fn key_rules() {
    let mut h = harness("skip_keys = [\"debug.*\"]\nredact_keys = [\"user.name\"]");
    let out = one(
        &mut h,
        Event::new("m")
            .with_attr("debug.peer", "10.0.0.1")
            .with_attr("user.name", "Alice Smith")
            .with_attr("db.password", "hunter2")
            .with_attr("auth.token_type", "bearer")
            .with_attr("pin", 1234i64),
    );
    assert_eq!(out.attr_str("debug.peer"), Some("10.0.0.1"));
    assert_eq!(out.attr_str("user.name"), Some("[REDACTED]"));
    assert_eq!(out.attr_str("db.password"), Some("[SECRET]"));
    assert_eq!(out.attr_str("auth.token_type"), Some("bearer"));
    assert_eq!(out.attr("pin"), Some(&Value::Integer(1234)));

    let mut off = harness("secret_keys = false");
    let out = one(
        &mut off,
        Event::new("m").with_attr("db.password", "hunter2"),
    );
    assert_eq!(out.attr_str("db.password"), Some("hunter2"));
}

#[test]
fn large_integers_are_checked_with_the_key_as_context() {
    let mut h = harness("");
    let out = one(
        &mut h,
        Event::new("m")
            .with_attr("card", 4111111111111111i64)
            .with_attr("phone", 5403926876i64)
            .with_attr("order_id", 5403926876i64),
    );
    assert_eq!(out.attr_str("card"), Some("[CREDIT_CARD]"));
    assert_eq!(out.attr_str("phone"), Some("[PHONE]"));
    assert_eq!(out.attr("order_id"), Some(&Value::Integer(5403926876)));
}

#[test]
fn redaction_is_idempotent() {
    let mut h = harness("");
    let first = one(
        &mut h,
        Event::new("password=hunter2 user a@b.io").with_attr("api_key", "k"),
    );
    let result = h.process(vec![first.clone()]);
    assert_eq!(result.outcomes, vec![Outcome::Pass]);
    assert_eq!(first.message, "password=[SECRET] user [EMAIL]");
}
