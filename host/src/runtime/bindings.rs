//! The host's one binding of `plugin-sdk/wit`: every host module uses the
//! event, outcome and alert types generated here, never copies of them.

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit",
    world: "plugin",
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
});

pub use self::exports::sluice::plugin::handler::Guest as HandlerExports;
pub use self::sluice::plugin::log::LogLevel;
pub use self::sluice::plugin::types::{
    Alert, Attribute, BatchResult, Event, FingerprintMerge, InitContext, Level, Outcome,
    PluginInfo, Severity, Value,
};

/// The WIT package this host implements, as written in `sluice.wit`.
pub const ABI_PACKAGE: &str = "sluice:plugin";

/// Version of that package. A plugin built against another major version is
/// refused at load.
pub const ABI_VERSION: &str = "1.0.0";

/// The export every plugin must provide, without its version suffix.
pub const HANDLER_EXPORT: &str = "sluice:plugin/handler";
