//! The JetStream consumers of the relay's stream, one per read model: how many messages
//! wait for each (`pending`), how many it holds unacknowledged, and how many NATS has had
//! to deliver again (`redelivered`). With `NATS_URL` unset, read models follow the store in
//! process and there are none.

use std::time::Duration;

use futures::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// A listing that takes longer than this counts as NATS being down.
const NATS_TIMEOUT: Duration = Duration::from_secs(2);

/// One durable consumer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumerView {
    /// The read model it feeds (its durable name).
    pub name: String,
    /// Messages of the stream not yet delivered to it.
    pub pending: u64,
    /// Delivered and not yet acknowledged.
    pub ack_pending: u64,
    /// Delivered more than once (not acknowledged in time, or refused).
    pub redelivered: u64,
    /// Pull requests waiting for messages.
    pub waiting: u64,
    /// The stream sequence last delivered, and the one every message up to which is
    /// acknowledged.
    pub delivered_stream_sequence: u64,
    pub ack_floor_stream_sequence: u64,
}

/// The stream's consumers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumersView {
    /// Whether `NATS_URL` is set; without it there is no stream and no consumer.
    pub configured: bool,
    /// `NATS_STREAM`.
    pub stream: String,
    /// Whether the stream exists yet (the relay creates it).
    pub stream_exists: bool,
    /// In name order.
    pub items: Vec<ConsumerView>,
}

/// Every consumer of the relay's stream; 503 `nats_unavailable` when NATS does not
/// answer.
pub async fn consumers(state: &AppState) -> Result<ConsumersView, ApiError> {
    let stream = state.config.nats_stream.clone();
    let Some(client) = &state.nats else {
        return Ok(ConsumersView {
            configured: false,
            stream,
            stream_exists: false,
            items: Vec::new(),
        });
    };
    let js = async_nats::jetstream::new(client.clone());
    let listed = tokio::time::timeout(NATS_TIMEOUT, async {
        let found = match js.get_stream(&stream).await {
            Ok(found) => found,
            Err(e)
                if matches!(e.kind(), async_nats::jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e.to_string()),
        };
        let infos: Vec<_> = found
            .consumers()
            .try_collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(infos))
    })
    .await
    .map_err(|_| ApiError::unavailable("nats_unavailable", "listing consumers timed out"))?
    .map_err(|e| ApiError::unavailable("nats_unavailable", e))?;
    let Some(infos) = listed else {
        return Ok(ConsumersView {
            configured: true,
            stream,
            stream_exists: false,
            items: Vec::new(),
        });
    };
    let mut items: Vec<ConsumerView> = infos
        .into_iter()
        .map(|i| ConsumerView {
            name: i.name,
            pending: i.num_pending,
            ack_pending: i.num_ack_pending as u64,
            redelivered: i.num_redelivered as u64,
            waiting: i.num_waiting as u64,
            delivered_stream_sequence: i.delivered.stream_sequence,
            ack_floor_stream_sequence: i.ack_floor.stream_sequence,
        })
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ConsumersView {
        configured: true,
        stream,
        stream_exists: true,
        items,
    })
}
