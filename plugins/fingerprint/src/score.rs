//! Accuracy of the miner on the Loghub 2k samples, as the field measures it
//! (definitions in `shared/data/README.md`):
//!
//! - **Grouping accuracy (GA)**: a line is correct when the set of lines
//!   sharing its predicted group equals the set of lines sharing its
//!   `EventTemplate`. GA = correct lines / all lines.
//! - **Parsing accuracy (PA)**: the share of lines whose produced template
//!   equals the ground-truth template after [`normalise`] on both sides
//!   (whitespace runs collapsed to one space, ends trimmed; nothing else).
//!
//! The input to the miner is the `Content` column of
//! `<S>_2k.log_structured_corrected.csv`, the message without its header,
//! which is what normalize hands on. Lines go through the real plugin
//! ([`crate::Fingerprint`] driven by the SDK's native harness, in batches),
//! and a line's group is its fingerprint as emitted, followed through the
//! merges the plugin emitted afterwards: exactly what the incident store
//! ends up with. Its template is the template of that final fingerprint.
//!
//! Native only: reads files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Outcome};

use crate::Fingerprint;

/// The ten Loghub systems with Drain's published GA on the corrected labels
/// (tuned per data set), which no system may fall below.
pub const SYSTEMS: [(&str, f64); 10] = [
    ("HDFS", 0.998),
    ("Hadoop", 0.948),
    ("Spark", 0.920),
    ("BGL", 0.963),
    ("HPC", 0.887),
    ("Windows", 0.997),
    ("Linux", 0.876),
    ("Android", 0.831),
    ("Apache", 1.000),
    ("OpenSSH", 0.789),
];

/// Lines handed to the plugin per batch call.
const BATCH: usize = 1024;

/// The shared data directory: `SLUICE_DATA_DIR`, or `shared/data` next to
/// the project checkout.
pub fn data_dir() -> PathBuf {
    std::env::var_os("SLUICE_DATA_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    )
}

/// One labelled system: messages and their true templates, row by row.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The `Content` column.
    pub contents: Vec<String>,
    /// The `EventTemplate` column.
    pub templates: Vec<String>,
}

/// Read `loghub2k/<system>/<system>_2k.log_structured_corrected.csv`.
pub fn load(data: &Path, system: &str) -> Result<Dataset, String> {
    let path = data
        .join("loghub2k")
        .join(system)
        .join(format!("{system}_2k.log_structured_corrected.csv"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let (header, rows) = rows.split_first().ok_or("empty file")?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{}: no `{name}` column", path.display()))
    };
    let (content, template) = (column("Content")?, column("EventTemplate")?);
    let mut set = Dataset::default();
    for (k, row) in rows.iter().enumerate() {
        let field = |c: usize| {
            row.get(c)
                .cloned()
                .ok_or_else(|| format!("{}: row {} is short", path.display(), k + 2))
        };
        set.contents.push(field(content)?);
        set.templates.push(field(template)?);
    }
    Ok(set)
}

/// Parse RFC 4180 CSV: fields separated by commas, optionally quoted with
/// `"`, a quote inside quotes doubled, records ending in CRLF or LF (also
/// inside quotes, where line breaks belong to the field).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    if !matches!(chars.peek(), None | Some(',' | '\r' | '\n')) {
                        return Err(format!("line {line}: text after a closing quote"));
                    }
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: unterminated quoted field"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// How PA compares templates: whitespace runs become one space, ends are
/// trimmed. Nothing else is forgiven.
pub fn normalise(template: &str) -> String {
    template.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Grouping accuracy of `predicted` group ids against `truth` templates.
pub fn grouping_accuracy<G: Eq + std::hash::Hash>(truth: &[String], predicted: &[G]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let mut truth_size: HashMap<&str, usize> = HashMap::new();
    for t in truth {
        *truth_size.entry(t.as_str()).or_default() += 1;
    }
    let mut groups: HashMap<&G, Vec<usize>> = HashMap::new();
    for (k, g) in predicted.iter().enumerate() {
        groups.entry(g).or_default().push(k);
    }
    let mut correct = 0;
    for lines in groups.values() {
        let t = truth[lines[0]].as_str();
        if lines.iter().all(|&k| truth[k] == t) && truth_size[t] == lines.len() {
            correct += lines.len();
        }
    }
    correct as f64 / truth.len() as f64
}

/// Parsing accuracy of `predicted` templates against `truth`.
pub fn parsing_accuracy(truth: &[String], predicted: &[String]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let equal = truth
        .iter()
        .zip(predicted)
        .filter(|(t, p)| normalise(t) == normalise(p))
        .count();
    equal as f64 / truth.len() as f64
}

/// What the plugin made of one data set, line by line.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Final fingerprint of every line (after following merges).
    pub fingerprints: Vec<u64>,
    /// Final template of every line.
    pub templates: Vec<String>,
    /// Merges the plugin emitted.
    pub merges: usize,
}

/// Run the plugin with the step config `config_toml` over `contents`.
pub fn run(contents: &[String], config_toml: &str) -> Result<Run, String> {
    let mut harness = Harness::<Fingerprint>::new(config_toml)?;
    let mut emitted = Vec::with_capacity(contents.len());
    let mut text: HashMap<u64, String> = HashMap::new();
    let mut merged: HashMap<u64, u64> = HashMap::new();
    let mut merges = 0;
    for chunk in contents.chunks(BATCH) {
        let batch = chunk.iter().map(|m| Event::new(m.as_str())).collect();
        let result = harness.process(batch);
        for outcome in result.outcomes {
            match outcome {
                Outcome::Keep(event) => {
                    let fp = event.fingerprint.ok_or("kept event without fingerprint")?;
                    text.insert(fp, event.template.unwrap_or_default());
                    emitted.push(fp);
                }
                other => return Err(format!("unexpected outcome {other:?}")),
            }
        }
        for m in result.merges {
            merges += 1;
            text.insert(m.new, m.template);
            merged.insert(m.old, m.new);
        }
    }
    let resolve = |mut fp: u64| {
        for _ in 0..=merged.len() {
            match merged.get(&fp) {
                Some(&next) if next != fp => fp = next,
                _ => break,
            }
        }
        fp
    };
    let fingerprints: Vec<u64> = emitted.into_iter().map(resolve).collect();
    let templates = fingerprints
        .iter()
        .map(|fp| text.get(fp).cloned().unwrap_or_default())
        .collect();
    Ok(Run {
        fingerprints,
        templates,
        merges,
    })
}

/// The scores of one system.
#[derive(Debug, Clone)]
pub struct Score {
    /// System name.
    pub system: String,
    /// Lines scored.
    pub lines: usize,
    /// Grouping accuracy.
    pub ga: f64,
    /// Parsing accuracy.
    pub pa: f64,
    /// Drain's published GA, the floor.
    pub drain_ga: f64,
    /// Distinct true templates.
    pub true_templates: usize,
    /// Distinct final fingerprints.
    pub found_templates: usize,
}

/// Score one system with the step config `config_toml`.
pub fn score(
    system: &str,
    drain_ga: f64,
    config_toml: &str,
) -> Result<(Score, Dataset, Run), String> {
    let data = load(&data_dir(), system)?;
    let run = run(&data.contents, config_toml)?;
    let distinct = |v: &[String]| v.iter().collect::<std::collections::HashSet<_>>().len();
    let found = run
        .fingerprints
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let score = Score {
        system: system.to_owned(),
        lines: data.contents.len(),
        ga: grouping_accuracy(&data.templates, &run.fingerprints),
        pa: parsing_accuracy(&data.templates, &run.templates),
        drain_ga,
        true_templates: distinct(&data.templates),
        found_templates: found,
    };
    Ok((score, data, run))
}

/// Score all ten systems.
pub fn score_all(config_toml: &str) -> Result<Vec<Score>, String> {
    SYSTEMS
        .iter()
        .map(|&(s, floor)| score(s, floor, config_toml).map(|(score, _, _)| score))
        .collect()
}

/// The scores as a Markdown table with a mean row.
pub fn table(scores: &[Score]) -> String {
    let mut out = String::from(
        "| system | lines | templates (true / found) | GA | Drain GA | PA |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for s in scores {
        let mark = if s.ga + 1e-9 >= s.drain_ga {
            ""
        } else {
            " ✗"
        };
        out.push_str(&format!(
            "| {} | {} | {} / {} | {:.3}{mark} | {:.3} | {:.3} |\n",
            s.system, s.lines, s.true_templates, s.found_templates, s.ga, s.drain_ga, s.pa
        ));
    }
    let n = scores.len().max(1) as f64;
    let mean = |f: fn(&Score) -> f64| scores.iter().map(f).sum::<f64>() / n;
    out.push_str(&format!(
        "| **mean** | | | **{:.3}** | {:.3} | **{:.3}** |\n",
        mean(|s| s.ga),
        mean(|s| s.drain_ga),
        mean(|s| s.pa)
    ));
    out
}

/// Lines grouped wrongly, one entry per true template whose lines are not
/// exactly one predicted group: the template, and the predicted templates
/// its lines got with counts (and lines of other true templates mixed in).
pub fn misgrouped(data: &Dataset, run: &Run) -> Vec<String> {
    let mut by_truth: HashMap<&str, HashMap<u64, usize>> = HashMap::new();
    let mut by_pred: HashMap<u64, usize> = HashMap::new();
    for (t, &fp) in data.templates.iter().zip(&run.fingerprints) {
        *by_truth.entry(t).or_default().entry(fp).or_default() += 1;
        *by_pred.entry(fp).or_default() += 1;
    }
    let template_of: HashMap<u64, &str> = run
        .fingerprints
        .iter()
        .zip(&run.templates)
        .map(|(&fp, t)| (fp, t.as_str()))
        .collect();
    let mut out = Vec::new();
    for (truth, preds) in &by_truth {
        let total: usize = preds.values().sum();
        let exact = preds.len() == 1
            && preds
                .values()
                .all(|&n| by_pred[preds.keys().next().unwrap_or(&0)] == n);
        if exact {
            continue;
        }
        let mut s = format!("TRUE ({total}) {truth}\n");
        for (fp, n) in preds {
            s.push_str(&format!(
                "    {n} of {} -> {}\n",
                by_pred[fp],
                template_of.get(fp).copied().unwrap_or("")
            ));
        }
        out.push(s);
    }
    out.sort();
    out
}

/// Lines whose template differs from the truth: (count, true template,
/// produced template), most frequent first.
pub fn misparsed(data: &Dataset, run: &Run) -> Vec<(usize, String, String)> {
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for (t, p) in data.templates.iter().zip(&run.templates) {
        let (t, p) = (normalise(t), normalise(p));
        if t != p {
            *counts.entry((t, p)).or_default() += 1;
        }
    }
    let mut out: Vec<(usize, String, String)> =
        counts.into_iter().map(|((t, p), n)| (n, t, p)).collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out
}
