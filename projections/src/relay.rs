//! The relay: `$all`, from a checkpoint kept in PostgreSQL, published to a JetStream stream.
//!
//! Each event becomes one message on `<prefix>.<category>.<EventType>` whose body is the
//! whole [`RecordedEvent`] (so a worker rebuilds it exactly, metadata, position and
//! `recorded_at` included) and whose headers repeat what routing and tooling need without
//! parsing the body. `Nats-Msg-Id` is the event id, so JetStream drops a copy published
//! again within its duplicate window.
//!
//! Publishes are pipelined: a batch is sent while the previous one's acknowledgements
//! are on their way, and a batch counts as published once all of its own and those before
//! it are in. The checkpoint follows in the background, one write at a time, each with the
//! latest acknowledged position, so publishing never waits for PostgreSQL. A relay killed
//! at any point therefore republishes at most what its checkpoint did not record yet; those
//! copies are dropped by JetStream's deduplication or, past its window, skipped by every
//! projection's checkpoint.
//!
//! JetStream is not trusted to keep what it acknowledged (it acknowledges before fsync).
//! So every message also names, in `Um-Prev-Position`, the `$all` position of the event
//! the relay published before it: a worker that finds that position above its own
//! checkpoint knows messages went missing and reads them from the store (see
//! [`crate::jetstream`]).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, context::PublishAckFuture};
use async_nats::HeaderMap;
use chrono::{DateTime, Utc};
use commands::store::{EventStore, Position, RecordedEvent, StoreError};
use futures::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::jetstream::{ensure_stream, JetStreamConfig, NatsError};

/// Most events published before their acknowledgements are awaited.
pub const BATCH: usize = 500;

/// How long the relay waits before starting again after NATS failed it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

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

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// NATS is unreachable or refused a request; the relay starts again from its
    /// checkpoint after a pause.
    #[error(transparent)]
    Nats(#[from] NatsError),
}

impl RelayError {
    fn nats(e: impl std::fmt::Display) -> Self {
        RelayError::Nats(NatsError::from(e))
    }
}

/// Publishes `$all` to JetStream.
pub struct Relay {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    js: jetstream::Context,
    config: JetStreamConfig,
}

/// What one [`Relay::publish`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Messages JetStream stored.
    pub stored: u64,
    /// Messages JetStream recognised by `Nats-Msg-Id` and dropped.
    pub duplicates: u64,
}

impl Relay {
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        js: jetstream::Context,
        config: JetStreamConfig,
    ) -> Self {
        Relay {
            store,
            pool,
            js,
            config,
        }
    }

    /// The position of the last event JetStream acknowledged to this relay, and how many
    /// it stored in all.
    pub async fn checkpoint(&self) -> Result<(Position, u64), sqlx::Error> {
        checkpoint(&self.pool, &self.config.stream).await
    }

    /// Publishes `events` (consecutive in `$all`, the first one right after `prev`) and
    /// waits for every acknowledgement, in order. Nothing is recorded: the caller moves
    /// the checkpoint once this answers.
    #[tracing::instrument(skip_all, fields(stream = %self.config.stream, events = events.len()), err)]
    pub async fn publish(
        &self,
        events: &[RecordedEvent],
        prev: Position,
    ) -> Result<Published, RelayError> {
        let acks = self.send(events, prev).await?;
        confirm(acks, self.config.stream.clone()).await
    }

    /// Publishes `events` (as [`Relay::publish`]) and answers their acknowledgements to
    /// come.
    async fn send(
        &self,
        events: &[RecordedEvent],
        mut prev: Position,
    ) -> Result<Vec<PublishAckFuture>, RelayError> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(events.len());
        for event in events {
            let subject = subject(&self.config.subject_prefix, event);
            let (headers, body) = encode(event, prev);
            let ack = match self
                .js
                .publish_with_headers(subject.clone(), headers.clone(), body.into())
                .await
            {
                Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    tracing::warn!(
                        event_id = %event.id, stream = %event.stream_id, position = %event.position,
                        "event larger than NATS max_payload; published without its body, workers read it from the store"
                    );
                    let mut headers = headers;
                    headers.insert(HEADER_BODY, "omitted");
                    self.js
                        .publish_with_headers(subject, headers, Default::default())
                        .await
                        .map_err(RelayError::nats)?
                }
                other => other.map_err(RelayError::nats)?,
            };
            acks.push(ack);
            prev = event.position;
        }
        Ok(acks)
    }
}

/// Waits for `acks`, in order, from JetStream stream `stream`.
async fn confirm(acks: Vec<PublishAckFuture>, stream: String) -> Result<Published, RelayError> {
    let mut published = Published::default();
    for ack in acks {
        let ack = ack.await.map_err(RelayError::nats)?;
        if ack.stream != stream {
            // Another stream captures our subjects: the events are not where the workers
            // look for them.
            return Err(RelayError::nats(format!(
                "message stored in stream {} instead of {stream}",
                ack.stream
            )));
        }
        if ack.duplicate {
            published.duplicates += 1;
        } else {
            published.stored += 1;
        }
    }
    metrics::counter!("relay_events_published_total", "stream" => stream.clone())
        .increment(published.stored);
    metrics::counter!("relay_duplicates_total", "stream" => stream).increment(published.duplicates);
    Ok(published)
}

/// Records that everything up to `at` is acknowledged by JetStream stream `stream`.
async fn advance(
    pool: &PgPool,
    stream: &str,
    at: Position,
    stored: u64,
) -> Result<(), sqlx::Error> {
    // Never backwards: a second relay on the same stream (during a rolling restart)
    // may be behind this one. No need to wait for the WAL flush: a checkpoint lost in a
    // crash only means republishing, which deduplication and the workers' checkpoints
    // absorb.
    sqlx::query(
        "insert into projections.relay_checkpoints
                 (relay, commit_position, prepare_position, published)
             select $1, $2, $3, $4
               from (select set_config('synchronous_commit', 'off', true)) as async_commit
             on conflict (relay) do update set commit_position = excluded.commit_position,
                 prepare_position = excluded.prepare_position,
                 published = projections.relay_checkpoints.published + excluded.published,
                 updated_at = now()
             where (projections.relay_checkpoints.commit_position,
                    projections.relay_checkpoints.prepare_position)
                 < (excluded.commit_position, excluded.prepare_position)",
    )
    .bind(stream)
    .bind(at.commit as i64)
    .bind(at.prepare as i64)
    .bind(stored as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes the relay's checkpoint as acknowledgements come in (`acked`: the last
/// position acknowledged, and how many messages were stored since `from`), one write at
/// a time, each with the latest: publishing never waits for PostgreSQL. When the sender
/// goes, writes what it last sent and ends.
async fn keep_checkpoint(
    pool: PgPool,
    stream: String,
    mut acked: watch::Receiver<(Position, u64)>,
) -> Result<(), sqlx::Error> {
    let mut written = *acked.borrow_and_update();
    loop {
        let more = acked.changed().await.is_ok();
        let latest = *acked.borrow_and_update();
        if latest.0 > written.0 {
            advance(&pool, &stream, latest.0, latest.1 - written.1).await?;
            written = latest;
        }
        if !more {
            return Ok(());
        }
    }
}

/// The answer of a task of the relay's.
fn joined<T, E>(joined: Result<Result<T, E>, tokio::task::JoinError>) -> Result<T, RelayError>
where
    RelayError: From<E>,
{
    match joined {
        Ok(result) => result.map_err(RelayError::from),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(RelayError::nats("the relay's task was cancelled")),
    }
}

impl Relay {
    /// Publishes `$all` until `shutdown` turns true. NATS failures (a server restart, a
    /// deleted stream) are waited out: the relay starts again from its checkpoint,
    /// recreating the stream when it is gone. Store and database failures end it.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), RelayError> {
        loop {
            match self.follow(&mut shutdown).await {
                Ok(()) => return Ok(()),
                Err(RelayError::Nats(e)) => {
                    tracing::warn!(stream = %self.config.stream, error = %e, "relay: NATS failed; starting again from the checkpoint");
                    tokio::select! {
                        _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn follow(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), RelayError> {
        ensure_stream(&self.js, &self.config).await?;
        let (mut prev, _) = self.checkpoint().await?;
        tracing::info!(stream = %self.config.stream, from = %prev, "relay publishing $all to JetStream");
        let mut events = self.store.subscribe_all(prev).await?;
        let (acked, acked_seen) = watch::channel((prev, 0));
        let mut writer = tokio::spawn(keep_checkpoint(
            self.pool.clone(),
            self.config.stream.clone(),
            acked_seen,
        ));
        // The batch published last, its acknowledgements awaited meanwhile, and its end.
        let mut confirming: Option<(JoinHandle<Result<Published, RelayError>>, Position)> = None;
        let record = |published: Published, last: Position| {
            acked.send_modify(|(at, stored)| {
                *at = last;
                *stored += published.stored;
            })
        };
        enum Step {
            Stop,
            Next(Option<Result<RecordedEvent, StoreError>>),
            Confirmed(Result<Result<Published, RelayError>, tokio::task::JoinError>),
            Written(Result<Result<(), sqlx::Error>, tokio::task::JoinError>),
        }
        loop {
            let step = if *shutdown.borrow() {
                Step::Stop
            } else {
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => Step::Stop,
                    next = events.next() => Step::Next(next),
                    done = async { (&mut confirming.as_mut().expect("guarded").0).await },
                        if confirming.is_some() => Step::Confirmed(done),
                    // Only a failure ends the writer while the relay runs.
                    done = &mut writer => Step::Written(done),
                }
            };
            let first = match step {
                Step::Stop => break,
                Step::Confirmed(done) => {
                    let (_, last) = confirming.take().expect("it was running");
                    record(joined(done)?, last);
                    continue;
                }
                Step::Written(done) => {
                    joined(done)?;
                    return Err(RelayError::nats("the checkpoint writer ended"));
                }
                Step::Next(None) => {
                    return Err(
                        StoreError::Unavailable("the $all subscription ended".into()).into(),
                    )
                }
                Step::Next(Some(first)) => first?,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match events.next().now_or_never() {
                    Some(Some(event)) => batch.push(event?),
                    _ => break,
                }
            }
            // Sent while the previous batch's acknowledgements are on their way; awaited
            // after them, so the checkpoint passes the batches in order.
            let acks = self.send(&batch, prev).await?;
            if let Some((previous, last)) = confirming.take() {
                record(joined(previous.await)?, last);
            }
            let last = batch.last().expect("a batch is never empty").position;
            confirming = Some((
                tokio::spawn(confirm(acks, self.config.stream.clone())),
                last,
            ));
            prev = last;
        }
        if let Some((previous, last)) = confirming.take() {
            record(joined(previous.await)?, last);
        }
        drop(acked);
        joined(writer.await)
    }
}

/// The relay checkpoint of JetStream stream `stream`: the last position it had
/// acknowledged, and how many events it stored.
pub async fn checkpoint(pool: &PgPool, stream: &str) -> Result<(Position, u64), sqlx::Error> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "select commit_position, prepare_position, published
           from projections.relay_checkpoints where relay = $1",
    )
    .bind(stream)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or((Position::START, 0), |(c, p, n)| {
        (Position::new(c as u64, p as u64), n as u64)
    }))
}

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
