//! Logging from a plugin. Lines go to the host, which tags them with tenant,
//! pipeline and step and rate-limits them; natively (in unit tests) they are
//! captured by [`crate::testing::Harness`] or printed to stderr.

pub use crate::bindings::sluice::plugin::log::LogLevel as Level;

/// Send one log line to the host.
pub fn log(level: Level, message: &str) {
    #[cfg(target_family = "wasm")]
    crate::bindings::sluice::plugin::log::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    crate::testing::capture_log(level, message);
}

/// Log at trace level.
pub fn trace(message: &str) {
    log(Level::Trace, message)
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}

/// Log at info level.
pub fn info(message: &str) {
    log(Level::Info, message)
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}

/// Log at error level.
pub fn error(message: &str) {
    log(Level::Error, message)
}
