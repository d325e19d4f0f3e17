//! Accuracy on `../shared/data/pii/` with the default config, through the
//! detector the plugin runs. Prints the tables (`cargo test -p
//! sluice-plugin-redact --test accuracy -- --nocapture`) and asserts the
//! issue's thresholds. How each file is scored: see `src/score.rs`.

use sluice_plugin_redact::detect::{Detector, DetectorConfig};
use sluice_plugin_redact::score;

fn detector() -> Detector {
    Detector::new(&DetectorConfig::default()).expect("default config compiles")
}

fn pii(file: &str) -> std::path::PathBuf {
    score::data_dir().join("pii").join(file)
}

#[test]
fn synthetic_spans_meet_recall_precision_and_leak_thresholds() {
    let report = score::score_synth(&detector(), &pii("presidio_synth_spans.jsonl")).unwrap();
    println!("{}", score::synth_table(&report));
    for name in [
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IP_ADDRESS",
        "IBAN_CODE",
    ] {
        let t = report.get(name).unwrap();
        assert!(t.true_spans > 0, "{name}: no labelled spans read");
        assert!(t.recall() >= 0.98, "{name}: recall {:.3}", t.recall());
        assert!(
            t.precision() >= 0.95,
            "{name}: precision {:.3}",
            t.precision()
        );
        assert!(
            t.leak_rate() <= 0.01,
            "{name}: leak rate {:.3}",
            t.leak_rate()
        );
    }
}

#[test]
fn presidio_recognizer_cases_are_95_percent_correct() {
    let report =
        score::score_recognizer(&detector(), &pii("presidio_recognizer_test_cases.json")).unwrap();
    println!("{}", report.table("presidio_recognizer_test_cases.json"));
    for failure in &report.failures {
        println!("wrong: {failure}");
    }
    assert!(report.total() >= 180, "cases read: {}", report.total());
    assert!(
        report.accuracy() >= 0.95,
        "accuracy {:.3}",
        report.accuracy()
    );
}

#[test]
fn secret_cases_are_95_percent_correct_and_every_positive_is_redacted() {
    let report = score::score_secrets(&detector(), &pii("secrets_cases.json")).unwrap();
    println!("{}", report.table("secrets_cases.json"));
    for failure in &report.failures {
        println!("wrong: {failure}");
    }
    assert_eq!(report.total(), 130, "every case maps to a detector");
    assert!(
        report.accuracy() >= 0.95,
        "accuracy {:.3}",
        report.accuracy()
    );
    assert_eq!(
        report.positives_redacted, report.positives,
        "a secret reached storage"
    );
}
