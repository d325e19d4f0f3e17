//! Ingest's side of Kafka: every event of a request is produced, and the
//! request is accepted only when every delivery report succeeded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};

use super::{client, codec};
use crate::config::KafkaConfig;
use crate::queue::Backpressure;
use crate::queue::{Producer, QueueError};
use crate::runtime::Event;

/// Longest a delivery may take before the request is refused.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Produces accepted events to the raw topic.
pub struct KafkaProducer {
    producer: FutureProducer,
    topic: String,
    backpressure: Arc<Backpressure>,
}

impl KafkaProducer {
    pub(super) fn new(
        config: &KafkaConfig,
        backpressure: Arc<Backpressure>,
    ) -> Result<Self, String> {
        let producer: FutureProducer = client(config)
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
            .create()
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
        let mut deliveries = Vec::with_capacity(events.len());
        for event in &events {
            let payload = codec::encode(event);
            let record = FutureRecord::to(&self.topic)
                .key(event.tenant.as_bytes())
                .payload(&payload);
            match self.producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
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
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => return Err(QueueError::Unavailable(error.to_string())),
                Err(_) => return Err(QueueError::Unavailable("delivery cancelled".into())),
            }
        }
        Ok(())
    }

    fn depth(&self) -> u64 {
        self.producer.in_flight_count().max(0) as u64
    }
}
