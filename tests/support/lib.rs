//! Shared helpers for the end-to-end tests: where the built plugins are,
//! and small builders.

pub mod production;
pub mod server;
pub mod stores;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice::runtime::{Event, PluginRuntime, RuntimeOptions};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A component built by `cargo xtask plugins`: `plugin("normalize")` or
/// `plugin("fixtures/testkit")`. Panics with the fix when it is missing.
pub fn plugin(name: &str) -> PathBuf {
    let dir = std::env::var_os("SLUICE_TEST_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins"));
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: build the plugins first with `cargo xtask plugins` (or run the suite with `cargo xtask test`)",
        path.display()
    );
    path
}

/// The address of a server `scripts/services.sh up` started, from the
/// environment `cargo xtask test` passes; panics with the fix when unset.
pub fn service(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: start the servers with `scripts/services.sh up` and source its env, or run `cargo xtask test`"
        )
    })
}

/// A runtime with default options.
pub fn runtime() -> Arc<PluginRuntime> {
    Arc::new(PluginRuntime::new(RuntimeOptions::default()).expect("runtime"))
}

/// An event for tenant `tenant` with id `id` and this message.
pub fn event(tenant: &str, id: &str, message: &str) -> Event {
    Event {
        id: id.to_owned(),
        tenant: tenant.to_owned(),
        received_ns: 1_735_689_600_000_000_000,
        message: message.to_owned(),
        ..sluice::runtime::pack::blank_event()
    }
}

/// Events `e0..en` for `tenant`, with `messages[i]` as message.
pub fn events(tenant: &str, messages: &[&str]) -> Vec<Event> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| event(tenant, &format!("e{i}"), m))
        .collect()
}

/// Resident set size of this process in bytes (Linux).
pub fn rss_bytes() -> u64 {
    proc_kib_field("/proc/self/status", "VmRSS:") * 1024
}

/// Proportional set size: resident memory with each shared page counted
/// once. Every plugin instance maps its module's initial memory image from
/// the same compiled file, and `VmRSS` counts those shared pages again for
/// every mapping, so RSS overstates what many instances cost the machine.
pub fn pss_bytes() -> u64 {
    proc_kib_field("/proc/self/smaps_rollup", "Pss:") * 1024
}

/// The `field` line of a `/proc` file (`VmRSS:   1234 kB`), in KiB; 0 when
/// absent (not Linux).
fn proc_kib_field(path: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
}

/// Memory mappings this process holds: each plugin instance takes a few,
/// and the kernel caps a process at `vm.max_map_count` (65,530 by default).
pub fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |maps| maps.lines().count())
}

/// The reference workload (`../shared/bench/gen_events.py`, seed 7):
/// `events` NDJSON lines cut into request bodies of `per_request` events.
pub fn reference_bodies(events: usize, per_request: usize) -> Vec<String> {
    let script = root().join("../shared/bench/gen_events.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(events.to_string())
        .arg("7")
        .output()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("generator output is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), events);
    lines
        .chunks(per_request)
        .map(|chunk| chunk.join("\n") + "\n")
        .collect()
}

/// Counts processed events without keeping them, so a long or fast run's
/// own bookkeeping stays flat (throughput, soak).
#[derive(Debug, Default)]
pub struct ProcessedCounter(std::sync::atomic::AtomicU64);

impl ProcessedCounter {
    /// Events processed so far.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl sluice::runner::sinks::Tap for ProcessedCounter {
    fn processed(&self, events: &[&sluice::store::StoredEvent]) {
        self.0
            .fetch_add(events.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The `p` quantile (0 to 1) of sorted values, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
