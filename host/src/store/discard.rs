//! A log store that keeps nothing: for benchmarks of the processing path and
//! for deployments that only want incidents and signals.

use async_trait::async_trait;

use super::{LogQuery, LogStore, Overview, OverviewQuery, Page, StoreError, StoredEvent};

/// Accepts every insert and stores nothing.
#[derive(Debug, Default)]
pub struct DiscardLogStore;

#[async_trait]
impl LogStore for DiscardLogStore {
    async fn insert(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        metrics::counter!("sluice_discarded_events_total").increment(events.len() as u64);
        Ok(())
    }

    async fn query(
        &self,
        _tenant: &str,
        _query: &LogQuery,
    ) -> Result<Page<StoredEvent>, StoreError> {
        Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        })
    }

    async fn get(&self, _tenant: &str, _id: &str) -> Result<Option<StoredEvent>, StoreError> {
        Ok(None)
    }

    async fn overview(
        &self,
        _tenant: &str,
        _query: &OverviewQuery,
    ) -> Result<Overview, StoreError> {
        Ok(Overview::default())
    }

    async fn expire(&self, _tenant: &str, _before_ns: i64) -> Result<(), StoreError> {
        Ok(())
    }
}
