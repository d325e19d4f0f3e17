//! One tenant's chain: the pipeline's steps, each with its own instance for
//! this tenant, run in order over a batch.
//!
//! Events keep their original form beside them (only when a step changed
//! them, so unchanged events cost nothing), so that a dead letter always
//! carries the event as it entered the pipeline, ready for replay.
//!
//! One tenant's batches all run on one worker, which would bound a busy
//! tenant to one core. So when its owner has a [`BackHalf`] thread, a large
//! batch on a chain of several steps runs on two threads: the steps are cut
//! into a front and a back half where their measured costs balance, the
//! batch into parts of [`PART_EVENTS`], and while the back half runs part
//! *i* the front half runs part *i + 1*. Each step still sees the tenant's
//! events in order, one call at a time, so a plugin's state evolves exactly
//! as on one thread.

use std::collections::HashMap;
use std::sync::Arc;

use super::BatchOutput;
use super::stage::{self, BackDone, BackHalf, BackJob, PART_EVENTS, Part, Stage};
use crate::event::DeadLetter;
use crate::pipeline::Pipeline;
use crate::pipeline::registry::now_ns;
use crate::runtime::{Event, InitContext, InitError, PluginRuntime, StepRunner};

/// A batch's events part-way through a chain, handed back by
/// [`Chain::run_guarded`]: parts in batch order, each at the step it
/// reached.
pub struct Handoff {
    parts: Vec<Part>,
}

impl Handoff {
    /// Parts in batch order; neighbours at the same step become one.
    fn from_parts(parts: Vec<Part>) -> Self {
        let mut merged: Vec<Part> = Vec::with_capacity(parts.len());
        for part in parts {
            match merged.last_mut() {
                Some(last) if last.step == part.step => {
                    last.events.extend(part.events);
                    last.originals.extend(part.originals);
                }
                _ => merged.push(part),
            }
        }
        Self { parts: merged }
    }

    /// Events still to finish.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|part| part.events.len()).sum()
    }

    /// Whether no events are left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pipeline version running for one tenant.
pub struct Chain {
    pipeline: Arc<Pipeline>,
    tenant: String,
    steps: Vec<StepRunner>,
    /// Where the last split batch was cut (a step index).
    cut: Option<usize>,
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
            cut: None,
        })
    }

    /// The pipeline version this chain runs.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// Run a batch of this tenant's events through every step, recovering
    /// from plugin faults in place (isolating the bad events); large
    /// batches on two threads when `back` is given.
    pub fn run(&mut self, events: Vec<Event>, out: &mut BatchOutput, back: Option<&BackHalf>) {
        let handed = self.run_part(Part::start(events), out, false, back);
        debug_assert!(handed.is_empty(), "unguarded runs finish");
    }

    /// Run a batch, but stop at the first step whose call faults and hand
    /// the rest back (from that step on) instead of recovering here:
    /// recovery may take several deadlines, and the worker running this
    /// chain is also running other tenants' batches.
    pub fn run_guarded(
        &mut self,
        events: Vec<Event>,
        out: &mut BatchOutput,
        back: Option<&BackHalf>,
    ) -> Option<Handoff> {
        let handed = self.run_part(Part::start(events), out, true, back);
        (!handed.is_empty()).then(|| Handoff::from_parts(handed))
    }

    /// Finish work handed back by [`Self::run_guarded`], recovering in place.
    pub fn resume(&mut self, work: Handoff, out: &mut BatchOutput, back: Option<&BackHalf>) {
        for part in work.parts {
            let handed = self.run_part(part, out, false, back);
            debug_assert!(handed.is_empty(), "unguarded runs finish");
        }
    }

    /// Run `part` to the end of the chain, on two threads when that pays;
    /// what a guarded run hands back, in batch order.
    fn run_part(
        &mut self,
        part: Part,
        out: &mut BatchOutput,
        guarded: bool,
        back: Option<&BackHalf>,
    ) -> Vec<Part> {
        // Costs are looked at (and the cut moved) only for a batch that may split.
        let split = back
            .filter(|back| back.has_spare_core())
            .and_then(|back| Some((back, self.split_point(&part)?)));
        let parts = match split {
            Some((back, split)) => {
                match self.run_split(part.cut(PART_EVENTS), split, out, guarded, back) {
                    Ok(handed) => {
                        metrics::counter!("sluice_chain_split_batches_total", "tenant" => self.tenant.clone())
                            .increment(1);
                        return handed;
                    }
                    // The back half's thread is gone: the same parts, on this one.
                    Err(parts) => parts,
                }
            }
            None => vec![part],
        };
        let pipeline = self.pipeline.clone();
        Stage::new(&mut self.steps, 0, &pipeline, &self.tenant, guarded).run_to_end(parts, out)
    }

    /// Where to cut the steps from `part`'s on into a front and a back half
    /// of about equal cost, when the part is large enough to be worth a
    /// second thread and the cut takes at least a tenth off the critical
    /// path.
    fn split_point(&mut self, part: &Part) -> Option<usize> {
        if part.events.len() < 2 * PART_EVENTS {
            return None;
        }
        let costs = self.steps[part.step..]
            .iter()
            .map(|step| step.cost_per_event().map(|cost| cost.as_nanos() as f64))
            .collect::<Option<Vec<f64>>>()?;
        let previous = self.cut.and_then(|cut| cut.checked_sub(part.step));
        let split = part.step + stage::balanced_split(&costs, previous)?;
        self.cut = Some(split);
        Some(split)
    }

    /// Run `parts` through the front half (steps before `split`) here and
    /// the back half on `back`'s thread. `Err` gives the parts back,
    /// untouched, when that thread is gone.
    fn run_split(
        &mut self,
        parts: Vec<Part>,
        split: usize,
        out: &mut BatchOutput,
        guarded: bool,
        back: &BackHalf,
    ) -> Result<Vec<Part>, Vec<Part>> {
        let (sender, receiver) = crossbeam_channel::unbounded::<Part>();
        let (done, finished) = crossbeam_channel::bounded::<BackDone>(1);
        let job = BackJob {
            steps: self.steps.split_off(split),
            offset: split,
            pipeline: self.pipeline.clone(),
            tenant: self.tenant.clone(),
            guarded,
            parts: receiver,
            done,
        };
        if let Err(job) = back.send(job) {
            self.steps.extend(job.steps);
            return Err(parts);
        }
        let pipeline = self.pipeline.clone();
        let mut stage = Stage::new(&mut self.steps, 0, &pipeline, &self.tenant, guarded);
        let handed = stage::run_parts(&mut stage, parts, out, |halfway, _| {
            // Unsent only when the back half's thread is gone (it
            // panicked); then no steps come back, which is fatal below.
            sender.send(halfway).err().map(|unsent| unsent.into_inner())
        });
        stage.record();
        drop(sender);
        let BackDone {
            steps,
            out: back_out,
            handed: mut back_handed,
        } = finished
            .recv()
            .expect("the back half's thread ran its job: it only ends when its owner drops it");
        self.steps.extend(steps);
        out.absorb(back_out);
        // Every part the back half holds came before those the front half
        // still had.
        back_handed.extend(handed);
        Ok(back_handed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::stage::tests::{ids, part};

    #[test]
    fn handed_back_parts_at_one_step_become_one() {
        let work = Handoff::from_parts(vec![part(3, 0..2), part(1, 2..4), part(1, 4..6)]);
        assert_eq!(work.len(), 6);
        assert_eq!(work.parts.len(), 2);
        assert_eq!(work.parts[0].step, 3);
        assert_eq!(ids(&work.parts[0]), ["0", "1"]);
        assert_eq!(work.parts[1].step, 1);
        assert_eq!(ids(&work.parts[1]), ["2", "3", "4", "5"]);
    }
}
