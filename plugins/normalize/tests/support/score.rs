//! Scores normalize on real data, against truth it does not compute itself:
//! the loghub `*_structured_corrected.csv` header fields (times read with
//! jiff's strptime, levels through a table of this file's own) and, for the
//! access logs, a reference split by one plain regular expression.
//!
//! Shared by `tests/score.rs` (which asserts floors) and
//! `examples/score.rs` (which prints the tables).
// A measuring tool: a panic with the failing input is the right answer.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use jiff::fmt::strtime;
use sluice_plugin_normalize::Normalize;
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Level, Value};

/// The ten loghub systems.
pub const SYSTEMS: [&str; 10] = [
    "Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "OpenSSH", "Spark", "Windows",
];

/// Received time given to every scored line: year-less layouts take 2025.
pub const RECEIVED: &str = "2025-12-31T12:00:00Z";

/// `SLUICE_DATA_DIR`, or `../shared/data` from the project root.
pub fn data_dir() -> PathBuf {
    std::env::var_os("SLUICE_DATA_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    )
}

/// The example tenant config of a system.
pub fn tenant_config(system: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/loghub")
        .join(format!("{system}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn received_ns() -> i64 {
    ns(RECEIVED.parse::<jiff::Timestamp>().unwrap())
}

fn ns(ts: jiff::Timestamp) -> i64 {
    i64::try_from(ts.as_nanosecond()).unwrap()
}

/// Run every line through a fresh instance built from `config`.
pub fn normalize(config: &str, lines: &[&str]) -> Vec<Event> {
    let mut harness = Harness::<Normalize>::new(config).unwrap();
    let batch: Vec<Event> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut e = Event::from_raw(*line);
            e.id = format!("l{}", i + 1);
            e.received_ns = received_ns();
            e
        })
        .collect();
    let kept = harness.kept(batch);
    assert_eq!(
        kept.len(),
        lines.len(),
        "normalize dropped or failed events"
    );
    kept
}

/// Per-system accuracy: lines whose field matched the truth.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub system: String,
    pub lines: usize,
    pub level: usize,
    pub timestamp: usize,
    pub message: usize,
    /// All three right.
    pub all: usize,
    /// Whether the system's lines carry a level (else "right" means none was invented).
    pub has_level: bool,
}

impl Row {
    pub fn share(&self, n: usize) -> f64 {
        n as f64 / self.lines.max(1) as f64
    }
}

/// Truth of one loghub line.
struct Truth {
    timestamp: i64,
    level: Option<Level>,
    content: String,
}

/// Score `system` with the step config `config`.
pub fn score_loghub(system: &str, config: &str) -> Row {
    let dir = data_dir().join("loghub2k").join(system);
    let raw = read(&dir.join(format!("{system}_2k.log")));
    let csv = read(&dir.join(format!("{system}_2k.log_structured_corrected.csv")));
    let rows = parse_csv(&csv);
    let header = &rows[0];
    let truths: Vec<Truth> = rows[1..].iter().map(|r| truth(system, header, r)).collect();
    let lines: Vec<&str> = raw.lines().take(truths.len()).collect();
    assert_eq!(
        lines.len(),
        truths.len(),
        "{system}: lines and CSV rows differ"
    );
    let events = normalize(config, &lines);
    let mut row = Row {
        system: system.to_owned(),
        lines: lines.len(),
        has_level: header.iter().any(|h| h == "Level") && system != "Linux",
        ..Row::default()
    };
    let show = std::env::var("SLUICE_SCORE_SHOW").is_ok_and(|s| s == system);
    for ((event, truth), line) in events.iter().zip(&truths).zip(&lines) {
        let level = event.level == truth.level;
        let timestamp = event.timestamp_ns == Some(truth.timestamp);
        let message = event.message == truth.content.trim();
        if show && !(level && timestamp && message) {
            eprintln!(
                "line:    {line}\n  level {:?} want {:?}; time {:?} want {}\n  message {:?}\n  want    {:?}",
                event.level,
                truth.level,
                event.timestamp_ns,
                truth.timestamp,
                event.message,
                truth.content
            );
        }
        row.level += usize::from(level);
        row.timestamp += usize::from(timestamp);
        row.message += usize::from(message);
        row.all += usize::from(level && timestamp && message);
    }
    row
}

fn read(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn truth(system: &str, header: &[String], row: &[String]) -> Truth {
    let get = |name: &str| -> &str {
        let i = header.iter().position(|h| h == name).unwrap();
        row[i].as_str()
    };
    let year = &RECEIVED[..4];
    let (text, format) = match system {
        "Android" => (
            format!("{year}-{} {}", get("Date"), get("Time")),
            "%Y-%m-%d %H:%M:%S%.f",
        ),
        "Apache" => (get("Time").to_owned(), "%a %b %d %H:%M:%S %Y"),
        "BGL" => (get("Time").to_owned(), "%Y-%m-%d-%H.%M.%S%.f"),
        // The CSV lost the leading zero of `081109`.
        "HDFS" => (
            format!("{:0>6} {:0>6}", get("Date"), get("Time")),
            "%y%m%d %H%M%S",
        ),
        "HPC" => (get("Time").to_owned(), "%s"),
        "Hadoop" => (
            format!("{} {}", get("Date"), get("Time").replace(',', ".")),
            "%Y-%m-%d %H:%M:%S%.f",
        ),
        "Linux" => (
            format!("{year} {} {} {}", get("Month"), get("Date"), get("Time")),
            "%Y %b %d %H:%M:%S",
        ),
        "OpenSSH" => (
            format!("{year} {} {} {}", get("Date"), get("Day"), get("Time")),
            "%Y %b %d %H:%M:%S",
        ),
        "Spark" => (
            format!("{} {}", get("Date"), get("Time")),
            "%y/%m/%d %H:%M:%S",
        ),
        "Windows" => (
            format!("{} {}", get("Date"), get("Time")),
            "%Y-%m-%d %H:%M:%S",
        ),
        other => panic!("no truth for {other}"),
    };
    let tm = strtime::parse(format, &text).unwrap_or_else(|e| panic!("{system}: {text}: {e}"));
    let timestamp = match tm.to_timestamp() {
        Ok(ts) => ns(ts),
        Err(_) => ns(jiff::tz::Offset::UTC
            .to_timestamp(tm.to_datetime().unwrap())
            .unwrap()),
    };
    let level = if header.iter().any(|h| h == "Level") && system != "Linux" {
        true_level(get("Level"))
    } else {
        // Linux's "Level" column holds the host name; HPC and OpenSSH have none.
        None
    };
    Truth {
        timestamp,
        level,
        content: get("Content").to_owned(),
    }
}

/// The scale's level of each spelling found in the loghub truth.
fn true_level(text: &str) -> Option<Level> {
    Some(match text {
        "V" => Level::Trace,
        "D" => Level::Debug,
        "I" | "INFO" | "Info" | "notice" => Level::Info,
        "W" | "WARN" | "WARNING" => Level::Warn,
        "E" | "ERROR" | "error" | "SEVERE" => Level::Error,
        "F" | "FATAL" => Level::Fatal,
        other => panic!("unmapped truth level {other:?}"),
    })
}

/// RFC 4180 CSV: quoted fields with doubled quotes, CRLF or LF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Access-log accuracy against a reference split.
#[derive(Debug, Default)]
pub struct AccessScore {
    pub lines: usize,
    /// Lines the reference regex could split (the others are cut short).
    pub reference: usize,
    /// Reference lines with every field right.
    pub correct: usize,
    /// Per field: (name, right).
    pub fields: Vec<(&'static str, usize)>,
}

/// Score the access-log file with the default config.
pub fn score_access() -> AccessScore {
    let path = data_dir().join("access-logs/elastic_examples_apache_logs.log");
    let text = read(&path);
    let lines: Vec<&str> = text.lines().collect();
    let events = normalize("", &lines);
    let reference = regex::Regex::new(
        r#"^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$"#,
    )
    .unwrap();
    const NAMES: [&str; 10] = [
        "client_ip",
        "timestamp",
        "method",
        "path",
        "protocol",
        "status",
        "bytes",
        "referrer",
        "user_agent",
        "level",
    ];
    let mut score = AccessScore {
        lines: lines.len(),
        fields: NAMES.iter().map(|n| (*n, 0)).collect(),
        ..AccessScore::default()
    };
    for (line, e) in lines.iter().zip(&events) {
        let Some(c) = reference.captures(line) else {
            continue;
        };
        score.reference += 1;
        let time = strtime::parse("%d/%b/%Y:%H:%M:%S %z", &c[4])
            .unwrap()
            .to_timestamp()
            .unwrap();
        let status: i64 = c[8].parse().unwrap();
        let dash_absent = |s: &str| (s != "-").then(|| Value::Text(s.to_owned()));
        let want_level = match status {
            500.. => Level::Error,
            400..=499 => Level::Warn,
            _ => Level::Info,
        };
        let checks = [
            e.attr("client_ip") == Some(&Value::Text(c[1].to_owned())),
            e.timestamp_ns == Some(ns(time)),
            e.attr("method") == Some(&Value::Text(c[5].to_owned())),
            e.attr("path") == Some(&Value::Text(c[6].to_owned())),
            e.attr("protocol") == Some(&Value::Text(c[7].to_owned())),
            e.attr("status") == Some(&Value::Integer(status)),
            e.attr("bytes") == c[9].parse::<i64>().ok().map(Value::Integer).as_ref(),
            e.attr("referrer") == dash_absent(&c[10]).as_ref(),
            e.attr("user_agent") == dash_absent(&c[11]).as_ref(),
            e.level == Some(want_level),
        ];
        for (slot, ok) in score.fields.iter_mut().zip(checks) {
            slot.1 += usize::from(ok);
        }
        let all = checks.iter().all(|ok| *ok);
        if !all && std::env::var("SLUICE_SCORE_SHOW").is_ok_and(|s| s == "access") {
            eprintln!("line: {line}\n  {checks:?}\n  {:?}", e.attributes);
        }
        score.correct += usize::from(all);
    }
    score
}

/// The per-system table as text.
pub fn table(title: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "{title}\n{:<9} {:>5} {:>8} {:>8} {:>8} {:>8}\n",
        "system", "lines", "level", "time", "message", "all"
    );
    let pct = |row: &Row, n: usize| format!("{:.1}%", 100.0 * row.share(n));
    for r in rows {
        let level = if r.has_level {
            pct(r, r.level)
        } else {
            format!("({})", pct(r, r.level))
        };
        out.push_str(&format!(
            "{:<9} {:>5} {:>8} {:>8} {:>8} {:>8}\n",
            r.system,
            r.lines,
            level,
            pct(r, r.timestamp),
            pct(r, r.message),
            pct(r, r.all)
        ));
    }
    out.push_str("(level in parentheses: the system logs none; right = none invented)\n");
    out
}

/// The access-log result as text.
pub fn access_table(s: &AccessScore) -> String {
    let mut out = format!(
        "access logs: {} lines, {} split by the reference, {} ({:.2}%) with every field right\n",
        s.lines,
        s.reference,
        s.correct,
        100.0 * s.correct as f64 / s.reference.max(1) as f64
    );
    for (name, right) in &s.fields {
        out.push_str(&format!(
            "  {name:<11} {:.2}%\n",
            100.0 * *right as f64 / s.reference.max(1) as f64
        ));
    }
    out
}
