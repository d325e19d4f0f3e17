//! Sandbox: a plugin that loops, panics, overflows its stack, inflates its
//! output, forges identities or tries to escape costs only its own events,
//! never the host and never another tenant.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice::runtime::{
    Failure, Fault, InitContext, InitError, LoadError, Outcome, PluginInstance, PluginRuntime,
    QuarantinePolicy, RuntimeOptions, StepLimits, StepOutcome, StepRunner, Value,
};
use sluice_tests::{events, plugin, runtime};

fn context(tenant: &str) -> InitContext {
    InitContext {
        tenant: tenant.to_owned(),
        pipeline: "test".to_owned(),
        step: "testkit".to_owned(),
    }
}

fn testkit_step(runtime: &Arc<PluginRuntime>, tenant: &str, limits: StepLimits) -> StepRunner {
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    StepRunner::new(
        runtime.clone(),
        testkit,
        context(tenant),
        "{}".into(),
        limits,
    )
    .unwrap()
}

fn failure(outcome: &StepOutcome) -> &Failure {
    match outcome {
        StepOutcome::Failed(failure) => failure,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn infinite_loop_is_stopped_within_deadline_plus_two_ticks() {
    let tick = Duration::from_millis(20);
    let runtime = Arc::new(
        PluginRuntime::new(RuntimeOptions {
            epoch_tick: tick,
            ..RuntimeOptions::default()
        })
        .unwrap(),
    );
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let limits = StepLimits::default();
    let mut instance =
        PluginInstance::start(&runtime, testkit, &context("acme"), "{}", &limits, false).unwrap();
    let started = Instant::now();
    let fault = instance.process(&events("acme", &["loop"])).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        fault,
        Fault::Timeout {
            deadline: limits.deadline
        }
    );
    assert!(elapsed >= limits.deadline, "stopped early: {elapsed:?}");
    assert!(
        elapsed <= limits.deadline + 2 * tick,
        "stopped after {elapsed:?}, later than {:?} + 2 ticks of {tick:?}",
        limits.deadline
    );
}

#[test]
fn panic_is_a_typed_fault_with_its_message_and_the_next_batch_succeeds() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["panic"]));
    match failure(&output.outcomes[0]) {
        Failure::Fault(Fault::Panic { message }) => {
            assert!(message.starts_with("boom on purpose (at "), "{message}")
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    let output = step.run(&events("acme", &["hello", "world"]));
    assert_eq!(output.outcomes, vec![StepOutcome::Pass, StepOutcome::Pass]);
    assert!(output.faults.is_empty());
}

#[test]
fn stack_overflow_traps_without_taking_the_host_down() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["recurse-native", "recurse", "fine"]));
    assert_eq!(
        output.outcomes[0],
        StepOutcome::Failed(Failure::Fault(Fault::StackOverflow))
    );
    // Rust's own (shadow) stack lives in linear memory: overflowing it is an
    // out-of-bounds access, and the message says that it may be a stack overflow.
    match failure(&output.outcomes[1]) {
        Failure::Fault(Fault::Trap { message }) => {
            assert!(message.contains("stack overflow"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(output.outcomes[2], StepOutcome::Pass);
    assert_eq!(
        step.run(&events("acme", &["fine"])).outcomes,
        vec![StepOutcome::Pass]
    );
}

#[test]
fn memory_cap_passes_below_and_fails_above_with_a_typed_error() {
    let runtime = runtime();
    let limits = StepLimits {
        memory_bytes: 64 << 20,
        ..StepLimits::default()
    };
    let mut step = testkit_step(&runtime, "acme", limits);
    let output = step.run(&events("acme", &["alloc:32", "alloc:64"]));
    assert!(
        matches!(&output.outcomes[0], StepOutcome::Keep(_)),
        "{:?}",
        output.outcomes[0]
    );
    match failure(&output.outcomes[1]) {
        Failure::Fault(Fault::MemoryLimit { cap, requested }) => {
            assert_eq!(*cap, 64 << 20);
            assert!(*requested > 64 << 20);
        }
        other => panic!("expected the memory cap, got {other:?}"),
    }
}

#[test]
fn oversized_output_is_rejected() {
    let runtime = runtime();
    let limits = StepLimits {
        memory_bytes: 512 << 20,
        deadline: Duration::from_secs(5),
        ..StepLimits::default()
    };
    let mut step = testkit_step(&runtime, "acme", limits);
    let output = step.run(&events("acme", &["big-output", "fine"]));
    match failure(&output.outcomes[0]) {
        Failure::InvalidEvent(why) => assert!(why.contains("more than the limit"), "{why}"),
        other => panic!("expected an invalid event, got {other:?}"),
    }
    assert_eq!(output.outcomes[1], StepOutcome::Pass);
}

#[test]
fn every_escape_attempt_fails() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["open-file", "connect", "env"]));
    for outcome in &output.outcomes {
        let StepOutcome::Keep(event) = outcome else {
            panic!("expected the event back with its escape report, got {outcome:?}");
        };
        let report = event
            .attributes
            .iter()
            .find(|a| a.key == "escape")
            .map(|a| a.value.clone());
        match report {
            Some(Value::Text(text)) => {
                assert!(text.starts_with("denied"), "{}: {text}", event.message)
            }
            other => panic!("no escape report: {other:?}"),
        }
    }
}

#[test]
fn bisection_fails_only_the_offending_events_and_keeps_order() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let mut messages = vec!["ok"; 100];
    messages[37] = "panic";
    messages[80] = "recurse";
    messages[90] = "drop";
    let output = step.run(&events("acme", &messages));
    assert_eq!(output.outcomes.len(), 100);
    for (i, outcome) in output.outcomes.iter().enumerate() {
        match i {
            37 => assert!(matches!(
                failure(outcome),
                Failure::Fault(Fault::Panic { .. })
            )),
            80 => assert!(matches!(
                failure(outcome),
                Failure::Fault(Fault::Trap { .. })
            )),
            90 => assert_eq!(outcome, &StepOutcome::Drop),
            _ => assert_eq!(outcome, &StepOutcome::Pass, "event {i}"),
        }
    }
}

#[test]
fn a_plugin_failing_one_event_fails_only_that_event() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["a", "fail", "b"]));
    assert_eq!(
        output.outcomes,
        vec![
            StepOutcome::Pass,
            StepOutcome::Failed(Failure::Rejected("asked to fail".into())),
            StepOutcome::Pass
        ]
    );
    assert!(output.faults.is_empty(), "a rejected event is not a fault");
}

#[test]
fn forged_event_ids_are_refused() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["change-id"]));
    match failure(&output.outcomes[0]) {
        Failure::InvalidEvent(why) => assert!(why.contains("changed the event id"), "{why}"),
        other => panic!("expected an invalid event, got {other:?}"),
    }
}

#[test]
fn wrong_outcome_count_is_invalid_output() {
    let runtime = runtime();
    let raw = runtime.load_file(&plugin("fixtures/raw")).unwrap();
    let mut step = StepRunner::new(
        runtime.clone(),
        raw,
        context("acme"),
        "\"extra\"".into(),
        StepLimits::default(),
    )
    .unwrap();
    let output = step.run(&events("acme", &["a", "b"]));
    for outcome in &output.outcomes {
        assert!(
            matches!(failure(outcome), Failure::Fault(Fault::InvalidOutput { message }) if message == "2 outcomes for 1 events"),
            "{outcome:?}"
        );
    }
}

#[test]
fn repeated_faults_quarantine_the_step_for_that_tenant_only() {
    let runtime = runtime();
    let limits = StepLimits {
        faults_per_minute: 3,
        cooldown: Duration::from_secs(3600),
        quarantine: QuarantinePolicy::DeadLetter,
        ..StepLimits::default()
    };
    let mut acme = testkit_step(&runtime, "acme", limits.clone());
    let mut globex = testkit_step(&runtime, "globex", limits.clone());
    for _ in 0..3 {
        acme.run(&events("acme", &["panic", "ok"]));
    }
    assert!(acme.is_quarantined());
    let output = acme.run(&events("acme", &["ok"]));
    assert_eq!(
        output.outcomes,
        vec![StepOutcome::Failed(Failure::Quarantined)]
    );

    assert!(!globex.is_quarantined());
    let output = globex.run(&events("globex", &["ok"]));
    assert_eq!(output.outcomes, vec![StepOutcome::Pass]);

    let mut skipping = testkit_step(
        &runtime,
        "initech",
        StepLimits {
            quarantine: QuarantinePolicy::Skip,
            ..limits
        },
    );
    for _ in 0..3 {
        skipping.run(&events("initech", &["panic"]));
    }
    let output = skipping.run(&events("initech", &["drop"]));
    assert_eq!(
        output.outcomes,
        vec![StepOutcome::Pass],
        "skip policy passes events past the step"
    );
}

#[test]
fn a_plugin_looping_on_everything_costs_a_bounded_time_per_batch() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let output = step.run(&events("acme", &["loop"; 64]));
    assert!(output.outcomes.iter().all(|o| matches!(
        failure(o),
        Failure::Fault(Fault::Timeout { .. }) | Failure::Unisolated(Fault::Timeout { .. })
    )));
    // 2 * log2(64) + 4 faulting calls at most, then the rest fail unisolated.
    assert!(
        output.faults.len() <= 2 * 7 + 4,
        "{} faulting calls",
        output.faults.len()
    );
    assert!(
        step.is_quarantined(),
        "one batch the plugin faults on throughout quarantines the step at once"
    );
}

/// Bounding recovery time must not stop bisection from saving the good
/// events of a large batch around one event that loops.
#[test]
fn one_looping_event_among_1024_fails_alone() {
    let runtime = runtime();
    let mut step = testkit_step(&runtime, "acme", StepLimits::default());
    let mut messages = vec!["ok"; 1024];
    messages[700] = "loop";
    let output = step.run(&events("acme", &messages));
    for (i, outcome) in output.outcomes.iter().enumerate() {
        if i == 700 {
            assert!(
                matches!(failure(outcome), Failure::Fault(Fault::Timeout { .. })),
                "{outcome:?}"
            );
        } else {
            assert_eq!(outcome, &StepOutcome::Pass, "event {i}");
        }
    }
    assert!(
        !step.is_quarantined(),
        "one bad event is not a broken plugin"
    );
}

#[test]
fn tenants_never_share_plugin_state() {
    let runtime = runtime();
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let config = r#"{"alert_on_tick": true}"#.to_owned();
    let mut acme = StepRunner::new(
        runtime.clone(),
        testkit.clone(),
        context("acme"),
        config.clone(),
        StepLimits::default(),
    )
    .unwrap();
    let mut globex = StepRunner::new(
        runtime.clone(),
        testkit,
        context("globex"),
        config,
        StepLimits::default(),
    )
    .unwrap();
    acme.run(&events("acme", &["a", "b", "c"]));
    globex.run(&events("globex", &["x"]));
    assert_eq!(acme.tick(0)[0].title, "on-tick: seen 3");
    assert_eq!(globex.tick(0)[0].title, "on-tick: seen 1");
}

#[test]
fn plugin_logs_are_rate_limited_per_call() {
    let runtime = runtime();
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let mut step = StepRunner::with_captured_logs(
        runtime.clone(),
        testkit,
        context("acme"),
        "{}".into(),
        StepLimits::default(),
    )
    .unwrap();
    step.run(&events("acme", &["log"]));
    let logs = step.take_logs();
    assert_eq!(logs.len(), 64);
    assert_eq!(logs[0].1, "log line 0");
}

#[test]
fn bad_config_is_refused_at_load_with_the_plugins_reason() {
    let runtime = runtime();
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let start = |config: &str| {
        StepRunner::new(
            runtime.clone(),
            testkit.clone(),
            context("acme"),
            config.into(),
            StepLimits::default(),
        )
        .err()
        .expect("config must be refused")
    };
    match start(r#"{"refuse": true}"#) {
        InitError::Config { plugin, message } => {
            assert_eq!(plugin, "sluice-fixture-testkit@0.1.0");
            assert!(message.contains("refuses to start"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match start(r#"{"nromal": "keep"}"#) {
        InitError::Config { message, .. } => {
            assert!(message.contains("unknown field `nromal`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match start(r#"{"normal": "shout"}"#) {
        InitError::Config { message, .. } => assert!(message.contains("`normal`"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn incompatible_abi_major_is_refused_naming_both_versions() {
    let runtime = runtime();
    let error = runtime.load_file(&plugin("fixtures/abi-v2")).unwrap_err();
    match &error {
        LoadError::AbiMismatch {
            found, supported, ..
        } => {
            assert_eq!(found, "2.0.0");
            assert_eq!(supported, "1.0.0");
        }
        other => panic!("expected an ABI mismatch, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("sluice:plugin@2.0.0") && message.contains("sluice:plugin@1.0.0"),
        "{message}"
    );
}

#[test]
fn non_plugins_are_refused_with_a_reason() {
    let runtime = runtime();
    assert!(matches!(
        runtime.load_bytes(b"not wasm at all", "junk.wasm"),
        Err(LoadError::Compile { .. })
    ));
    // A valid component that exports nothing.
    let empty_component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    match runtime.load_bytes(&empty_component, "empty.wasm") {
        Err(LoadError::NotAPlugin { exports, .. }) => assert_eq!(exports, "none"),
        other => panic!("expected NotAPlugin, got {other:?}"),
    }
}

#[test]
fn components_are_compiled_once_and_cached_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        cache_dir: Some(cache.path().to_owned()),
        ..RuntimeOptions::default()
    };
    let runtime = Arc::new(PluginRuntime::new(options.clone()).unwrap());
    let first = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let second = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    assert!(
        Arc::ptr_eq(&first, &second),
        "same bytes must reuse the compiled plugin"
    );
    let artefacts: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(artefacts.len(), 1);

    // A new process (runtime) loads the precompiled artefact and it works.
    let restarted = Arc::new(PluginRuntime::new(options).unwrap());
    let again = restarted.load_file(&plugin("fixtures/testkit")).unwrap();
    assert_eq!(again.sha256, first.sha256);
    let mut step = StepRunner::new(
        restarted.clone(),
        again,
        context("acme"),
        "{}".into(),
        StepLimits::default(),
    )
    .unwrap();
    assert_eq!(
        step.run(&events("acme", &["ok"])).outcomes,
        vec![StepOutcome::Pass]
    );
}

/// A large batch crosses in calls of at most `MAX_CALL_EVENTS` events: the
/// answer is the same (order, failures, alerts), and the instance's memory,
/// which never shrinks, stays far below what the whole batch would need.
#[test]
fn a_large_batch_crosses_in_bounded_calls_and_the_instance_stays_small() {
    let runtime = runtime();
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let mut instance = PluginInstance::start(
        &runtime,
        testkit,
        &context("acme"),
        r#"{"normal": "upper"}"#,
        &StepLimits::default(),
        false,
    )
    .unwrap();
    instance.process(&events("acme", &["warm"])).unwrap();
    let before = instance.memory_bytes();

    // 1,000 events of ≈ 1 KiB: ≈ 1 MiB packed, more once unpacked.
    let filler = "x".repeat(1000);
    let messages: Vec<String> = (0..1000)
        .map(|i| match i {
            900 => "fail".to_owned(),
            950 => "alert".to_owned(),
            _ => format!("m{i} {filler}"),
        })
        .collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let result = instance.process(&events("acme", &refs)).unwrap();
    assert_eq!(result.outcomes.len(), 1000);
    for (i, outcome) in result.outcomes.iter().enumerate() {
        match (i, outcome) {
            (900, Outcome::Fail(reason)) => assert_eq!(reason, "asked to fail"),
            (950, _) => {}
            (_, Outcome::Keep(event)) => {
                assert!(event.message.starts_with(&format!("M{i} ")), "event {i}")
            }
            (_, other) => panic!("event {i}: {other:?}"),
        }
    }
    assert_eq!(result.alerts.len(), 1, "the alert from a late call is kept");

    let grown = instance.memory_bytes() - before;
    assert!(
        grown < 1 << 20,
        "the instance grew by {} KiB for a 1 MiB batch: it was handed in one call",
        grown >> 10
    );
}
