//! Native throughput of fingerprint on one core:
//! `cargo run --release -p sluice-plugin-fingerprint --example fingerprint_throughput`.
//!
//! Cases:
//! - `miner`: [`Miner::mine`] alone, the tokenise-and-match path, on lines
//!   whose templates are already known (one warm-up pass first).
//! - `plugin`: the whole step through the same adapter the wasm export uses
//!   (event in, `Keep` with template and fingerprint out), batches of 1024;
//!   events are built before the clock starts, as the host hands them over.
//!
//! Workloads: the reference workload's messages (`shared/bench/gen_events.py`
//! templates, regenerated here deterministically) and the `Content` column of
//! all ten Loghub 2k systems (`SLUICE_DATA_DIR`). Each case runs several
//! times for at least `SLUICE_BENCH_MS` (default 500 ms); the best run is
//! reported, so a neighbour's burst on a shared machine does not count. Time
//! is the thread's CPU time (`/proc/thread-self/schedstat`) where the system
//! offers it, wall time otherwise.

use std::hint::black_box;
use std::time::{Duration, Instant};

use sluice_plugin_fingerprint::{Config, Fingerprint, Miner, score};
use sluice_plugin_sdk::Event;
use sluice_plugin_sdk::testing::Harness;

const BATCH: usize = 1024;
const RUNS: usize = 5;

fn main() {
    let min_time = std::env::var("SLUICE_BENCH_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_millis(500), Duration::from_millis);
    let reference = reference_messages(20_000);
    let mut loghub = Vec::new();
    for (system, _) in score::SYSTEMS {
        match score::load(&score::data_dir(), system) {
            Ok(set) => loghub.extend(set.contents),
            Err(e) => eprintln!("skipping {system}: {e}"),
        }
    }
    println!(
        "{:<34} {:>9} {:>14} {:>9}",
        "case", "bytes/ln", "lines/s", "ns/line"
    );
    for (name, lines) in [
        ("reference workload", &reference),
        ("loghub 2k, 10 systems", &loghub),
    ] {
        if lines.is_empty() {
            continue;
        }
        let bytes = lines.iter().map(String::len).sum::<usize>() / lines.len();
        let best = |f: &dyn Fn() -> f64| (0..RUNS).map(|_| f()).fold(f64::MAX, f64::min);
        let ns = best(&|| miner(lines, min_time));
        println!(
            "{:<34} {bytes:>9} {:>14.0} {ns:>9.0}",
            format!("miner, {name}"),
            1e9 / ns
        );
        let ns = best(&|| plugin(lines, min_time));
        println!(
            "{:<34} {bytes:>9} {:>14.0} {ns:>9.0}",
            format!("plugin, {name}"),
            1e9 / ns
        );
    }
}

/// Nanoseconds per line of `Miner::mine` over `lines`, templates known.
fn miner(lines: &[String], min_time: Duration) -> f64 {
    let Ok(mut miner) = Miner::new(&Config::default()) else {
        return f64::NAN;
    };
    for line in lines {
        black_box(miner.mine(line).fingerprint);
    }
    let started = Instant::now();
    let cpu = cpu_ns();
    let mut done = 0usize;
    while started.elapsed() < min_time {
        for line in lines {
            black_box(miner.mine(line).fingerprint);
        }
        done += lines.len();
    }
    let spent = match (cpu, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64,
        _ => started.elapsed().as_nanos() as f64,
    };
    spent / done as f64
}

/// CPU time of this thread in nanoseconds, where Linux tells it.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Nanoseconds per event of the plugin step over `lines`, templates known.
fn plugin(lines: &[String], min_time: Duration) -> f64 {
    let Ok(mut harness) = Harness::<Fingerprint>::new("") else {
        return f64::NAN;
    };
    let batches: Vec<Vec<Event>> = lines
        .chunks(BATCH)
        .map(|c| c.iter().map(|m| Event::new(m.as_str())).collect())
        .collect();
    for batch in &batches {
        black_box(harness.process(batch.clone()));
    }
    let mut spent = 0.0;
    let mut wall = Duration::ZERO;
    let mut done = 0usize;
    while wall < min_time {
        for batch in &batches {
            let batch = batch.clone();
            let n = batch.len();
            let start = Instant::now();
            let cpu = cpu_ns();
            black_box(harness.process(batch));
            let elapsed = start.elapsed();
            spent += match (cpu, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64,
                _ => elapsed.as_nanos() as f64,
            };
            wall += elapsed;
            done += n;
        }
    }
    spent / done as f64
}

/// Messages of the reference workload (`shared/bench/gen_events.py`), same
/// templates and weights, from a deterministic generator.
fn reference_messages(n: usize) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let first = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    ];
    let domains = [
        "example.com",
        "mail.test",
        "corp.example.org",
        "shop.example.net",
    ];
    let weights = [8u64, 6, 30, 3, 4, 12, 3, 10, 2, 2, 3, 2, 8, 7];
    let total: u64 = weights.iter().sum();
    (0..n)
        .map(|_| {
            let r = next();
            let s = next();
            let ip = format!("{}.{}.{}.{}", s % 254 + 1, (s >> 8) % 254 + 1, (s >> 16) % 254 + 1, (s >> 24) % 254 + 1);
            let email = format!("{}.{}@{}", first[(s >> 32) as usize % 8], s % 999, domains[(s >> 40) as usize % 4]);
            let hex = format!("{:016x}", next());
            let mut pick = r % total;
            let mut kind = 0;
            while pick >= weights[kind] {
                pick -= weights[kind];
                kind += 1;
            }
            match kind {
                0 => format!("User login failed for user {} from {ip}", 1000 + s % 99_000),
                1 => format!("User {email} logged in from {ip}"),
                2 => format!("GET /api/v1/orders/{} completed in {}ms status={}", s % 1_000_000, s % 900, [200, 200, 404, 500][(s >> 20) as usize % 4]),
                3 => format!("POST /api/v1/payments/{} failed: card 4111 1111 1111 1111 declined by issuer", &hex[..8]),
                4 => format!("Connection to db-{}.internal:5432 timed out after {}s (attempt {}/5)", s % 9 + 1, s % 30 + 1, s % 5 + 1),
                5 => format!("Cache miss for key session:{} ttl={}", &hex[..12], s % 3600),
                6 => format!("Sent password reset mail to {email} (message id {hex})"),
                7 => format!("Worker {} processed batch {} with {} items in {:.3}s", s % 64, s % 100_000, s % 5000, (s % 10_000) as f64 / 1000.0),
                8 => format!("Rejected request with Authorization: Bearer {hex}{hex} from {ip}"),
                9 => format!("SMS verification code sent to +1-{}-{}-{}", 200 + s % 800, 200 + (s >> 10) % 800, 1000 + (s >> 20) % 9000),
                10 => format!("Disk usage on /var/lib/data{} at {}% ({}GB free)", s % 4 + 1, 50 + s % 50, 10 + s % 890),
                11 => format!("NullPointerException in com.example.checkout.CartService.total(CartService.java:{})", 10 + s % 390),
                12 => format!("Retrying upstream inventory call, backoff {}ms", 100 + s % 4900),
                _ => format!("Shipment {} status changed from PACKED to SHIPPED", hex[..10].to_uppercase()),
            }
        })
        .collect()
}
