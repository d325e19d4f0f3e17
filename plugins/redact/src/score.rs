//! The accuracy scorer, on the data sets in `../shared/data/pii/`. It runs
//! [`Detector::detect`] — the code the plugin runs — and reports:
//!
//! - `presidio_synth_spans.jsonl`: per entity type, recall and precision (a
//!   true span is found when a same-type predicted span overlaps it with
//!   IoU ≥ 0.5; character offsets) and leak rate (true spans with any
//!   character not covered by any redaction).
//! - `presidio_recognizer_test_cases.json`: a case is correct when the
//!   predicted spans of its entity type are exactly `expected_len` spans and,
//!   when `expected_spans` is given, exactly those spans. Entity types no
//!   detector covers (`DATE_TIME`, `URL`, `UK_NHS`: dates and URLs are
//!   structure of logs, not secrets) are excluded from the score and
//!   reported apart.
//! - `secrets_cases.json`: each case tests one detect-secrets plugin; it is
//!   correct when "some finding of the detectors that implement that plugin"
//!   equals `should_flag`. Also reported: how many positives are redacted
//!   by anything (what matters for storage).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::detect::kinds::Kind;
use crate::detect::{Detected, Detector, Span};

/// Minimum intersection-over-union for a predicted span to find a true one.
pub const MIN_IOU: f64 = 0.5;

/// Where the data sets are: `$SLUICE_DATA_DIR`, else `../shared/data` from
/// the repository root.
pub fn data_dir() -> PathBuf {
    std::env::var_os("SLUICE_DATA_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    )
}

/// Synthetic-span entity types and the detectors that produce them; the
/// first five are the ones the issue sets thresholds for.
pub const SYNTH_TYPES: &[(&str, &[Kind])] = &[
    ("EMAIL_ADDRESS", &[Kind::Email]),
    ("PHONE_NUMBER", &[Kind::Phone]),
    ("CREDIT_CARD", &[Kind::CreditCard]),
    ("IP_ADDRESS", &[Kind::Ipv4, Kind::Ipv6]),
    ("IBAN_CODE", &[Kind::Iban]),
    ("US_SSN", &[Kind::UsSsn]),
];

/// Recognizer-case entity types the detectors cover.
pub const RECOGNIZER_TYPES: &[(&str, &[Kind])] = &[
    ("CREDIT_CARD", &[Kind::CreditCard]),
    ("EMAIL_ADDRESS", &[Kind::Email]),
    ("IP_ADDRESS", &[Kind::Ipv4, Kind::Ipv6]),
    ("PHONE_NUMBER", &[Kind::Phone]),
    ("US_SSN", &[Kind::UsSsn]),
    ("CRYPTO", &[Kind::CryptoWallet]),
];

/// detect-secrets plugins and the detectors that implement each.
pub const SECRET_PLUGINS: &[(&str, &[Kind])] = &[
    ("artifactory", &[Kind::ArtifactoryToken]),
    ("aws_key", &[Kind::AwsAccessKey, Kind::AwsSecretKey]),
    ("basic_auth", &[Kind::UrlCredentials]),
    (
        "cloudant",
        &[Kind::CloudantCredentials, Kind::UrlCredentials],
    ),
    ("discord", &[Kind::DiscordToken]),
    ("github_token", &[Kind::GithubToken]),
    ("gitlab_token", &[Kind::GitlabToken]),
    ("ibm_cloud_iam", &[Kind::IbmCloudIamKey]),
    ("ibm_cos_hmac", &[Kind::IbmCosHmacKey]),
    ("jwt", &[Kind::Jwt]),
    ("mailchimp_key", &[Kind::MailchimpKey]),
    ("npm", &[Kind::NpmToken]),
    ("openai", &[Kind::OpenaiKey]),
    ("pypi_token", &[Kind::PypiToken]),
    ("sendgrid", &[Kind::SendgridKey]),
    ("softlayer", &[Kind::SoftlayerKey]),
    ("stripe_key", &[Kind::StripeKey]),
    ("telegram_token", &[Kind::TelegramToken]),
    ("twilio", &[Kind::TwilioKey]),
];

/// Scores of one entity type on the synthetic spans.
#[derive(Debug, Clone, Default)]
pub struct TypeScore {
    pub name: &'static str,
    pub true_spans: usize,
    pub found: usize,
    pub predicted: usize,
    pub correct: usize,
    pub leaked: usize,
}

impl TypeScore {
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.true_spans)
    }
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }
    pub fn leak_rate(&self) -> f64 {
        1.0 - ratio(self.true_spans - self.leaked, self.true_spans)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Correct/total per group of cases, plus what was left out and why.
#[derive(Debug, Clone, Default)]
pub struct CaseReport {
    pub groups: Vec<(String, usize, usize)>,
    pub excluded: Vec<(String, usize)>,
    /// Extra lines for the table (secondary figures).
    pub notes: Vec<String>,
    /// One line per wrong case, for inspection.
    pub failures: Vec<String>,
    /// Secrets: cases that should be flagged, and how many of them any
    /// detector redacted (what matters for storage).
    pub positives: usize,
    pub positives_redacted: usize,
}

impl CaseReport {
    pub fn correct(&self) -> usize {
        self.groups.iter().map(|g| g.1).sum()
    }
    pub fn total(&self) -> usize {
        self.groups.iter().map(|g| g.2).sum()
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    fn add(&mut self, group: &str, ok: bool) {
        match self.groups.iter_mut().find(|g| g.0 == group) {
            Some(g) => {
                g.1 += usize::from(ok);
                g.2 += 1;
            }
            None => self.groups.push((group.to_owned(), usize::from(ok), 1)),
        }
    }

    /// The per-group table.
    pub fn table(&self, title: &str) -> String {
        let mut s = format!(
            "{title}\n{:<16} {:>8} {:>6} {:>9}\n",
            "group", "correct", "total", "accuracy"
        );
        for (g, ok, n) in &self.groups {
            s += &format!("{g:<16} {ok:>8} {n:>6} {:>9.3}\n", ratio(*ok, *n));
        }
        s += &format!(
            "{:<16} {:>8} {:>6} {:>9.3}\n",
            "ALL",
            self.correct(),
            self.total(),
            self.accuracy()
        );
        for (g, n) in &self.excluded {
            s += &format!("excluded (no detector): {g} ×{n}\n");
        }
        for note in &self.notes {
            s += note;
            s.push('\n');
        }
        s
    }
}

/// Spans as character offsets with their detector.
fn char_spans(text: &str, spans: &[Span]) -> Vec<(usize, usize, Detected)> {
    let mut map = vec![0usize; text.len() + 1];
    let mut chars = 0;
    for (byte, ch) in text.char_indices() {
        map[byte..byte + ch.len_utf8()].fill(chars);
        chars += 1;
    }
    map[text.len()] = chars;
    spans
        .iter()
        .map(|s| (map[s.start], map[s.end], s.what))
        .collect()
}

fn of_kinds(spans: &[(usize, usize, Detected)], kinds: &[Kind]) -> Vec<(usize, usize)> {
    spans
        .iter()
        .filter(|s| matches!(s.2, Detected::Builtin(k) if kinds.contains(&k)))
        .map(|s| (s.0, s.1))
        .collect()
}

fn iou(a: (usize, usize), b: (usize, usize)) -> f64 {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = (a.1 - a.0) + (b.1 - b.0) - inter;
    ratio(inter, union)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct SynthRecord {
    text: String,
    spans: Vec<SynthSpan>,
}

#[derive(Deserialize)]
struct SynthSpan {
    start: usize,
    end: usize,
    label: String,
}

/// Scores of `presidio_synth_spans.jsonl`.
#[derive(Debug, Clone, Default)]
pub struct SynthReport {
    /// One per [`SYNTH_TYPES`].
    pub types: Vec<TypeScore>,
    /// Missed true spans and wrong predictions, for inspection.
    pub failures: Vec<String>,
}

impl SynthReport {
    /// The score of entity type `name`.
    pub fn get(&self, name: &str) -> Option<&TypeScore> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// Score `presidio_synth_spans.jsonl`; one [`TypeScore`] per [`SYNTH_TYPES`].
pub fn score_synth(detector: &Detector, path: &Path) -> Result<SynthReport, String> {
    let mut failures = Vec::new();
    let mut scratch = detector.scratch();
    let mut scores: Vec<TypeScore> = SYNTH_TYPES
        .iter()
        .map(|(name, _)| TypeScore {
            name,
            ..TypeScore::default()
        })
        .collect();
    for (n, line) in read(path)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rec: SynthRecord =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let predicted = char_spans(&rec.text, detector.detect(&rec.text, None, &mut scratch));
        for ((name, kinds), score) in SYNTH_TYPES.iter().zip(&mut scores) {
            let truth: Vec<(usize, usize)> = rec
                .spans
                .iter()
                .filter(|s| s.label == *name)
                .map(|s| (s.start, s.end))
                .collect();
            let pred = of_kinds(&predicted, kinds);
            score.true_spans += truth.len();
            score.predicted += pred.len();
            for t in &truth {
                if pred.iter().any(|p| iou(*t, *p) >= MIN_IOU) {
                    score.found += 1;
                } else {
                    failures.push(format!(
                        "missed {name} {:?} in {:?}",
                        slice(&rec.text, *t),
                        rec.text
                    ));
                }
            }
            for p in &pred {
                if truth.iter().any(|t| iou(*t, *p) >= MIN_IOU) {
                    score.correct += 1;
                } else {
                    failures.push(format!(
                        "wrong {name} {:?} in {:?}",
                        slice(&rec.text, *p),
                        rec.text
                    ));
                }
            }
            score.leaked += truth
                .iter()
                .filter(|t| (t.0..t.1).any(|c| !predicted.iter().any(|p| p.0 <= c && c < p.1)))
                .count();
        }
    }
    Ok(SynthReport {
        types: scores,
        failures,
    })
}

fn slice(text: &str, (s, e): (usize, usize)) -> String {
    text.chars().skip(s).take(e - s).collect()
}

/// The per-type table of [`score_synth`].
pub fn synth_table(report: &SynthReport) -> String {
    let mut s = format!(
        "presidio_synth_spans.jsonl (IoU >= {MIN_IOU})\n{:<14} {:>5} {:>5} {:>7} {:>9} {:>6}\n",
        "type", "true", "pred", "recall", "precision", "leak"
    );
    for t in &report.types {
        s += &format!(
            "{:<14} {:>5} {:>5} {:>7.3} {:>9.3} {:>5.1}%\n",
            t.name,
            t.true_spans,
            t.predicted,
            t.recall(),
            t.precision(),
            100.0 * t.leak_rate()
        );
    }
    s
}

#[derive(Deserialize)]
struct RecognizerCase {
    entity: String,
    text: String,
    expected_len: usize,
    expected_spans: Vec<(usize, usize)>,
}

/// Score `presidio_recognizer_test_cases.json`.
pub fn score_recognizer(detector: &Detector, path: &Path) -> Result<CaseReport, String> {
    let cases: Vec<RecognizerCase> =
        serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut scratch = detector.scratch();
    let mut report = CaseReport::default();
    for case in &cases {
        let Some((_, kinds)) = RECOGNIZER_TYPES.iter().find(|(e, _)| *e == case.entity) else {
            match report.excluded.iter_mut().find(|x| x.0 == case.entity) {
                Some(x) => x.1 += 1,
                None => report.excluded.push((case.entity.clone(), 1)),
            }
            continue;
        };
        let predicted = char_spans(&case.text, detector.detect(&case.text, None, &mut scratch));
        let mut got = of_kinds(&predicted, kinds);
        got.sort_unstable();
        let mut want = case.expected_spans.clone();
        want.sort_unstable();
        let ok = got.len() == case.expected_len && (want.is_empty() || got == want);
        if !ok {
            report.failures.push(format!(
                "{} {:?}: expected {} {:?}, got {:?}",
                case.entity, case.text, case.expected_len, want, got
            ));
        }
        report.add(&case.entity, ok);
    }
    Ok(report)
}

#[derive(Deserialize)]
struct SecretCase {
    plugin: String,
    text: String,
    should_flag: bool,
}

/// Score `secrets_cases.json`.
pub fn score_secrets(detector: &Detector, path: &Path) -> Result<CaseReport, String> {
    let cases: Vec<SecretCase> =
        serde_json::from_str(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut scratch = detector.scratch();
    let mut report = CaseReport::default();
    let (mut any_agree, mut positives, mut positives_redacted) = (0, 0, 0);
    for case in &cases {
        let spans = detector.detect(&case.text, None, &mut scratch);
        let any = !spans.is_empty();
        any_agree += usize::from(any == case.should_flag);
        if case.should_flag {
            positives += 1;
            positives_redacted += usize::from(any);
        }
        let Some((_, kinds)) = SECRET_PLUGINS.iter().find(|(p, _)| *p == case.plugin) else {
            match report.excluded.iter_mut().find(|x| x.0 == case.plugin) {
                Some(x) => x.1 += 1,
                None => report.excluded.push((case.plugin.clone(), 1)),
            }
            continue;
        };
        let flagged = spans
            .iter()
            .any(|s| matches!(s.what, Detected::Builtin(k) if kinds.contains(&k)));
        let ok = flagged == case.should_flag;
        if !ok {
            report.failures.push(format!(
                "{} {:?}: should_flag {}, got {:?}",
                case.plugin, case.text, case.should_flag, spans
            ));
        }
        report.add(&case.plugin, ok);
    }
    report.positives = positives;
    report.positives_redacted = positives_redacted;
    report.notes.push(format!(
        "positives redacted by any detector: {positives_redacted}/{positives}; \
         any-finding agrees with should_flag: {any_agree}/{}",
        cases.len()
    ));
    Ok(report)
}
