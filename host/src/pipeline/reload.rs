//! Hot reload: watch the pipeline directory and the plugin files the
//! pipelines use; on a change, reload off the hot path and publish.
//!
//! Writes come in bursts (an editor writes, renames, touches), so events are
//! gathered until the directory has been quiet for [`DEBOUNCE`]. Parent
//! directories are watched rather than files, because files are usually
//! replaced by rename, which ends a watch on the file itself.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::registry::{Registry, ReloadReport};
use crate::telemetry::{self, PipelineReloaded};

/// Quiet time after the last file event before reloading. Short enough to
/// keep write-to-serving well under 100 ms, long enough to see a whole save.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

/// A running watcher; dropping it stops watching.
pub struct ReloadWatcher {
    stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ReloadWatcher {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Start watching; `on_reload` sees every reload's report.
pub fn watch(
    registry: Arc<Registry>,
    on_reload: impl Fn(&ReloadReport) + Send + 'static,
) -> notify::Result<ReloadWatcher> {
    let (events_tx, events) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = events_tx.send(event);
    })?;
    let mut watched = HashSet::new();
    refresh_watches(&mut watcher, &registry, &mut watched);
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sluice-reload".into())
        .spawn(move || {
            loop {
                if stopped.try_recv().is_ok() {
                    return;
                }
                match events.recv_timeout(Duration::from_millis(200)) {
                    Ok(Ok(event)) if relevant(&event, &registry) => {}
                    Ok(_) => continue,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                let first = Instant::now();
                // Gather the rest of the burst.
                while let Ok(_more) = events.recv_timeout(DEBOUNCE) {}
                let report = registry.reload();
                telemetry::emit(PipelineReloaded {
                    report: &report,
                    elapsed: first.elapsed(),
                });
                on_reload(&report);
                refresh_watches(&mut watcher, &registry, &mut watched);
            }
        })
        .map_err(notify::Error::io)?;
    Ok(ReloadWatcher {
        stop,
        thread: Some(thread),
    })
}

fn relevant(event: &notify::Event, registry: &Registry) -> bool {
    if event.kind.is_access() {
        return false;
    }
    let plugins = registry.plugin_paths();
    event.paths.iter().any(|path| {
        path.parent() == Some(registry.dir()) && path.extension().is_some_and(|e| e == "toml")
            || plugins.iter().any(|p| same_file(p, path))
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || a.file_name() == b.file_name()
            && a.canonicalize()
                .ok()
                .zip(b.parent().and_then(|p| p.canonicalize().ok()))
                .is_some_and(|(a, bp)| a.parent() == Some(bp.as_path()))
}

fn refresh_watches(
    watcher: &mut RecommendedWatcher,
    registry: &Registry,
    watched: &mut HashSet<PathBuf>,
) {
    let mut wanted: HashSet<PathBuf> = registry
        .plugin_paths()
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    wanted.insert(registry.dir().to_path_buf());
    for dir in wanted.difference(&watched.clone()) {
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                watched.insert(dir.clone());
            }
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot watch for changes"),
        }
    }
    for dir in watched.clone().difference(&wanted) {
        let _ = watcher.unwatch(dir);
        watched.remove(dir);
    }
}
