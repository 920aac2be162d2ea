//! The event store as the command side sees it: personal fields sealed on the way in,
//! opened on the way out (ADR 0005).
//!
//! Command handlers and process managers are given this store, so an aggregate decides on
//! plain values while the log, the relay, NATS and every export only ever hold ciphertext.
//! Whatever else reads the log (the relay, `umctl export`, the audit trail's raw events)
//! is given the store underneath, and sees the envelopes.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use super::fields::{is_sealed, notice_erasure, open_event, open_events, seal_event};
use super::keys::DataKeys;
use crate::store::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom,
    RecordedEvent, StoreError, StreamInfo, SubscriptionStream,
};

/// `inner`, sealing and opening with `keys`.
pub struct Sealed {
    inner: Arc<dyn EventStore>,
    keys: Arc<DataKeys>,
}

impl Sealed {
    pub fn new(inner: Arc<dyn EventStore>, keys: Arc<DataKeys>) -> Self {
        Sealed { inner, keys }
    }

    /// The store underneath, which holds and answers ciphertext.
    pub fn inner(&self) -> &Arc<dyn EventStore> {
        &self.inner
    }

    pub fn keys(&self) -> &Arc<DataKeys> {
        &self.keys
    }
}

#[async_trait]
impl EventStore for Sealed {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        mut events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        for event in &mut events {
            seal_event(&self.keys, stream_id, event).await?;
        }
        self.inner.append(stream_id, expected, events).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self
            .inner
            .read_stream(stream_id, from, direction, limit)
            .await?;
        open_events(&self.keys, &mut events).await?;
        Ok(events)
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self.inner.read_all(after, limit).await?;
        open_events(&self.keys, &mut events).await?;
        Ok(events)
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        let keys = self.keys.clone();
        let events = self.inner.subscribe_all(after).await?;
        Ok(events
            .then(move |event| {
                let keys = keys.clone();
                async move {
                    let mut event = event?;
                    notice_erasure(&keys, &event);
                    if is_sealed(&event) {
                        open_event(&keys, &mut event).await?;
                    }
                    Ok(event)
                }
            })
            .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        self.inner.head_position().await
    }

    async fn committed_head(&self) -> Result<Position, StoreError> {
        self.inner.committed_head().await
    }

    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        self.inner.list_streams(prefix, after, limit).await
    }
}
