//! The runner: worker threads that take batches from the queue, run each
//! tenant's events through that tenant's chain, write the results to every
//! sink and only then acknowledge the batch.
//!
//! In: [`crate::queue::Consumer`]s, one per worker; the pipeline registry.
//! Out: stored events, dead letters, incidents — through [`sinks::Sinks`].
//!
//! A worker owns the plugin instances of the tenants routed to it, so
//! instances are never shared between threads or tenants. A tenant whose
//! plugin faults moves, with its instances, to the worker's isolation lane
//! (a second thread), so recovering it never delays the worker's other
//! tenants. A new pipeline version takes effect at the next batch boundary:
//! a batch runs entirely under one version.

pub mod chain;
mod lane;
pub mod sinks;
mod stage;
mod worker;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::DeadLetter;
use crate::pipeline::Registry;
use crate::queue::Consumer;
use crate::runtime::{Alert, FingerprintMerge, PluginRuntime};
use crate::store::StoredEvent;

pub use sinks::Sinks;
pub use stage::{BackHalf, Cores};

/// Default events per batch.
pub const BATCH_EVENTS: usize = 1024;

/// How often windows are closed when no events arrive.
pub const TICK: Duration = Duration::from_secs(1);

/// Runner settings.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Worker threads.
    pub workers: usize,
    /// Most events per batch.
    pub batch_events: usize,
    /// Longest wait for a first event before ticking.
    pub poll_wait: Duration,
    /// Interval of plugin ticks.
    pub tick: Duration,
    /// Whether a tenant's large batches may run on two threads (see
    /// [`chain`]), so that one busy tenant is not bound to one core.
    pub split_chains: bool,
    /// How store writes gather batches under a backlog.
    pub gathering: WriteGathering,
}

/// How a worker's store writes gather batches while batches come in full
/// (the queue has a backlog): up to `events`, waiting at most `linger`.
/// Without a backlog a batch is written at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteGathering {
    /// Events a write gathers.
    pub events: usize,
    /// Longest a write waits for them.
    pub linger: Duration,
}

impl Default for WriteGathering {
    fn default() -> Self {
        Self {
            events: 16_384,
            linger: Duration::from_millis(250),
        }
    }
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            batch_events: BATCH_EVENTS,
            poll_wait: Duration::from_millis(50),
            tick: TICK,
            split_chains: true,
            gathering: WriteGathering::default(),
        }
    }
}

/// What one batch produced, for the sinks.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// Events to store, with their pipeline version.
    pub stored: Vec<StoredEvent>,
    /// Processed events of signal-only pipelines (aggregated, not stored).
    pub signals_only: Vec<StoredEvent>,
    /// Daily counts of the processed events of pipelines that keep signals.
    pub signals: crate::store::signals::SignalBatch,
    /// Events that failed.
    pub dead: Vec<DeadLetter>,
    /// Alerts, by tenant.
    pub alerts: Vec<(String, Alert)>,
    /// Fingerprint merges, by tenant.
    pub merges: Vec<(String, FingerprintMerge)>,
    /// Events that made it through their whole chain.
    pub processed: u64,
}

impl BatchOutput {
    /// Append a later batch's results, so several batches are stored in
    /// one write (their order kept).
    pub fn absorb(&mut self, later: BatchOutput) {
        self.stored.extend(later.stored);
        self.signals_only.extend(later.signals_only);
        self.signals.merge(later.signals);
        self.dead.extend(later.dead);
        self.alerts.extend(later.alerts);
        self.merges.extend(later.merges);
        self.processed += later.processed;
    }
}

/// The running workers.
pub struct Runner {
    threads: Vec<JoinHandle<()>>,
}

impl Runner {
    /// Start one worker per consumer.
    pub fn start(
        options: &RunnerOptions,
        runtime: Arc<PluginRuntime>,
        registry: Arc<Registry>,
        consumers: Vec<Box<dyn Consumer>>,
        sinks: Arc<Sinks>,
        handle: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        let mut threads = Vec::new();
        let shared = worker::Shared {
            runtime,
            registry,
            sinks,
            handle,
            cores: options
                .split_chains
                .then(|| Cores::new(std::thread::available_parallelism().map_or(1, |n| n.get()))),
        };
        for (index, consumer) in consumers.into_iter().enumerate() {
            let worker = worker::Worker::new(index, options.clone(), consumer, shared.clone())?;
            threads.push(
                std::thread::Builder::new()
                    .name(format!("sluice-worker-{index}"))
                    .spawn(move || worker.run())?,
            );
        }
        Ok(Self { threads })
    }

    /// Wait for every worker to finish (after the queue closed and drained).
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}
