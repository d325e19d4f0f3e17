//! The limits a pipeline step runs under, with the failure or attack each
//! one bounds. The runtime enforces them; pipeline files set them per step.

use std::time::Duration;

use serde::Deserialize;

/// Default linear-memory cap per instance. Bounds what a leaking or hostile
/// plugin can take from the host: RSS grows by at most this per instance.
pub const PLUGIN_MEMORY_CAP: usize = 64 << 20;

/// Default time budget for one `process` call. Bounds how long a looping
/// plugin can hold a worker before it is interrupted.
pub const PLUGIN_DEADLINE: Duration = Duration::from_millis(100);

/// Default number of faults per minute after which a step is quarantined
/// for one tenant.
pub const BREAKER_FAULTS_PER_MINUTE: u32 = 5;

/// Default time a quarantined step stays quarantined before it is tried again.
pub const BREAKER_COOLDOWN: Duration = Duration::from_secs(60);

/// What happens to events while their step is quarantined for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuarantinePolicy {
    /// Events go on to the next step as if this step were not there.
    Skip,
    /// Events become dead letters, to be replayed once the plugin is fixed.
    #[default]
    DeadLetter,
}

/// Limits for one pipeline step, from its TOML table, with safe defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLimits {
    /// Linear-memory cap per instance, in bytes.
    pub memory_bytes: usize,
    /// Time budget for one batch.
    pub deadline: Duration,
    /// Faults per minute that quarantine the step for a tenant.
    pub faults_per_minute: u32,
    /// How long a quarantine lasts.
    pub cooldown: Duration,
    /// What happens to events during a quarantine.
    pub quarantine: QuarantinePolicy,
}

impl Default for StepLimits {
    fn default() -> Self {
        Self {
            memory_bytes: PLUGIN_MEMORY_CAP,
            deadline: PLUGIN_DEADLINE,
            faults_per_minute: BREAKER_FAULTS_PER_MINUTE,
            cooldown: BREAKER_COOLDOWN,
            quarantine: QuarantinePolicy::default(),
        }
    }
}
