//! Accuracy on the ten Loghub 2k systems with the ONE default config, as
//! issue 3 asks: mean grouping accuracy at least 0.90, and no system below
//! Drain's published GA (tuned per data set). Parsing accuracy is printed
//! and held at a floor just under what the miner reaches, so a masking
//! change that spoils templates shows. The table:
//! `cargo test -p sluice-plugin-fingerprint --test accuracy -- --nocapture`,
//! or `cargo run --release -p sluice-plugin-fingerprint --example fingerprint_score`.
//!
//! Needs `shared/data/loghub2k` (`SLUICE_DATA_DIR`); fails when it is missing.

use sluice_plugin_fingerprint::score;

/// Mean GA the issue asks for.
const MEAN_GA_GOAL: f64 = 0.90;
/// Mean PA held (the miner reaches 0.934; see the README for the table).
const MEAN_PA_FLOOR: f64 = 0.92;

#[test]
fn default_config_beats_drain_on_every_loghub_system() {
    let scores = score::score_all("").expect("loghub data (set SLUICE_DATA_DIR)");
    println!("{}", score::table(&scores));
    assert_eq!(scores.len(), 10);
    for s in &scores {
        assert_eq!(s.lines, 2_000, "{}", s.system);
        assert!(
            s.ga + 1e-9 >= s.drain_ga,
            "{}: GA {:.4} below Drain's {:.3}",
            s.system,
            s.ga,
            s.drain_ga
        );
    }
    let mean_ga = scores.iter().map(|s| s.ga).sum::<f64>() / 10.0;
    let mean_pa = scores.iter().map(|s| s.pa).sum::<f64>() / 10.0;
    assert!(
        mean_ga >= MEAN_GA_GOAL,
        "mean GA {mean_ga:.4} < {MEAN_GA_GOAL}"
    );
    assert!(
        mean_pa >= MEAN_PA_FLOOR,
        "mean PA {mean_pa:.4} < {MEAN_PA_FLOOR}"
    );
}

/// The scorer itself, on a case small enough to check by hand.
#[test]
fn grouping_and_parsing_accuracy_by_hand() {
    let truth: Vec<String> = ["A", "A", "B", "C", "C"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // A's lines together and alone, B alone, C split: 3 of 5 lines correct.
    assert_eq!(score::grouping_accuracy(&truth, &[1, 1, 2, 3, 4]), 0.6);
    // A and B merged: only C... split too: 0 correct.
    assert_eq!(score::grouping_accuracy(&truth, &[1, 1, 1, 3, 4]), 0.0);
    assert_eq!(score::grouping_accuracy(&truth, &[7, 7, 8, 9, 9]), 1.0);
    let produced: Vec<String> = ["A", " A ", "b", "C", "C  x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // Whitespace is forgiven, case and text are not.
    assert_eq!(score::parsing_accuracy(&truth, &produced), 0.6);
}

#[test]
fn the_csv_reader_handles_quotes_commas_and_line_breaks() {
    let rows =
        score::parse_csv("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\"multi\nline\",,\"\"\n").expect("csv");
    assert_eq!(
        rows,
        vec![
            vec!["a", "b", "c"],
            vec!["1", "x, \"y\"", "3"],
            vec!["multi\nline", "", ""],
        ]
    );
    assert!(score::parse_csv("\"open").is_err());
    assert!(score::parse_csv("\"a\"b,c").is_err());
}
