//! One worker thread: poll, run, hand the results to its writer (which
//! stores them in order and then acknowledges), tick; with its isolation
//! lane ([`super::lane`]) for the tenants whose plugins faulted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::chain::{self, Chain};
use super::lane::{Job, Lane, Ticket};
use super::{BackHalf, BatchOutput, Cores, RunnerOptions, Sinks, WriteGathering};
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
/// Outputs that queued up meanwhile are stored together in the next write.
/// While the queue has a backlog (the last batch was full), a write also
/// waits for more ([`WriteGathering`]): a store's cost per write dwarfs its
/// cost per event (a ClickHouse insert writes a new part, some fifty files,
/// and merges it later), so under load fewer, larger writes leave more of
/// the machine to the chains. Without a backlog a batch is written at once.
struct Writer {
    sender: tokio::sync::mpsc::Sender<Queued>,
    task: tokio::task::JoinHandle<()>,
}

/// A batch's output, the ticket it acknowledges once stored, and whether
/// its batch was full (more events are waiting in the queue).
type Queued = (BatchOutput, Option<Arc<Ticket>>, bool);

impl Writer {
    fn start(
        sinks: Arc<Sinks>,
        gathering: WriteGathering,
        handle: &tokio::runtime::Handle,
    ) -> Self {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Queued>(WRITES_QUEUED);
        let task = handle.spawn(async move {
            while let Some((mut output, ticket, mut backlog)) = receiver.recv().await {
                let mut tickets: Vec<Arc<Ticket>> = ticket.into_iter().collect();
                let deadline = tokio::time::Instant::now() + gathering.linger;
                loop {
                    let next = match receiver.try_recv() {
                        Ok(next) => next,
                        Err(_) if !backlog || output.stored.len() >= gathering.events => break,
                        Err(_) => match tokio::time::timeout_at(deadline, receiver.recv()).await {
                            Ok(Some(next)) => next,
                            Ok(None) | Err(_) => break,
                        },
                    };
                    let (later, ticket, full) = next;
                    output.absorb(later);
                    tickets.extend(ticket);
                    backlog = full;
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
    /// `backlog`: the batch was full, more are waiting.
    fn write(&self, output: BatchOutput, ticket: Option<Arc<Ticket>>, backlog: bool) {
        if self
            .sender
            .blocking_send((output, ticket, backlog))
            .is_err()
        {
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
        let writer = Writer::start(sinks.clone(), options.gathering, &handle);
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
                    let backlog = events.len() >= self.options.batch_events;
                    let ticket = Ticket::new(delivery, events.len(), Instant::now());
                    let busy = self.back.as_ref().map(BackHalf::busy);
                    let output = self.process(events, &ticket);
                    drop(busy);
                    self.writer.write(output, Some(ticket), backlog);
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
            self.writer.write(out, None, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use parking_lot::Mutex;

    use super::*;
    use crate::runner::sinks::Tap;
    use crate::store::StoredEvent;
    use crate::store::discard::DiscardLogStore;
    use crate::store::sql::SqlDatabase;

    /// The number of events in each write, in order.
    #[derive(Default)]
    struct Writes(Mutex<Vec<usize>>);

    impl Tap for Writes {
        fn processed(&self, events: &[&StoredEvent]) {
            self.0.lock().push(events.len());
        }
    }

    impl Writes {
        /// Wait (up to ten seconds) until `n` writes happened; all of them.
        fn after(&self, n: usize) -> Vec<usize> {
            let started = Instant::now();
            while self.0.lock().len() < n && started.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.0.lock().clone()
        }
    }

    fn output(events: usize) -> BatchOutput {
        let stored = StoredEvent {
            event: crate::runtime::pack::blank_event(),
            pipeline: "default".into(),
            pipeline_version: 1,
        };
        BatchOutput {
            stored: vec![stored; events],
            ..BatchOutput::default()
        }
    }

    /// A writer gathering as `gathering` says, over a store that discards
    /// events, and what it wrote.
    struct Rig {
        writer: Writer,
        writes: Arc<Writes>,
        runtime: tokio::runtime::Runtime,
        _dir: tempfile::TempDir,
    }

    impl Rig {
        fn start(gathering: WriteGathering) -> Self {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            let dir = tempfile::tempdir().expect("tempdir");
            let database = runtime
                .block_on(SqlDatabase::open_sqlite(&dir.path().join("sluice.db")))
                .expect("database");
            let stores = Arc::new(database).stores();
            let writes = Arc::new(Writes::default());
            let sinks = Arc::new(Sinks {
                logs: Arc::new(DiscardLogStore),
                incidents: stores.incidents,
                dead_letters: stores.dead_letters,
                taps: vec![writes.clone()],
                signals: stores.signals,
                incident_listeners: Vec::new(),
                backpressure: Arc::new(crate::queue::Backpressure(AtomicBool::new(false))),
            });
            let writer = Writer::start(sinks, gathering, runtime.handle());
            Self {
                writer,
                writes,
                runtime,
                _dir: dir,
            }
        }

        fn stop(self) {
            self.writer.stop(self.runtime.handle());
        }
    }

    /// Under a backlog the writer gathers the outputs that follow into one
    /// write until a batch comes in short or the write holds `events`.
    /// (The linger here outlasts the test: reaching a write means one of
    /// those ended the gathering.)
    #[test]
    fn a_backlog_is_written_in_one_go() {
        let rig = Rig::start(WriteGathering {
            events: 16,
            linger: Duration::from_secs(600),
        });
        rig.writer.write(output(3), None, true);
        rig.writer.write(output(3), None, true);
        rig.writer.write(output(2), None, false);
        assert_eq!(rig.writes.after(1), [8], "a short batch ends the backlog");

        rig.writer.write(output(20), None, true);
        assert_eq!(rig.writes.after(2), [8, 20], "a full write goes");

        rig.writer.write(output(4), None, false);
        assert_eq!(
            rig.writes.after(3),
            [8, 20, 4],
            "no backlog: written as it came"
        );
        rig.stop();
    }

    /// A backlog that stops without a short batch is written once the
    /// linger ends; a linger of 0 never waits.
    #[test]
    fn the_linger_ends_a_gathering() {
        for linger in [Duration::from_millis(50), Duration::ZERO] {
            let rig = Rig::start(WriteGathering { events: 16, linger });
            rig.writer.write(output(1), None, true);
            assert_eq!(rig.writes.after(1), [1], "linger {linger:?}");
            rig.stop();
        }
    }
}
