//! How the port's events map onto EventStoreDB's, and back.
//!
//! - Streams, revisions (from 0) and expected versions map one to one: `Any`, `NoStream`,
//!   `StreamExists` and `Exact(n)` become the same `ExpectedRevision`, and a refusal's actual
//!   version is the `current` field of the typed `WrongExpectedVersion` error.
//! - `$all` positions are EventStoreDB's own `{commit, prepare}`. Its log has one writer, so an
//!   event never becomes readable behind one already read (invariant 4 needs no extra care
//!   here). `Position::START` reads from the beginning; reads of `$all` leave out the server's
//!   own events (streams or types starting with `$`: projection links, statistics, ...).
//! - An event's body is its `data`, stored as JSON. EventStoreDB has one free-form metadata
//!   field and no schema version, so its custom metadata is an envelope holding both:
//!   `{"schema_version": 1, "metadata": {...our metadata...}}`. Reading back, a body or an
//!   envelope that is not a JSON object of that shape is [`StoreError::Corrupt`]: the database
//!   is the engine's own, and an unreadable event must stop a reader rather than be skipped.
//! - `recorded_at` is the server's `created` time, to its full 100 ns precision (the crate's
//!   own field truncates it to seconds).

use chrono::{DateTime, Utc};
use eventstore::{EventData, ResolvedEvent, StreamPosition};
use serde_json::{Map, Value};

use crate::store::{NewEvent, Position, RecordedEvent, StoreError};

/// Envelope keys in an event's custom metadata.
const SCHEMA_VERSION_KEY: &str = "schema_version";
const METADATA_KEY: &str = "metadata";

/// EventStoreDB's `created` is in .NET ticks (100 ns) since the Unix epoch.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// What the server sends as the position of an event read from a stream: none.
const NO_POSITION: Position = Position {
    commit: u64::MAX,
    prepare: u64::MAX,
};

pub(super) fn position_of(p: eventstore::Position) -> Position {
    Position::new(p.commit, p.prepare)
}

/// Refuses the "no position" of stream reads as a place in `$all`: after it, nothing would
/// ever be read, and a reader would wait forever without knowing why.
pub(super) fn check_after(after: Position) -> Result<(), StoreError> {
    if after == NO_POSITION {
        return Err(StoreError::InvalidInput {
            field: "after",
            reason: "events read from one stream carry no $all position on EventStoreDB; \
                     take positions from $all reads, subscriptions or appends"
                .into(),
        });
    }
    Ok(())
}

/// Where a read or subscription of `$all` strictly after `after` starts. Reads from a
/// position include the event there, so callers still skip positions `<= after`.
pub(super) fn all_from(after: Position) -> StreamPosition<eventstore::Position> {
    if after == Position::START {
        StreamPosition::Start
    } else {
        StreamPosition::Position(eventstore::Position {
            commit: after.commit,
            prepare: after.prepare,
        })
    }
}

/// The event that was read: the link itself when the read did not resolve one.
pub(super) fn original(resolved: &ResolvedEvent) -> Result<&eventstore::RecordedEvent, StoreError> {
    resolved
        .link
        .as_ref()
        .or(resolved.event.as_ref())
        .ok_or_else(|| StoreError::Corrupt("the server answered a read with no event".into()))
}

/// EventStoreDB's own events: projection links, statistics, settings, ...
pub(super) fn is_system(e: &eventstore::RecordedEvent) -> bool {
    e.stream_id.starts_with('$') || e.event_type.starts_with('$')
}

pub(super) fn recorded_at(e: &eventstore::RecordedEvent) -> DateTime<Utc> {
    e.metadata
        .get("created")
        .and_then(|ticks| ticks.parse::<u64>().ok())
        .and_then(|ticks| {
            let secs = i64::try_from(ticks / TICKS_PER_SECOND).ok()?;
            let nanos = u32::try_from(ticks % TICKS_PER_SECOND).ok()? * 100;
            DateTime::from_timestamp(secs, nanos)
        })
        .unwrap_or(e.created)
}

fn json_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

pub(super) fn decode(resolved: &ResolvedEvent) -> Result<RecordedEvent, StoreError> {
    let e = original(resolved)?;
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("event {} in {}: {what}", e.id, e.stream_id));
    let data = json_object(&e.data).ok_or_else(|| corrupt("data is not a JSON object"))?;
    let mut envelope = json_object(&e.custom_metadata)
        .ok_or_else(|| corrupt("custom metadata is not a JSON object"))?;
    let schema_version = envelope
        .get(SCHEMA_VERSION_KEY)
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| corrupt("custom metadata has no schema_version"))?;
    let metadata = match envelope.remove(METADATA_KEY) {
        Some(m @ Value::Object(_)) => m,
        _ => return Err(corrupt("custom metadata has no metadata object")),
    };
    Ok(RecordedEvent {
        id: e.id,
        stream_id: e.stream_id.clone(),
        revision: e.revision,
        position: position_of(e.position),
        event_type: e.event_type.clone(),
        schema_version,
        data: Value::Object(data),
        metadata,
        recorded_at: recorded_at(e),
    })
}

fn envelope(e: &NewEvent) -> Value {
    let mut envelope = Map::new();
    envelope.insert(SCHEMA_VERSION_KEY.into(), e.schema_version.into());
    envelope.insert(METADATA_KEY.into(), e.metadata.clone());
    Value::Object(envelope)
}

pub(super) fn to_esdb(events: &[NewEvent]) -> Result<Vec<EventData>, StoreError> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            EventData::json(&e.event_type, &e.data)
                .and_then(|d| d.id(e.id).metadata_as_json(&envelope(e)))
                .map_err(|err| StoreError::InvalidInput {
                    field: "data",
                    reason: format!("event {i}: {err}"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn stored(data: &[u8], custom_metadata: &[u8], created_ticks: Option<&str>) -> ResolvedEvent {
        let mut metadata = HashMap::new();
        metadata.insert("type".to_owned(), "OrderPlaced".to_owned());
        if let Some(t) = created_ticks {
            metadata.insert("created".to_owned(), t.to_owned());
        }
        ResolvedEvent {
            event: Some(eventstore::RecordedEvent {
                stream_id: "order-1".into(),
                id: Uuid::nil(),
                revision: 3,
                event_type: "OrderPlaced".into(),
                data: data.to_vec().into(),
                metadata,
                custom_metadata: custom_metadata.to_vec().into(),
                is_json: true,
                position: eventstore::Position {
                    commit: 10,
                    prepare: 9,
                },
                created: DateTime::UNIX_EPOCH,
            }),
            link: None,
            commit_position: Some(10),
        }
    }

    /// What `append` writes is what `decode` reads: body, envelope, schema version.
    #[test]
    fn the_metadata_envelope_round_trips() {
        let event = NewEvent {
            id: Uuid::new_v4(),
            event_type: "OrderPlaced".into(),
            schema_version: 2,
            data: json!({ "order": 1 }),
            metadata: json!({ "correlation_id": "c" }),
        };
        let custom = serde_json::to_vec(&envelope(&event)).unwrap();
        let data = serde_json::to_vec(&event.data).unwrap();
        let read = decode(&stored(&data, &custom, None)).unwrap();
        assert_eq!(read.schema_version, 2);
        assert_eq!(read.data, event.data);
        assert_eq!(read.metadata, event.metadata);
        assert_eq!(read.revision, 3);
        assert_eq!(read.position, Position::new(10, 9));
        assert_eq!(read.stream_id, "order-1");
    }

    /// Bodies or envelopes that are not JSON objects stop the reader as corrupt.
    #[test]
    fn what_is_not_a_json_object_is_corrupt() {
        let envelope = br#"{"schema_version":1,"metadata":{}}"#;
        for (data, custom) in [
            (&b"[1,2]"[..], &envelope[..]),
            (b"\x00\x01binary", envelope),
            (b"{}", b""),
            (b"{}", b"{\"metadata\":{}}"),
            (b"{}", b"{\"schema_version\":1}"),
            (b"{}", b"{\"schema_version\":1,\"metadata\":[]}"),
            (b"{}", b"{\"schema_version\":-1,\"metadata\":{}}"),
        ] {
            let err = decode(&stored(data, custom, None)).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        }
    }

    /// The server's `created` keeps its 100 ns precision; the crate's field is the fallback.
    #[test]
    fn recorded_at_keeps_sub_second_precision() {
        let read = decode(&stored(
            b"{}",
            br#"{"schema_version":1,"metadata":{}}"#,
            Some("17000000001234567"),
        ))
        .unwrap();
        assert_eq!(read.recorded_at.timestamp(), 1_700_000_000);
        assert_eq!(read.recorded_at.timestamp_subsec_nanos(), 123_456_700);
        let read = decode(&stored(
            b"{}",
            br#"{"schema_version":1,"metadata":{}}"#,
            Some("not ticks"),
        ))
        .unwrap();
        assert_eq!(read.recorded_at, DateTime::UNIX_EPOCH);
    }

    #[test]
    fn system_events_are_recognised() {
        let mut e = stored(b"{}", b"{}", None).event.unwrap();
        assert!(!is_system(&e));
        e.event_type = "$>".into();
        assert!(is_system(&e));
        e.event_type = "OrderPlaced".into();
        e.stream_id = "$ce-order".into();
        assert!(is_system(&e));
    }
}
