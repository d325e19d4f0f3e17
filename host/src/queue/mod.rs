//! Queue adapters: ingest publishes accepted events; runner workers consume
//! them in batches and acknowledge each batch only after every sink stored
//! its results, so an event is never lost between acceptance and storage.
//!
//! In: events from ingest (already carrying id, tenant and received time).
//! Out: [`Delivery`] batches for the workers.
//!
//! - [`memory`]: the embedded default, a bounded in-process queue.
//! - `kafka`: the production adapter (topic `sluice.raw`, key = tenant).
//!
//! Both route a tenant's events to one worker, so a tenant's instances live
//! on one thread and its events keep their order.

pub mod kafka;
pub mod memory;

use std::time::Duration;

use async_trait::async_trait;

use crate::runtime::Event;

/// Why events could not be enqueued. Ingest turns both into a 429/503 with
/// `Retry-After`; nothing of the request was accepted.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum QueueError {
    /// The queue is at its budget; retry after the given time.
    #[error("queue is full; retry in {} s", retry_after.as_secs())]
    Full {
        /// Suggested wait.
        retry_after: Duration,
    },
    /// The queue backend is unreachable or did not confirm the write.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Closes a queue: no more events are handed out; workers drain the rest.
pub type Closer = Box<dyn FnOnce() + Send>;

/// The producing side, shared by every ingest request.
#[async_trait]
pub trait Producer: Send + Sync + 'static {
    /// Enqueue events; returns once the queue holds them (for Kafka: every
    /// delivery report succeeded with acks=all). All or nothing.
    async fn publish(&self, events: Vec<Event>) -> Result<(), QueueError>;

    /// Events accepted and not yet acknowledged by the runner.
    fn depth(&self) -> u64;
}

/// The consuming side of one worker.
pub trait Consumer: Send + 'static {
    /// The next batch for this worker: up to `max` events, waiting at most
    /// `wait` for the first. `None` when nothing arrived.
    fn poll(&mut self, max: usize, wait: Duration) -> Option<Delivery>;

    /// Whether the queue is closed and drained: the worker may stop.
    fn finished(&self) -> bool;
}

/// A batch of events and the acknowledgement that releases it.
pub struct Delivery {
    /// The events, in queue order.
    pub events: Vec<Event>,
    ack: Option<Box<dyn FnOnce() + Send>>,
}

impl Delivery {
    /// A delivery whose acknowledgement runs `ack`.
    pub fn new(events: Vec<Event>, ack: impl FnOnce() + Send + 'static) -> Self {
        Self {
            events,
            ack: Some(Box::new(ack)),
        }
    }

    /// Every event of the batch is stored or dead-lettered: release it.
    pub fn ack(mut self) {
        if let Some(ack) = self.ack.take() {
            ack();
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if self.ack.is_some() {
            tracing::error!(
                events = self.events.len(),
                "delivery dropped without acknowledgement; its events will be redelivered where the queue is durable"
            );
        }
    }
}

/// Set while a sink is retrying (a store is down): ingest sheds load with
/// 503 + `Retry-After` instead of growing a backlog without bound.
#[derive(Debug, Default)]
pub struct Backpressure(pub std::sync::atomic::AtomicBool);

/// Which worker serves `tenant`, of `workers`.
pub fn worker_for(tenant: &str, workers: usize) -> usize {
    let hash = xxhash_rust::xxh3::xxh3_64(tenant.as_bytes());
    (hash % workers.max(1) as u64) as usize
}
