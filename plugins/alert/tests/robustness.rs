//! Hostile input: event times anywhere from the distant past to the far
//! future, missing fields, ticks out of step with event time. Nothing may
//! panic, every event passes unchanged, and memory stays within the caps.

mod common;

use common::*;
use sluice_plugin_sdk::{Event, Level, Output, Plugin};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CONFIG: &str = r#"{"rules": [
  {"id": "spike", "kind": "spike", "severity": "error", "match": {"level": "warn"},
   "group_by": "service", "window": "1m", "baseline_windows": 3, "min_count": 3, "max_groups": 16},
  {"id": "thr", "kind": "threshold", "severity": "info", "group_by": "attribute:user",
   "threshold": 3, "window": "10s", "cooldown": "1s", "max_groups": 32},
  {"id": "fp", "kind": "new-fingerprint", "severity": "info", "warmup": "30s",
   "max_fingerprints": 64},
  {"id": "gone", "kind": "absence", "severity": "warning", "group_by": "fingerprint",
   "window": "5s", "cooldown": "1s", "forget_after": "1m", "max_groups": 24}
]}"#;

fn time(rng: &mut Rng, base: i64) -> i64 {
    match rng.below(10) {
        0 => i64::MIN + rng.below(1_000) as i64,
        1 => i64::MAX - rng.below(1_000) as i64,
        2 => 0,
        3 => base - rng.below(86_400) as i64 * S,
        _ => base + rng.below(120) as i64 * S,
    }
}

fn random_event(rng: &mut Rng, i: u64, base: i64) -> Event {
    let levels = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];
    let mut e = Event::new(format!("m{}", rng.below(5)));
    e.id = format!("e{i}");
    e.received_ns = if rng.below(5) == 0 {
        0
    } else {
        time(rng, base)
    };
    e.timestamp_ns = if rng.below(4) == 0 {
        None
    } else {
        Some(time(rng, base))
    };
    e.level = if rng.below(6) == 0 {
        None
    } else {
        Some(levels[rng.below(6) as usize])
    };
    e.service = (rng.below(6) != 0).then(|| format!("svc-{}", rng.below(40)));
    e.fingerprint = (rng.below(3) != 0).then(|| rng.below(500));
    if rng.below(2) == 0 {
        e.set_attr("user", rng.below(200) as i64);
    }
    e
}

#[test]
fn random_times_and_fields_never_break_the_rules_or_the_caps() {
    let mut p = plugin(CONFIG);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut out = Output::default();
    let mut base = T0;
    for i in 0..50_000u64 {
        let mut event = random_event(&mut rng, i, base);
        let outcome = p.process(&mut event, &mut out).expect("never an error");
        assert_eq!(outcome, sluice_plugin_sdk::Verdict::Unchanged);
        if i % 97 == 0 {
            p.tick(time(&mut rng, base), &mut out);
        }
        if i % 1_000 == 0 {
            base += 30 * S;
        }
        for (id, held) in p.tracked() {
            let cap = match id {
                "spike" => 16,
                "thr" => 32,
                "fp" => 64,
                _ => 24,
            };
            assert!(held <= cap, "rule {id} holds {held} > {cap}");
        }
    }
}

#[test]
fn the_default_rules_survive_the_same_input() {
    let mut h = harness("");
    let mut rng = Rng(42);
    for round in 0..20u64 {
        let batch: Vec<Event> = (0..500)
            .map(|k| random_event(&mut rng, round * 500 + k, T0 + round as i64 * MIN))
            .collect();
        run(&mut h, batch);
        h.tick(time(&mut rng, T0));
    }
}
