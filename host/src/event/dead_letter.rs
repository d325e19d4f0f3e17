//! A dead letter: an event that could not be processed, with everything an
//! operator needs to understand and replay it.

use serde_json::{Value as Json, json};

use super::json::{format_ns, to_json};
use crate::runtime::{CompiledPlugin, Event, Failure};

/// An event that left the pipeline without being stored or dropped on
/// purpose.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Tenant of the event.
    pub tenant: String,
    /// Pipeline the event ran in.
    pub pipeline: String,
    /// Version of that pipeline.
    pub pipeline_version: u64,
    /// The step that failed it.
    pub step: String,
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub plugin_version: String,
    /// SHA-256 of the plugin component.
    pub plugin_sha256: String,
    /// Bounded reason code (`panic`, `timeout`, `rejected`, …).
    pub code: String,
    /// Human-readable reason.
    pub error: String,
    /// The event as it entered the pipeline, for replay.
    pub event: Event,
    /// When it failed, ns since the epoch.
    pub failed_at_ns: i64,
}

impl DeadLetter {
    /// The dead letter for `event`, failed by `plugin` in `step`.
    pub fn new(
        event: Event,
        pipeline: (&str, u64),
        step: &str,
        plugin: &CompiledPlugin,
        failure: &Failure,
        failed_at_ns: i64,
    ) -> Self {
        Self {
            tenant: event.tenant.clone(),
            pipeline: pipeline.0.to_owned(),
            pipeline_version: pipeline.1,
            step: step.to_owned(),
            plugin: plugin.info.name.clone(),
            plugin_version: plugin.info.version.clone(),
            plugin_sha256: plugin.sha256.clone(),
            code: failure.code().to_owned(),
            error: failure.to_string(),
            event,
            failed_at_ns,
        }
    }

    /// The dead letter for an event no step could take: no pipeline serves
    /// its tenant, or its chain could not start. `step` says which.
    pub fn unprocessed(
        event: Event,
        step: &str,
        code: &str,
        error: String,
        failed_at_ns: i64,
    ) -> Self {
        Self {
            tenant: event.tenant.clone(),
            pipeline: String::new(),
            pipeline_version: 0,
            step: step.to_owned(),
            plugin: String::new(),
            plugin_version: String::new(),
            plugin_sha256: String::new(),
            code: code.to_owned(),
            error,
            event,
            failed_at_ns,
        }
    }

    /// Public JSON shape.
    pub fn to_json(&self) -> Json {
        json!({
            "tenant": self.tenant,
            "pipeline": self.pipeline,
            "pipeline_version": self.pipeline_version,
            "step": self.step,
            "plugin": (!self.plugin.is_empty())
                .then(|| format!("{}@{}", self.plugin, self.plugin_version)),
            "plugin_sha256": self.plugin_sha256,
            "code": self.code,
            "error": self.error,
            "failed_at": format_ns(self.failed_at_ns),
            "event": to_json(&self.event),
        })
    }
}
