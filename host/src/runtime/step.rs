//! Runs batches through one plugin for one (tenant, step), and turns every
//! kind of plugin failure into per-event outcomes:
//!
//! - a fault (trap, timeout, memory cap, invalid output) discards the
//!   instance, and the batch is split in halves and retried until the
//!   offending events are isolated; only they fail, the rest go on;
//! - recovery has a budget of faulting calls and of time per batch, so a
//!   plugin that fails on everything cannot hold a worker for long;
//! - repeated faults open the step's circuit breaker for this tenant, at
//!   once when a batch exhausted its recovery budget, and
//!   while it is open events are skipped past the step or dead-lettered, as
//!   the step's limits say.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::bindings::{Alert, BatchResult, Event, FingerprintMerge, InitContext, Outcome};
use super::breaker::{Breaker, Transition};
use super::engine::{CompiledPlugin, PluginRuntime};
use super::error::{Failure, Fault, InitError};
use super::instance::PluginInstance;
use super::limits::{QuarantinePolicy, RECOVERY_DEADLINES, StepLimits};
use super::validate;
use crate::telemetry::{
    self, AlertsCapped, PluginBatchProcessed, PluginFaulted, StepQuarantined, StepReleased,
};

/// What happened to one event in one step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// Goes on unchanged.
    Pass,
    /// Goes on, replaced by this event.
    Keep(Event),
    /// Removed on purpose by the plugin.
    Drop,
    /// Becomes a dead letter for this reason.
    Failed(Failure),
}

/// The result of one batch through one step.
#[derive(Debug, Default)]
pub struct StepOutput {
    /// One outcome per input event, in input order.
    pub outcomes: Vec<StepOutcome>,
    /// Alerts the plugin raised.
    pub alerts: Vec<Alert>,
    /// Fingerprint merges the plugin reported.
    pub merges: Vec<FingerprintMerge>,
    /// Faults met on the way (each already handled).
    pub faults: Vec<Fault>,
}

/// One plugin serving one (tenant, step), with its fault handling.
pub struct StepRunner {
    runtime: Arc<PluginRuntime>,
    plugin: Arc<CompiledPlugin>,
    context: InitContext,
    config_json: String,
    limits: StepLimits,
    instance: Option<PluginInstance>,
    breaker: Breaker,
    capture_logs: bool,
    /// Recent nanoseconds per event (a moving average over batches), for
    /// deciding where a chain splits between two threads.
    cost_ns: Option<f64>,
}

impl StepOutput {
    /// Every event passing, nothing else: the start of every answer.
    fn passing(events: usize) -> Self {
        // Not `vec![Pass; n]`: that clones a whole outcome (an event's
        // size) per slot, where writing the tag is enough.
        let mut outcomes = Vec::with_capacity(events);
        outcomes.resize_with(events, || StepOutcome::Pass);
        Self {
            outcomes,
            ..Self::default()
        }
    }
}

impl StepRunner {
    /// Start the step: its first instance is built now, so a bad config is
    /// reported at load time, not on the first event.
    pub fn new(
        runtime: Arc<PluginRuntime>,
        plugin: Arc<CompiledPlugin>,
        context: InitContext,
        config_json: String,
        limits: StepLimits,
    ) -> Result<Self, InitError> {
        Self::build(runtime, plugin, context, config_json, limits, false)
    }

    /// Like [`Self::new`], but keeps the plugin's log lines for
    /// [`Self::take_logs`] (used by `sluice plugin test`).
    pub fn with_captured_logs(
        runtime: Arc<PluginRuntime>,
        plugin: Arc<CompiledPlugin>,
        context: InitContext,
        config_json: String,
        limits: StepLimits,
    ) -> Result<Self, InitError> {
        Self::build(runtime, plugin, context, config_json, limits, true)
    }

    fn build(
        runtime: Arc<PluginRuntime>,
        plugin: Arc<CompiledPlugin>,
        context: InitContext,
        config_json: String,
        limits: StepLimits,
        capture_logs: bool,
    ) -> Result<Self, InitError> {
        let instance = PluginInstance::start(
            &runtime,
            plugin.clone(),
            &context,
            &config_json,
            &limits,
            capture_logs,
        )?;
        Ok(Self {
            breaker: Breaker::new(limits.faults_per_minute, limits.cooldown),
            runtime,
            plugin,
            context,
            config_json,
            limits,
            instance: Some(instance),
            capture_logs,
            cost_ns: None,
        })
    }

    /// The plugin this step runs.
    pub fn plugin(&self) -> &Arc<CompiledPlugin> {
        &self.plugin
    }

    /// Whether the step is currently quarantined for its tenant.
    pub fn is_quarantined(&self) -> bool {
        self.breaker.is_open()
    }

    /// Log lines the plugin wrote (only with captured logs).
    pub fn take_logs(&mut self) -> Vec<(super::bindings::LogLevel, String)> {
        self.instance
            .as_mut()
            .map(PluginInstance::take_logs)
            .unwrap_or_default()
    }

    /// Run one batch. Never fails as a whole: every event gets an outcome.
    pub fn run(&mut self, batch: &[Event]) -> StepOutput {
        let mut output = StepOutput::passing(batch.len());
        if batch.is_empty() || self.answer_quarantined(&mut output) {
            return output;
        }
        let started = Instant::now();
        let mut budget = RecoveryBudget::for_batch(batch.len(), self.limits.deadline);
        self.run_range(batch, 0..batch.len(), &mut output, &mut budget);
        if let Some(last) = output.faults.last().cloned() {
            if budget.gave_up {
                // The plugin faults on more of the batch than bisection can
                // isolate: every further batch would cost the worker (and
                // the tenants behind it) the whole budget again.
                let transition = self.breaker.trip(Instant::now());
                self.announce(transition, &last);
            } else {
                self.record_fault(&last);
            }
        }
        self.emit_processed(batch.len(), started);
        output
    }

    /// Run one batch in a single call, or give it back: `None` when that
    /// call faulted (the fault is reported and the instance discarded, but
    /// nothing is held against the breaker), so the caller can run the
    /// batch again with [`Self::run`]'s recovery where it holds up nobody.
    /// A worker uses this for tenants that have not faulted yet: it then
    /// waits at most one deadline for a plugin that has started looping.
    pub fn try_run(&mut self, batch: &[Event]) -> Option<StepOutput> {
        let mut output = StepOutput::passing(batch.len());
        if batch.is_empty() || self.answer_quarantined(&mut output) {
            return Some(output);
        }
        let started = Instant::now();
        match self.call(batch, 0..batch.len(), self.limits.deadline) {
            Ok(result) => {
                self.fill(batch, 0, result, &mut output);
                self.emit_processed(batch.len(), started);
                Some(output)
            }
            Err((fault, _)) => {
                self.instance = None;
                self.emit_fault(&fault);
                None
            }
        }
    }

    /// While quarantined, every event gets the quarantine policy's outcome.
    fn answer_quarantined(&mut self, output: &mut StepOutput) -> bool {
        if !self.quarantined_now() {
            return false;
        }
        let outcome = match self.limits.quarantine {
            QuarantinePolicy::Skip => StepOutcome::Pass,
            QuarantinePolicy::DeadLetter => StepOutcome::Failed(Failure::Quarantined),
        };
        output.outcomes.fill(outcome);
        true
    }

    /// Recent cost of an event in this step, once it has run a batch.
    pub fn cost_per_event(&self) -> Option<Duration> {
        self.cost_ns.map(|ns| Duration::from_nanos(ns as u64))
    }

    fn emit_processed(&mut self, events: usize, started: Instant) {
        let elapsed = started.elapsed();
        let per_event = elapsed.as_nanos() as f64 / events.max(1) as f64;
        self.cost_ns = Some(match self.cost_ns {
            Some(ns) => 0.75 * ns + 0.25 * per_event,
            None => per_event,
        });
        telemetry::emit(PluginBatchProcessed {
            step: &self.context.step,
            plugin: &self.plugin.info.name,
            events,
            elapsed,
        });
    }

    /// Let the plugin close its windows; a fault here only rebuilds the instance.
    pub fn tick(&mut self, now_ns: i64) -> Vec<Alert> {
        if self.quarantined_now() {
            return Vec::new();
        }
        let Some(instance) = self.instance_or_restart() else {
            return Vec::new();
        };
        match instance.tick(now_ns) {
            Ok(mut alerts) => {
                self.cap_alerts(&mut alerts);
                alerts
            }
            Err(fault) => {
                self.instance = None;
                self.emit_fault(&fault);
                self.record_fault(&fault);
                Vec::new()
            }
        }
    }

    fn run_range(
        &mut self,
        batch: &[Event],
        range: Range<usize>,
        output: &mut StepOutput,
        budget: &mut RecoveryBudget,
    ) {
        if let Some(fault) = budget.exhausted_by() {
            let fault = fault.clone();
            budget.gave_up = true;
            for outcome in &mut output.outcomes[range] {
                *outcome = StepOutcome::Failed(Failure::Unisolated(fault.clone()));
            }
            return;
        }
        let deadline = budget.deadline_for(self.limits.deadline, range.len(), batch.len());
        match self.call(batch, range.clone(), deadline) {
            Ok(result) => self.fill(batch, range.start, result, output),
            Err((fault, elapsed)) => {
                self.instance = None;
                self.emit_fault(&fault);
                budget.spend(&fault, elapsed);
                output.faults.push(fault.clone());
                if range.len() == 1 {
                    output.outcomes[range.start] = StepOutcome::Failed(Failure::Fault(fault));
                } else {
                    let middle = range.start + range.len() / 2;
                    self.run_range(batch, range.start..middle, output, budget);
                    self.run_range(batch, middle..range.end, output, budget);
                }
            }
        }
    }

    /// One call of the plugin on `batch[range]`, its answer checked for
    /// shape; a fault comes with the time the call took.
    fn call(
        &mut self,
        batch: &[Event],
        range: Range<usize>,
        deadline: Duration,
    ) -> Result<BatchResult, (Fault, Duration)> {
        let events = &batch[range];
        let called = Instant::now();
        let result = match self.instance_or_restart() {
            Some(instance) => instance.process_within(events, deadline),
            None => Err(Fault::Trap {
                message: "instance could not be restarted".to_owned(),
            }),
        };
        result
            .and_then(|result| {
                validate::check_batch(&result, events.len())
                    .map(|()| result)
                    .map_err(|message| Fault::InvalidOutput { message })
            })
            .map_err(|fault| (fault, called.elapsed()))
    }

    /// Record a successful call's outcomes (for events from `start` on),
    /// alerts and merges.
    fn fill(
        &self,
        batch: &[Event],
        start: usize,
        mut result: BatchResult,
        output: &mut StepOutput,
    ) {
        for (offset, outcome) in result.outcomes.into_iter().enumerate() {
            let index = start + offset;
            output.outcomes[index] = match outcome {
                Outcome::Pass => StepOutcome::Pass,
                Outcome::Keep(changed) => match validate::check_event(&batch[index], &changed) {
                    Ok(()) => StepOutcome::Keep(changed),
                    Err(why) => StepOutcome::Failed(Failure::InvalidEvent(why)),
                },
                Outcome::Drop => StepOutcome::Drop,
                Outcome::Fail(reason) => StepOutcome::Failed(Failure::Rejected(reason)),
            };
        }
        self.cap_alerts(&mut result.alerts);
        output.alerts.append(&mut result.alerts);
        output.merges.append(&mut result.merges);
    }

    /// The live instance, rebuilding it after a fault.
    fn instance_or_restart(&mut self) -> Option<&mut PluginInstance> {
        if self.instance.is_none() {
            match PluginInstance::start(
                &self.runtime,
                self.plugin.clone(),
                &self.context,
                &self.config_json,
                &self.limits,
                self.capture_logs,
            ) {
                Ok(instance) => self.instance = Some(instance),
                Err(error) => {
                    tracing::error!(tenant = %self.context.tenant, step = %self.context.step, %error, "cannot restart plugin instance");
                    return None;
                }
            }
        }
        self.instance.as_mut()
    }

    fn quarantined_now(&mut self) -> bool {
        let (open, transition) = self.breaker.check(Instant::now());
        if transition == Transition::Closed {
            telemetry::emit(StepReleased {
                tenant: &self.context.tenant,
                step: &self.context.step,
                plugin: &self.plugin.label(),
            });
        }
        open
    }

    fn record_fault(&mut self, fault: &Fault) {
        let transition = self.breaker.record_fault(Instant::now());
        self.announce(transition, fault);
    }

    fn announce(&self, transition: Transition, fault: &Fault) {
        if transition == Transition::Opened {
            telemetry::emit(StepQuarantined {
                tenant: &self.context.tenant,
                step: &self.context.step,
                plugin: &self.plugin.label(),
                last_fault: fault,
                cooldown: self.limits.cooldown,
                policy: self.limits.quarantine,
            });
        }
    }

    fn emit_fault(&self, fault: &Fault) {
        telemetry::emit(PluginFaulted {
            tenant: &self.context.tenant,
            step: &self.context.step,
            plugin: &self.plugin.label(),
            fault,
        });
    }

    fn cap_alerts(&self, alerts: &mut Vec<Alert>) {
        let cut = validate::cap_alerts(alerts);
        if cut > 0 {
            telemetry::emit(AlertsCapped {
                tenant: &self.context.tenant,
                step: &self.context.step,
                cut,
            });
        }
    }
}

/// How much recovering one batch may cost. Isolating one bad event in a
/// batch of n takes about log2(n) faulting calls, so the budget allows a few
/// bad events; past it the events not yet isolated fail wholesale. While
/// recovering, a sub-batch gets a share of the deadline proportional to its
/// size (at least a tenth, and the whole deadline for a single event), and
/// the faulting calls together may take [`RECOVERY_DEADLINES`] deadlines, so
/// a plugin that loops on everything holds its worker a few deadlines per
/// batch, not hundreds. Isolating one looping event in 1,024 takes about
/// four.
struct RecoveryBudget {
    remaining: usize,
    time_left: Duration,
    last: Option<Fault>,
    /// Some events failed unisolated because the budget ran out.
    gave_up: bool,
}

impl RecoveryBudget {
    fn for_batch(len: usize, deadline: Duration) -> Self {
        let depth = usize::BITS - len.max(1).leading_zeros();
        Self {
            remaining: 2 * depth as usize + 4,
            time_left: deadline.saturating_mul(RECOVERY_DEADLINES),
            last: None,
            gave_up: false,
        }
    }

    fn deadline_for(&self, full: Duration, len: usize, batch: usize) -> Duration {
        if self.last.is_none() || batch == 0 {
            return full;
        }
        let share = if len <= 1 {
            full
        } else {
            full.mul_f64(len as f64 / batch as f64).max(full / 10)
        };
        share.min(self.time_left)
    }

    fn spend(&mut self, fault: &Fault, elapsed: Duration) {
        self.remaining = self.remaining.saturating_sub(1);
        self.time_left = self.time_left.saturating_sub(elapsed);
        self.last = Some(fault.clone());
    }

    fn exhausted_by(&self) -> Option<&Fault> {
        if self.remaining == 0 || self.time_left.is_zero() {
            self.last.as_ref()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_budget_grows_with_log_of_batch() {
        let deadline = Duration::from_millis(100);
        assert_eq!(RecoveryBudget::for_batch(1, deadline).remaining, 6);
        assert_eq!(RecoveryBudget::for_batch(1024, deadline).remaining, 26);
        let mut budget = RecoveryBudget::for_batch(1, deadline);
        let fault = Fault::StackOverflow;
        for _ in 0..6 {
            assert!(budget.exhausted_by().is_none());
            budget.spend(&fault, Duration::ZERO);
        }
        assert_eq!(budget.exhausted_by(), Some(&fault));
    }

    /// A plugin looping on every event of a 240-event batch held its worker
    /// about a second (one deadline per level of bisection), and the
    /// tenants queued behind it on that worker waited as long.
    #[test]
    fn recovery_time_is_bounded_by_a_few_deadlines() {
        let full = Duration::from_millis(100);
        let timeout = Fault::Timeout { deadline: full };
        let mut budget = RecoveryBudget::for_batch(1024, full);
        for _ in 0..3 {
            budget.spend(&timeout, Duration::from_millis(110));
        }
        budget.spend(&timeout, Duration::from_millis(100));
        assert!(
            budget.exhausted_by().is_none(),
            "{} ms left",
            budget.time_left.as_millis()
        );
        assert_eq!(
            budget.deadline_for(full, 1, 1024),
            Duration::from_millis(70),
            "no call may outlast what is left"
        );
        budget.spend(&timeout, Duration::from_millis(70));
        assert_eq!(budget.exhausted_by(), Some(&timeout));
        assert!(budget.remaining > 0, "time ran out before the call count");
    }

    #[test]
    fn sub_batches_get_a_share_of_the_deadline_only_while_recovering() {
        let full = Duration::from_millis(100);
        let mut budget = RecoveryBudget::for_batch(1024, full);
        assert_eq!(budget.deadline_for(full, 512, 1024), full);
        budget.spend(&Fault::Timeout { deadline: full }, Duration::ZERO);
        assert_eq!(
            budget.deadline_for(full, 512, 1024),
            Duration::from_millis(50)
        );
        assert_eq!(
            budget.deadline_for(full, 8, 1024),
            Duration::from_millis(10)
        );
        assert_eq!(budget.deadline_for(full, 1, 1024), full);
    }
}
