//! One tenant's chain: the pipeline's steps, each with its own instance for
//! this tenant, run in order over a batch.
//!
//! Events keep their original form beside them (only when a step changed
//! them, so unchanged events cost nothing), so that a dead letter always
//! carries the event as it entered the pipeline, ready for replay.

use std::sync::Arc;

use super::BatchOutput;
use crate::event::DeadLetter;
use crate::pipeline::Pipeline;
use crate::pipeline::registry::now_ns;
use crate::runtime::{Event, InitContext, InitError, PluginRuntime, StepOutcome, StepRunner};
use crate::store::StoredEvent;

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

    /// Run a batch of this tenant's events through every step.
    pub fn run(&mut self, events: Vec<Event>, out: &mut BatchOutput) {
        let pipeline = self.pipeline.clone();
        let sinks = &pipeline.sinks;
        let mut current = events;
        let mut originals: Vec<Option<Event>> = std::iter::repeat_with(|| None)
            .take(current.len())
            .collect();
        for (step, spec) in self.steps.iter_mut().zip(&pipeline.steps) {
            if current.is_empty() {
                break;
            }
            let input = current.len();
            let output = step.run(&current);
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
            for event in &current {
                out.signals.add(event);
            }
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
