//! Write a Sluice plugin in plain Rust.
//!
//! A plugin is one function under `#[plugin]`:
//!
//! ```
//! use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};
//!
//! #[plugin]
//! fn process(event: &mut Event) -> Result<Verdict, PluginError> {
//!     if event.message.ends_with(' ') {
//!         event.message.truncate(event.message.trim_end().len());
//!         return Ok(Verdict::Changed);
//!     }
//!     Ok(Verdict::Unchanged)
//! }
//! ```
//!
//! A plugin changes the event in place and says whether it did: the SDK
//! reads every event of a batch into the same [`Event`], reusing its
//! strings, and sends back only the events that changed, so a plugin that
//! reads more than it writes does not pay for copies it never needed.
//!
//! or, when it keeps state or emits alerts, one [`Plugin`] impl exported with
//! [`export_plugin!`]. Either way the same code compiles natively, so its logic
//! is unit tested with `cargo test` through [`testing::Harness`], and compiles to
//! a `wasm32-wasip2` component that the Sluice host runs in a sandbox.
//!
//! The WIT contract (`wit/sluice.wit`) is bound here once; its types are
//! re-exported at the crate root and plugin authors never touch the bindings.
#![deny(missing_docs)]

extern crate self as sluice_plugin_sdk;

mod event;
mod export;
pub mod log;
pub mod testing;

use std::fmt;

pub use sluice_plugin_sdk_macros::plugin;

/// Generated bindings of `wit/sluice.wit`. Not part of the public API: use the
/// re-exports at the crate root.
#[doc(hidden)]
#[allow(missing_docs, clippy::all, unsafe_op_in_unsafe_fn)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_bindings",
        default_bindings_module: "::sluice_plugin_sdk::bindings",
        additional_derives: [PartialEq, Clone],
        // `event`, `outcome` and `batch-result` cross the boundary packed,
        // so no function names them; plugin authors still work with them.
        generate_unused_types: true,
    });
}

pub use bindings::exports::sluice::plugin::handler::Guest as __Guest;
pub use bindings::sluice::plugin::types::{
    Alert, Attribute, BatchResult, Event, FingerprintMerge, InitContext, Level, Outcome,
    PluginInfo, Severity, Value,
};

/// Version of the WIT package this SDK binds (`package sluice:plugin@…`). The
/// host refuses plugins whose major version differs from its own.
pub const ABI_VERSION: &str = "1.0.0";

/// Version of this SDK, stamped into every plugin's [`PluginInfo`].
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A stateful plugin: built once per (tenant, pipeline step) from the step's
/// config, then called for every event of every batch.
///
/// Export it with [`export_plugin!`]. For a stateless plugin, the `#[plugin]`
/// attribute on a function is shorter.
pub trait Plugin: Sized + 'static {
    /// The step's TOML table, deserialised. Use
    /// `#[serde(deny_unknown_fields)]` so that a typo is a load-time error.
    type Config: serde::de::DeserializeOwned;

    /// Build an instance. An error here stops the pipeline from loading and is
    /// shown to the operator, so say which setting is wrong.
    fn new(config: Self::Config, context: &InitContext) -> Result<Self, ConfigError>;

    /// Decide one event, changing it in place. Return
    /// [`Verdict::Changed`] after any change: with [`Verdict::Unchanged`]
    /// the host keeps the event as it sent it, and the test harness panics
    /// to point at the lost change. Returning an error fails only this event
    /// (the host keeps none of the changes): it becomes a dead letter
    /// carrying the error text, and the batch goes on.
    fn process(&mut self, event: &mut Event, out: &mut Output) -> Result<Verdict, PluginError>;

    /// Called periodically by the host with the current time (nanoseconds since
    /// the Unix epoch), so windows close even when no events arrive.
    fn tick(&mut self, now_ns: i64, out: &mut Output) {
        let _ = (now_ns, out);
    }
}

/// What a plugin decided about one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The event goes on as it came in; nothing crosses back to the host.
    Unchanged,
    /// The event goes on as the plugin changed it.
    Changed,
    /// The event leaves the stream on purpose.
    Drop,
}

/// Config for a plugin that takes none: any key in the step's table is an error.
#[derive(Debug, Default, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

/// What a plugin emits besides its per-event outcomes.
#[derive(Debug, Default)]
pub struct Output {
    pub(crate) alerts: Vec<Alert>,
    pub(crate) merges: Vec<FingerprintMerge>,
}

impl Output {
    /// Raise an alert; the host turns it into an incident and notifications.
    pub fn alert(&mut self, alert: Alert) {
        self.alerts.push(alert);
    }

    /// Report that fingerprint `old` generalised into `new`, so stores can merge
    /// what they hold under `old`.
    pub fn merge(&mut self, old: u64, new: u64, template: impl Into<String>) {
        self.merges.push(FingerprintMerge {
            old,
            new,
            template: template.into(),
        });
    }
}

/// Why one event could not be processed. Converts from any error with `?`.
pub struct PluginError(String);

impl PluginError {
    /// An error with this text.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl<E: std::error::Error> From<E> for PluginError {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Why a step's config was refused at load time.
pub struct ConfigError(String);

impl ConfigError {
    /// An error with this text; name the offending setting.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl<E: std::error::Error> From<E> for ConfigError {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Machinery behind [`export_plugin!`] and `#[plugin]`; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::sluice::plugin::types::{PackedEvents, PackedResult};
    pub use crate::export::Instance;
}
