//! Print the accuracy tables on `../shared/data/pii/` for the default
//! config (all detectors): `cargo run --release -p sluice-plugin-redact
//! --example redact_score [-- --failures]`.

use sluice_plugin_redact::detect::{Detector, DetectorConfig};
use sluice_plugin_redact::score;

fn main() -> Result<(), String> {
    let show_failures = std::env::args().any(|a| a == "--failures");
    let dir = score::data_dir().join("pii");
    let detector = Detector::new(&DetectorConfig::default())?;

    let synth = score::score_synth(&detector, &dir.join("presidio_synth_spans.jsonl"))?;
    println!("{}", score::synth_table(&synth));

    let recognizer =
        score::score_recognizer(&detector, &dir.join("presidio_recognizer_test_cases.json"))?;
    println!(
        "{}",
        recognizer.table("presidio_recognizer_test_cases.json")
    );

    let secrets = score::score_secrets(&detector, &dir.join("secrets_cases.json"))?;
    println!("{}", secrets.table("secrets_cases.json"));

    if show_failures {
        for line in synth
            .failures
            .iter()
            .chain(&recognizer.failures)
            .chain(&secrets.failures)
        {
            println!("FAIL {line}");
        }
    }
    Ok(())
}
