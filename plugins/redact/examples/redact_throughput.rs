//! Native throughput of the redact step on the reference workload
//! (`../shared/bench/gen_events.py`: about a fifth of messages carry PII,
//! every event has a `metadata.user_ip`).
//!
//! `cargo run --release -p sluice-plugin-redact --example redact_throughput [-- EVENTS.ndjson] [--only WORD]`
//!
//! Without a file it runs `python3 gen_events.py 100000 7`. Scenarios:
//! structured events as `normalize` hands them on (message + attributes),
//! the message alone, the raw payload (first step of a chain), and texts
//! without any finding (the `Pass` path).

use std::hint::black_box;
use std::time::Instant;

use sluice_plugin_redact::{Config, Redactor};
use sluice_plugin_sdk::{Event, Value};

const ROUNDS: usize = 5;

fn load() -> Result<Vec<String>, String> {
    let text = match std::env::args().nth(1).filter(|a| !a.starts_with("--")) {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?,
        None => {
            let script = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/bench/gen_events.py"
            );
            let out = std::process::Command::new("python3")
                .args([script, "100000", "7"])
                .output()
                .map_err(|e| format!("python3 {script}: {e}"))?;
            String::from_utf8(out.stdout).map_err(|e| e.to_string())?
        }
    };
    Ok(text.lines().map(str::to_owned).collect())
}

/// The event as `normalize` would produce it from one generated line.
fn structured(line: &str) -> Result<Event, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let s = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut event = Event::new(s("message")).with_service(s("service"));
    event.project = Some(s("project_id"));
    if let Some(meta) = v.get("metadata").and_then(|m| m.as_object()) {
        for (k, x) in meta {
            let value = x
                .as_str()
                .map_or_else(|| Value::Json(x.to_string()), Value::from);
            event = event.with_attr(format!("metadata.{k}"), value);
        }
    }
    Ok(event)
}

/// Best of [`ROUNDS`] runs over `events`: (events/s, ns/event, changed).
fn measure(redactor: &mut Redactor, events: &[Event]) -> (f64, f64, usize) {
    let mut best = f64::MAX;
    let mut changed = 0;
    for _ in 0..ROUNDS {
        let mut batch = events.to_vec();
        let start = Instant::now();
        changed = 0;
        for event in &mut batch {
            changed += usize::from(redactor.redact_event(black_box(event)));
        }
        best = best.min(start.elapsed().as_secs_f64());
        black_box(&batch);
    }
    let n = events.len() as f64;
    (n / best, best * 1e9 / n, changed)
}

fn main() -> Result<(), String> {
    let lines = load()?;
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut redactor = Redactor::new(Config::default())?;
    let full: Vec<Event> = lines
        .iter()
        .map(|l| structured(l))
        .collect::<Result<_, _>>()?;
    let message_only: Vec<Event> = full.iter().map(|e| Event::new(e.message.clone())).collect();
    let raw: Vec<Event> = lines.iter().map(|l| Event::from_raw(l.clone())).collect();
    let mut clean = Vec::new();
    for e in &message_only {
        let mut probe = e.clone();
        if !redactor.redact_event(&mut probe) {
            clean.push(e.clone());
        }
    }
    println!(
        "{} events (default config: all detectors, label mode), best of {ROUNDS}",
        lines.len()
    );
    println!(
        "{:<40} {:>12} {:>10} {:>9}",
        "scenario", "events/s", "ns/event", "changed"
    );
    for (name, events) in [
        ("structured (message + 2 attributes)", &full),
        ("message only", &message_only),
        ("raw JSON payload", &raw),
        ("messages without findings (Pass)", &clean),
    ] {
        if only.as_ref().is_some_and(|w| !name.contains(w.as_str())) {
            continue;
        }
        let (rate, ns, changed) = measure(&mut redactor, events);
        println!(
            "{name:<40} {rate:>12.0} {ns:>10.0} {:>8.1}%",
            100.0 * changed as f64 / events.len() as f64
        );
    }
    // The detector alone on texts without findings, against a memchr scan
    // of the same texts as the floor.
    let texts: Vec<&str> = clean.iter().map(|e| e.message.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let detector = redactor.detector();
    let mut scratch = detector.scratch();
    let detect_ns = best_ns(&texts, |t| detector.detect(t, None, &mut scratch).len());
    let memchr_ns = best_ns(&texts, |t| {
        memchr::memchr(b'@', t.as_bytes()).map_or(0, |p| p)
    });
    println!(
        "detect() on texts without findings: {detect_ns:.0} ns/text ({:.2} ns/byte, {:.0} bytes avg); memchr floor {memchr_ns:.0} ns/text",
        detect_ns * texts.len() as f64 / bytes as f64,
        bytes as f64 / texts.len() as f64,
    );
    Ok(())
}

/// Best of [`ROUNDS`] average ns per text of `f`.
fn best_ns(texts: &[&str], mut f: impl FnMut(&str) -> usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut sink = 0;
        for t in texts {
            sink += f(black_box(t));
        }
        black_box(sink);
        best = best.min(start.elapsed().as_secs_f64());
    }
    best * 1e9 / texts.len() as f64
}
