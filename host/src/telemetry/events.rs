//! The runtime's internal events.

use std::time::Duration;

use super::InternalEvent;
use crate::runtime::{Fault, QuarantinePolicy};

/// A plugin call faulted; the instance was discarded.
pub struct PluginFaulted<'a> {
    /// Tenant the instance served.
    pub tenant: &'a str,
    /// Pipeline step.
    pub step: &'a str,
    /// `name@version`.
    pub plugin: &'a str,
    /// What went wrong.
    pub fault: &'a Fault,
}

impl InternalEvent for PluginFaulted<'_> {
    fn emit(self) {
        tracing::warn!(tenant = self.tenant, step = self.step, plugin = self.plugin, kind = self.fault.code(), fault = %self.fault, "plugin faulted; instance discarded");
        metrics::counter!("sluice_plugin_faults_total", "tenant" => self.tenant.to_owned(), "step" => self.step.to_owned(), "kind" => self.fault.code()).increment(1);
    }
}

/// A step was quarantined for a tenant after repeated faults.
pub struct StepQuarantined<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Pipeline step.
    pub step: &'a str,
    /// `name@version`.
    pub plugin: &'a str,
    /// The fault that tipped it.
    pub last_fault: &'a Fault,
    /// How long the quarantine lasts.
    pub cooldown: Duration,
    /// What happens to events meanwhile.
    pub policy: QuarantinePolicy,
}

impl InternalEvent for StepQuarantined<'_> {
    fn emit(self) {
        tracing::warn!(tenant = self.tenant, step = self.step, plugin = self.plugin, last_fault = %self.last_fault, cooldown_s = self.cooldown.as_secs_f64(), policy = ?self.policy, "step quarantined for tenant after repeated faults");
        metrics::gauge!("sluice_step_quarantined", "tenant" => self.tenant.to_owned(), "step" => self.step.to_owned()).set(1.0);
        metrics::counter!("sluice_step_quarantines_total", "tenant" => self.tenant.to_owned(), "step" => self.step.to_owned()).increment(1);
    }
}

/// A quarantine ended; the step is tried again.
pub struct StepReleased<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Pipeline step.
    pub step: &'a str,
    /// `name@version`.
    pub plugin: &'a str,
}

impl InternalEvent for StepReleased<'_> {
    fn emit(self) {
        tracing::info!(
            tenant = self.tenant,
            step = self.step,
            plugin = self.plugin,
            "step quarantine ended; trying the plugin again"
        );
        metrics::gauge!("sluice_step_quarantined", "tenant" => self.tenant.to_owned(), "step" => self.step.to_owned()).set(0.0);
    }
}

/// A batch went through a plugin.
pub struct PluginBatchProcessed<'a> {
    /// Pipeline step.
    pub step: &'a str,
    /// Plugin name (bounded: one per plugin).
    pub plugin: &'a str,
    /// Events in the batch.
    pub events: usize,
    /// Wall time including any recovery.
    pub elapsed: Duration,
}

impl InternalEvent for PluginBatchProcessed<'_> {
    fn emit(self) {
        metrics::histogram!("sluice_plugin_batch_seconds", "step" => self.step.to_owned(), "plugin" => self.plugin.to_owned()).record(self.elapsed.as_secs_f64());
        metrics::counter!("sluice_plugin_events_total", "step" => self.step.to_owned(), "plugin" => self.plugin.to_owned()).increment(self.events as u64);
    }
}

/// A plugin emitted more alerts in one call than allowed; the rest were cut.
pub struct AlertsCapped<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Pipeline step.
    pub step: &'a str,
    /// Alerts cut.
    pub cut: usize,
}

impl InternalEvent for AlertsCapped<'_> {
    fn emit(self) {
        tracing::warn!(
            tenant = self.tenant,
            step = self.step,
            cut = self.cut,
            "plugin emitted too many alerts in one call; extra alerts dropped"
        );
        metrics::counter!("sluice_plugin_alerts_capped_total", "tenant" => self.tenant.to_owned(), "step" => self.step.to_owned()).increment(self.cut as u64);
    }
}

/// A pipeline reload finished.
pub struct PipelineReloaded<'a> {
    /// What it did.
    pub report: &'a crate::pipeline::registry::ReloadReport,
    /// From the first file event to the new version serving.
    pub elapsed: Duration,
}

impl InternalEvent for PipelineReloaded<'_> {
    fn emit(self) {
        for (pipeline, version) in &self.report.published {
            tracing::info!(
                pipeline,
                version,
                elapsed_ms = self.elapsed.as_secs_f64() * 1e3,
                "pipeline version now serving"
            );
            metrics::gauge!("sluice_pipeline_version", "pipeline" => pipeline.clone())
                .set(*version as f64);
        }
        for pipeline in &self.report.removed {
            tracing::info!(pipeline, "pipeline removed with its file");
        }
        for error in &self.report.errors {
            tracing::warn!(%error, "pipeline change rejected; the previous version keeps serving");
            metrics::counter!("sluice_pipeline_reload_errors_total").increment(1);
        }
        metrics::histogram!("sluice_pipeline_reload_seconds").record(self.elapsed.as_secs_f64());
    }
}
