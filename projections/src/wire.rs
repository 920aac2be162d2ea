//! The relay's message format on NATS: what the relay publishes and the JetStream workers
//! read back.
//!
//! Each event becomes one message on `<prefix>.<category>.<EventType>` ([`subject`]) whose
//! body is the whole [`RecordedEvent`] (so a worker rebuilds it exactly, metadata, position
//! and `recorded_at` included) and whose headers repeat what routing and tooling need
//! without parsing the body. `Nats-Msg-Id` is the event id, so JetStream drops a copy
//! published again within its duplicate window.
//!
//! JetStream is not trusted to keep what it acknowledged (it acknowledges before fsync).
//! So every message also names, in `Um-Prev-Position` ([`HEADER_PREV_POSITION`]), the
//! `$all` position of the event the relay published before it: a worker that finds that
//! position above its own checkpoint knows messages went missing and reads them from the
//! store (see [`crate::jetstream`]). An event too large for the server's `max_payload`
//! goes without its body ([`HEADER_BODY`], [`Delivery::Omitted`]).

use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use commands::store::{Position, RecordedEvent};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use uuid::Uuid;

pub const HEADER_EVENT_TYPE: &str = "Um-Event-Type";
pub const HEADER_STREAM: &str = "Um-Stream";
pub const HEADER_VERSION: &str = "Um-Version";
pub const HEADER_SCHEMA_VERSION: &str = "Um-Schema-Version";
pub const HEADER_POSITION: &str = "Um-Position";
pub const HEADER_PREV_POSITION: &str = "Um-Prev-Position";
pub const HEADER_CORRELATION_ID: &str = "Um-Correlation-Id";
pub const HEADER_RECORDED_AT: &str = "Um-Recorded-At";
/// Set to `omitted` when the event was too large for the server's `max_payload`: the
/// message then carries no body and a worker reads the event from the store.
pub const HEADER_BODY: &str = "Um-Body";

/// The subject of `event`: `<prefix>.<category>.<EventType>`.
pub fn subject(prefix: &str, event: &RecordedEvent) -> String {
    format!(
        "{prefix}.{}.{}",
        token(event.category()),
        token(&event.event_type)
    )
}

/// A stream id or event type as one subject token. The store accepts characters NATS
/// gives a meaning to (`.` separates tokens, `*` and `>` are wildcards, whitespace ends
/// the subject); those become `_`, and so does an empty token.
fn token(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    s.chars()
        .map(|c| {
            if c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Text as a header value. Line breaks would end the header (the client refuses them
/// outright); the body keeps the exact text.
fn header_value(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// The body of a message: the event as the store recorded it.
#[derive(Serialize)]
struct Body<'a> {
    id: Uuid,
    stream_id: &'a str,
    revision: u64,
    position: String,
    event_type: &'a str,
    schema_version: u32,
    data: &'a Value,
    metadata: &'a Value,
    recorded_at: DateTime<Utc>,
}

/// A body as read back: data and metadata stay unparsed text until someone wants them.
#[derive(Deserialize)]
struct ReadBody<'a> {
    id: Uuid,
    stream_id: String,
    revision: u64,
    position: String,
    event_type: String,
    schema_version: u32,
    #[serde(borrow)]
    data: &'a RawValue,
    #[serde(borrow)]
    metadata: &'a RawValue,
    recorded_at: DateTime<Utc>,
}

/// The headers and body of the message for `event`, published right after `prev`.
pub fn encode(event: &RecordedEvent, prev: Position) -> (HeaderMap, Vec<u8>) {
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.to_string());
    headers.insert(HEADER_EVENT_TYPE, header_value(&event.event_type));
    headers.insert(HEADER_STREAM, header_value(&event.stream_id));
    headers.insert(HEADER_VERSION, event.revision.to_string());
    headers.insert(HEADER_SCHEMA_VERSION, event.schema_version.to_string());
    headers.insert(HEADER_POSITION, event.position.to_string());
    headers.insert(HEADER_PREV_POSITION, prev.to_string());
    if let Some(correlation) = event.metadata.get("correlation_id").and_then(Value::as_str) {
        headers.insert(HEADER_CORRELATION_ID, header_value(correlation));
    }
    headers.insert(
        HEADER_RECORDED_AT,
        event
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    );
    let body = Body {
        id: event.id,
        stream_id: &event.stream_id,
        revision: event.revision,
        position: event.position.to_string(),
        event_type: &event.event_type,
        schema_version: event.schema_version,
        data: &event.data,
        metadata: &event.metadata,
        recorded_at: event.recorded_at,
    };
    let body = serde_json::to_vec(&body).expect("JSON values and plain fields always serialize");
    (headers, body)
}

/// What a message of the relay carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The event, and the position of the one published before it.
    Event {
        event: Box<RecordedEvent>,
        prev: Position,
    },
    /// An event too large for NATS: only its position and its predecessor's.
    Omitted { position: Position, prev: Position },
}

impl Delivery {
    pub fn position(&self) -> Position {
        match self {
            Delivery::Event { event, .. } => event.position,
            Delivery::Omitted { position, .. } => *position,
        }
    }

    pub fn prev(&self) -> Position {
        match self {
            Delivery::Event { prev, .. } | Delivery::Omitted { prev, .. } => *prev,
        }
    }
}

/// A message that is not one of the relay's.
#[derive(Debug, thiserror::Error)]
#[error("not a relay message: {0}")]
pub struct NotAnEvent(String);

/// Reads a message the relay published.
pub fn decode(headers: Option<&HeaderMap>, body: &[u8]) -> Result<Delivery, NotAnEvent> {
    decode_for(headers, body, |_| true)
}

/// Reads a message the relay published, parsing the event's data and metadata only when
/// `wants` takes the event on its envelope (id, stream, type, versions, position, time);
/// otherwise both are `null`. Most of a worker's messages are events its read model
/// skips, and their data is most of the decoding.
pub fn decode_for(
    headers: Option<&HeaderMap>,
    body: &[u8],
    wants: impl Fn(&RecordedEvent) -> bool,
) -> Result<Delivery, NotAnEvent> {
    let header = |name: &str| {
        headers
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
            .ok_or_else(|| NotAnEvent(format!("no {name} header")))
    };
    let position = |name: &str| -> Result<Position, NotAnEvent> {
        header(name)?
            .parse()
            .map_err(|e: commands::store::InvalidPosition| NotAnEvent(format!("{name}: {e}")))
    };
    let prev = position(HEADER_PREV_POSITION)?;
    if header(HEADER_BODY).ok().as_deref() == Some("omitted") {
        return Ok(Delivery::Omitted {
            position: position(HEADER_POSITION)?,
            prev,
        });
    }
    let body: ReadBody =
        serde_json::from_slice(body).map_err(|e| NotAnEvent(format!("body: {e}")))?;
    let mut event = RecordedEvent {
        id: body.id,
        stream_id: body.stream_id,
        revision: body.revision,
        position: body
            .position
            .parse()
            .map_err(|e: commands::store::InvalidPosition| NotAnEvent(e.to_string()))?,
        event_type: body.event_type,
        schema_version: body.schema_version,
        data: Value::Null,
        metadata: Value::Null,
        recorded_at: body.recorded_at,
    };
    if wants(&event) {
        let parse = |raw: &RawValue| {
            serde_json::from_str(raw.get()).map_err(|e| NotAnEvent(format!("body: {e}")))
        };
        event.data = parse(body.data)?;
        event.metadata = parse(body.metadata)?;
    }
    Ok(Delivery::Event {
        event: Box::new(event),
        prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream_id: &str, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::new_v4(),
            stream_id: stream_id.into(),
            revision: 7,
            position: Position::new(901, 3),
            event_type: event_type.into(),
            schema_version: 2,
            data: serde_json::json!({"total": {"amount": 1999, "currency": "EUR"}, "ratio": 0.1}),
            metadata: serde_json::json!({"correlation_id": "c-1", "actor": {"role": "admin"}}),
            recorded_at: "2026-11-30T10:11:12.123456789Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_message_decodes_to_the_event_it_was_encoded_from() {
        let e = event("order-1", "OrderPlaced");
        let (headers, body) = encode(&e, Position::new(900, 9));
        assert_eq!(
            decode(Some(&headers), &body).unwrap(),
            Delivery::Event {
                event: Box::new(e.clone()),
                prev: Position::new(900, 9)
            }
        );
        assert_eq!(headers.get(HEADER_CORRELATION_ID).unwrap().as_str(), "c-1");
        assert_eq!(headers.get(HEADER_POSITION).unwrap().as_str(), "901/3");
        assert_eq!(
            headers.get(HEADER_RECORDED_AT).unwrap().as_str(),
            "2026-11-30T10:11:12.123456789Z"
        );
    }

    #[test]
    fn data_and_metadata_are_parsed_only_for_events_that_are_wanted() {
        let e = event("order-1", "OrderPlaced");
        let (headers, body) = encode(&e, Position::new(900, 9));
        let skipped = decode_for(Some(&headers), &body, |seen| {
            assert_eq!((seen.id, seen.position), (e.id, e.position));
            seen.stream_id != "order-1"
        })
        .unwrap();
        let Delivery::Event { event: skipped, .. } = skipped else {
            panic!("a message with a body is an event");
        };
        assert_eq!(
            (skipped.data.clone(), skipped.metadata.clone()),
            (Value::Null, Value::Null)
        );
        assert_eq!(
            *skipped,
            RecordedEvent {
                data: Value::Null,
                metadata: Value::Null,
                ..e.clone()
            }
        );
        let wanted = decode_for(Some(&headers), &body, |seen| {
            seen.event_type == "OrderPlaced"
        });
        assert_eq!(
            wanted.unwrap(),
            Delivery::Event {
                event: Box::new(e),
                prev: Position::new(900, 9)
            }
        );
    }

    #[test]
    fn subjects_are_prefix_category_and_type_with_reserved_characters_replaced() {
        assert_eq!(
            subject("events", &event("order-1-2", "OrderPlaced")),
            "events.order.OrderPlaced"
        );
        assert_eq!(subject("p", &event("a.b*c>d e", "x.y")), "p.a_b_c_d_e.x_y");
        assert_eq!(subject("p", &event("-1", "T")), "p._.T");
    }

    #[test]
    fn a_message_without_relay_headers_is_not_an_event() {
        assert!(decode(None, b"{}").is_err());
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_PREV_POSITION, "0/0");
        assert!(decode(Some(&headers), b"not json").is_err());
        headers.insert(HEADER_POSITION, "5/6");
        headers.insert(HEADER_BODY, "omitted");
        assert_eq!(
            decode(Some(&headers), b"").unwrap(),
            Delivery::Omitted {
                position: Position::new(5, 6),
                prev: Position::START
            }
        );
    }
}
