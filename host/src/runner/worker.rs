//! One worker thread: poll, run, hand the results to its writer (which
//! stores them in order and then acknowledges), tick; with its isolation
//! lane ([`super::lane`]) for the tenants whose plugins faulted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::chain::{self, Chain};
use super::lane::{Job, Lane, Ticket};
use super::{BackHalf, BatchOutput, Cores, RunnerOptions, Sinks};
use crate::event::DeadLetter;
use crate::pipeline::Registry;
use crate::pipeline::registry::now_ns;
use crate::queue::Consumer;
use crate::runtime::{Event, PluginRuntime};

pub(super) struct Worker {
    index: usize,
    options: RunnerOptions,
    runtime: Arc<PluginRuntime>,
    registry: Arc<Registry>,
    consumer: Box<dyn Consumer>,
    handle: tokio::runtime::Handle,
    chains: HashMap<String, Chain>,
    /// Tenants whose chains moved to the lane.
    isolated: HashSet<String>,
    lane: Lane,
    writer: Writer,
    /// Runs the back half of split batches (`runner.split_chains`).
    back: Option<BackHalf>,
}

/// How many batch outputs may wait for the store while the worker runs the
/// next batches. Past it the worker waits: a slow store slows the worker
/// instead of growing memory.
const WRITES_QUEUED: usize = 4;

/// The worker's writes, in order, one at a time, on the async runtime, so
/// the next batches run through their chains while one is being stored.
/// Outputs that queued up meanwhile are stored together in the next write:
/// the store's round trip, not the batch, sets the pace, so fewer and
/// larger inserts (and for ClickHouse fewer parts to merge) go further.
struct Writer {
    sender: tokio::sync::mpsc::Sender<(BatchOutput, Option<Arc<Ticket>>)>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(sinks: Arc<Sinks>, handle: &tokio::runtime::Handle) -> Self {
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<(BatchOutput, Option<Arc<Ticket>>)>(WRITES_QUEUED);
        let task = handle.spawn(async move {
            while let Some((mut output, ticket)) = receiver.recv().await {
                let mut tickets: Vec<Arc<Ticket>> = ticket.into_iter().collect();
                while let Ok((later, ticket)) = receiver.try_recv() {
                    output.absorb(later);
                    tickets.extend(ticket);
                }
                sinks.write(output).await;
                for ticket in tickets {
                    ticket.finish();
                }
            }
        });
        Self { sender, task }
    }

    /// Queue an output; `ticket`'s share finishes once it is stored.
    fn write(&self, output: BatchOutput, ticket: Option<Arc<Ticket>>) {
        if self.sender.blocking_send((output, ticket)).is_err() {
            // The write task is gone (it panicked): the batch stays
            // unacknowledged rather than be acknowledged unstored.
            tracing::error!("store writer stopped; batch left unacknowledged");
        }
    }

    /// Store everything queued, then stop.
    fn stop(self, handle: &tokio::runtime::Handle) {
        drop(self.sender);
        let _ = handle.block_on(self.task);
    }
}

/// What every worker of a runner is started with.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) runtime: Arc<PluginRuntime>,
    pub(super) registry: Arc<Registry>,
    pub(super) sinks: Arc<Sinks>,
    pub(super) handle: tokio::runtime::Handle,
    /// Present when batches may be split (`split_chains`).
    pub(super) cores: Option<Arc<Cores>>,
}

impl Worker {
    pub(super) fn new(
        index: usize,
        options: RunnerOptions,
        consumer: Box<dyn Consumer>,
        shared: Shared,
    ) -> std::io::Result<Self> {
        let Shared {
            runtime,
            registry,
            sinks,
            handle,
            cores,
        } = shared;
        let lane = Lane::start(
            index,
            runtime.clone(),
            sinks.clone(),
            handle.clone(),
            options.tick,
            cores.clone(),
        )?;
        let writer = Writer::start(sinks.clone(), &handle);
        let back = cores
            .map(|cores| BackHalf::start(format!("sluice-back-{index}"), cores))
            .transpose()?;
        Ok(Self {
            index,
            options,
            runtime,
            registry,
            consumer,
            handle,
            chains: HashMap::new(),
            isolated: HashSet::new(),
            lane,
            writer,
            back,
        })
    }

    pub(super) fn run(mut self) {
        tracing::debug!(worker = self.index, "worker started");
        let mut last_tick = Instant::now();
        loop {
            match self
                .consumer
                .poll(self.options.batch_events, self.options.poll_wait)
            {
                Some(mut delivery) => {
                    let events = std::mem::take(&mut delivery.events);
                    let ticket = Ticket::new(delivery, events.len(), Instant::now());
                    let busy = self.back.as_ref().map(BackHalf::busy);
                    let output = self.process(events, &ticket);
                    drop(busy);
                    self.writer.write(output, Some(ticket));
                }
                None if self.consumer.finished() => break,
                None => {}
            }
            if last_tick.elapsed() >= self.options.tick {
                last_tick = Instant::now();
                self.tick();
            }
        }
        self.writer.stop(&self.handle);
        self.lane.stop();
        tracing::debug!(
            worker = self.index,
            "worker stopped: queue closed and drained"
        );
    }

    /// Run a batch: group by tenant (keeping each tenant's order), run each
    /// group through its tenant's chain under the version in force now;
    /// isolated tenants' groups go to the lane, holding a share of `ticket`.
    fn process(&mut self, events: Vec<Event>, ticket: &Arc<Ticket>) -> BatchOutput {
        let snapshot = self.registry.snapshot();
        let mut out = BatchOutput::default();
        let mut groups: Vec<(String, Vec<Event>)> = Vec::new();
        for event in events {
            match groups.iter_mut().find(|(t, _)| *t == event.tenant) {
                Some((_, group)) => group.push(event),
                None => groups.push((event.tenant.clone(), vec![event])),
            }
        }
        for (tenant, events) in groups {
            let Some(pipeline) = snapshot.for_tenant(&tenant) else {
                let now = now_ns();
                out.dead.extend(events.into_iter().map(|e| {
                    DeadLetter::unprocessed(
                        e,
                        "(routing)",
                        "no_pipeline",
                        format!(
                            "no pipeline serves tenant `{tenant}` and there is no default pipeline"
                        ),
                        now,
                    )
                }));
                continue;
            };
            if self.isolated.contains(&tenant) {
                self.lane.send(Job::Run {
                    tenant,
                    pipeline: pipeline.clone(),
                    events,
                    ticket: ticket.share(),
                });
                continue;
            }
            let chain = match chain::current(&mut self.chains, &self.runtime, &pipeline, &tenant) {
                Ok(chain) => chain,
                Err(failed) => {
                    failed.dead_letter(events, &pipeline, &tenant, &mut out);
                    continue;
                }
            };
            if let Some(work) = chain.run_guarded(events, &mut out, self.back.as_ref())
                && let Some(chain) = self.chains.remove(&tenant)
            {
                self.isolated.insert(tenant.clone());
                self.lane.send(Job::Adopt {
                    tenant,
                    chain,
                    work,
                    ticket: ticket.share(),
                });
            }
        }
        out
    }

    fn tick(&mut self) {
        let mut out = BatchOutput::default();
        let now = now_ns();
        for chain in self.chains.values_mut() {
            chain.tick(now, &mut out);
        }
        if !out.alerts.is_empty() {
            self.writer.write(out, None);
        }
    }
}
