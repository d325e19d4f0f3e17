//! Accuracy on real data, asserted at the floors we reach (see README for
//! the full tables; `cargo run --release -p sluice-plugin-normalize
//! --example normalize_score` prints them).
//!
//! Truth is independent of the parser: loghub's structured CSVs (times read
//! with jiff's strptime) and, for access logs, a reference regex split.

#[path = "support/score.rs"]
mod score;

/// Floors of the share of lines with level, time and message all right,
/// with the default config (auto-detection). BGL and HPC put the time in
/// the middle of the line and Windows pads a component column before the
/// message: no generic layout takes them, their tenant configs do.
const AUTO_FLOORS: [(&str, f64); 10] = [
    ("Android", 0.999),
    ("Apache", 0.999),
    ("BGL", 0.0),
    ("HDFS", 0.999),
    ("HPC", 0.0),
    ("Hadoop", 0.999),
    // `syslogd 1.4.1: restart.` has a space in its tag: 8 lines.
    ("Linux", 0.995),
    ("OpenSSH", 0.999),
    // `INFO Remoting: ...`: a one-word component is not told from prose: 2 lines.
    ("Spark", 0.998),
    ("Windows", 0.0),
];

/// Floor for every system with its tenant config (examples/loghub/*.toml).
const TENANT_FLOOR: f64 = 0.995;

/// Floor of access-log lines with every field right.
const ACCESS_FLOOR: f64 = 0.999;

#[test]
fn access_logs_are_split_into_the_right_fields() {
    let s = score::score_access();
    println!("{}", score::access_table(&s));
    assert_eq!(s.lines, 10_000);
    // One line's user agent is cut short; the reference cannot split it.
    assert_eq!(s.reference, 9_999);
    let share = s.correct as f64 / s.reference as f64;
    assert!(
        share >= ACCESS_FLOOR,
        "access logs: {share:.4} < {ACCESS_FLOOR}"
    );
}

#[test]
fn loghub_with_auto_detection() {
    let rows: Vec<score::Row> = score::SYSTEMS
        .iter()
        .map(|s| score::score_loghub(s, ""))
        .collect();
    println!("{}", score::table("loghub, default config:", &rows));
    for (row, (system, floor)) in rows.iter().zip(AUTO_FLOORS) {
        assert_eq!(row.system, system);
        let share = row.share(row.all);
        assert!(share >= floor, "{system}: {share:.4} < {floor}");
    }
    // Where the message is out of reach, level and time still are.
    let windows = &rows[9];
    assert_eq!(windows.level, windows.lines);
    assert_eq!(windows.timestamp, windows.lines);
}

#[test]
fn loghub_with_tenant_grok_configs() {
    let rows: Vec<score::Row> = score::SYSTEMS
        .iter()
        .map(|s| score::score_loghub(s, &score::tenant_config(s)))
        .collect();
    println!("{}", score::table("loghub, tenant configs:", &rows));
    for row in &rows {
        let share = row.share(row.all);
        assert!(
            share >= TENANT_FLOOR,
            "{}: {share:.4} < {TENANT_FLOOR}",
            row.system
        );
    }
}
