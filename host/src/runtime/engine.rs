//! The process-wide plugin runtime: one wasmtime engine, one linker granting
//! the sandbox's imports, a compile cache keyed by content hash, and the
//! epoch ticker that enforces time budgets.
//!
//! Loading a plugin compiles it once (or reads its precompiled artefact from
//! the on-disk cache), checks its ABI version, links it into an
//! `InstancePre` and reads its identity. Everything after that — a new
//! tenant, a reload of a pipeline that names the same file — only
//! instantiates, which takes microseconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, OptLevel};

use super::bindings::{ABI_VERSION, HANDLER_EXPORT, Plugin, PluginInfo, PluginPre};
use super::capacity::{InstanceSlots, LimitSource};
use super::error::LoadError;
use super::host::HostState;
use super::limits::{EPOCH_TICK, PLUGIN_MEMORY_CAP, deadline_ticks};

/// Options for the process-wide runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Epoch tick: the granularity of time budgets.
    pub epoch_tick: Duration,
    /// Where precompiled artefacts are kept across restarts; `None` keeps
    /// them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Most plugin instances live at once; `None` derives it from the
    /// kernel's mapping limit (see [`super::capacity`]).
    pub max_instances: Option<usize>,
    /// How each instance's linear memory is laid out in address space.
    pub memory_layout: MemoryLayout,
}

/// The trade between tenants per process and plugin speed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryLayout {
    /// Each instance reserves only its memory cap (64 MiB) of address space,
    /// so tens of thousands of instances fit; compiled code checks the bounds
    /// of every memory access.
    #[default]
    Dense,
    /// Each instance reserves the whole 4 GiB a 32-bit memory can address,
    /// plus guard pages, so compiled code needs no bounds checks (measured:
    /// plugins 1.1-1.35x faster). About 30,000 instances fit in the address
    /// space, so at most about 7,500 tenants on a four-step chain.
    Fast,
}

impl MemoryLayout {
    /// Address space one instance's memory takes.
    pub fn reserved_bytes(self) -> u64 {
        match self {
            MemoryLayout::Dense => PLUGIN_MEMORY_CAP as u64 + GROWTH_RESERVE + GUARD,
            MemoryLayout::Fast => (4 << 30) + 2 * GUARD,
        }
    }
}

/// Room for growth past the cap without moving (dense layout).
const GROWTH_RESERVE: u64 = 16 << 20;
/// Guard pages after (and, fast layout, before) each memory: wasmtime's default.
const GUARD: u64 = 32 << 20;

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            epoch_tick: EPOCH_TICK,
            cache_dir: None,
            max_instances: None,
            memory_layout: MemoryLayout::Dense,
        }
    }
}

/// A plugin compiled, checked and linked, ready to instantiate for any
/// tenant. Shared by every instance built from the same bytes.
pub struct CompiledPlugin {
    /// Identity reported by the plugin itself.
    pub info: PluginInfo,
    /// Hex SHA-256 of the component bytes; pipelines may pin it.
    pub sha256: String,
    /// Where the bytes came from (a path, or a label).
    pub origin: String,
    pub(crate) pre: PluginPre<HostState>,
}

impl CompiledPlugin {
    /// `name@version`, as dead letters and logs show it.
    pub fn label(&self) -> String {
        format!("{}@{}", self.info.name, self.info.version)
    }
}

impl std::fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlugin")
            .field("info", &self.info)
            .field("sha256", &self.sha256)
            .field("origin", &self.origin)
            .finish()
    }
}

/// The shared plugin runtime. Cheap to share behind an `Arc`; all methods
/// take `&self`.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<HostState>,
    compiled: Mutex<HashMap<String, Arc<CompiledPlugin>>>,
    cache_dir: Option<PathBuf>,
    epoch_tick: Duration,
    ticker_stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
    slots: Arc<InstanceSlots>,
}

impl PluginRuntime {
    /// Build the engine and linker and start the epoch ticker.
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed)
            .memory_guard_size(GUARD)
            .max_wasm_stack(1 << 20);
        match options.memory_layout {
            // Each instance reserves only what its cap needs, so thousands of
            // instances fit in the address space; growth past it is refused.
            MemoryLayout::Dense => config
                .memory_reservation(PLUGIN_MEMORY_CAP as u64)
                .memory_reservation_for_growth(GROWTH_RESERVE),
            MemoryLayout::Fast => config
                .memory_reservation(4 << 30)
                .guard_before_linear_memory(true),
        };
        // `perf record` can name plugin functions when this is set.
        if std::env::var_os("SLUICE_WASM_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.weak();
            let stop = ticker_stop.clone();
            let tick = options.epoch_tick;
            std::thread::Builder::new()
                .name("sluice-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                })?
        };

        if let Some(dir) = &options.cache_dir {
            std::fs::create_dir_all(dir)?;
        }
        let slots = InstanceSlots::new(
            options.max_instances,
            options.memory_layout.reserved_bytes(),
        );
        match slots.limit() {
            LimitSource::Unbounded => {}
            limit => tracing::info!(
                instances = slots.capacity(),
                tenants_on_four_steps = slots.capacity() / 4,
                ?limit,
                "plugin instance capacity"
            ),
        }
        Ok(Self {
            engine,
            linker,
            compiled: Mutex::new(HashMap::new()),
            cache_dir: options.cache_dir,
            epoch_tick: options.epoch_tick,
            ticker_stop,
            ticker: Some(ticker),
            slots,
        })
    }

    /// The wasmtime engine (for stores).
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The instance slots every [`super::PluginInstance`] takes one of.
    pub fn slots(&self) -> &Arc<InstanceSlots> {
        &self.slots
    }

    /// The epoch tick this runtime enforces deadlines with.
    pub fn epoch_tick(&self) -> Duration {
        self.epoch_tick
    }

    /// Epoch ticks that make up `deadline` on this runtime.
    pub(crate) fn ticks_for(&self, deadline: Duration) -> u64 {
        deadline_ticks(deadline, self.epoch_tick)
    }

    /// Load a plugin file: compiled at most once per distinct content.
    pub fn load_file(&self, path: &Path) -> Result<Arc<CompiledPlugin>, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.load_bytes(&bytes, &path.display().to_string())
    }

    /// Load a plugin from bytes; `origin` names it in errors.
    pub fn load_bytes(&self, bytes: &[u8], origin: &str) -> Result<Arc<CompiledPlugin>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(hit) = self.compiled.lock().get(&sha256) {
            return Ok(hit.clone());
        }
        let component = self.compile(bytes, &sha256, origin)?;
        check_abi(&self.engine, &component, origin)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link {
                origin: origin.to_owned(),
                message: format!("{e:#}"),
            })?;
        let pre = PluginPre::new(pre).map_err(|e| LoadError::Link {
            origin: origin.to_owned(),
            message: format!("{e:#}"),
        })?;
        let info = super::instance::read_info(self, &pre).map_err(|message| LoadError::Info {
            origin: origin.to_owned(),
            message,
        })?;
        let plugin = Arc::new(CompiledPlugin {
            info,
            sha256: sha256.clone(),
            origin: origin.to_owned(),
            pre,
        });
        tracing::info!(plugin = %plugin.label(), sha256 = %sha256, origin, "plugin loaded");
        self.compiled.lock().insert(sha256, plugin.clone());
        Ok(plugin)
    }

    /// Compile, or reuse a precompiled artefact from the disk cache.
    fn compile(&self, bytes: &[u8], sha256: &str, origin: &str) -> Result<Component, LoadError> {
        let cached = self.cache_dir.as_ref().map(|dir| {
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&self.engine.precompile_compatibility_hash(), &mut hasher);
            let engine_hash = std::hash::Hasher::finish(&hasher);
            dir.join(format!("{sha256}-{engine_hash:016x}.cwasm"))
        });
        if let Some(path) = cached.as_ref().filter(|p| p.exists()) {
            // SAFETY: the artefact was written by `Component::serialize` of this
            // same engine configuration (the file name carries both the content
            // hash and the engine's compatibility hash) into Sluice's own cache
            // directory; wasmtime additionally validates its header.
            match unsafe { Component::deserialize_file(&self.engine, path) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached artefact")
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile {
            origin: origin.to_owned(),
            message: format!("{e:#}"),
        })?;
        if let Some(path) = cached {
            let written = component
                .serialize()
                .map_err(std::io::Error::other)
                .and_then(|artefact| {
                    let tmp = path.with_extension("tmp");
                    std::fs::write(&tmp, artefact)?;
                    std::fs::rename(&tmp, &path)
                });
            if let Err(e) = written {
                tracing::warn!(path = %path.display(), error = %e, "cannot write compiled artefact");
            }
        }
        Ok(component)
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

/// Refuse a component that does not export the handler at a compatible
/// version, before anything tries to link it.
fn check_abi(engine: &Engine, component: &Component, origin: &str) -> Result<(), LoadError> {
    let ty = component.component_type();
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let handler = exports
        .iter()
        .find_map(|name| name.strip_prefix(HANDLER_EXPORT)?.strip_prefix('@'));
    let Some(found) = handler else {
        return Err(LoadError::NotAPlugin {
            origin: origin.to_owned(),
            exports: if exports.is_empty() {
                "none".to_owned()
            } else {
                exports.join(", ")
            },
        });
    };
    let major = |v: &str| v.split('.').next().unwrap_or(v).to_owned();
    let (found_major, supported_major) = (major(found), major(ABI_VERSION));
    // Before 1.0, semver treats each minor version as breaking.
    let compatible = if found_major == "0" {
        found.split('.').take(2).eq(ABI_VERSION.split('.').take(2))
    } else {
        found_major == supported_major
    };
    if !compatible {
        return Err(LoadError::AbiMismatch {
            origin: origin.to_owned(),
            found: found.to_owned(),
            supported: ABI_VERSION.to_owned(),
            supported_major,
        });
    }
    Ok(())
}
