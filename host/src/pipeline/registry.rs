//! The live set of pipelines, swapped atomically.
//!
//! Workers read a [`Snapshot`] per batch (one atomic load); a reload builds
//! the next snapshot off the hot path and publishes it in one store, so a
//! batch runs entirely under one version. Versions come from one counter for
//! the whole registry, so the versions a tenant sees only ever go up, even
//! when it moves between pipelines or is rolled back. An invalid change keeps
//! the file's previous version serving and records the error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::load::{self, LoadedPipeline, PluginDirs, PreparedStep};
use super::spec::{Sinks, SpecError};
use crate::runtime::PluginRuntime;

/// Versions kept per pipeline for rollback.
const HISTORY: usize = 16;

/// A pipeline at one version: what chains are built from.
#[derive(Debug)]
pub struct Pipeline {
    /// Name.
    pub name: String,
    /// Version, unique across the registry and increasing.
    pub version: u64,
    /// The file it came from.
    pub path: PathBuf,
    /// Hash of file and plugins.
    pub content_hash: String,
    /// Tenants it serves by name.
    pub tenants: Vec<String>,
    /// Whether it serves tenants without a pipeline of their own.
    pub is_default: bool,
    /// The chain.
    pub steps: Vec<PreparedStep>,
    /// Where results go.
    pub sinks: Sinks,
    /// When this version was published (ns).
    pub published_ns: i64,
    /// Set when this version is a rollback: the version it restores.
    pub restores: Option<u64>,
}

/// The pipelines in force at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    pipelines: HashMap<String, Arc<Pipeline>>,
    by_tenant: HashMap<String, String>,
    default: Option<String>,
    pins: HashMap<String, Arc<Pipeline>>,
}

impl Snapshot {
    /// The pipeline serving `tenant`: a rollback pin, its own pipeline, or
    /// the default.
    pub fn for_tenant(&self, tenant: &str) -> Option<Arc<Pipeline>> {
        if let Some(pinned) = self.pins.get(tenant) {
            return Some(pinned.clone());
        }
        let name = self.by_tenant.get(tenant).or(self.default.as_ref())?;
        self.pipelines.get(name).cloned()
    }

    /// Every pipeline in force, by name.
    pub fn pipelines(&self) -> impl Iterator<Item = &Arc<Pipeline>> {
        self.pipelines.values()
    }
}

/// Health of one pipeline file, for `/v1/pipelines` and metrics.
#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    /// The file.
    pub file: String,
    /// Pipeline name, once known.
    pub pipeline: Option<String>,
    /// Version serving from this file, if any.
    pub serving_version: Option<u64>,
    /// Problems of the file's latest content; empty when it is in force.
    pub errors: Vec<String>,
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Pipelines published at a new version.
    pub published: Vec<(String, u64)>,
    /// Pipelines removed with their file.
    pub removed: Vec<String>,
    /// Problems; affected files keep their previous version.
    pub errors: Vec<SpecError>,
}

/// Why a rollback could not happen.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RollbackError {
    /// The tenant has no pipeline.
    #[error("tenant `{0}` has no pipeline")]
    NoPipeline(String),
    /// Nothing older to go back to.
    #[error("pipeline `{0}` has no earlier version to roll back to")]
    NoEarlierVersion(String),
}

#[derive(Default)]
struct State {
    next_version: u64,
    /// Per file: its last good pipeline and its latest errors.
    files: HashMap<PathBuf, FileEntry>,
    /// Per pipeline name: published versions, oldest first.
    history: HashMap<String, Vec<Arc<Pipeline>>>,
    pins: HashMap<String, Arc<Pipeline>>,
}

struct FileEntry {
    serving: Option<Arc<Pipeline>>,
    errors: Vec<SpecError>,
}

/// Persisted across restarts so versions keep increasing.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    next_version: u64,
    /// content hash → version, so an unchanged pipeline keeps its version.
    versions: HashMap<String, u64>,
}

/// The live pipelines of one directory.
pub struct Registry {
    runtime: Arc<PluginRuntime>,
    dir: PathBuf,
    plugin_dirs: PluginDirs,
    state_file: Option<PathBuf>,
    snapshot: ArcSwap<Snapshot>,
    state: Mutex<State>,
    persisted: Mutex<Persisted>,
}

impl Registry {
    /// A registry over `dir`; call [`Self::reload`] to load it.
    pub fn new(
        runtime: Arc<PluginRuntime>,
        dir: PathBuf,
        plugin_dirs: PluginDirs,
        state_file: Option<PathBuf>,
    ) -> Self {
        let persisted: Persisted = state_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            runtime,
            dir,
            plugin_dirs,
            state_file,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            state: Mutex::new(State {
                next_version: persisted.next_version.max(1),
                ..State::default()
            }),
            persisted: Mutex::new(persisted),
        }
    }

    /// The pipeline directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pipelines in force now (one atomic load).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Re-read every file; publish what changed and is valid.
    pub fn reload(&self) -> ReloadReport {
        let mut report = ReloadReport::default();
        let files = match load::pipeline_files(&self.dir) {
            Ok(files) => files,
            Err(e) => {
                report.errors.push(SpecError {
                    file: self.dir.display().to_string(),
                    line: 1,
                    column: 1,
                    field: "(directory)".into(),
                    message: format!("cannot read the pipeline directory: {e}"),
                });
                return report;
            }
        };
        let mut state = self.state.lock();
        // Load every file; unchanged content keeps its version.
        let mut candidates: HashMap<PathBuf, Result<LoadedPipeline, Vec<SpecError>>> =
            HashMap::new();
        for path in &files {
            let known = state
                .files
                .get(path)
                .and_then(|e| e.serving.as_ref())
                .map(|p| p.content_hash.clone());
            candidates.insert(
                path.clone(),
                load::load_file(&self.runtime, &self.plugin_dirs, path, known.as_deref()),
            );
        }
        // Files that vanished take their pipeline with them.
        let vanished: Vec<PathBuf> = state
            .files
            .keys()
            .filter(|p| !files.contains(p))
            .cloned()
            .collect();
        for path in vanished {
            if let Some(entry) = state.files.remove(&path)
                && let Some(serving) = entry.serving
            {
                report.removed.push(serving.name.clone());
            }
        }
        // Cross-file conflicts among what would be in force.
        let conflicts = {
            let would_serve: Vec<&LoadedPipeline> = candidates
                .values()
                .filter_map(|c| c.as_ref().ok())
                .collect();
            load::cross_check(&would_serve)
        };
        for path in &files {
            let outcome = match candidates.remove(path) {
                Some(Ok(loaded)) => match conflicts.get(path) {
                    Some(conflict) => Err(vec![conflict.clone()]),
                    None => Ok(loaded),
                },
                Some(Err(errors)) => Err(errors),
                None => continue,
            };
            let state = &mut *state;
            let entry = state.files.entry(path.clone()).or_insert(FileEntry {
                serving: None,
                errors: Vec::new(),
            });
            match outcome {
                Ok(loaded) => {
                    entry.errors.clear();
                    let unchanged = entry
                        .serving
                        .as_ref()
                        .is_some_and(|p| p.content_hash == loaded.content_hash);
                    if unchanged {
                        continue;
                    }
                    let version = self.version_for(&loaded.content_hash, &mut state.next_version);
                    let pipeline = Arc::new(to_pipeline(loaded, version, None));
                    report.published.push((pipeline.name.clone(), version));
                    entry.serving = Some(pipeline.clone());
                    // A new deploy supersedes rollbacks of this pipeline.
                    state.pins.retain(|_, pinned| pinned.name != pipeline.name);
                    let history = state.history.entry(pipeline.name.clone()).or_default();
                    history.push(pipeline);
                    if history.len() > HISTORY {
                        history.remove(0);
                    }
                }
                Err(errors) => {
                    entry.errors = errors.clone();
                    report.errors.extend(errors);
                }
            }
        }
        self.publish(&state);
        self.persist(&state);
        report
    }

    /// Roll `tenant` back to the version before the one serving it. The
    /// old content is republished under a new version number (versions only
    /// go up) and stays pinned for this tenant until its pipeline changes.
    pub fn rollback(&self, tenant: &str) -> Result<Arc<Pipeline>, RollbackError> {
        let mut state = self.state.lock();
        let current = self
            .snapshot()
            .for_tenant(tenant)
            .ok_or_else(|| RollbackError::NoPipeline(tenant.to_owned()))?;
        let history = state
            .history
            .get(&current.name)
            .cloned()
            .unwrap_or_default();
        // The newest version older than what serves now, with other content.
        let target = history
            .iter()
            .rev()
            .filter(|p| p.version < current.restores.unwrap_or(current.version))
            .find(|p| p.content_hash != current.content_hash)
            .cloned()
            .ok_or_else(|| RollbackError::NoEarlierVersion(current.name.clone()))?;
        let version = state.next_version;
        state.next_version += 1;
        let restored = Arc::new(Pipeline {
            name: target.name.clone(),
            version,
            path: target.path.clone(),
            content_hash: target.content_hash.clone(),
            tenants: target.tenants.clone(),
            is_default: target.is_default,
            steps: target.steps.clone(),
            sinks: target.sinks.clone(),
            published_ns: now_ns(),
            restores: Some(target.restores.unwrap_or(target.version)),
        });
        state.pins.insert(tenant.to_owned(), restored.clone());
        self.publish(&state);
        self.persist(&state);
        tracing::info!(tenant, pipeline = %restored.name, version, restores = ?restored.restores, "pipeline rolled back for tenant");
        Ok(restored)
    }

    /// Health of every file.
    pub fn status(&self) -> Vec<FileStatus> {
        let state = self.state.lock();
        let mut out: Vec<FileStatus> = state
            .files
            .iter()
            .map(|(path, entry)| FileStatus {
                file: path.display().to_string(),
                pipeline: entry.serving.as_ref().map(|p| p.name.clone()),
                serving_version: entry.serving.as_ref().map(|p| p.version),
                errors: entry.errors.iter().map(ToString::to_string).collect(),
            })
            .collect();
        out.sort_by(|a, b| a.file.cmp(&b.file));
        out
    }

    /// Versions published for a pipeline, oldest first.
    pub fn history(&self, name: &str) -> Vec<Arc<Pipeline>> {
        self.state
            .lock()
            .history
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// Plugin files the pipelines in force read (watched for changes).
    pub fn plugin_paths(&self) -> Vec<PathBuf> {
        let snapshot = self.snapshot();
        let mut paths: Vec<PathBuf> = snapshot
            .pipelines()
            .flat_map(|p| p.steps.iter().map(|s| s.plugin_path.clone()))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    fn version_for(&self, content_hash: &str, next: &mut u64) -> u64 {
        let mut persisted = self.persisted.lock();
        // Same content as a version published before a restart keeps its number,
        // unless newer versions were published since (versions never go down).
        if let Some(&version) = persisted.versions.get(content_hash)
            && version + 1 >= *next
        {
            return version;
        }
        let version = *next;
        *next += 1;
        persisted.versions.insert(content_hash.to_owned(), version);
        version
    }

    fn publish(&self, state: &State) {
        let mut snapshot = Snapshot::default();
        for entry in state.files.values() {
            let Some(pipeline) = &entry.serving else {
                continue;
            };
            for tenant in &pipeline.tenants {
                snapshot
                    .by_tenant
                    .insert(tenant.clone(), pipeline.name.clone());
            }
            if pipeline.is_default {
                snapshot.default = Some(pipeline.name.clone());
            }
            snapshot
                .pipelines
                .insert(pipeline.name.clone(), pipeline.clone());
        }
        snapshot.pins = state.pins.clone();
        self.snapshot.store(Arc::new(snapshot));
    }

    fn persist(&self, state: &State) {
        let Some(path) = &self.state_file else { return };
        let mut persisted = self.persisted.lock();
        persisted.next_version = state.next_version;
        // Keep the map small: only hashes still in history.
        let live: std::collections::HashSet<&str> = state
            .history
            .values()
            .flatten()
            .map(|p| p.content_hash.as_str())
            .collect();
        persisted
            .versions
            .retain(|hash, _| live.contains(hash.as_str()));
        if let Ok(bytes) = serde_json::to_vec_pretty(&*persisted) {
            let tmp = path.with_extension("tmp");
            if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)) {
                tracing::warn!(path = %path.display(), error = %e, "cannot persist pipeline versions");
            }
        }
    }
}

fn to_pipeline(loaded: LoadedPipeline, version: u64, restores: Option<u64>) -> Pipeline {
    Pipeline {
        name: loaded.name,
        version,
        path: loaded.path,
        content_hash: loaded.content_hash,
        tenants: loaded.spec.pipeline.tenant_names().to_vec(),
        is_default: loaded.spec.pipeline.default,
        steps: loaded.steps,
        sinks: loaded.spec.sinks,
        published_ns: now_ns(),
        restores,
    }
}

/// Now, in ns since the epoch.
pub fn now_ns() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}
