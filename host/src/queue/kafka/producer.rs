//! Ingest's side of Kafka: every event of a request is produced, and the
//! request is accepted only when every delivery report succeeded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseRecord, Producer as _, ProducerContext, ThreadedProducer};
use tokio::sync::oneshot;

use super::{client, codec};
use crate::config::KafkaConfig;
use crate::queue::Backpressure;
use crate::queue::{Producer, QueueError};
use crate::runtime::Event;

/// Longest a delivery may take before the request is refused.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The delivery reports of one request's events, counted down on the
/// producer's polling thread: the request waits once for all of them.
/// (A future per event, as rdkafka's `FutureProducer` gives, costs two
/// allocations and a wake-up of the request's task per event.)
struct Deliveries {
    remaining: AtomicUsize,
    /// The first failure reported.
    failure: Mutex<Option<String>>,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Deliveries {
    fn new(events: usize) -> (Arc<Self>, oneshot::Receiver<()>) {
        let (done, finished) = oneshot::channel();
        let deliveries = Self {
            remaining: AtomicUsize::new(events),
            failure: Mutex::new(None),
            done: Mutex::new(Some(done)),
        };
        (Arc::new(deliveries), finished)
    }

    /// One event's report; the last one wakes the request.
    fn report(&self, failure: Option<String>) {
        if let Some(failure) = failure {
            self.failure.lock().get_or_insert(failure);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(done) = self.done.lock().take()
        {
            let _ = done.send(());
        }
    }
}

/// Hands each delivery report to its request's [`Deliveries`].
struct Reports;

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Arc<Deliveries>;

    fn delivery(&self, result: &DeliveryResult<'_>, deliveries: Arc<Deliveries>) {
        deliveries.report(result.as_ref().err().map(|(error, _)| error.to_string()));
    }
}

/// Produces accepted events to the raw topic.
pub struct KafkaProducer {
    producer: ThreadedProducer<Reports>,
    topic: String,
    backpressure: Arc<Backpressure>,
}

impl KafkaProducer {
    pub(super) fn new(
        config: &KafkaConfig,
        backpressure: Arc<Backpressure>,
    ) -> Result<Self, String> {
        let producer: ThreadedProducer<Reports> = client(config)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "lz4")
            .set("linger.ms", "5")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "500000")
            .set(
                "message.timeout.ms",
                DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .create_with_context(Reports)
            .map_err(|e| format!("cannot create a Kafka producer: {e}"))?;
        Ok(Self {
            producer,
            topic: config.topic.clone(),
            backpressure,
        })
    }
}

#[async_trait]
impl Producer for KafkaProducer {
    async fn publish(&self, events: Vec<Event>) -> Result<(), QueueError> {
        if self.backpressure.0.load(Ordering::Relaxed) {
            return Err(QueueError::Full {
                retry_after: Duration::from_secs(5),
            });
        }
        if events.is_empty() {
            return Ok(());
        }
        let (deliveries, finished) = Deliveries::new(events.len());
        for event in &events {
            let payload = codec::encode(event);
            let record = BaseRecord::with_opaque_to(&self.topic, deliveries.clone())
                .key(event.tenant.as_bytes())
                .payload(&payload);
            match self.producer.send(record) {
                Ok(()) => {}
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // Events queued so far may still be delivered; the client
                    // retries the whole request and stores drop the replays by id.
                    return Err(QueueError::Full {
                        retry_after: Duration::from_secs(1),
                    });
                }
                Err((error, _)) => return Err(QueueError::Unavailable(error.to_string())),
            }
        }
        if finished.await.is_err() {
            return Err(QueueError::Unavailable("delivery cancelled".into()));
        }
        match deliveries.failure.lock().take() {
            None => Ok(()),
            Some(why) => Err(QueueError::Unavailable(why)),
        }
    }

    fn depth(&self) -> u64 {
        self.producer.in_flight_count().max(0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_woken_once_every_report_is_in_and_keeps_the_first_failure() {
        let (deliveries, mut finished) = Deliveries::new(3);
        deliveries.report(None);
        deliveries.report(Some("broker down".into()));
        assert!(finished.try_recv().is_err(), "one report still missing");
        deliveries.report(Some("timed out".into()));
        assert!(finished.try_recv().is_ok());
        assert_eq!(
            deliveries.failure.lock().as_deref(),
            Some("broker down"),
            "the first failure names the problem"
        );
    }

    #[test]
    fn a_request_whose_reports_all_succeed_has_no_failure() {
        let (deliveries, mut finished) = Deliveries::new(2);
        deliveries.report(None);
        deliveries.report(None);
        assert!(finished.try_recv().is_ok());
        assert_eq!(*deliveries.failure.lock(), None);
    }
}
