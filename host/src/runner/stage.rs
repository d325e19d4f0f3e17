//! The pieces a chain runs a batch with: [`Part`]s of a batch at some step,
//! [`Stage`]s (runs of consecutive steps, one thread each) that move them
//! along, and the [`BackHalf`] thread that runs the second stage of split
//! batches.
//!
//! A split batch costs a handful of channel messages per part; the thread
//! that runs the back half lives as long as its worker, so its caches,
//! stack and allocator heap stay warm from batch to batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::BatchOutput;
use crate::event::DeadLetter;
use crate::pipeline::Pipeline;
use crate::pipeline::registry::now_ns;
use crate::runtime::{Event, StepOutcome, StepRunner, pack, spare};
use crate::store::StoredEvent;

/// Events per part when a batch runs on two threads: small enough that the
/// two halves overlap for most of a batch, large enough that handing parts
/// over costs little beside running them.
pub const PART_EVENTS: usize = 128;

/// Events at one step of a chain: as they are now and, for those a step
/// changed, as they entered. An event is a few hundred bytes before any of
/// its text, so events stay where they are from step to step (only a
/// changed one is replaced, only a removed one moves its neighbours), and
/// originals are boxed: the many events never changed cost a null pointer.
pub(super) struct Part {
    pub(super) step: usize,
    pub(super) events: Vec<Event>,
    pub(super) originals: Vec<Option<Box<Event>>>,
}

impl Part {
    pub(super) fn start(events: Vec<Event>) -> Self {
        let originals = std::iter::repeat_with(|| None).take(events.len()).collect();
        Self {
            step: 0,
            events,
            originals,
        }
    }

    /// Cut into parts of at most `size` events, in order.
    pub(super) fn cut(mut self, size: usize) -> Vec<Part> {
        let mut parts = Vec::with_capacity(self.events.len().div_ceil(size));
        let step = self.step;
        while self.events.len() > size {
            let events = self.events.split_off(size);
            let originals = self.originals.split_off(size);
            let tail = Part {
                step,
                events,
                originals,
            };
            parts.push(std::mem::replace(&mut self, tail));
        }
        parts.push(self);
        parts
    }
}

/// The cut of a run of steps with these costs into a non-empty front and
/// back that minimises the costlier side, or `previous` while its costlier
/// side is within a tenth of that: costs move a little from batch to batch,
/// and each move of the cut moves a step's instance (and the memory it
/// works in) to the other core. `None` when the cut's costlier side would
/// still carry nine tenths of the total or more (not worth a thread).
pub(super) fn balanced_split(costs: &[f64], previous: Option<usize>) -> Option<usize> {
    let total: f64 = costs.iter().sum();
    let slower = |split: usize| {
        let front: f64 = costs[..split].iter().sum();
        front.max(total - front)
    };
    let cuts = 1..costs.len();
    let best = cuts
        .clone()
        .min_by(|&a, &b| slower(a).total_cmp(&slower(b)))?;
    let chosen = match previous {
        Some(previous) if cuts.contains(&previous) && slower(previous) <= 1.1 * slower(best) => {
            previous
        }
        _ => best,
    };
    (slower(chosen) < 0.9 * total).then_some(chosen)
}

/// Consecutive steps of a chain run by one thread, with the per-step
/// counts it reports when done.
pub(super) struct Stage<'a> {
    steps: &'a mut [StepRunner],
    /// The chain's index of `steps[0]`.
    offset: usize,
    pipeline: &'a Pipeline,
    tenant: &'a str,
    guarded: bool,
    counts: Vec<StepCounts>,
}

/// Events into a step, and how many of them it dropped or failed.
#[derive(Debug, Default, Clone, Copy)]
struct StepCounts {
    input: u64,
    dropped: u64,
    failed: u64,
}

impl<'a> Stage<'a> {
    pub(super) fn new(
        steps: &'a mut [StepRunner],
        offset: usize,
        pipeline: &'a Pipeline,
        tenant: &'a str,
        guarded: bool,
    ) -> Self {
        let counts = vec![StepCounts::default(); steps.len()];
        Self {
            steps,
            offset,
            pipeline,
            tenant,
            guarded,
            counts,
        }
    }

    /// Run `part` through this stage's steps from the one it is at. A
    /// guarded call that faults hands the part back at that step.
    pub(super) fn advance(&mut self, mut part: Part, out: &mut BatchOutput) -> Result<Part, Part> {
        let pipeline = self.pipeline;
        let sinks = &pipeline.sinks;
        let end = self.offset + self.steps.len();
        while part.step < end && !part.events.is_empty() {
            let index = part.step;
            let step = &mut self.steps[index - self.offset];
            let spec = &pipeline.steps[index];
            let output = if self.guarded {
                match step.try_run(&part.events) {
                    Some(output) => output,
                    None => return Err(part),
                }
            } else {
                step.run(&part.events)
            };
            if sinks.incidents {
                out.alerts.extend(
                    output
                        .alerts
                        .into_iter()
                        .map(|a| (self.tenant.to_owned(), a)),
                );
                out.merges.extend(
                    output
                        .merges
                        .into_iter()
                        .map(|m| (self.tenant.to_owned(), m)),
                );
            }
            let counts = &mut self.counts[index - self.offset];
            counts.input += part.events.len() as u64;
            let mut removed: Vec<bool> = Vec::new();
            for (at, outcome) in output.outcomes.into_iter().enumerate() {
                let event = &mut part.events[at];
                let original = &mut part.originals[at];
                let gone = match outcome {
                    StepOutcome::Pass => false,
                    StepOutcome::Keep(changed) => {
                        let before = std::mem::replace(event, changed);
                        match original {
                            Some(_) => spare::give(before),
                            None => *original = Some(Box::new(before)),
                        }
                        false
                    }
                    StepOutcome::Drop => {
                        counts.dropped += 1;
                        spare::give(std::mem::replace(event, pack::blank_event()));
                        true
                    }
                    StepOutcome::Failed(failure) => {
                        counts.failed += 1;
                        let event = std::mem::replace(event, pack::blank_event());
                        if sinks.dead_letters {
                            out.dead.push(DeadLetter::new(
                                original.take().map_or(event, |original| *original),
                                (&pipeline.name, pipeline.version),
                                &spec.name,
                                &spec.plugin,
                                &failure,
                                now_ns(),
                            ));
                        }
                        true
                    }
                };
                if gone {
                    removed.resize(part.events.len(), false);
                    removed[at] = true;
                }
            }
            if !removed.is_empty() {
                remove_marked(&mut part.events, &removed);
                remove_marked(&mut part.originals, &removed);
            }
            part.step = index + 1;
        }
        Ok(part)
    }

    /// Run `parts` through the last steps of the chain and finish them;
    /// what a faulting guarded call hands back, in order.
    pub(super) fn run_to_end(
        mut self,
        parts: impl IntoIterator<Item = Part>,
        out: &mut BatchOutput,
    ) -> Vec<Part> {
        let pipeline = self.pipeline;
        let handed = run_parts(&mut self, parts, out, |done, out| {
            finish(pipeline, done, out);
            None
        });
        self.record();
        handed
    }

    /// Count what went through each step.
    pub(super) fn record(self) {
        for (counts, spec) in self.counts.iter().zip(&self.pipeline.steps[self.offset..]) {
            if counts.input > 0 {
                record_step(self.tenant, &spec.name, counts);
            }
        }
    }
}

/// Remove the items marked in `removed` (one mark per item), keeping order.
fn remove_marked<T>(items: &mut Vec<T>, removed: &[bool]) {
    let mut marks = removed.iter();
    items.retain(|_| marks.next() == Some(&false));
}

/// Events that made it through the whole chain go to the pipeline's sinks.
fn finish(pipeline: &Pipeline, part: Part, out: &mut BatchOutput) {
    let sinks = &pipeline.sinks;
    out.processed += part.events.len() as u64;
    if sinks.signals {
        out.signals.add_all(&part.events);
    }
    let stored = part.events.into_iter().map(|event| StoredEvent {
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

fn record_step(tenant: &str, step: &str, counts: &StepCounts) {
    let labels = [("tenant", tenant.to_owned()), ("step", step.to_owned())];
    let StepCounts {
        input,
        dropped,
        failed,
    } = *counts;
    metrics::counter!("sluice_step_events_in_total", &labels).increment(input);
    metrics::counter!("sluice_step_events_out_total", &labels).increment(input - dropped - failed);
    if dropped > 0 {
        metrics::counter!("sluice_step_events_dropped_total", &labels).increment(dropped);
    }
    if failed > 0 {
        metrics::counter!("sluice_step_events_dead_lettered_total", &labels).increment(failed);
    }
}

/// Run `parts` through `stage`, in order, finishing those that reach the
/// chain's end; after a guarded call faults, the rest are handed back
/// untouched. Returns what was handed back, in order.
pub(super) fn run_parts(
    stage: &mut Stage<'_>,
    parts: impl IntoIterator<Item = Part>,
    out: &mut BatchOutput,
    mut onward: impl FnMut(Part, &mut BatchOutput) -> Option<Part>,
) -> Vec<Part> {
    let mut handed = Vec::new();
    for part in parts {
        if !handed.is_empty() {
            handed.push(part);
            continue;
        }
        match stage.advance(part, out) {
            Ok(done) => handed.extend(onward(done, out)),
            Err(part) => handed.push(part),
        }
    }
    handed
}

/// The back half of a split batch, handed to a [`BackHalf`] thread with
/// the steps it runs.
pub(super) struct BackJob {
    pub(super) steps: Vec<StepRunner>,
    /// The chain's index of `steps[0]`.
    pub(super) offset: usize,
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) tenant: String,
    pub(super) guarded: bool,
    /// Parts from the front half, in batch order, until it hangs up.
    pub(super) parts: Receiver<Part>,
    pub(super) done: Sender<BackDone>,
}

/// What the back half gives back: its steps, what it produced, and the
/// parts a faulting guarded call handed back (in batch order).
pub(super) struct BackDone {
    pub(super) steps: Vec<StepRunner>,
    pub(super) out: BatchOutput,
    pub(super) handed: Vec<Part>,
}

/// Batches being run right now, against the cores there are. A split
/// batch takes a second core: that pays when a core is idle, and when
/// every core is busy with other batches it only adds hand-offs and
/// copies between cores (measured: 10 % fewer events/s with four busy
/// tenants on two cores).
#[derive(Debug)]
pub struct Cores {
    busy: AtomicUsize,
    total: usize,
}

impl Cores {
    /// Shared by every worker and lane of a process with `total` cores.
    pub fn new(total: usize) -> Arc<Self> {
        Arc::new(Self {
            busy: AtomicUsize::new(0),
            total,
        })
    }

    /// Count a batch as running until the guard drops.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Whether every running batch (the caller's among them) could have a
    /// second core.
    fn has_spare(&self) -> bool {
        2 * self.busy.load(Ordering::Relaxed) <= self.total
    }
}

/// A running batch, counted in [`Cores`] until dropped.
pub struct Busy(Arc<Cores>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A thread, one per worker and per isolation lane, that runs the back
/// half of the batches its owner splits (see [`super::chain`]).
pub struct BackHalf {
    jobs: Option<Sender<BackJob>>,
    thread: Option<JoinHandle<()>>,
    cores: Arc<Cores>,
}

impl BackHalf {
    /// Start the thread, named `name`; it splits batches only while
    /// `cores` has one to spare.
    pub fn start(name: String, cores: Arc<Cores>) -> std::io::Result<Self> {
        let (jobs, receiver) = crossbeam_channel::unbounded::<BackJob>();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            for job in receiver {
                Self::run(job);
            }
        })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
            cores,
        })
    }

    /// Count a batch of the owner's as running until the guard drops.
    pub fn busy(&self) -> Busy {
        self.cores.busy()
    }

    /// Whether a batch may be split now: a core is to spare.
    pub(super) fn has_spare_core(&self) -> bool {
        self.cores.has_spare()
    }

    /// Queue a job; gives it back when the thread is gone.
    pub(super) fn send(&self, job: BackJob) -> Result<(), BackJob> {
        match &self.jobs {
            Some(jobs) => jobs.send(job).map_err(|error| error.into_inner()),
            None => Err(job),
        }
    }

    fn run(job: BackJob) {
        let BackJob {
            mut steps,
            offset,
            pipeline,
            tenant,
            guarded,
            parts,
            done,
        } = job;
        let mut out = BatchOutput::default();
        let handed =
            Stage::new(&mut steps, offset, &pipeline, &tenant, guarded).run_to_end(parts, &mut out);
        // The front half waits for this; if it is gone, so is the chain.
        let _ = done.send(BackDone { steps, out, handed });
    }
}

impl Drop for BackHalf {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn the_split_balances_the_two_halves_or_is_not_made() {
        // normalize, redact, fingerprint, alert as measured on the reference chain.
        assert_eq!(balanced_split(&[2.4, 2.7, 2.1, 0.4], None), Some(2));
        assert_eq!(balanced_split(&[1.0, 1.0, 1.0], None), Some(1));
        assert_eq!(balanced_split(&[1.0, 5.0], None), Some(1));
        // One step carrying almost everything: a second thread gains nothing.
        assert_eq!(balanced_split(&[0.05, 10.0, 0.05], None), None);
        assert_eq!(balanced_split(&[3.0], None), None);
        assert_eq!(balanced_split(&[], None), None);
    }

    #[test]
    fn the_cut_stays_put_while_costs_move_a_little() {
        // After redact: 5.1 against 2.5; after normalize: 2.4 against 5.2.
        let costs = [2.4, 2.7, 2.1, 0.4];
        assert_eq!(balanced_split(&costs, Some(1)), Some(1), "within a tenth");
        assert_eq!(balanced_split(&costs, Some(2)), Some(2));
        // After fingerprint: 7.2 against 0.4, far off the best.
        assert_eq!(balanced_split(&costs, Some(3)), Some(2));
        assert_eq!(balanced_split(&costs, Some(4)), Some(2), "no such cut");
        assert_eq!(balanced_split(&[0.05, 10.0, 0.05], Some(1)), None);
    }

    pub(crate) fn part(step: usize, ids: std::ops::Range<usize>) -> Part {
        let events: Vec<Event> = ids
            .map(|i| Event {
                id: i.to_string(),
                ..crate::runtime::pack::blank_event()
            })
            .collect();
        Part {
            step,
            originals: events.iter().map(|_| None).collect(),
            events,
        }
    }

    pub(crate) fn ids(part: &Part) -> Vec<String> {
        part.events.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn batches_split_only_while_a_core_is_to_spare() {
        let cores = Cores::new(2);
        let first = cores.busy();
        assert!(cores.has_spare(), "one batch on two cores");
        let second = cores.busy();
        assert!(!cores.has_spare(), "two batches on two cores");
        drop(second);
        assert!(cores.has_spare());
        drop(first);
        assert!(!Cores::new(1).busy().0.has_spare(), "one core");
    }

    #[test]
    fn cutting_keeps_order_and_every_event() {
        let parts = part(2, 0..300).cut(128);
        assert_eq!(
            parts.iter().map(|p| p.events.len()).collect::<Vec<_>>(),
            [128, 128, 44]
        );
        assert!(
            parts
                .iter()
                .all(|p| p.step == 2 && p.originals.len() == p.events.len())
        );
        let all: Vec<String> = parts.iter().flat_map(ids).collect();
        assert_eq!(all, (0..300).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(part(0, 0..5).cut(128).len(), 1);
    }
}
