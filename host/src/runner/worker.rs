//! One worker thread: poll, run, write, acknowledge, tick.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::chain::Chain;
use super::{BatchOutput, RunnerOptions, Sinks};
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
    sinks: Arc<Sinks>,
    handle: tokio::runtime::Handle,
    chains: HashMap<String, Chain>,
}

impl Worker {
    pub(super) fn new(
        index: usize,
        options: RunnerOptions,
        runtime: Arc<PluginRuntime>,
        registry: Arc<Registry>,
        consumer: Box<dyn Consumer>,
        sinks: Arc<Sinks>,
        handle: tokio::runtime::Handle,
    ) -> Self {
        Self {
            index,
            options,
            runtime,
            registry,
            consumer,
            sinks,
            handle,
            chains: HashMap::new(),
        }
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
                    let started = Instant::now();
                    let events = std::mem::take(&mut delivery.events);
                    let count = events.len();
                    let output = self.process(events);
                    self.handle.block_on(self.sinks.write(output));
                    delivery.ack();
                    metrics::histogram!("sluice_batch_seconds")
                        .record(started.elapsed().as_secs_f64());
                    metrics::counter!("sluice_events_processed_total").increment(count as u64);
                }
                None if self.consumer.finished() => break,
                None => {}
            }
            if last_tick.elapsed() >= self.options.tick {
                last_tick = Instant::now();
                self.tick();
            }
        }
        tracing::debug!(
            worker = self.index,
            "worker stopped: queue closed and drained"
        );
    }

    /// Run a batch: group by tenant (keeping each tenant's order), run each
    /// group through its tenant's chain under the version in force now.
    fn process(&mut self, events: Vec<Event>) -> BatchOutput {
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
            let stale = self
                .chains
                .get(&tenant)
                .is_none_or(|c| c.pipeline().version != pipeline.version);
            if stale {
                self.chains.remove(&tenant);
                match Chain::start(&self.runtime, pipeline.clone(), &tenant) {
                    Ok(chain) => {
                        self.chains.insert(tenant.clone(), chain);
                    }
                    Err((step, error)) => {
                        tracing::error!(%tenant, pipeline = %pipeline.name, version = pipeline.version, %step, %error, "cannot start the tenant's chain; events dead-lettered");
                        let now = now_ns();
                        out.dead.extend(events.into_iter().map(|e| {
                            let mut letter = DeadLetter::unprocessed(
                                e,
                                &step,
                                "init_failed",
                                error.to_string(),
                                now,
                            );
                            letter.pipeline = pipeline.name.clone();
                            letter.pipeline_version = pipeline.version;
                            letter
                        }));
                        continue;
                    }
                }
            }
            if let Some(chain) = self.chains.get_mut(&tenant) {
                chain.run(events, &mut out);
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
            self.handle.block_on(self.sinks.write(out));
        }
    }
}
