//! Helpers shared by the rule tests: events at chosen event times, and a
//! harness that runs the plugin exactly as the host does.
#![allow(dead_code)]

use sluice_plugin_alert::AlertPlugin;
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Alert, Attribute, Event, InitContext, Level, Outcome, Plugin, Value};

pub const S: i64 = 1_000_000_000;
pub const MIN: i64 = 60 * S;
/// 2025-02-01T12:34:56Z, the reference workload's start.
pub const T0: i64 = 1_738_413_296 * S;

/// An event that happened (and was received) at `time`.
pub fn ev(id: &str, time: i64, service: &str, level: Level) -> Event {
    let mut event = Event::new(format!("message of {id}"))
        .with_service(service)
        .with_level(level);
    event.id = id.to_owned();
    event.timestamp_ns = Some(time);
    event.received_ns = time;
    event
}

/// `ev` with a fingerprint and template.
pub fn fp_ev(id: &str, time: i64, service: &str, level: Level, fp: u64) -> Event {
    let mut event = ev(id, time, service, level);
    event.fingerprint = Some(fp);
    event.template = Some(format!("template <*> number {fp}"));
    event
}

/// `n` events from `service` at `level`, ids `{prefix}{i}`, `step` apart from `start`.
pub fn burst(
    prefix: &str,
    n: usize,
    start: i64,
    step: i64,
    service: &str,
    level: Level,
) -> Vec<Event> {
    (0..n)
        .map(|i| {
            ev(
                &format!("{prefix}{i}"),
                start + step * i as i64,
                service,
                level,
            )
        })
        .collect()
}

/// The plugin under the test harness, from a TOML step config.
pub fn harness(config: &str) -> Harness<AlertPlugin> {
    match Harness::new(config) {
        Ok(h) => h,
        Err(e) => panic!("config refused: {e}"),
    }
}

/// Run a batch; every event must pass unchanged. Returns the alerts.
pub fn run(h: &mut Harness<AlertPlugin>, batch: Vec<Event>) -> Vec<Alert> {
    let n = batch.len();
    let result = h.process(batch);
    assert_eq!(result.outcomes.len(), n);
    assert!(
        result.outcomes.iter().all(|o| *o == Outcome::Pass),
        "alert must never change events"
    );
    assert!(result.merges.is_empty());
    result.alerts
}

/// The config error text for a TOML config.
pub fn config_error(config: &str) -> String {
    match Harness::<AlertPlugin>::new(config) {
        Ok(_) => panic!("config was accepted:\n{config}"),
        Err(e) => e,
    }
}

/// The plugin itself (not behind the harness), to look at its state.
pub fn plugin(config_json: &str) -> AlertPlugin {
    let config = serde_json::from_str(config_json).expect("config JSON");
    let context = InitContext {
        tenant: "t".into(),
        pipeline: "p".into(),
        step: "alert".into(),
    };
    AlertPlugin::new(config, &context).expect("config accepted")
}

/// Attribute `key` of an alert.
pub fn attr<'a>(alert: &'a Alert, key: &str) -> Option<&'a Value> {
    alert
        .attributes
        .iter()
        .find(|a: &&Attribute| a.key == key)
        .map(|a| &a.value)
}

/// Keys of the alerts, in order.
pub fn keys(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.key.as_str()).collect()
}
