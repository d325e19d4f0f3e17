//! `sluice plugin test`: run one plugin on a file of events with the
//! production runtime and limits, print what happened to each event, and in
//! `--expect` mode compare with a golden file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value as Json, json};

use crate::event::json::{alert_to_json, format_fingerprint, from_json, parse_time};
use crate::event::to_json;
use crate::runtime::{
    Event, InitContext, PluginRuntime, RuntimeOptions, StepLimits, StepOutcome, StepRunner,
};

/// Received time given to input events that do not carry one, so that
/// golden files do not depend on when they were made.
const DEFAULT_RECEIVED: &str = "2025-01-01T00:00:00Z";

/// Arguments of `sluice plugin test`.
#[derive(Debug, clap::Args)]
pub struct PluginTestArgs {
    /// The plugin component (`.wasm`).
    pub plugin: PathBuf,
    /// The step's config: a TOML file holding the body of the step's `config` table.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Input events: NDJSON in the event JSON shape, or raw payloads one per
    /// line with `--raw` (or a `.raw` file extension).
    #[arg(long)]
    pub input: PathBuf,
    /// Treat every input line as a raw payload, as ingest hands it on.
    #[arg(long)]
    pub raw: bool,
    /// Compare with this golden file; print a diff and exit 1 on mismatch.
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// With `--expect`: write the golden file instead of comparing.
    #[arg(long, requires = "expect")]
    pub update: bool,
    /// Tenant the instance serves.
    #[arg(long, default_value = "test")]
    pub tenant: String,
    /// Events per batch call.
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Memory cap in MiB (production default 64).
    #[arg(long)]
    pub memory_mb: Option<usize>,
    /// Time budget per batch in ms (production default 100).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
}

/// Run the command; returns the process exit code.
pub fn run(args: &PluginTestArgs) -> anyhow::Result<i32> {
    let runtime = Arc::new(PluginRuntime::new(RuntimeOptions::default())?);
    let plugin = runtime.load_file(&args.plugin)?;
    let config_json = match &args.config {
        Some(path) => config_to_json(path)?,
        None => "{}".to_owned(),
    };
    let raw = args.raw || args.input.extension().is_some_and(|e| e == "raw");
    let events = read_events(&args.input, raw, &args.tenant)?;

    let mut limits = StepLimits::default();
    if let Some(mb) = args.memory_mb {
        limits.memory_bytes = mb << 20;
    }
    if let Some(ms) = args.timeout_ms {
        limits.deadline = Duration::from_millis(ms);
    }
    let context = InitContext {
        tenant: args.tenant.clone(),
        pipeline: "plugin-test".to_owned(),
        step: plugin.info.name.clone(),
    };
    let mut step = StepRunner::with_captured_logs(
        runtime.clone(),
        plugin.clone(),
        context,
        config_json,
        limits,
    )?;

    let mut lines = Vec::new();
    let mut counts = Counts::default();
    for (chunk_index, chunk) in events.chunks(args.batch_size.max(1)).enumerate() {
        let output = step.run(chunk);
        for (offset, (input, outcome)) in chunk.iter().zip(output.outcomes).enumerate() {
            let line = chunk_index * args.batch_size.max(1) + offset + 1;
            lines.push(outcome_line(line, input, outcome, &mut counts));
        }
        for alert in &output.alerts {
            counts.alerts += 1;
            lines.push(json!({ "alert": alert_to_json(alert) }));
        }
        for merge in &output.merges {
            lines.push(json!({ "merge": {
                "old": format_fingerprint(merge.old),
                "new": format_fingerprint(merge.new),
                "template": merge.template,
            }}));
        }
        for (level, message) in step.take_logs() {
            eprintln!("[plugin {level:?}] {message}");
        }
    }
    let rendered: String = lines.iter().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "{line}");
        out
    });
    eprintln!(
        "{}: {} events: {} passed, {} kept, {} dropped, {} dead letters, {} alerts",
        plugin.label(),
        events.len(),
        counts.pass,
        counts.keep,
        counts.drop,
        counts.dead,
        counts.alerts
    );

    let Some(expect) = &args.expect else {
        print!("{rendered}");
        return Ok(0);
    };
    if args.update {
        std::fs::write(expect, &rendered)
            .with_context(|| format!("cannot write {}", expect.display()))?;
        eprintln!("wrote {}", expect.display());
        return Ok(0);
    }
    let expected = std::fs::read_to_string(expect)
        .with_context(|| format!("cannot read {}", expect.display()))?;
    let expected = parse_lines(&expected, expect)?;
    if expected == lines {
        eprintln!("ok: output matches {}", expect.display());
        return Ok(0);
    }
    let expected: String = expected.iter().map(|line| format!("{line}\n")).collect();
    let diff = similar::TextDiff::from_lines(&expected, &rendered);
    print!(
        "{}",
        diff.unified_diff()
            .context_radius(2)
            .header(&expect.display().to_string(), "actual")
    );
    eprintln!("mismatch: output differs from {}", expect.display());
    Ok(1)
}

#[derive(Default)]
struct Counts {
    pass: usize,
    keep: usize,
    drop: usize,
    dead: usize,
    alerts: usize,
}

fn outcome_line(line: usize, input: &Event, outcome: StepOutcome, counts: &mut Counts) -> Json {
    match outcome {
        StepOutcome::Pass => {
            counts.pass += 1;
            json!({ "line": line, "outcome": "pass", "event": to_json(input) })
        }
        StepOutcome::Keep(event) => {
            counts.keep += 1;
            json!({ "line": line, "outcome": "keep", "event": to_json(&event) })
        }
        StepOutcome::Drop => {
            counts.drop += 1;
            json!({ "line": line, "outcome": "drop" })
        }
        StepOutcome::Failed(failure) => {
            counts.dead += 1;
            json!({ "line": line, "outcome": "dead-letter", "code": failure.code(), "error": failure.to_string() })
        }
    }
}

/// A step config file (TOML) as the JSON text `init` takes.
pub fn config_to_json(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    Ok(serde_json::to_string(&table)?)
}

/// Read input events, naming file and line on any error.
fn read_events(path: &Path, raw: bool, tenant: &str) -> anyhow::Result<Vec<Event>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read input {}", path.display()))?;
    let received = parse_time(DEFAULT_RECEIVED).unwrap_or_default();
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut event = if raw {
            let mut event = from_json(&json!({}))?;
            event.raw = Some(line.to_owned());
            event
        } else {
            let json: Json = serde_json::from_str(line)
                .with_context(|| format!("{}:{number}: not a JSON object", path.display()))?;
            match from_json(&json) {
                Ok(event) => event,
                Err(error) => bail!("{}:{number}: {error}", path.display()),
            }
        };
        if event.id.is_empty() {
            event.id = format!("e{number}");
        }
        if event.tenant.is_empty() {
            event.tenant = tenant.to_owned();
        }
        if event.received_ns == 0 {
            event.received_ns = received;
        }
        events.push(event);
    }
    Ok(events)
}

/// Read a golden file as JSON values, so key order and spacing do not matter.
fn parse_lines(text: &str, path: &Path) -> anyhow::Result<Vec<Json>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not JSON", path.display(), index + 1))
        })
        .collect()
}
