//! The cost of the plugin boundary: one trivial plugin, batch sizes 1 to
//! 1024, run natively (the SDK harness, a plain function call per event) and
//! as a component in the sandbox (lowering the batch into the guest and
//! lifting outcomes back). Per-event boundary cost = (wasm − native) / n.
//!
//! `cargo xtask plugins && cargo bench -p sluice --bench boundary`

use std::path::Path;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sluice::runtime::{
    Attribute, Event, InitContext, Level, PluginInstance, PluginRuntime, RuntimeOptions,
    StepLimits, Value,
};
use sluice_fixture_testkit::Testkit;
use sluice_plugin_sdk::testing::Harness;

/// A typical event after normalize: seed-shaped fields and two attributes.
fn event(i: usize) -> Event {
    Event {
        id: format!("0193a1c2-7d4e-7f00-8000-{i:012x}"),
        tenant: "acme".into(),
        project: Some("123".into()),
        received_ns: 1_738_413_296_000_000_000,
        timestamp_ns: Some(1_738_413_296_000_000_000 + i as i64),
        service: Some("payment-api".into()),
        level: Some(Level::Info),
        message: format!("GET /api/v1/orders/{i} completed in 87ms status=200"),
        attributes: vec![
            Attribute {
                key: "metadata.user_ip".into(),
                value: Value::Text("10.1.2.3".into()),
            },
            Attribute {
                key: "metadata.trace_id".into(),
                value: Value::Text("4bf92f35-77b3-4da6".into()),
            },
        ],
        raw: None,
        fingerprint: None,
        template: None,
    }
}

/// The same event as the SDK sees it natively (the generated guest type).
fn sdk_event(i: usize) -> sluice_plugin_sdk::Event {
    let mut e = sluice_plugin_sdk::Event::new(format!(
        "GET /api/v1/orders/{i} completed in 87ms status=200"
    ));
    e.id = format!("0193a1c2-7d4e-7f00-8000-{i:012x}");
    e.tenant = "acme".into();
    e.project = Some("123".into());
    e.received_ns = 1_738_413_296_000_000_000;
    e.timestamp_ns = Some(1_738_413_296_000_000_000 + i as i64);
    e.service = Some("payment-api".into());
    e.level = Some(sluice_plugin_sdk::Level::Info);
    e.with_attr("metadata.user_ip", "10.1.2.3")
        .with_attr("metadata.trace_id", "4bf92f35-77b3-4da6")
}

fn boundary(c: &mut Criterion) {
    let wasm =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/fixtures/testkit.wasm");
    let runtime = Arc::new(PluginRuntime::new(RuntimeOptions::default()).expect("runtime"));
    let plugin = runtime
        .load_file(&wasm)
        .expect("build the plugins first: cargo xtask plugins");
    let context = InitContext {
        tenant: "acme".into(),
        pipeline: "bench".into(),
        step: "testkit".into(),
    };
    let limits = StepLimits::default();

    // How the cost scales with the strings an event carries.
    {
        let mut group = c.benchmark_group("boundary/shape");
        let config = r#"{"normal": "pass"}"#;
        let mut instance =
            PluginInstance::start(&runtime, plugin.clone(), &context, config, &limits, false)
                .expect("instance");
        let minimal: Vec<Event> = (0..1024)
            .map(|i| {
                let mut e = event(i);
                e.project = None;
                e.service = None;
                e.attributes.clear();
                e
            })
            .collect();
        group.throughput(Throughput::Elements(1024));
        group.bench_function("wasm/id+tenant+message", |b| {
            b.iter(|| instance.process(&minimal).expect("process"))
        });
        group.finish();
    }

    for mode in ["pass", "upper"] {
        let config = format!(r#"{{"normal": "{mode}"}}"#);
        let mut group = c.benchmark_group(format!("boundary/{mode}"));
        for size in [1usize, 64, 256, 1024] {
            group.throughput(Throughput::Elements(size as u64));
            let batch: Vec<Event> = (0..size).map(event).collect();
            let mut instance =
                PluginInstance::start(&runtime, plugin.clone(), &context, &config, &limits, false)
                    .expect("instance");
            group.bench_with_input(BenchmarkId::new("wasm", size), &batch, |b, batch| {
                b.iter(|| instance.process(batch).expect("process"))
            });
            let sdk_batch: Vec<sluice_plugin_sdk::Event> = (0..size).map(sdk_event).collect();
            let mut native = Harness::<Testkit>::from_json(&config).expect("native");
            group.bench_with_input(BenchmarkId::new("native", size), &sdk_batch, |b, batch| {
                b.iter_batched(
                    || batch.clone(),
                    |batch| native.process(batch),
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = boundary
}
criterion_main!(benches);
