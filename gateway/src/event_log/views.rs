//! The event log's answers. An event is shown as the store holds it, except that a
//! personal field sealed in the log (ADR 0005) reads `[encrypted for <subject>]`: who reads
//! the log learns whose data an event carries, never the data itself.

use chrono::{DateTime, Utc};
use commands::privacy::subject_of;
use commands::store::{RecordedEvent, StreamInfo};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One stream of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamSummary {
    pub stream_id: String,
    /// The part of the id before its first `-` (`order`).
    pub category: String,
    /// The revision of its last event (revisions start at 0).
    pub revision: u64,
    /// When it last took an event.
    pub updated_at: DateTime<Utc>,
}

impl From<StreamInfo> for StreamSummary {
    fn from(s: StreamInfo) -> Self {
        StreamSummary {
            category: commands::store::category_of(&s.stream_id).to_owned(),
            stream_id: s.stream_id,
            revision: s.revision,
            updated_at: s.updated_at,
        }
    }
}

/// One page of streams, in id order.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamPage {
    pub items: Vec<StreamSummary>,
    /// Send it back as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
    pub limit: usize,
}

/// One event as the log holds it, with its metadata read out.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub stream_id: String,
    /// Its revision within its stream, from 0.
    pub revision: u64,
    /// Its position in `$all`, `<commit>/<prepare>`: what `before` and `after` take.
    pub position: String,
    pub event_type: String,
    pub schema_version: u32,
    /// Sealed personal fields read `[encrypted for <subject>]`.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Correlation, causation, actor, occurred-at; sealed fields as in `data`.
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who acted; `null` for the engine itself or a caller not signed in.
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// The request or flow the event belongs to.
    pub correlation_id: Option<Uuid>,
    /// The command or event that caused it.
    pub causation_id: Option<Uuid>,
}

impl From<RecordedEvent> for EventView {
    fn from(mut e: RecordedEvent) -> Self {
        mask(&mut e.data);
        mask(&mut e.metadata);
        let text = |field: &str| e.metadata.get(field).and_then(Value::as_str);
        let uuid = |field: &str| text(field).and_then(|s| s.parse().ok());
        EventView {
            occurred_at: text("occurred_at").and_then(|s| s.parse().ok()),
            actor_id: uuid("actor_id"),
            actor_role: text("actor_role").map(str::to_owned),
            correlation_id: uuid("correlation_id"),
            causation_id: uuid("causation_id"),
            id: e.id,
            position: e.position.to_string(),
            stream_id: e.stream_id,
            revision: e.revision,
            event_type: e.event_type,
            schema_version: e.schema_version,
            data: e.data,
            metadata: e.metadata,
            recorded_at: e.recorded_at,
        }
    }
}

/// Replaces every sealed value in `value`, at any depth, by whose it is.
fn mask(value: &mut Value) {
    match value {
        Value::String(_) => {
            if let Some(subject) = subject_of(value) {
                *value = Value::String(format!("[encrypted for {subject}]"));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        Value::Object(fields) => fields.values_mut().for_each(mask),
        _ => {}
    }
}

/// One page of `$all`, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventView>,
    /// Send it back as `after` for the newer events; `null` when there are none yet.
    pub newer: Option<String>,
    /// Send it back as `before` for the older events; `null` when there are none.
    pub older: Option<String>,
    pub limit: usize,
}

/// One page of a stream's events, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEvents {
    pub stream_id: String,
    pub category: String,
    /// The revision of the stream's last event.
    pub revision: u64,
    pub items: Vec<EventView>,
    /// Send it back as `from` for the next events; `null` on the last page.
    pub next_from: Option<u64>,
    /// Send it back as `from` for the events before these; `null` on the first page.
    pub previous_from: Option<u64>,
    pub limit: usize,
}
