//! The rows the adapter's SQL answers, and their mapping to the port's types and errors.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::store::{Position, RecordedEvent, StoreError};

#[derive(sqlx::FromRow)]
pub(super) struct AppendRow {
    pub(super) outcome: String,
    pub(super) revision: Option<i64>,
    pub(super) commit_position: Option<i64>,
    pub(super) prepare_position: Option<i64>,
    pub(super) conflict_stream: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    event_position: i64,
    commit_position: i64,
    event_id: Uuid,
    stream_id: String,
    stream_revision: i64,
    event_type: String,
    schema_version: i32,
    data: Value,
    metadata: Value,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for RecordedEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", row.event_id));
        Ok(RecordedEvent {
            id: row.event_id,
            revision: u64::try_from(row.stream_revision)
                .map_err(|_| corrupt("negative revision"))?,
            position: Position {
                commit: u64::try_from(row.commit_position)
                    .map_err(|_| corrupt("negative commit"))?,
                prepare: u64::try_from(row.event_position)
                    .map_err(|_| corrupt("negative position"))?,
            },
            schema_version: u32::try_from(row.schema_version)
                .map_err(|_| corrupt("negative schema version"))?,
            stream_id: row.stream_id,
            event_type: row.event_type,
            data: row.data,
            metadata: row.metadata,
            recorded_at: row.recorded_at,
        })
    }
}

pub(super) const EVENT_COLUMNS: &str =
    "event_position, transaction_id::text::bigint as commit_position, \
     event_id, stream_id, stream_revision, event_type, schema_version, data, metadata, recorded_at";

pub(super) fn db_error(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn to_i64(v: u64, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput {
        field,
        reason: format!("{v} is out of range"),
    })
}

pub(super) fn clamp_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
