//! Native throughput of normalize, per payload kind:
//! `cargo run --release -p sluice-plugin-normalize --example normalize_throughput`.
//!
//! Each batch of 1024 events is built right before its call, untimed, so it
//! is warm in cache as a batch the host has just lowered into the plugin's
//! memory would be; the timed part is the batch call through the same
//! adapter the wasm export uses, and dropping its result. One core. The
//! figure is the median batch time (a neighbour's burst on a shared machine
//! lands in a few batches, not in the median), best of [`RUNS`] runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sluice_plugin_normalize::Normalize;
use sluice_plugin_sdk::Event;
use sluice_plugin_sdk::testing::Harness;

const BATCH: usize = 1024;
/// Each case runs [`RUNS`] times, each for at least this long
/// (`SLUICE_BENCH_MS` overrides).
const MIN_TIME: Duration = Duration::from_millis(500);
const RUNS: usize = 5;

fn main() {
    let data = std::env::var_os("SLUICE_DATA_DIR").map_or_else(
        || std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        std::path::PathBuf::from,
    );
    let read = |rel: &str| std::fs::read_to_string(data.join(rel)).unwrap_or_default();
    let access = read("access-logs/elastic_examples_apache_logs.log");
    let mut text = String::new();
    for s in ["Hadoop", "HDFS", "Spark", "Android", "Apache"] {
        text.push_str(&read(&format!("loghub2k/{s}/{s}_2k.log")));
    }
    let mut syslog = String::new();
    for s in ["Linux", "OpenSSH"] {
        syslog.push_str(&read(&format!("loghub2k/{s}/{s}_2k.log")));
    }
    let hdfs = read("loghub2k/HDFS/HDFS_2k.log");
    let hdfs_config = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/loghub/HDFS.toml"
    ))
    .unwrap_or_default();

    let seed = seed_json(10_000);
    let logfmt = logfmt_lines(10_000);
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("seed JSON", "", seed.iter().map(String::as_str).collect()),
        // The adapter's own cost: the seed lines taken whole as text messages.
        (
            "baseline (adapter only)",
            "formats = [\"text\"]",
            seed.iter().map(String::as_str).collect(),
        ),
        ("access log (combined)", "", access.lines().collect()),
        ("plain text (loghub, auto)", "", text.lines().collect()),
        ("syslog (BSD, no PRI)", "", syslog.lines().collect()),
        ("logfmt", "", logfmt.iter().map(String::as_str).collect()),
        (
            "tenant grok (HDFS.toml)",
            &hdfs_config,
            hdfs.lines().collect(),
        ),
    ];
    println!(
        "{:<28} {:>10} {:>14} {:>10}",
        "payload", "bytes/ev", "events/s", "ns/event"
    );
    // `cargo run ... --example normalize_throughput -- json` runs only cases whose name contains "json".
    let only = std::env::args().nth(1).unwrap_or_default();
    for (name, config, lines) in cases {
        if !name.contains(only.as_str()) {
            continue;
        }
        if lines.is_empty() {
            println!("{name:<28} (no data)");
            continue;
        }
        let (rate, per) =
            (0..RUNS)
                .map(|_| measure(config, &lines))
                .fold(
                    (0.0, f64::MAX),
                    |best, run| if run.1 < best.1 { run } else { best },
                );
        let bytes = lines.iter().map(|l| l.len()).sum::<usize>() / lines.len();
        println!("{name:<28} {bytes:>10} {rate:>14.0} {per:>10.0}");
    }
}

/// Events per second and ns per event for `lines` under `config`.
fn measure(config: &str, lines: &[&str]) -> (f64, f64) {
    let mut harness = Harness::<Normalize>::new(config).expect("config");
    let build = |offset: usize| -> Vec<Event> {
        (0..BATCH)
            .map(|i| {
                let line = lines[(offset + i) % lines.len()];
                let mut e = Event::from_raw(line);
                e.id = "0194c5d2-7b1e-7000-8000-000000000000".to_owned();
                e.tenant = "acme".to_owned();
                e.received_ns = 1_738_413_296_000_000_000;
                e
            })
            .collect()
    };
    for round in 0..4 {
        black_box(harness.process(build(round * BATCH)));
    }
    let min_time = std::env::var("SLUICE_BENCH_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(MIN_TIME, Duration::from_millis);
    let started = Instant::now();
    let mut batch_ns = Vec::new();
    let mut round = 0;
    while started.elapsed() < min_time || batch_ns.len() < 16 {
        let batch = build(round * BATCH);
        let start = Instant::now();
        black_box(harness.process(batch));
        batch_ns.push(start.elapsed().as_nanos() as f64);
        round += 1;
    }
    batch_ns.sort_by(f64::total_cmp);
    let per = batch_ns[batch_ns.len() / 2] / BATCH as f64;
    (1e9 / per, per)
}

/// Lines shaped like `../shared/bench/gen_events.py` writes them.
fn seed_json(n: usize) -> Vec<String> {
    let services = [
        "auth-service",
        "payment-api",
        "checkout",
        "search",
        "inventory",
        "gateway",
    ];
    let levels = [
        "INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR", "FATAL",
    ];
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    (0..n)
        .map(|i| {
            let r = next();
            let ip = format!("{}.{}.{}.{}", r % 254 + 1, (r >> 8) % 254 + 1, (r >> 16) % 254 + 1, (r >> 24) % 254 + 1);
            let message = match r % 4 {
                0 => format!("User login failed for user {} from {ip}", r % 99_999),
                1 => format!("GET /api/v1/orders/{} completed in {}ms status=200", r % 1_000_000, r % 900),
                2 => format!("Cache miss for key session:{:012x} ttl={}", r >> 16, r % 3600),
                _ => format!("Worker {} processed batch {} with {} items in {:.3}s", r % 64, r % 100_000, r % 5000, (r % 10_000) as f64 / 1000.0),
            };
            let t = 1_738_413_296 + i / 50;
            format!(
                r#"{{"project_id":"{}","service":"{}","level":"{}","message":"{}","timestamp":"2025-02-01T{:02}:{:02}:{:02}Z","metadata":{{"user_ip":"{ip}","trace_id":"{:08x}-{:04x}-{:04x}"}}}}"#,
                123 + r % 3,
                services[(r >> 3) as usize % services.len()],
                levels[(r >> 5) as usize % levels.len()],
                message,
                (t / 3600) % 24,
                (t / 60) % 60,
                t % 60,
                r as u32,
                (r >> 32) as u16,
                (r >> 48) as u16,
            )
        })
        .collect()
}

fn logfmt_lines(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"ts=2025-02-01T12:34:{:02}.{:03}Z level={} service=api msg="request served" method=GET path=/api/v1/items/{i} status=200 duration_ms={}"#,
                i % 60,
                i % 1000,
                ["info", "warn", "error", "debug"][i % 4],
                i % 250
            )
        })
        .collect()
}
