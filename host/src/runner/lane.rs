//! A worker's isolation lane: a second thread per worker that runs the
//! tenants whose plugins have faulted, so their recovery (bisection, up to
//! [`RECOVERY_DEADLINES`](crate::runtime::limits::RECOVERY_DEADLINES) step
//! deadlines per batch) and their quarantine probes never hold up the
//! healthy tenants routed to the same worker.
//!
//! A worker runs each tenant's batch with [`Chain::run_guarded`]: the first
//! faulting call costs it at most one deadline, then the chain and the rest
//! of the batch move here ([`Job::Adopt`]) and every later batch of that
//! tenant follows ([`Job::Run`]), in order, so the tenant's events keep
//! their order and its instances stay on one thread. A tenant stays here
//! until the process restarts.
//!
//! A batch is acknowledged when the worker and every lane job holding its
//! [`Ticket`] have written their results: the queue then sees batches
//! finish out of order, which both adapters allow (the Kafka adapter
//! commits up to the lowest unacknowledged offset).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::chain::{Chain, Handoff};
use super::{BackHalf, BatchOutput, Cores, Sinks};
use crate::pipeline::Pipeline;
use crate::pipeline::registry::now_ns;
use crate::queue::Delivery;
use crate::runtime::{Event, PluginRuntime};

/// A batch's acknowledgement, shared by the worker and the lane jobs that
/// hold part of it: the last to finish acknowledges the delivery.
pub(super) struct Ticket {
    remaining: AtomicUsize,
    delivery: Mutex<Option<Delivery>>,
    started: Instant,
    events: usize,
}

impl Ticket {
    /// A ticket held by one party (the worker).
    pub(super) fn new(delivery: Delivery, events: usize, started: Instant) -> Arc<Self> {
        Arc::new(Self {
            remaining: AtomicUsize::new(1),
            delivery: Mutex::new(Some(delivery)),
            started,
            events,
        })
    }

    /// One more party holds the batch (call before handing it over).
    pub(super) fn share(self: &Arc<Self>) -> Arc<Self> {
        self.remaining.fetch_add(1, Ordering::AcqRel);
        self.clone()
    }

    /// This party has written its results; the last one acknowledges. A
    /// party that never calls this (a panicking thread) leaves the batch
    /// unacknowledged, to be redelivered where the queue is durable.
    pub(super) fn finish(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(delivery) = self.delivery.lock().take()
        {
            delivery.ack();
            metrics::histogram!("sluice_batch_seconds")
                .record(self.started.elapsed().as_secs_f64());
            metrics::counter!("sluice_events_processed_total").increment(self.events as u64);
        }
    }
}

/// Work for the lane.
pub(super) enum Job {
    /// Take over a tenant's chain and finish the batch it handed back.
    Adopt {
        tenant: String,
        chain: Chain,
        work: Handoff,
        ticket: Arc<Ticket>,
    },
    /// Run a batch of an adopted tenant under `pipeline`.
    Run {
        tenant: String,
        pipeline: Arc<Pipeline>,
        events: Vec<Event>,
        ticket: Arc<Ticket>,
    },
}

/// The lane's thread and the way to it.
pub(super) struct Lane {
    sender: Sender<Job>,
    thread: JoinHandle<()>,
}

impl Lane {
    /// Start the lane of worker `index`.
    pub(super) fn start(
        index: usize,
        runtime: Arc<PluginRuntime>,
        sinks: Arc<Sinks>,
        handle: tokio::runtime::Handle,
        tick: Duration,
        cores: Option<Arc<Cores>>,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let back = cores
            .map(|cores| BackHalf::start(format!("sluice-lback-{index}"), cores))
            .transpose()?;
        let thread = std::thread::Builder::new()
            .name(format!("sluice-lane-{index}"))
            .spawn(move || {
                LaneThread {
                    runtime,
                    sinks,
                    handle,
                    chains: HashMap::new(),
                    back,
                }
                .run(&receiver, tick);
            })?;
        Ok(Self { sender, thread })
    }

    /// Queue a job; jobs run in the order sent.
    pub(super) fn send(&self, job: Job) {
        if let Err(crossbeam_channel::SendError(job)) = self.sender.send(job) {
            // The lane thread is gone (it panicked): the job's batch stays
            // unacknowledged rather than be acknowledged unprocessed.
            tracing::error!(tenant = %job.tenant(), "isolation lane stopped; batch left unacknowledged");
        }
    }

    /// Finish every queued job, then stop.
    pub(super) fn stop(self) {
        drop(self.sender);
        let _ = self.thread.join();
    }
}

impl Job {
    fn tenant(&self) -> &str {
        match self {
            Job::Adopt { tenant, .. } | Job::Run { tenant, .. } => tenant,
        }
    }
}

struct LaneThread {
    runtime: Arc<PluginRuntime>,
    sinks: Arc<Sinks>,
    handle: tokio::runtime::Handle,
    chains: HashMap<String, Chain>,
    /// Runs the back half of split batches (`runner.split_chains`).
    back: Option<BackHalf>,
}

impl LaneThread {
    fn run(mut self, receiver: &Receiver<Job>, tick: Duration) {
        let mut last_tick = Instant::now();
        loop {
            let wait = tick.saturating_sub(last_tick.elapsed());
            match receiver.recv_timeout(wait) {
                Ok(job) => self.job(job),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_tick.elapsed() >= tick {
                last_tick = Instant::now();
                self.tick();
            }
        }
    }

    fn job(&mut self, job: Job) {
        let busy = self.back.as_ref().map(BackHalf::busy);
        let mut out = BatchOutput::default();
        let ticket = match job {
            Job::Adopt {
                tenant,
                mut chain,
                work,
                ticket,
            } => {
                tracing::warn!(%tenant, pipeline = %chain.pipeline().name, events = work.len(), "a step faulted: the tenant now runs on its worker's isolation lane");
                metrics::counter!("sluice_tenants_isolated_total", "tenant" => tenant.clone())
                    .increment(1);
                chain.resume(work, &mut out, self.back.as_ref());
                self.chains.insert(tenant, chain);
                ticket
            }
            Job::Run {
                tenant,
                pipeline,
                events,
                ticket,
            } => {
                match super::chain::current(&mut self.chains, &self.runtime, &pipeline, &tenant) {
                    Ok(chain) => chain.run(events, &mut out, self.back.as_ref()),
                    Err(failed) => failed.dead_letter(events, &pipeline, &tenant, &mut out),
                }
                ticket
            }
        };
        drop(busy);
        self.handle.block_on(self.sinks.write(out));
        ticket.finish();
    }

    fn tick(&mut self) {
        let mut out = BatchOutput::default();
        let now = now_ns();
        for chain in self.chains.values_mut() {
            chain.tick(now, &mut out);
        }
        if !out.alerts.is_empty() {
            self.handle.block_on(self.sinks.write(out));
        }
    }
}
