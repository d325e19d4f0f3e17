//! Dead letters in production: produced to `sluice.dlq` (keyed by event id,
//! headers for routing and triage) and kept in the database for `sluice dlq`.
//! The batch — and so the source offset — is acknowledged only after both.

use std::sync::Arc;

use async_trait::async_trait;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::client;
use super::consumer::SourceIndex;
use crate::config::KafkaConfig;
use crate::event::DeadLetter;
use crate::store::{DeadLetterQuery, DeadLetterRecord, DeadLetterStore, Page, StoreError};

/// Writes dead letters to the DLQ topic, then to the database.
pub struct KafkaDeadLetters {
    producer: FutureProducer,
    topic: String,
    source_topic: String,
    store: Arc<dyn DeadLetterStore>,
    sources: Arc<SourceIndex>,
}

impl KafkaDeadLetters {
    pub(super) fn new(
        config: &KafkaConfig,
        store: Arc<dyn DeadLetterStore>,
        sources: Arc<SourceIndex>,
    ) -> Result<Self, String> {
        let producer = client(config)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .create()
            .map_err(|e| format!("cannot create the dead-letter producer: {e}"))?;
        Ok(Self {
            producer,
            topic: config.dlq_topic.clone(),
            source_topic: config.topic.clone(),
            store,
            sources,
        })
    }
}

#[async_trait]
impl DeadLetterStore for KafkaDeadLetters {
    async fn insert(&self, letters: &[DeadLetter]) -> Result<(), StoreError> {
        let mut deliveries = Vec::with_capacity(letters.len());
        for letter in letters {
            let payload = letter.to_json().to_string();
            let (partition, offset) = self.sources.get(&letter.event.id).unwrap_or((-1, -1));
            let plugin = format!("{}@{}", letter.plugin, letter.plugin_version);
            let (partition, offset) = (partition.to_string(), offset.to_string());
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "tenant",
                    value: Some(letter.tenant.as_str()),
                })
                .insert(Header {
                    key: "source_topic",
                    value: Some(self.source_topic.as_str()),
                })
                .insert(Header {
                    key: "source_partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "source_offset",
                    value: Some(offset.as_str()),
                })
                .insert(Header {
                    key: "step",
                    value: Some(letter.step.as_str()),
                })
                .insert(Header {
                    key: "plugin",
                    value: Some(plugin.as_str()),
                })
                .insert(Header {
                    key: "code",
                    value: Some(letter.code.as_str()),
                })
                .insert(Header {
                    key: "error",
                    value: Some(letter.error.as_str()),
                });
            let record = FutureRecord::to(&self.topic)
                .key(letter.event.id.as_bytes())
                .payload(&payload)
                .headers(headers);
            match self.producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((error, _)) => {
                    return Err(StoreError::Unavailable(format!(
                        "dead-letter topic: {error}"
                    )));
                }
            }
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => {
                    return Err(StoreError::Unavailable(format!(
                        "dead-letter topic: {error}"
                    )));
                }
                Err(_) => {
                    return Err(StoreError::Unavailable(
                        "dead-letter delivery cancelled".into(),
                    ));
                }
            }
        }
        self.store.insert(letters).await
    }

    async fn list(
        &self,
        tenant: Option<&str>,
        query: &DeadLetterQuery,
    ) -> Result<Page<DeadLetterRecord>, StoreError> {
        self.store.list(tenant, query).await
    }

    async fn get(
        &self,
        tenant: Option<&str>,
        id: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError> {
        self.store.get(tenant, id).await
    }

    async fn mark_replayed(&self, ids: &[String], now_ns: i64) -> Result<(), StoreError> {
        self.store.mark_replayed(ids, now_ns).await
    }

    async fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        self.store.count(tenant).await
    }
}
