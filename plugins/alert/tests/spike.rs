//! Spike rules: the factor boundary, the minimum count, warm-up after a
//! (re)start, cooldown, and groups whose history was lost to the cap.

mod common;

use common::*;
use sluice_plugin_sdk::{Event, Level, Severity, Value};

/// Window 1m, baseline = mean of the 4 windows before; warm-up 5m.
const SPIKE: &str = r#"
[[rules]]
id = "error-spike"
kind = "spike"
severity = "error"
match = { level = "error" }
group_by = "service"
window = "1m"
baseline_windows = 4
factor = 3.0
min_count = 5
cooldown = "10m"
"#;

/// A minute boundary after T0, so that 6 s buckets line up with the test.
fn b0() -> i64 {
    (T0 / MIN + 1) * MIN
}

/// `per_minute` error events from `service` at seconds 10, 20, … of each of
/// the first `minutes` minutes after `b0()`.
fn steady(service: &str, minutes: i64, per_minute: i64) -> Vec<Event> {
    let mut events = Vec::new();
    for m in 0..minutes {
        for k in 0..per_minute {
            let id = format!("{service}-m{m}-{k}");
            events.push(ev(
                &id,
                b0() + m * MIN + (10 + 10 * k) * S,
                service,
                Level::Error,
            ));
        }
    }
    events
}

/// `n` error events one second apart from 5m30s after `b0()`: the current
/// window then holds them alone, and the baseline is minutes 1 to 4.
fn burst_at_5m30(service: &str, n: usize) -> Vec<Event> {
    burst(
        &format!("{service}-x"),
        n,
        b0() + 5 * MIN + 30 * S,
        S,
        service,
        Level::Error,
    )
}

#[test]
fn fires_at_factor_times_the_baseline_and_not_one_below() {
    let mut h = harness(SPIKE);
    assert!(run(&mut h, steady("api", 5, 2)).is_empty());
    // Baseline 2 per window: the factor 3 needs 6 (min_count 5 is lower).
    let mut burst = burst_at_5m30("api", 6);
    let last = burst.pop().expect("six events");
    assert!(run(&mut h, burst).is_empty(), "5 < 3 × 2 must not fire");
    let alerts = run(&mut h, vec![last]);
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule, "error-spike");
    assert_eq!(alert.severity, Severity::Error);
    assert_eq!(alert.key, "error-spike:api");
    assert_eq!(alert.service.as_deref(), Some("api"));
    assert_eq!(alert.window_count, 6);
    assert_eq!(alert.window_ns, MIN);
    assert_eq!(alert.baseline, Some(2.0));
    assert_eq!(
        alert.title,
        "Spike in error events from api: 6 in 1m (baseline 2 per 1m)"
    );
    assert_eq!(
        alert.sample_event_ids,
        ["api-x1", "api-x2", "api-x3", "api-x4", "api-x5"]
    );
    assert_eq!(attr(alert, "factor"), Some(&Value::Float(3.0)));
    assert_eq!(attr(alert, "baseline_windows"), Some(&Value::Integer(4)));
}

#[test]
fn one_to_three_is_not_a_spike_min_count_is_the_floor() {
    let mut h = harness(SPIKE);
    assert!(run(&mut h, steady("api", 5, 1)).is_empty());
    // 4 ≥ 3 × 1, but below min_count.
    assert!(run(&mut h, burst_at_5m30("api", 4)).is_empty());
    let alerts = run(
        &mut h,
        vec![ev("fifth", b0() + 5 * MIN + 40 * S, "api", Level::Error)],
    );
    assert_eq!(alerts.len(), 1, "5 = min_count and ≥ 3 × 1");
    assert_eq!(alerts[0].baseline, Some(1.0));
}

#[test]
fn a_quiet_service_spikes_from_zero_once_warmed_up() {
    let mut h = harness(SPIKE);
    // Only other services talk during warm-up: the quiet one's baseline is 0.
    assert!(run(&mut h, steady("noise", 5, 1)).is_empty());
    assert!(run(&mut h, burst_at_5m30("quiet", 4)).is_empty());
    let alerts = run(
        &mut h,
        vec![ev("q5", b0() + 5 * MIN + 40 * S, "quiet", Level::Error)],
    );
    assert_eq!(keys(&alerts), ["error-spike:quiet"]);
    assert_eq!(alerts[0].baseline, Some(0.0));
    assert_eq!(
        alerts[0].title,
        "Spike in error events from quiet: 5 in 1m (baseline 0 per 1m)"
    );
}

#[test]
fn no_spike_during_warm_up_and_again_after_a_restart() {
    let mut h = harness(SPIKE);
    // A burst in the first minutes: the baseline is not known yet.
    let alerts = run(&mut h, burst("early", 50, b0(), S, "api", Level::Error));
    assert!(alerts.is_empty(), "{alerts:?}");
    // The instance is rebuilt (a fault): its state is gone, so it waits again.
    let mut rebuilt = harness(SPIKE);
    let alerts = run(&mut rebuilt, burst_at_5m30("api", 40));
    assert!(
        alerts.is_empty(),
        "a rebuilt instance must not storm: {alerts:?}"
    );
    // Warm-up counts from the rebuilt instance's start.
    // Ten minutes on, the early burst has left the baseline too.
    let later = b0() + 16 * MIN;
    let alerts = run(
        &mut rebuilt,
        burst("late", 10, later, S, "api", Level::Error),
    );
    assert_eq!(keys(&alerts), ["error-spike:api"]);
}

#[test]
fn cooldown_holds_back_a_continuing_spike() {
    let mut h = harness(SPIKE);
    run(&mut h, steady("api", 5, 1));
    assert_eq!(run(&mut h, burst_at_5m30("api", 30)).len(), 1);
    let more = burst("y", 60, b0() + 6 * MIN, 5 * S, "api", Level::Error);
    assert!(run(&mut h, more).is_empty(), "within the 10m cooldown");
}

#[test]
fn other_levels_and_services_do_not_feed_the_group() {
    let mut h = harness(SPIKE);
    run(&mut h, steady("api", 5, 2));
    let mut events = burst("w", 20, b0() + 5 * MIN + 30 * S, S, "api", Level::Warn);
    events.extend(burst_at_5m30("web", 4));
    assert!(run(&mut h, events).is_empty());
}

#[test]
fn a_group_created_after_an_eviction_for_room_waits_for_its_own_history() {
    let config = SPIKE.replace("cooldown", "max_groups = 2\ncooldown");
    let mut h = harness(&config);
    let mut events = steady("a", 5, 1);
    events.extend(steady("b", 5, 1));
    assert!(run(&mut h, events).is_empty());
    // Group c takes the place of a or b: its own baseline (zero) cannot be
    // told from a history lost to the eviction, so it does not fire.
    let alerts = run(&mut h, burst_at_5m30("c", 20));
    assert!(alerts.is_empty(), "{alerts:?}");
}
