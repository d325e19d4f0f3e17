//! `sluice check [DIR]`: validate every pipeline file and every plugin it
//! names (load, compile, run `init` with the step's config) without starting
//! anything; list every problem.

use std::path::Path;
use std::sync::Arc;

use super::load::{self, LoadedPipeline, PluginDirs};
use super::spec::SpecError;
use crate::runtime::PluginRuntime;

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Pipelines that load, with their step count.
    pub ok: Vec<(String, usize)>,
    /// Every problem, located.
    pub errors: Vec<SpecError>,
}

/// Check every `*.toml` in `dir`.
pub fn check_dir(
    runtime: &Arc<PluginRuntime>,
    dir: &Path,
    plugin_dirs: &PluginDirs,
) -> CheckReport {
    let mut report = CheckReport::default();
    let files = match load::pipeline_files(dir) {
        Ok(files) => files,
        Err(e) => {
            report.errors.push(SpecError {
                file: dir.display().to_string(),
                line: 1,
                column: 1,
                field: "(directory)".into(),
                message: format!("cannot read: {e}"),
            });
            return report;
        }
    };
    let mut loaded: Vec<LoadedPipeline> = Vec::new();
    for path in files {
        match load::load_file(runtime, plugin_dirs, &path, None) {
            Ok(pipeline) => loaded.push(pipeline),
            Err(errors) => report.errors.extend(errors),
        }
    }
    let conflicts = load::cross_check(&loaded.iter().collect::<Vec<_>>());
    for pipeline in &loaded {
        match conflicts.get(&pipeline.path) {
            Some(conflict) => report.errors.push(conflict.clone()),
            None => report
                .ok
                .push((pipeline.name.clone(), pipeline.steps.len())),
        }
    }
    if loaded.iter().all(|p| !p.spec.pipeline.default) && !loaded.is_empty() {
        tracing::warn!(
            "no default pipeline: tenants without a pipeline of their own will have their events dead-lettered"
        );
    }
    report
}
