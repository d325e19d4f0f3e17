//! One tenant's chain: the pipeline's steps, each with its own instance for
//! this tenant, run in order over a batch.
//!
//! Events keep their original form beside them (only when a step changed
//! them, so unchanged events cost nothing), so that a dead letter always
//! carries the event as it entered the pipeline, ready for replay.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchOutput;
use crate::event::DeadLetter;
use crate::pipeline::Pipeline;
use crate::pipeline::registry::now_ns;
use crate::runtime::{Event, InitContext, InitError, PluginRuntime, StepOutcome, StepRunner};
use crate::store::StoredEvent;

/// A batch's events part-way through a chain: the step to run next, the
/// events as they are now, and (for those a step changed) as they entered.
pub struct Handoff {
    step: usize,
    events: Vec<Event>,
    originals: Vec<Option<Event>>,
}

impl Handoff {
    fn start(events: Vec<Event>) -> Self {
        let originals = std::iter::repeat_with(|| None).take(events.len()).collect();
        Self {
            step: 0,
            events,
            originals,
        }
    }

    /// Events still to finish.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no events are left.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// A pipeline version running for one tenant.
pub struct Chain {
    pipeline: Arc<Pipeline>,
    tenant: String,
    steps: Vec<StepRunner>,
}

impl Chain {
    /// Instantiate every step of `pipeline` for `tenant`.
    pub fn start(
        runtime: &Arc<PluginRuntime>,
        pipeline: Arc<Pipeline>,
        tenant: &str,
    ) -> Result<Self, (String, InitError)> {
        let mut steps = Vec::with_capacity(pipeline.steps.len());
        for step in &pipeline.steps {
            let context = InitContext {
                tenant: tenant.to_owned(),
                pipeline: pipeline.name.clone(),
                step: step.name.clone(),
            };
            let runner = StepRunner::new(
                runtime.clone(),
                step.plugin.clone(),
                context,
                step.config_json.clone(),
                step.limits.clone(),
            )
            .map_err(|e| (step.name.clone(), e))?;
            steps.push(runner);
        }
        Ok(Self {
            pipeline,
            tenant: tenant.to_owned(),
            steps,
        })
    }

    /// The pipeline version this chain runs.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Run a batch of this tenant's events through every step, recovering
    /// from plugin faults in place (isolating the bad events).
    pub fn run(&mut self, events: Vec<Event>, out: &mut BatchOutput) {
        let work = Handoff::start(events);
        let handed = self.run_steps(work, out, false);
        debug_assert!(handed.is_none(), "unguarded runs finish");
    }

    /// Run a batch, but stop at the first step whose call faults and hand
    /// the rest back (from that step on) instead of recovering here:
    /// recovery may take several deadlines, and the worker running this
    /// chain is also running other tenants' batches.
    pub fn run_guarded(&mut self, events: Vec<Event>, out: &mut BatchOutput) -> Option<Handoff> {
        self.run_steps(Handoff::start(events), out, true)
    }

    /// Finish work handed back by [`Self::run_guarded`], recovering in place.
    pub fn resume(&mut self, work: Handoff, out: &mut BatchOutput) {
        let handed = self.run_steps(work, out, false);
        debug_assert!(handed.is_none(), "unguarded runs finish");
    }

    fn run_steps(
        &mut self,
        work: Handoff,
        out: &mut BatchOutput,
        guarded: bool,
    ) -> Option<Handoff> {
        let pipeline = self.pipeline.clone();
        let sinks = &pipeline.sinks;
        let Handoff {
            step: first,
            events: mut current,
            mut originals,
        } = work;
        for (index, (step, spec)) in self
            .steps
            .iter_mut()
            .zip(&pipeline.steps)
            .enumerate()
            .skip(first)
        {
            if current.is_empty() {
                break;
            }
            let input = current.len();
            let output = if guarded {
                match step.try_run(&current) {
                    Some(output) => output,
                    None => {
                        return Some(Handoff {
                            step: index,
                            events: current,
                            originals,
                        });
                    }
                }
            } else {
                step.run(&current)
            };
            if sinks.incidents {
                out.alerts
                    .extend(output.alerts.into_iter().map(|a| (self.tenant.clone(), a)));
                out.merges
                    .extend(output.merges.into_iter().map(|m| (self.tenant.clone(), m)));
            }
            let mut next = Vec::with_capacity(current.len());
            let mut next_originals = Vec::with_capacity(current.len());
            let (mut dropped, mut failed) = (0u64, 0u64);
            for ((event, original), outcome) in
                current.into_iter().zip(originals).zip(output.outcomes)
            {
                match outcome {
                    StepOutcome::Pass => {
                        next.push(event);
                        next_originals.push(original);
                    }
                    StepOutcome::Keep(changed) => {
                        next.push(changed);
                        next_originals.push(Some(original.unwrap_or(event)));
                    }
                    StepOutcome::Drop => dropped += 1,
                    StepOutcome::Failed(failure) => {
                        failed += 1;
                        if sinks.dead_letters {
                            out.dead.push(DeadLetter::new(
                                original.unwrap_or(event),
                                (&pipeline.name, pipeline.version),
                                &spec.name,
                                &spec.plugin,
                                &failure,
                                now_ns(),
                            ));
                        }
                    }
                }
            }
            record_step(&self.tenant, &spec.name, input as u64, dropped, failed);
            current = next;
            originals = next_originals;
        }
        out.processed += current.len() as u64;
        if sinks.signals {
            out.signals.add_all(&current);
        }
        let stored = current.into_iter().map(|event| StoredEvent {
            event,
            pipeline: pipeline.name.clone(),
            pipeline_version: pipeline.version,
        });
        if sinks.logs {
            out.stored.extend(stored);
        } else if sinks.signals {
            out.signals_only.extend(stored);
        }
        None
    }

    /// Let every step close its windows.
    pub fn tick(&mut self, now_ns: i64, out: &mut BatchOutput) {
        if !self.pipeline.sinks.incidents {
            return;
        }
        for step in &mut self.steps {
            out.alerts.extend(
                step.tick(now_ns)
                    .into_iter()
                    .map(|a| (self.tenant.clone(), a)),
            );
        }
    }
}

fn record_step(tenant: &str, step: &str, input: u64, dropped: u64, failed: u64) {
    let labels = [("tenant", tenant.to_owned()), ("step", step.to_owned())];
    metrics::counter!("sluice_step_events_in_total", &labels).increment(input);
    metrics::counter!("sluice_step_events_out_total", &labels).increment(input - dropped - failed);
    if dropped > 0 {
        metrics::counter!("sluice_step_events_dropped_total", &labels).increment(dropped);
    }
    if failed > 0 {
        metrics::counter!("sluice_step_events_dead_lettered_total", &labels).increment(failed);
    }
}

/// Why a tenant's chain could not start.
#[derive(Debug)]
pub struct StartFailed {
    step: String,
    error: InitError,
}

impl StartFailed {
    /// The events that chain was for become dead letters (`init_failed`).
    pub fn dead_letter(
        self,
        events: Vec<Event>,
        pipeline: &Pipeline,
        tenant: &str,
        out: &mut BatchOutput,
    ) {
        tracing::error!(%tenant, pipeline = %pipeline.name, version = pipeline.version, step = %self.step, error = %self.error, "cannot start the tenant's chain; events dead-lettered");
        let now = now_ns();
        let plugin = pipeline
            .steps
            .iter()
            .find(|spec| spec.name == self.step)
            .map(|spec| &spec.plugin);
        out.dead.extend(events.into_iter().map(|e| {
            let mut letter =
                DeadLetter::unprocessed(e, &self.step, "init_failed", self.error.to_string(), now);
            letter.pipeline = pipeline.name.clone();
            letter.pipeline_version = pipeline.version;
            if let Some(plugin) = plugin {
                letter.plugin = plugin.info.name.clone();
                letter.plugin_version = plugin.info.version.clone();
                letter.plugin_sha256 = plugin.sha256.clone();
            }
            letter
        }));
    }
}

/// The tenant's chain for `pipeline`'s version: the one in `chains`, or a
/// new one when it is missing or runs another version.
pub fn current<'a>(
    chains: &'a mut HashMap<String, Chain>,
    runtime: &Arc<PluginRuntime>,
    pipeline: &Arc<Pipeline>,
    tenant: &str,
) -> Result<&'a mut Chain, StartFailed> {
    // Looked up by `&str` first: the common case (the chain exists and is
    // current) allocates nothing on the per-batch path.
    let current = chains
        .get(tenant)
        .is_some_and(|c| c.pipeline().version == pipeline.version);
    if !current {
        // The stale chain's instances go before the new ones start.
        chains.remove(tenant);
        let chain = Chain::start(runtime, pipeline.clone(), tenant)
            .map_err(|(step, error)| StartFailed { step, error })?;
        chains.insert(tenant.to_owned(), chain);
    }
    Ok(chains
        .get_mut(tenant)
        .expect("the tenant's chain is present: found or inserted above"))
}
