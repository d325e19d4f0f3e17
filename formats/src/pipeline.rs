//! The pipeline file format, parsed strictly: unknown keys are errors, and
//! every error names the file, line, column and field.
//!
//! ```toml
//! [pipeline]
//! name = "acme"                 # defaults to the file name
//! tenants = ["acme"]            # or `default = true` for tenants without a file
//!
//! [[steps]]
//! plugin = "normalize"          # a name in the plugin directories, or a path
//! sha256 = "…"                  # optional pin of the component's content
//! [steps.config]                # the plugin's own table
//! formats = ["json", "logfmt"]
//! [steps.limits]
//! memory_mb = 64
//! timeout_ms = 100
//!
//! [sinks]
//! logs = true
//! ```

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::limits::{QuarantinePolicy, StepLimits};

/// Largest memory cap a step may ask for. Bounds what one tenant's step can
/// take from the host.
pub const MAX_STEP_MEMORY_MB: u64 = 4096;

/// Longest time budget a step may ask for. Bounds how long one batch can
/// hold a worker.
pub const MAX_STEP_TIMEOUT_MS: u64 = 60_000;

/// Longest retention a pipeline may set (100 years): a guard against typos
/// that overflow time arithmetic, not a policy.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// A problem in a pipeline file, located precisely.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {field}: {message}")]
pub struct SpecError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted path of the offending field (`steps[1].limits.memory_mb`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// A pipeline file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Who the pipeline serves.
    pub pipeline: Header,
    /// The chain, in order.
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// Where results go.
    #[serde(default)]
    pub sinks: Sinks,
}

/// The `[pipeline]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Pipeline name; defaults to the file stem.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Tenants this pipeline serves.
    #[serde(default)]
    pub tenants: Option<Spanned<Vec<String>>>,
    /// Serve every tenant without a pipeline of its own.
    #[serde(default)]
    pub default: bool,
    /// Free text for operators.
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[[steps]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Step name, unique in the pipeline; defaults to the plugin name.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// Plugin: a name looked up in the plugin directories
    /// (`normalize` → `normalize.wasm`), or a path (relative to this file).
    pub plugin: Spanned<String>,
    /// Pin: the component's SHA-256 must equal this.
    #[serde(default)]
    pub sha256: Option<Spanned<String>>,
    /// Pin: the plugin's reported version must equal this.
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// The plugin's own config table, handed to its `init`.
    #[serde(default)]
    pub config: toml::Table,
    /// Resource limits and fault policy.
    #[serde(default)]
    pub limits: LimitsSpec,
}

/// `[steps.limits]`: every field optional, defaults are the runtime's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Linear-memory cap per instance, MiB (default 64).
    pub memory_mb: Option<Spanned<u64>>,
    /// Time budget per batch, ms (default 100).
    pub timeout_ms: Option<Spanned<u64>>,
    /// Faults per minute before the step is quarantined for a tenant (default 5; 0 never).
    pub faults_per_minute: Option<u32>,
    /// Seconds a quarantine lasts (default 60).
    pub cooldown_s: Option<u64>,
    /// What happens to events while quarantined: `dead-letter` (default) or `skip`.
    pub on_quarantine: Option<QuarantinePolicy>,
}

/// `[sinks]`: where a pipeline's results go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sinks {
    /// Store processed events in the log store.
    #[serde(default = "yes")]
    pub logs: bool,
    /// Turn alerts into incidents.
    #[serde(default = "yes")]
    pub incidents: bool,
    /// Keep daily and weekly aggregates (signals).
    #[serde(default = "yes")]
    pub signals: bool,
    /// Keep events that fail as dead letters (otherwise they are counted and dropped).
    #[serde(default = "yes")]
    pub dead_letters: bool,
    /// Keep this tenant's processed events this many days (by event time);
    /// unset keeps them until the operator removes them.
    #[serde(default)]
    pub retention_days: Option<Spanned<u32>>,
    /// Webhooks told about incident changes.
    #[serde(default)]
    pub notify: Vec<NotifyTarget>,
}

/// `[[sinks.notify]]`: one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyTarget {
    /// `http://` or `https://` address.
    pub url: Spanned<String>,
    /// Body shape: `json` (default) or `slack` (incoming-webhook text).
    #[serde(default)]
    pub format: NotifyFormat,
    /// Key for the `X-Sluice-Signature` HMAC; unsigned without one.
    #[serde(default)]
    pub secret: Option<String>,
    /// Which changes to send (default: all but `updated`).
    #[serde(default)]
    pub on: Option<Vec<IncidentChangeKind>>,
}

impl NotifyTarget {
    /// Whether this target wants changes of `kind`.
    pub fn wants(&self, kind: IncidentChangeKind) -> bool {
        match &self.on {
            Some(kinds) => kinds.contains(&kind),
            None => kind != IncidentChangeKind::Updated,
        }
    }
}

/// Kinds of incident change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentChangeKind {
    /// A new incident.
    Created,
    /// A resolved incident fired again.
    Reopened,
    /// An alert was folded into an open incident.
    Updated,
    /// Acknowledged.
    Acknowledged,
    /// Assigned (or unassigned).
    Assigned,
    /// Resolved.
    Resolved,
}

/// Webhook body shapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// `{"type": "incident.created", "tenant": …, "incident": {…}}`.
    #[default]
    Json,
    /// `{"text": "…"}` for Slack incoming webhooks.
    Slack,
}

fn yes() -> bool {
    true
}

impl Default for Sinks {
    fn default() -> Self {
        Self {
            logs: true,
            incidents: true,
            signals: true,
            dead_letters: true,
            retention_days: None,
            notify: Vec::new(),
        }
    }
}

/// Parse a pipeline file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<PipelineFile, SpecError> {
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|error| locate(file, text, "(file)", error.span(), error.message()))?;
    let parsed: Result<PipelineFile, _> = serde_path_to_error::deserialize(deserializer);
    let spec = parsed.map_err(|error| {
        let path = error
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        let inner = error.into_inner();
        locate(file, text, &path, inner.span(), inner.message())
    })?;
    validate(file, text, &spec)?;
    Ok(spec)
}

impl PipelineFile {
    /// The pipeline's name: its own, or the file stem.
    pub fn name(&self, path: &Path) -> String {
        match &self.pipeline.name {
            Some(name) => name.get_ref().clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".to_owned()),
        }
    }
}

impl Header {
    /// The tenants named, if any.
    pub fn tenant_names(&self) -> &[String] {
        self.tenants
            .as_ref()
            .map_or(&[], |t| t.get_ref().as_slice())
    }
}

impl StepSpec {
    /// The step's name: its own, or the plugin's file stem.
    pub fn name(&self) -> String {
        match &self.name {
            Some(name) => name.get_ref().clone(),
            None => Path::new(self.plugin.get_ref())
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.plugin.get_ref().clone()),
        }
    }

    /// The step's limits, with the runtime's defaults where unset.
    pub fn limits(&self) -> StepLimits {
        let mut limits = StepLimits::default();
        let spec = &self.limits;
        if let Some(mb) = &spec.memory_mb {
            limits.memory_bytes = (*mb.get_ref() as usize) << 20;
        }
        if let Some(ms) = &spec.timeout_ms {
            limits.deadline = Duration::from_millis(*ms.get_ref());
        }
        if let Some(n) = spec.faults_per_minute {
            limits.faults_per_minute = n;
        }
        if let Some(s) = spec.cooldown_s {
            limits.cooldown = Duration::from_secs(s);
        }
        if let Some(policy) = spec.on_quarantine {
            limits.quarantine = policy;
        }
        limits
    }

    /// The plugin's config table as the JSON text `init` takes.
    pub fn config_json(&self) -> String {
        serde_json::to_string(&self.config).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Checks serde cannot express.
fn validate(file: &str, text: &str, spec: &PipelineFile) -> Result<(), SpecError> {
    let header = &spec.pipeline;
    if !header.default && header.tenant_names().is_empty() {
        return Err(locate(
            file,
            text,
            "pipeline",
            header.tenants.as_ref().map(|t| t.span()),
            "names no tenants; set `tenants = [\"…\"]` or `default = true`",
        ));
    }
    for tenant in header.tenant_names() {
        if tenant.trim().is_empty() {
            return Err(locate(
                file,
                text,
                "pipeline.tenants",
                header.tenants.as_ref().map(|t| t.span()),
                "tenant names cannot be empty",
            ));
        }
    }
    if let Some(days) = &spec.sinks.retention_days
        && !(1..=MAX_RETENTION_DAYS).contains(days.get_ref())
    {
        return Err(locate(
            file,
            text,
            "sinks.retention_days",
            Some(days.span()),
            &format!("must be between 1 and {MAX_RETENTION_DAYS}"),
        ));
    }
    for (index, target) in spec.sinks.notify.iter().enumerate() {
        let url = target.url.get_ref();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(locate(
                file,
                text,
                &format!("sinks.notify[{index}].url"),
                Some(target.url.span()),
                "must be an http:// or https:// address",
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (index, step) in spec.steps.iter().enumerate() {
        let at = |field: &str| format!("steps[{index}].{field}");
        let name = step.name();
        if !seen.insert(name.clone()) {
            let span = step.name.as_ref().map_or(step.plugin.span(), Spanned::span);
            return Err(locate(
                file,
                text,
                &at("name"),
                Some(span),
                &format!("step name `{name}` is used twice; name one of them"),
            ));
        }
        if step.plugin.get_ref().trim().is_empty() {
            return Err(locate(
                file,
                text,
                &at("plugin"),
                Some(step.plugin.span()),
                "is empty",
            ));
        }
        if let Some(sha) = &step.sha256
            && (sha.get_ref().len() != 64 || !sha.get_ref().chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(locate(
                file,
                text,
                &at("sha256"),
                Some(sha.span()),
                "must be 64 hex digits",
            ));
        }
        if let Some(mb) = &step.limits.memory_mb
            && !(1..=MAX_STEP_MEMORY_MB).contains(mb.get_ref())
        {
            return Err(locate(
                file,
                text,
                &at("limits.memory_mb"),
                Some(mb.span()),
                &format!("must be between 1 and {MAX_STEP_MEMORY_MB}"),
            ));
        }
        if let Some(ms) = &step.limits.timeout_ms
            && !(1..=MAX_STEP_TIMEOUT_MS).contains(ms.get_ref())
        {
            return Err(locate(
                file,
                text,
                &at("limits.timeout_ms"),
                Some(ms.span()),
                &format!("must be between 1 and {MAX_STEP_TIMEOUT_MS}"),
            ));
        }
    }
    Ok(())
}

/// Build an error at a byte span of the file.
pub fn locate(
    file: &str,
    text: &str,
    field: &str,
    span: Option<Range<usize>>,
    message: &str,
) -> SpecError {
    let offset = span.map_or(0, |s| s.start.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    let field = if field.is_empty() || field == "." {
        "(file)".to_owned()
    } else {
        field.to_owned()
    };
    SpecError {
        file: file.to_owned(),
        line,
        column,
        field,
        message: message.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[pipeline]
tenants = ["acme"]

[[steps]]
plugin = "normalize"
[steps.config]
formats = ["json"]
[steps.limits]
memory_mb = 32
on_quarantine = "skip"

[[steps]]
name = "scrub"
plugin = "./custom/redact.wasm"

[sinks]
logs = false
retention_days = 30
"#;

    #[test]
    fn parses_steps_limits_and_sinks() {
        let spec = parse("acme.toml", GOOD).unwrap();
        assert_eq!(spec.name(Path::new("pipelines/acme.toml")), "acme");
        assert_eq!(spec.steps.len(), 2);
        assert_eq!(spec.steps[0].name(), "normalize");
        assert_eq!(spec.steps[1].name(), "scrub");
        assert_eq!(spec.steps[0].config_json(), r#"{"formats":["json"]}"#);
        let limits = spec.steps[0].limits();
        assert_eq!(limits.memory_bytes, 32 << 20);
        assert_eq!(limits.quarantine, QuarantinePolicy::Skip);
        assert_eq!(limits.deadline, StepLimits::default().deadline);
        assert!(!spec.sinks.logs && spec.sinks.incidents);
        assert_eq!(spec.sinks.retention_days.map(|d| d.into_inner()), Some(30));
    }

    #[test]
    fn unknown_key_names_file_line_column_and_field() {
        let text = "[pipeline]\ndefault = true\n\n[[steps]]\nplugin = \"normalize\"\n[steps.limits]\nmemroy_mb = 5\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!((error.line, error.column), (7, 1));
        assert_eq!(error.field, "steps[0].limits.memroy_mb");
        assert!(
            error.message.contains("unknown field `memroy_mb`"),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("p.toml:7:1: steps[0].limits.memroy_mb: "),
            "{error}"
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text = "[pipeline]\ndefault = true\n[[steps]]\nplugin = \"x\"\n[steps.limits]\ntimeout_ms = \"fast\"\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!(error.field, "steps[0].limits.timeout_ms");
        assert_eq!(error.line, 6);
    }

    #[test]
    fn semantic_errors_are_located() {
        let text = "[pipeline]\ndefault = true\n[[steps]]\nplugin = \"x\"\n[steps.limits]\nmemory_mb = 99999\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!(
            (error.line, error.column, error.field.as_str()),
            (6, 13, "steps[0].limits.memory_mb")
        );

        let text =
            "[pipeline]\ndefault = true\n[[steps]]\nplugin = \"x\"\n[[steps]]\nplugin = \"x\"\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!((error.line, error.field.as_str()), (6, "steps[1].name"));

        let error = parse("p.toml", "[pipeline]\nname = \"x\"\n").unwrap_err();
        assert!(error.message.contains("names no tenants"), "{error}");

        let text = "[pipeline]\ndefault = true\n[[sinks.notify]]\nurl = \"ftp://x\"\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!(
            (error.line, error.field.as_str()),
            (4, "sinks.notify[0].url")
        );
        let text = "[pipeline]\ndefault = true\n[[sinks.notify]]\nurl = \"http://x\"\non = [\"exploded\"]\n";
        assert_eq!(parse("p.toml", text).unwrap_err().line, 5);

        let text = "[pipeline]\ndefault = true\n[sinks]\nretention_days = 0\n";
        let error = parse("p.toml", text).unwrap_err();
        assert_eq!(
            (error.line, error.column, error.field.as_str()),
            (4, 18, "sinks.retention_days")
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let error = parse("p.toml", "[pipeline]\ndefault = tru\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert_eq!(error.field, "(file)");
    }
}
