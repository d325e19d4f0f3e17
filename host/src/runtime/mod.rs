//! The sandboxed WebAssembly plugin runtime.
//!
//! In: plugin components (bytes or files), a step's config and limits, and
//! batches of events for one (tenant, step). Out: one outcome per event
//! (pass, keep changed, drop, or failed with a typed reason), alerts and
//! fingerprint merges. Plugins never share memory or state across tenants,
//! run within memory and time limits, and a plugin that misbehaves costs only
//! its own events.
//!
//! - [`engine`]: the process-wide engine, linker, compile cache, epoch ticker.
//! - [`instance`]: one store and instance, one bounded call at a time.
//! - [`step`]: fault isolation by bisection, recovery budget, circuit breaker.
//! - [`capacity`]: how many instances the process may hold.
//! - [`limits`]: the limits and their defaults; [`validate`]: output checks.
//! - [`pack`]: a batch packed for the boundary; [`spare`]: replaced events
//!   reused to read changed ones into.

pub mod bindings;
pub mod breaker;
pub mod capacity;
pub mod engine;
pub mod error;
pub mod host;
pub mod instance;
pub mod limits;
pub mod pack;
pub mod spare;
pub mod step;
pub mod validate;

pub use bindings::{
    Alert, Attribute, Event, FingerprintMerge, InitContext, Level, Outcome, PluginInfo, Value,
};
pub use engine::{CompiledPlugin, MemoryLayout, PluginRuntime, RuntimeOptions};
pub use error::{Failure, Fault, InitError, LoadError};
pub use instance::PluginInstance;
pub use limits::{QuarantinePolicy, StepLimits};
pub use step::{StepOutcome, StepOutput, StepRunner};
