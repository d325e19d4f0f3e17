//! The embedded queue: bounded, in-process, one channel per worker.
//!
//! The bound is on events accepted and not yet acknowledged, so memory stays
//! bounded however slow the sinks are: past it, ingest answers 503 with
//! `Retry-After`. Events in this queue do not survive a crash; a graceful
//! shutdown drains it before exiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{Consumer, Delivery, Producer, QueueError, worker_for};
use crate::runtime::Event;

/// Default bound on events in the queue.
pub const MEMORY_QUEUE_EVENTS: u64 = 200_000;

/// Wait suggested to clients when the queue is full.
const RETRY_AFTER: Duration = Duration::from_secs(1);

struct Shared {
    capacity: u64,
    in_flight: AtomicU64,
    closed: AtomicBool,
}

/// The producing side.
pub struct MemoryProducer {
    shared: Arc<Shared>,
    workers: Vec<Sender<Vec<Event>>>,
}

/// One worker's consuming side.
pub struct MemoryConsumer {
    shared: Arc<Shared>,
    receiver: Receiver<Vec<Event>>,
    pending: Vec<Event>,
    /// The producer is gone without closing: nothing can arrive any more.
    /// Without this, `poll` would return at once forever and its worker
    /// would spin on a core.
    orphaned: bool,
}

/// A queue for `workers` workers holding at most `capacity` events.
pub fn memory_queue(workers: usize, capacity: u64) -> (Arc<MemoryProducer>, Vec<MemoryConsumer>) {
    let shared = Arc::new(Shared {
        capacity,
        in_flight: AtomicU64::new(0),
        closed: AtomicBool::new(false),
    });
    let mut senders = Vec::new();
    let mut consumers = Vec::new();
    for _ in 0..workers.max(1) {
        let (tx, rx) = crossbeam_channel::unbounded();
        senders.push(tx);
        consumers.push(MemoryConsumer {
            shared: shared.clone(),
            receiver: rx,
            pending: Vec::new(),
            orphaned: false,
        });
    }
    (
        Arc::new(MemoryProducer {
            shared,
            workers: senders,
        }),
        consumers,
    )
}

impl MemoryProducer {
    /// Stop accepting events; workers finish what is queued.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Producer for MemoryProducer {
    async fn publish(&self, events: Vec<Event>) -> Result<(), QueueError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable("shutting down".into()));
        }
        let count = events.len() as u64;
        let before = self.shared.in_flight.fetch_add(count, Ordering::SeqCst);
        if before + count > self.shared.capacity {
            self.shared.in_flight.fetch_sub(count, Ordering::SeqCst);
            return Err(QueueError::Full {
                retry_after: RETRY_AFTER,
            });
        }
        let workers = self.workers.len();
        if workers == 1 {
            let _ = self.workers[0].send(events);
            return Ok(());
        }
        let mut split: Vec<Vec<Event>> = vec![Vec::new(); workers];
        for event in events {
            split[worker_for(&event.tenant, workers)].push(event);
        }
        for (worker, chunk) in split.into_iter().enumerate() {
            if !chunk.is_empty() {
                let _ = self.workers[worker].send(chunk);
            }
        }
        Ok(())
    }

    fn depth(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }
}

impl Consumer for MemoryConsumer {
    fn poll(&mut self, max: usize, wait: Duration) -> Option<Delivery> {
        if self.pending.is_empty() {
            match self.receiver.recv_timeout(wait) {
                Ok(chunk) => self.pending = chunk,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.orphaned = true;
                    return None;
                }
            }
        }
        while self.pending.len() < max {
            match self.receiver.try_recv() {
                Ok(mut chunk) => self.pending.append(&mut chunk),
                Err(_) => break,
            }
        }
        let events = if self.pending.len() > max {
            let rest = self.pending.split_off(max);
            std::mem::replace(&mut self.pending, rest)
        } else {
            std::mem::take(&mut self.pending)
        };
        let shared = self.shared.clone();
        let count = events.len() as u64;
        Some(Delivery::new(events, move || {
            shared.in_flight.fetch_sub(count, Ordering::SeqCst);
        }))
    }

    fn finished(&self) -> bool {
        (self.shared.closed.load(Ordering::SeqCst) || self.orphaned)
            && self.pending.is_empty()
            && self.receiver.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tenant: &str, id: usize) -> Event {
        Event {
            id: id.to_string(),
            tenant: tenant.into(),
            ..crate::runtime::pack::blank_event()
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn full_queue_refuses_the_whole_request_and_frees_on_ack() {
        let (producer, mut consumers) = memory_queue(1, 3);
        block(producer.publish(vec![event("a", 1), event("a", 2)])).unwrap();
        let refused = block(producer.publish(vec![event("a", 3), event("a", 4)]));
        assert!(matches!(refused, Err(QueueError::Full { .. })));
        assert_eq!(producer.depth(), 2, "a refused request takes no room");
        let delivery = consumers[0].poll(10, Duration::from_millis(10)).unwrap();
        assert_eq!(delivery.events.len(), 2);
        assert_eq!(producer.depth(), 2, "room is freed on ack, not on poll");
        delivery.ack();
        assert_eq!(producer.depth(), 0);
        block(producer.publish(vec![event("a", 3), event("a", 4), event("a", 5)])).unwrap();
    }

    #[test]
    fn a_tenant_always_lands_on_the_same_worker_in_order() {
        let (producer, mut consumers) = memory_queue(4, 1000);
        for i in 0..50 {
            block(producer.publish(vec![event("acme", i), event("globex", i)])).unwrap();
        }
        let acme = worker_for("acme", 4);
        let mut ids = Vec::new();
        while let Some(d) = consumers[acme].poll(7, Duration::from_millis(5)) {
            ids.extend(
                d.events
                    .iter()
                    .filter(|e| e.tenant == "acme")
                    .map(|e| e.id.parse::<usize>().unwrap()),
            );
            d.ack();
        }
        assert_eq!(ids, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn batches_respect_max_and_finish_after_close() {
        let (producer, mut consumers) = memory_queue(1, 1000);
        block(producer.publish((0..10).map(|i| event("a", i)).collect())).unwrap();
        producer.close();
        assert!(!consumers[0].finished());
        let first = consumers[0].poll(4, Duration::from_millis(5)).unwrap();
        assert_eq!(first.events.len(), 4);
        first.ack();
        let mut rest = 0;
        while let Some(d) = consumers[0].poll(4, Duration::from_millis(5)) {
            rest += d.events.len();
            d.ack();
        }
        assert_eq!(rest, 6);
        assert!(consumers[0].finished());
        assert!(matches!(
            block(producer.publish(vec![event("a", 1)])),
            Err(QueueError::Unavailable(_))
        ));
    }

    #[test]
    fn a_dropped_producer_finishes_its_consumers_after_what_was_queued() {
        let (producer, mut consumers) = memory_queue(1, 1000);
        block(producer.publish((0..3).map(|i| event("a", i)).collect())).unwrap();
        drop(producer);
        let queued = consumers[0].poll(10, Duration::from_millis(5)).unwrap();
        assert_eq!(queued.events.len(), 3, "what was queued is still delivered");
        queued.ack();
        assert!(consumers[0].poll(10, Duration::from_secs(5)).is_none());
        assert!(
            consumers[0].finished(),
            "no producer can send again, so the worker stops instead of polling forever"
        );
    }
}
