//! Pipelines: per-tenant chains of plugin steps, described in TOML files.
//!
//! In: the pipeline directory and the plugin components it names. Out: a
//! [`registry::Snapshot`] telling each batch which pipeline version runs it,
//! swapped atomically on every valid change; invalid changes keep the
//! running version and surface their errors.
//!
//! - [`spec`]: the file format and its located errors.
//! - [`load`]: files → checked, compiled, initialised pipelines.
//! - [`registry`]: the live set, versions, rollback.
//! - [`reload`]: the file watcher.
//! - [`check`]: `sluice check`.

pub mod check;
pub mod load;
pub mod registry;
pub mod reload;

pub use sluice_formats::pipeline as spec;

pub use load::{PluginDirs, PreparedStep};
pub use registry::{Pipeline, Registry, Snapshot};
