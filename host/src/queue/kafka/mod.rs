//! The production queue: Kafka (any Kafka-protocol broker).
//!
//! - Producing: idempotent, `acks=all`, key = tenant (a tenant's events stay
//!   in one partition, in order), topic `sluice.raw`; `publish` returns only
//!   when every delivery report succeeded.
//! - Consuming: one polling thread per process (a `BaseConsumer`, so the
//!   client never caps throughput) hands batches to the workers, routed by
//!   tenant. `enable.auto.offset.store=false`: an offset is stored only when
//!   every event before it in its partition is stored or dead-lettered
//!   ([`watermark`]); the background auto-commit commits stored offsets. On
//!   a rebalance the revoked partitions' in-flight events are drained and
//!   their offsets committed synchronously before they move.
//! - Dead letters also go to `sluice.dlq`, keyed by event id, with headers
//!   naming tenant, source partition and offset, step, plugin and error.

pub mod codec;
mod consumer;
mod dead_letters;
mod producer;
pub mod watermark;

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

pub use consumer::SourceIndex;
pub use dead_letters::KafkaDeadLetters;
pub use producer::KafkaProducer;

use super::{Backpressure, Consumer, Producer};
use crate::config::KafkaConfig;
use crate::store::DeadLetterStore;

/// How long to wait for the broker when starting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The Kafka queue of one process.
pub struct KafkaQueue {
    /// Producing side for ingest.
    pub producer: Arc<dyn Producer>,
    /// One consuming side per worker.
    pub consumers: Vec<Box<dyn Consumer>>,
    /// Stops polling; workers drain what was handed to them.
    pub close: super::Closer,
    /// Dead letters to `sluice.dlq` and then to the given store.
    pub dead_letters: Arc<dyn DeadLetterStore>,
}

/// Connect, create the topics if missing, start the polling thread.
pub async fn connect(
    config: &KafkaConfig,
    workers: usize,
    batch_events: usize,
    store: Arc<dyn DeadLetterStore>,
    backpressure: Arc<Backpressure>,
) -> Result<KafkaQueue, String> {
    create_topics(config).await?;
    let producer = producer::KafkaProducer::new(config, backpressure)?;
    let sources = Arc::new(SourceIndex::default());
    let dead_letters = Arc::new(KafkaDeadLetters::new(config, store, sources.clone())?);
    let (consumers, close) = consumer::start(config, workers, batch_events, sources)?;
    Ok(KafkaQueue {
        producer: Arc::new(producer),
        consumers,
        close,
        dead_letters,
    })
}

/// Client settings shared by producer, consumer and admin.
fn client(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("client.id", "sluice")
        .set("socket.keepalive.enable", "true");
    client
}

async fn create_topics(config: &KafkaConfig) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = client(config).create().map_err(|e| {
        format!(
            "cannot create a Kafka admin client for {}: {e}",
            config.brokers
        )
    })?;
    let topics = [
        NewTopic::new(&config.topic, config.partitions, TopicReplication::Fixed(1)),
        NewTopic::new(
            &config.dlq_topic,
            config.partitions.min(4),
            TopicReplication::Fixed(1),
        ),
    ];
    let options = AdminOptions::new().operation_timeout(Some(CONNECT_TIMEOUT));
    let results = admin
        .create_topics(&topics, &options)
        .await
        .map_err(|e| format!("cannot reach Kafka at {}: {e}", config.brokers))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "created Kafka topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("cannot create Kafka topic {topic}: {code}")),
        }
    }
    Ok(())
}
