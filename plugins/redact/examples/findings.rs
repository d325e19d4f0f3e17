//! What the default detectors find in a file of log lines: counts per
//! detector and a few samples each, to review false positives on real logs.
//! `cargo run --release -p sluice-plugin-redact --example findings -- FILE [SAMPLES]`

use std::collections::BTreeMap;

use sluice_plugin_redact::detect::{Detected, Detector, DetectorConfig};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: findings FILE [SAMPLES]")?;
    let samples: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let detector = Detector::new(&DetectorConfig::default())?;
    let mut scratch = detector.scratch();
    let mut found: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    let mut lines = 0;
    for line in text.lines() {
        lines += 1;
        for span in detector.detect(line, None, &mut scratch) {
            let name = match span.what {
                Detected::Builtin(k) => k.name().to_owned(),
                Detected::Custom(i) => format!("custom{i}"),
            };
            let entry = found.entry(name).or_default();
            entry.0 += 1;
            if entry.1.len() < samples {
                entry
                    .1
                    .push(format!("{:?} in {:?}", &line[span.start..span.end], line));
            }
        }
    }
    println!("{lines} lines");
    for (name, (count, examples)) in &found {
        println!("{name}: {count}");
        for e in examples {
            println!("    {e}");
        }
    }
    Ok(())
}
