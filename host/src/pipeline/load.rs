//! Turn pipeline files into pipelines ready to run: parse, resolve and load
//! every plugin (compiled once, cached by content), check pins, and run each
//! step's `init` once with its config so a bad config is caught here, off
//! the hot path, never on the first event.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::spec::{self, PipelineFile, SpecError};
use crate::runtime::{CompiledPlugin, InitContext, PluginRuntime, StepLimits, StepRunner};

/// Where plugins named by name (not path) are looked up, in order.
#[derive(Debug, Clone, Default)]
pub struct PluginDirs(pub Vec<PathBuf>);

impl PluginDirs {
    /// The component a step names: a path (relative to the pipeline file)
    /// when it contains `/` or ends in `.wasm`, else `NAME.wasm` in the first
    /// plugin directory that has it.
    pub fn resolve(&self, pipeline_file: &Path, plugin: &str) -> Result<PathBuf, String> {
        if plugin.contains('/') || plugin.ends_with(".wasm") {
            let base = pipeline_file.parent().unwrap_or(Path::new("."));
            let path = base.join(plugin);
            return if path.exists() {
                Ok(path)
            } else {
                Err(format!("plugin file {} does not exist", path.display()))
            };
        }
        for dir in &self.0 {
            let path = dir.join(format!("{plugin}.wasm"));
            if path.exists() {
                return Ok(path);
            }
        }
        let searched: Vec<String> = self.0.iter().map(|d| d.display().to_string()).collect();
        Err(format!(
            "no plugin `{plugin}` in {} (build the plugins with `cargo xtask plugins`)",
            if searched.is_empty() {
                "any plugin directory".to_owned()
            } else {
                searched.join(", ")
            }
        ))
    }
}

/// One step, ready to instantiate for any tenant.
#[derive(Debug, Clone)]
pub struct PreparedStep {
    /// Step name.
    pub name: String,
    /// The compiled plugin.
    pub plugin: Arc<CompiledPlugin>,
    /// Where the component was read from (watched for changes).
    pub plugin_path: PathBuf,
    /// The step's config as the JSON text `init` takes.
    pub config_json: String,
    /// The step's limits.
    pub limits: StepLimits,
}

/// A pipeline file, loaded and checked.
#[derive(Debug, Clone)]
pub struct LoadedPipeline {
    /// Pipeline name.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Hash of the file and of every plugin it uses: a change in either is a
    /// new version.
    pub content_hash: String,
    /// The parsed file.
    pub spec: PipelineFile,
    /// The chain.
    pub steps: Vec<PreparedStep>,
}

/// Load one pipeline file; every problem found is returned, located. When
/// the content (file and plugins) hashes to `known_hash`, the steps' `init`
/// is not run again: it passed when that content was first loaded.
pub fn load_file(
    runtime: &Arc<PluginRuntime>,
    dirs: &PluginDirs,
    path: &Path,
    known_hash: Option<&str>,
) -> Result<LoadedPipeline, Vec<SpecError>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![SpecError {
            file: shown.clone(),
            line: 1,
            column: 1,
            field: "(file)".into(),
            message: format!("cannot read: {e}"),
        }]
    })?;
    let spec = spec::parse(&shown, &text).map_err(|e| vec![e])?;
    let name = spec.name(path);
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    for (index, step) in spec.steps.iter().enumerate() {
        let at = |field: &str| format!("steps[{index}].{field}");
        let plugin_span = Some(step.plugin.span());
        let plugin_path = match dirs.resolve(path, step.plugin.get_ref()) {
            Ok(p) => p,
            Err(message) => {
                errors.push(spec::locate(
                    &shown,
                    &text,
                    &at("plugin"),
                    plugin_span,
                    &message,
                ));
                continue;
            }
        };
        let plugin = match runtime.load_file(&plugin_path) {
            Ok(p) => p,
            Err(error) => {
                errors.push(spec::locate(
                    &shown,
                    &text,
                    &at("plugin"),
                    plugin_span,
                    &error.to_string(),
                ));
                continue;
            }
        };
        if let Some(pin) = &step.sha256
            && !pin.get_ref().eq_ignore_ascii_case(&plugin.sha256)
        {
            errors.push(spec::locate(
                &shown,
                &text,
                &at("sha256"),
                Some(pin.span()),
                &format!(
                    "pinned to {} but {} has {}",
                    pin.get_ref(),
                    plugin_path.display(),
                    plugin.sha256
                ),
            ));
            continue;
        }
        if let Some(pin) = &step.version
            && pin.get_ref() != &plugin.info.version
        {
            errors.push(spec::locate(
                &shown,
                &text,
                &at("version"),
                Some(pin.span()),
                &format!(
                    "pinned to {} but {} is {}",
                    pin.get_ref(),
                    plugin_path.display(),
                    plugin.label()
                ),
            ));
            continue;
        }
        hasher.update(plugin.sha256.as_bytes());
        steps.push(PreparedStep {
            name: step.name(),
            plugin,
            plugin_path,
            config_json: step.config_json(),
            limits: step.limits(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let content_hash = hex::encode(hasher.finalize());
    if known_hash != Some(content_hash.as_str()) {
        // Run each step's `init` once with its config, as the operator's check.
        for (index, (prepared, step)) in steps.iter().zip(&spec.steps).enumerate() {
            let probe = StepRunner::new(
                runtime.clone(),
                prepared.plugin.clone(),
                InitContext {
                    tenant: "(check)".into(),
                    pipeline: name.clone(),
                    step: prepared.name.clone(),
                },
                prepared.config_json.clone(),
                prepared.limits.clone(),
            );
            if let Err(error) = probe {
                let span = step.name.as_ref().map_or(step.plugin.span(), |n| n.span());
                errors.push(spec::locate(
                    &shown,
                    &text,
                    &format!("steps[{index}].config"),
                    Some(span),
                    &error.to_string(),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(LoadedPipeline {
        name,
        path: path.to_owned(),
        content_hash,
        spec,
        steps,
    })
}

/// The pipeline files of a directory (`*.toml`), sorted.
pub fn pipeline_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Problems that involve several files: a tenant claimed twice, two
/// defaults, two pipelines of one name. Returns the offending pipelines'
/// errors keyed by file.
pub fn cross_check(pipelines: &[&LoadedPipeline]) -> HashMap<PathBuf, SpecError> {
    let mut errors = HashMap::new();
    let mut tenants: HashMap<&str, &LoadedPipeline> = HashMap::new();
    let mut names: HashMap<&str, &LoadedPipeline> = HashMap::new();
    let mut default: Option<&LoadedPipeline> = None;
    let located = |p: &LoadedPipeline, field: &str, message: String| {
        let text = std::fs::read_to_string(&p.path).unwrap_or_default();
        let span = match field {
            "pipeline.tenants" => p.spec.pipeline.tenants.as_ref().map(|t| t.span()),
            _ => None,
        };
        spec::locate(&p.path.display().to_string(), &text, field, span, &message)
    };
    for pipeline in pipelines {
        if let Some(other) = names.insert(&pipeline.name, pipeline) {
            errors.insert(
                pipeline.path.clone(),
                located(
                    pipeline,
                    "pipeline.name",
                    format!(
                        "pipeline `{}` is also defined in {}",
                        pipeline.name,
                        other.path.display()
                    ),
                ),
            );
        }
        if pipeline.spec.pipeline.default {
            if let Some(other) = default {
                errors.insert(
                    pipeline.path.clone(),
                    located(
                        pipeline,
                        "pipeline.default",
                        format!("{} is already the default pipeline", other.path.display()),
                    ),
                );
            } else {
                default = Some(pipeline);
            }
        }
        for tenant in pipeline.spec.pipeline.tenant_names() {
            if let Some(other) = tenants.insert(tenant, pipeline)
                && !std::ptr::eq(other, *pipeline)
            {
                errors.insert(
                    pipeline.path.clone(),
                    located(
                        pipeline,
                        "pipeline.tenants",
                        format!(
                            "tenant `{tenant}` is already served by {}",
                            other.path.display()
                        ),
                    ),
                );
            }
        }
    }
    errors
}
