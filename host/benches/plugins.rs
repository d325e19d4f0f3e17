//! Each standard plugin's throughput as a component in the sandbox and as
//! native code (the SDK harness), on the same 1,024-event batches: the
//! "WASM tax" per plugin. Events are shaped like the reference workload
//! (seed JSON payloads for normalize; parsed events for the others).
//! `plugin/chain` runs the default chain (normalize → redact → fingerprint
//! → alert) on seed JSON the way a worker does, host work between steps
//! included, on one thread: a worker's cost per event, without HTTP, queue
//! or store.
//!
//! `cargo xtask plugins && cargo bench -p sluice --bench plugins`
//! (`SLUICE_BENCH_PLUGIN_MEMORY=fast`: the fast memory layout).

use std::path::Path;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::pipeline::load::PluginDirs;
use sluice::pipeline::registry::Registry;
use sluice::runner::BatchOutput;
use sluice::runner::chain::Chain;
use sluice::runtime::{
    Event, InitContext, Level, MemoryLayout, PluginInstance, PluginRuntime, RuntimeOptions,
    StepLimits,
};
use sluice_plugin_sdk::testing::Harness;

const BATCH: usize = 1024;
const BASE_NS: i64 = 1_738_413_296_000_000_000;

const SERVICES: [&str; 4] = ["auth-service", "payment-api", "checkout", "search"];

fn message(i: usize) -> String {
    match i % 5 {
        0 => format!(
            "User alice.{i}@example.com logged in from 192.168.{}.{}",
            i % 200,
            i % 250
        ),
        1 => format!(
            "GET /api/v1/orders/{i} completed in {}ms status=200",
            i % 900
        ),
        2 => format!(
            "payment {i} failed: card 4111 1111 1111 1111 declined (code={})",
            i % 40
        ),
        3 => format!("cache miss for key session:{i:08x} after {} retries", i % 5),
        _ => format!(
            "worker {} processed batch {i} of {} events",
            i % 16,
            i % 1000
        ),
    }
}

fn level(i: usize) -> (Level, sluice_plugin_sdk::Level, &'static str) {
    if i.is_multiple_of(17) {
        (Level::Error, sluice_plugin_sdk::Level::Error, "ERROR")
    } else {
        (Level::Info, sluice_plugin_sdk::Level::Info, "INFO")
    }
}

fn seed_json(i: usize) -> String {
    serde_json::json!({
        "project_id": "123",
        "service": SERVICES[i % 4],
        "level": level(i).2,
        "message": message(i),
        "timestamp": "2025-02-01T12:34:56.789Z",
        "metadata": {"user_ip": format!("10.0.{}.{}", i % 256, i % 200), "request_id": format!("req-{i:06}")},
    })
    .to_string()
}

/// The event as the host holds it: raw (before normalize) or parsed.
fn host_event(i: usize, raw: bool) -> Event {
    Event {
        id: format!("0193a1c2-7d4e-7f00-8000-{i:012x}"),
        tenant: "acme".into(),
        project: (!raw).then(|| "123".into()),
        received_ns: BASE_NS,
        timestamp_ns: (!raw).then_some(BASE_NS + i as i64 * 1_000_000),
        service: (!raw).then(|| SERVICES[i % 4].into()),
        level: (!raw).then_some(level(i).0),
        message: if raw { String::new() } else { message(i) },
        attributes: Vec::new(),
        raw: raw.then(|| seed_json(i)),
        fingerprint: None,
        template: None,
    }
}

/// The same event as a plugin sees it natively.
fn sdk_event(i: usize, raw: bool) -> sluice_plugin_sdk::Event {
    let mut e = sluice_plugin_sdk::Event::new(if raw { String::new() } else { message(i) });
    e.id = format!("0193a1c2-7d4e-7f00-8000-{i:012x}");
    e.tenant = "acme".into();
    e.received_ns = BASE_NS;
    if raw {
        e.raw = Some(seed_json(i));
    } else {
        e.project = Some("123".into());
        e.timestamp_ns = Some(BASE_NS + i as i64 * 1_000_000);
        e.service = Some(SERVICES[i % 4].into());
        e.level = Some(level(i).1);
    }
    e
}

/// Eight batches of events `event(i)` makes, `i` counting on across them:
/// fresh ids per round, so stateful plugins see a stream, not one batch
/// again.
fn rounds<T>(event: impl Fn(usize) -> T) -> Vec<Vec<T>> {
    (0..8)
        .map(|round| (0..BATCH).map(|i| event(round * BATCH + i)).collect())
        .collect()
}

/// A copy of the next of `rounds`' batches at each call, round and round.
fn cycling<T: Clone>(rounds: &[Vec<T>]) -> impl FnMut() -> Vec<T> + '_ {
    let mut round = 0;
    move || {
        round = (round + 1) % rounds.len();
        rounds[round].clone()
    }
}

fn run<P: sluice_plugin_sdk::Plugin>(
    c: &mut Criterion,
    runtime: &Arc<PluginRuntime>,
    name: &str,
    raw: bool,
) {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/plugins/{name}.wasm"));
    let plugin = runtime
        .load_file(&wasm)
        .expect("build the plugins first: cargo xtask plugins");
    let context = InitContext {
        tenant: "acme".into(),
        pipeline: "bench".into(),
        step: name.into(),
    };
    let mut group = c.benchmark_group(format!("plugin/{name}"));
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut instance = PluginInstance::start(
        runtime,
        plugin,
        &context,
        "{}",
        &StepLimits::default(),
        false,
    )
    .expect("instance");
    let batches = rounds(|i| host_event(i, raw));
    let mut round = 0;
    group.bench_function(BenchmarkId::new("wasm", BATCH), |b| {
        b.iter(|| {
            round = (round + 1) % batches.len();
            instance.process(&batches[round]).expect("process")
        })
    });
    let sdk_batches = rounds(|i| sdk_event(i, raw));
    let mut native = Harness::<P>::from_json("{}").expect("native");
    let mut next = cycling(&sdk_batches);
    group.bench_function(BenchmarkId::new("native", BATCH), |b| {
        b.iter_batched(
            &mut next,
            |batch| native.process(batch),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn plugins(c: &mut Criterion) {
    let memory_layout = match std::env::var("SLUICE_BENCH_PLUGIN_MEMORY").as_deref() {
        Ok("fast") => MemoryLayout::Fast,
        _ => MemoryLayout::Dense,
    };
    let runtime = Arc::new(
        PluginRuntime::new(RuntimeOptions {
            memory_layout,
            ..RuntimeOptions::default()
        })
        .expect("runtime"),
    );
    run::<sluice_plugin_normalize::Normalize>(c, &runtime, "normalize", true);
    run::<sluice_plugin_redact::Redact>(c, &runtime, "redact", false);
    run::<sluice_plugin_fingerprint::Fingerprint>(c, &runtime, "fingerprint", false);
    run::<sluice_plugin_alert::AlertPlugin>(c, &runtime, "alert", false);
    chain(c, &runtime);
}

/// The default chain as a worker runs it (`Chain::run`, no second thread).
fn chain(c: &mut Criterion, runtime: &Arc<PluginRuntime>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("sluice-bench-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("pipeline dir");
    std::fs::copy(
        root.join("pipelines/default.toml"),
        dir.join("default.toml"),
    )
    .expect("default pipeline");
    let registry = Registry::new(
        runtime.clone(),
        dir.clone(),
        PluginDirs(vec![root.join("target/plugins")]),
        None,
    );
    registry.reload();
    let pipeline = registry
        .snapshot()
        .for_tenant("acme")
        .expect("default pipeline");
    let mut chain = Chain::start(runtime, pipeline, "acme").expect("chain");
    let _ = std::fs::remove_dir_all(&dir);
    let batches = rounds(|i| host_event(i, true));
    let mut group = c.benchmark_group("plugin/chain");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut next = cycling(&batches);
    group.bench_function(BenchmarkId::new("wasm", BATCH), |b| {
        b.iter_batched(
            &mut next,
            |batch| {
                let mut out = BatchOutput::default();
                chain.run(batch, &mut out, None);
                assert_eq!(out.processed, BATCH as u64, "every event through");
                out
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = plugins
}
criterion_main!(benches);
