//! What can go wrong with a plugin, typed so that callers decide by kind and
//! metrics get a bounded `code()`.

use std::time::Duration;

/// Why a plugin file could not be loaded. Shown to the operator at load or
/// reload time; the running version, if any, keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The plugin path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component this engine can compile.
    #[error("{origin} is not a valid WebAssembly component: {message}")]
    Compile {
        /// Where the bytes came from.
        origin: String,
        /// The compiler's complaint.
        message: String,
    },
    /// A component, but not a Sluice plugin.
    #[error(
        "{origin} is not a Sluice plugin: it does not export `sluice:plugin/handler` (its exports: {exports})"
    )]
    NotAPlugin {
        /// Where the bytes came from.
        origin: String,
        /// What it does export.
        exports: String,
    },
    /// Built against an incompatible version of the plugin contract.
    #[error(
        "{origin} was built against sluice:plugin@{found}, but this host runs sluice:plugin@{supported}; rebuild the plugin with plugin SDK {supported_major}.x"
    )]
    AbiMismatch {
        /// Where the bytes came from.
        origin: String,
        /// The version the plugin exports.
        found: String,
        /// The version this host implements.
        supported: String,
        /// Its major version.
        supported_major: String,
    },
    /// It needs imports the sandbox does not grant.
    #[error("{origin} cannot be linked in the sandbox: {message}")]
    Link {
        /// Where the bytes came from.
        origin: String,
        /// The linker's complaint.
        message: String,
    },
    /// It faulted while reporting its identity.
    #[error("{origin} failed while reporting its identity: {message}")]
    Info {
        /// Where the bytes came from.
        origin: String,
        /// What went wrong.
        message: String,
    },
}

/// Why an instance could not be started.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `init` returned an error: the step's config is wrong.
    #[error("plugin {plugin} rejected its config: {message}")]
    Config {
        /// Plugin name and version.
        plugin: String,
        /// The plugin's explanation.
        message: String,
    },
    /// The plugin faulted during `init`.
    #[error("plugin {plugin} faulted during init: {fault}")]
    Fault {
        /// Plugin name and version.
        plugin: String,
        /// The fault.
        fault: Fault,
    },
    /// The process already holds all the plugin instances it may.
    #[error("plugin {plugin} could not be started: {error}")]
    Capacity {
        /// Plugin name and version.
        plugin: String,
        /// The limit, and what to raise.
        error: super::capacity::CapacityError,
    },
    /// Instantiation itself failed (for instance its memory exceeds the cap).
    #[error("plugin {plugin} could not be instantiated: {message}")]
    Instantiate {
        /// Plugin name and version.
        plugin: String,
        /// What went wrong.
        message: String,
    },
}

/// A call into a plugin that did not complete normally. The instance that
/// faulted is discarded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Fault {
    /// Interrupted at its time budget.
    #[error("exceeded its time budget of {} ms", deadline.as_millis())]
    Timeout {
        /// The budget.
        deadline: Duration,
    },
    /// Tried to grow its memory past the cap.
    #[error("exceeded its memory cap of {cap} bytes (asked for {requested} bytes)")]
    MemoryLimit {
        /// The cap.
        cap: usize,
        /// The size it asked for.
        requested: usize,
    },
    /// Exhausted its stack (deep or infinite recursion).
    #[error("overflowed its stack")]
    StackOverflow,
    /// Panicked; the message is the plugin's panic message when it printed one.
    #[error("panicked: {message}")]
    Panic {
        /// The panic message.
        message: String,
    },
    /// Any other trap.
    #[error("trapped: {message}")]
    Trap {
        /// The trap description.
        message: String,
    },
    /// Returned something the host refuses (wrong outcome count, too large…).
    #[error("returned invalid output: {message}")]
    InvalidOutput {
        /// What was wrong.
        message: String,
    },
}

impl Fault {
    /// Bounded label for metrics and dead-letter records.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::Timeout { .. } => "timeout",
            Fault::MemoryLimit { .. } => "memory_limit",
            Fault::StackOverflow => "stack_overflow",
            Fault::Panic { .. } => "panic",
            Fault::Trap { .. } => "trap",
            Fault::InvalidOutput { .. } => "invalid_output",
        }
    }
}

/// Why one event left the stream without being kept or dropped on purpose:
/// the reason carried by its dead letter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The plugin returned `fail` for the event.
    #[error("rejected by plugin: {0}")]
    Rejected(String),
    /// The event made the plugin fault; bisection isolated it.
    #[error("plugin {0}")]
    Fault(Fault),
    /// The plugin's output for this event broke a host rule.
    #[error("plugin output for this event is invalid: {0}")]
    InvalidEvent(String),
    /// The step is quarantined for this tenant and its policy dead-letters.
    #[error("step is quarantined for this tenant after repeated faults")]
    Quarantined,
    /// The batch faulted so often that this event could not be isolated
    /// within the recovery budget.
    #[error("plugin {0}; event not isolated within the recovery budget")]
    Unisolated(Fault),
}

impl Failure {
    /// Bounded label for metrics and dead-letter records.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Rejected(_) => "rejected",
            Failure::Fault(fault) => fault.code(),
            Failure::InvalidEvent(_) => "invalid_output",
            Failure::Quarantined => "quarantined",
            Failure::Unisolated(_) => "unisolated",
        }
    }
}
