//! The polling thread: one `BaseConsumer` per process feeding every worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::watermark::Watermarks;
use super::{client, codec};
use crate::config::KafkaConfig;
use crate::pipeline::registry::now_ns;
use crate::queue::{Closer, Consumer, Delivery, worker_for};
use crate::runtime::Event;

/// How often acknowledged offsets are stored (auto-commit then commits them).
const STORE_EVERY: Duration = Duration::from_millis(200);

/// Longest a revoked partition's in-flight events may take to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Batches waiting per worker before polling pauses (backpressure).
const WORKER_BACKLOG: usize = 4;

/// Where each in-flight event came from (for dead-letter headers). Every
/// event is entered on the polling thread and removed when acknowledged:
/// foldhash, not SipHash (which was 14 % of the polling thread).
#[derive(Debug, Default)]
pub struct SourceIndex(Mutex<foldhash::HashMap<String, (i32, i64)>>);

impl SourceIndex {
    /// Partition and offset of an in-flight event.
    pub fn get(&self, id: &str) -> Option<(i32, i64)> {
        self.0.lock().get(id).copied()
    }
}

struct Shared {
    topic: String,
    watermarks: Mutex<Watermarks>,
    stop: AtomicBool,
    /// Partitions revoked while the polling thread held polled, unsent
    /// messages of them: those are dropped (the new owner reads them).
    revoked: Mutex<Vec<i32>>,
}

impl Shared {
    /// Store the committable offsets of every owned partition.
    fn store_offsets(&self, consumer: &BaseConsumer<Context>) {
        let committable = self.watermarks.lock().committable();
        if committable.is_empty() {
            return;
        }
        let mut list = TopicPartitionList::new();
        for (partition, offset) in committable {
            let _ = list.add_partition_offset(&self.topic, partition, Offset::Offset(offset));
        }
        if let Err(error) = consumer.store_offsets(&list) {
            tracing::debug!(%error, "cannot store offsets (partition revoked?)");
        }
    }
}

/// Rebalance handling: drain and commit before partitions move.
struct Context {
    shared: Arc<Shared>,
}

impl ClientContext for Context {}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(list) = rebalance else {
            return;
        };
        let partitions: Vec<i32> = list.elements().iter().map(|e| e.partition()).collect();
        let started = Instant::now();
        // Workers keep running on their own threads; wait for them to finish
        // what they hold from these partitions.
        while self.shared.watermarks.lock().in_flight(&partitions) > 0 {
            if started.elapsed() > DRAIN_TIMEOUT {
                tracing::warn!(
                    ?partitions,
                    "in-flight events did not drain before rebalance; they will be redelivered"
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.shared.store_offsets(consumer);
        if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(%error, "synchronous commit on revoke");
        }
        self.shared.watermarks.lock().forget(&partitions);
        self.shared.revoked.lock().extend(&partitions);
        tracing::info!(
            ?partitions,
            drained_in_ms = started.elapsed().as_millis() as u64,
            "partitions revoked after draining"
        );
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let partitions: Vec<i32> = list.elements().iter().map(|e| e.partition()).collect();
            tracing::info!(?partitions, "partitions assigned");
        }
    }
}

/// One worker's side: batches from the polling thread.
pub struct KafkaWorkerConsumer {
    receiver: Receiver<Delivery>,
    finished: Arc<AtomicBool>,
}

impl Consumer for KafkaWorkerConsumer {
    fn poll(&mut self, _max: usize, wait: Duration) -> Option<Delivery> {
        match self.receiver.recv_timeout(wait) {
            Ok(delivery) => Some(delivery),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.finished.store(true, Ordering::SeqCst);
                None
            }
        }
    }

    fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst) && self.receiver.is_empty()
    }
}

/// Subscribe and start polling; returns the workers' consumers and a closer.
pub(super) fn start(
    config: &KafkaConfig,
    workers: usize,
    batch_events: usize,
    sources: Arc<SourceIndex>,
) -> Result<(Vec<Box<dyn Consumer>>, Closer), String> {
    let shared = Arc::new(Shared {
        topic: config.topic.clone(),
        watermarks: Mutex::new(Watermarks::default()),
        stop: AtomicBool::new(false),
        revoked: Mutex::new(Vec::new()),
    });
    let consumer: BaseConsumer<Context> = client(config)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "500")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("max.poll.interval.ms", "600000")
        .set("session.timeout.ms", "10000")
        .set("fetch.min.bytes", "1")
        .set("fetch.wait.max.ms", config.fetch_wait_ms.to_string())
        .set("queued.max.messages.kbytes", "65536")
        .create_with_context(Context {
            shared: shared.clone(),
        })
        .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
    consumer
        .subscribe(&[&config.topic])
        .map_err(|e| format!("cannot subscribe to {}: {e}", config.topic))?;

    let mut senders = Vec::new();
    let mut consumers: Vec<Box<dyn Consumer>> = Vec::new();
    for _ in 0..workers.max(1) {
        let (tx, rx) = crossbeam_channel::bounded(WORKER_BACKLOG);
        senders.push(tx);
        consumers.push(Box::new(KafkaWorkerConsumer {
            receiver: rx,
            finished: Arc::new(AtomicBool::new(false)),
        }));
    }
    let thread_shared = shared.clone();
    let thread: JoinHandle<()> = std::thread::Builder::new()
        .name("sluice-kafka-poll".into())
        .spawn(move || {
            poll_loop(
                consumer,
                thread_shared,
                senders,
                batch_events.max(1),
                sources,
            )
        })
        .map_err(|e| e.to_string())?;
    let close = Box::new(move || {
        shared.stop.store(true, Ordering::SeqCst);
        let _ = thread.join();
    });
    Ok((consumers, close))
}

fn poll_loop(
    consumer: BaseConsumer<Context>,
    shared: Arc<Shared>,
    senders: Vec<Sender<Delivery>>,
    batch_events: usize,
    sources: Arc<SourceIndex>,
) {
    let workers = senders.len();
    let mut last_store = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        let mut polled: Vec<(Event, i32, i64)> = Vec::new();
        let mut wait = Duration::from_millis(20);
        while polled.len() < batch_events * workers {
            let result = consumer.poll(wait);
            // A revocation runs inside `poll`: what was polled before it
            // from those partitions goes (the next owner reads it again);
            // what `poll` returns now, and later, is of the new assignment
            // and must be kept even if a partition came straight back.
            drop_revoked(&shared, &mut polled);
            let Some(result) = result else {
                break;
            };
            wait = Duration::ZERO;
            let message = match result {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(%error, "Kafka consumer error");
                    break;
                }
            };
            let (partition, offset) = (message.partition(), message.offset());
            let event = match codec::decode(message.payload().unwrap_or_default()) {
                Ok(event) => event,
                Err(why) => undecodable(&message, &why),
            };
            polled.push((event, partition, offset));
        }
        if polled.is_empty() {
            maybe_store(&shared, &consumer, &mut last_store);
            continue;
        }
        // Register in poll order (increasing offsets per partition), then hand out.
        {
            let mut watermarks = shared.watermarks.lock();
            let mut index = sources.0.lock();
            for (event, partition, offset) in &polled {
                watermarks.dispatched(*partition, *offset);
                index.insert(event.id.clone(), (*partition, *offset));
            }
        }
        let mut batches: Vec<Vec<(Event, i32, i64)>> = (0..workers).map(|_| Vec::new()).collect();
        for item in polled {
            batches[worker_for(&item.0.tenant, workers)].push(item);
        }
        for (worker, batch) in batches.into_iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let positions: Vec<(i32, i64, String)> = batch
                .iter()
                .map(|(e, p, o)| (*p, *o, e.id.clone()))
                .collect();
            let events: Vec<Event> = batch.into_iter().map(|(e, _, _)| e).collect();
            let ack_shared = shared.clone();
            let ack_sources = sources.clone();
            let delivery = Delivery::new(events, move || {
                let mut watermarks = ack_shared.watermarks.lock();
                let mut index = ack_sources.0.lock();
                for (partition, offset, id) in &positions {
                    watermarks.acked(*partition, *offset);
                    index.remove(id);
                }
            });
            // Blocks when the worker is behind: polling pauses, lag grows in
            // Kafka, not in memory.
            if senders[worker].send(delivery).is_err() {
                return;
            }
        }
        maybe_store(&shared, &consumer, &mut last_store);
    }
    // Closing: hand nothing more out, let workers finish, commit, leave.
    drop(senders);
    let started = Instant::now();
    loop {
        if shared.watermarks.lock().total_in_flight() == 0 || started.elapsed() > DRAIN_TIMEOUT {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    shared.store_offsets(&consumer);
    if let Err(error) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(%error, "final commit");
    }
    consumer.unsubscribe();
}

/// Forget polled, not yet dispatched messages of partitions revoked since
/// the last call.
fn drop_revoked(shared: &Shared, polled: &mut Vec<(Event, i32, i64)>) {
    let revoked = std::mem::take(&mut *shared.revoked.lock());
    if !revoked.is_empty() {
        polled.retain(|(_, partition, _)| !revoked.contains(partition));
    }
}

fn maybe_store(shared: &Shared, consumer: &BaseConsumer<Context>, last_store: &mut Instant) {
    if last_store.elapsed() >= STORE_EVERY {
        shared.store_offsets(consumer);
        *last_store = Instant::now();
    }
}

/// A message that is not an event becomes one carrying its bytes, so its
/// first step (or the dead letters) deals with it instead of losing it.
fn undecodable(message: &rdkafka::message::BorrowedMessage<'_>, why: &str) -> Event {
    tracing::warn!(partition = message.partition(), offset = message.offset(), %why, "undecodable message on the raw topic");
    let tenant = message
        .key()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .unwrap_or_default();
    Event {
        id: format!("kafka-{}-{}", message.partition(), message.offset()),
        tenant,
        received_ns: now_ns(),
        raw: Some(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()),
        ..crate::runtime::pack::blank_event()
    }
}
