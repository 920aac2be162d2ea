//! The EventStoreDB adapter (`EVENTSTORE_URL=esdb://...`), over the `eventstore` crate.
//!
//! [`EsdbEventStore::connect`] only parses the connection string: the client connects on first
//! use, so the engine can start before EventStoreDB does. The crate's connection task gives up
//! for good after a failed discovery (every later call answers "connection closed"), so the
//! adapter builds a fresh client after such a failure and the next call tries again. Every
//! failure to reach the server is [`StoreError::Unavailable`] with the crate's cause.
//!
//! # Mapping
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
//!
//! # What differs from PostgreSQL
//!
//! - **Retried appends.** EventStoreDB checks event ids itself only in some cases: with an
//!   exact or no-stream expectation that is *behind* the stream, it compares the events
//!   already there; with `Any`/`StreamExists` it looks in a cache of recently committed ids.
//!   The adapter fills the gaps the contract needs: with `Any`/`StreamExists` it first looks
//!   for the ids among the stream's last `n + 64` events (one extra read per such append; the
//!   command handler appends with exact versions and never pays it); after a refusal it looks
//!   there again; after a success that a fresh append cannot have produced (no position, or
//!   another revision than the expectation implies) it answers the first append's result. A
//!   first id found there followed by other ids is [`StoreError::DuplicateEventId`].
//!   Not detected: with `Any`/`StreamExists`, a retry further back than that window whose ids
//!   have left the server's cache; with `Exact`, a retry expecting the revision the first
//!   append produced (the server sees nothing behind it to compare and appends).
//! - **Ids across streams.** EventStoreDB keeps no index of event ids, so an id already used
//!   by another stream is not refused here (the contract test for it is PostgreSQL's alone).
//! - **Positions of stream reads.** The server sends a `$all` position only for reads of
//!   `$all`; events read from one stream carry what it sends instead (current servers send
//!   `u64::MAX/u64::MAX`, "no position"). Take positions from `read_all`, `subscribe_all` and
//!   appends; `read_all` and `subscribe_all` refuse that "no position" rather than silently
//!   reading nothing after it. A recognised retry answers the first append's position: the server's, or the
//!   batch's last event found by reading `$all` backwards (at most 10,000 events), or, beyond
//!   that, the head of `$all`, which every reader of the first append has to pass anyway.
//! - **Stream listing** reads the `$streams` system projection (standard projections must
//!   run, as `compose.yml` configures), one link per stream in creation order: every listing
//!   reads all of it, sorts the ids, then reads the last event of each stream it returns.
//!   The projection trails appends, so a stream created a moment ago may be missing.
//! - **Event types** starting with `$` are refused: EventStoreDB reserves them, and `$all`
//!   readers would never see such events.
//! - **Append size.** The server refuses appends larger than its `MaxAppendSize` (1 MiB by
//!   default); that refusal is [`StoreError::InvalidInput`] on `events`.
//!
//! # The rustls trap
//!
//! `eventstore` 4.0.0 installs a process-wide rustls crypto provider (aws-lc-rs) with `expect`
//! when its first client starts, and panics if another crate installed one before. This code
//! never installs one, and nothing else in the engine does: sqlx is built without TLS, and
//! async-nats asks rustls for the process default rather than installing its own (in this
//! workspace rustls has both the ring and aws-lc-rs features on, so rustls cannot pick one for
//! it either). So we keep `eventstore`, the client the design names, and `tests/esdb_coexist.rs`
//! starts the adapter beside a sqlx pool to prove nothing panics. The panic would happen in
//! the crate's connection task, not in the caller; the store would then only ever answer
//! `Unavailable`. The crate also unwraps its TLS files, so `connect` checks that they open.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use eventstore::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ExpectedRevision,
    ReadAllOptions, ReadStream, ReadStreamOptions, ResolvedEvent, StreamPosition,
    SubscribeToAllOptions, Subscription, SubscriptionFilter,
};
use futures::StreamExt;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    validate_append, validate_stream_id, ActualVersion, AppendResult, Direction, EventStore,
    ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent, StoreError, StreamInfo,
    SubscriptionStream,
};

/// Envelope keys in an event's custom metadata.
const SCHEMA_VERSION_KEY: &str = "schema_version";
const METADATA_KEY: &str = "metadata";

/// Most events read from `$all` in one request.
const ALL_PAGE: usize = 1_000;
/// Fewest events read from `$all` in one request.
const MIN_ALL_PAGE: usize = 32;
/// `$all` events read per event wanted: each of ours is followed by a link from each
/// standard projection, which readers skip.
const ALL_PAGE_FACTOR: usize = 5;
/// How many events before a batch's own length a retried batch is looked for.
const RETRY_TAIL: usize = 64;
/// How far back `$all` is read to find a retried batch's position.
const RETRY_SCAN: usize = 10_000;
/// Pause before subscribing again after a subscription failed.
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(500);
/// gRPC status `INVALID_ARGUMENT`: the server refused the request itself (e.g. too large).
const GRPC_INVALID_ARGUMENT: i32 = 3;
/// The standard projection that links the first event of every stream.
const STREAMS_PROJECTION: &str = "$streams";
/// EventStoreDB's `created` is in .NET ticks (100 ns) since the Unix epoch.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// What the server sends as the position of an event read from a stream: none.
const NO_POSITION: Position = Position {
    commit: u64::MAX,
    prepare: u64::MAX,
};

/// The EventStoreDB store. Cloning shares the connection.
#[derive(Clone)]
pub struct EsdbEventStore {
    conn: Arc<Connection>,
}

impl EsdbEventStore {
    /// Parses `url` (`esdb://host:2113?tls=false`, `esdb+discover://...`) and starts a client;
    /// the connection itself opens on first use.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let settings = url.parse::<ClientSettings>().map_err(|e| {
            // When the string is not a URL at all, the parse error repeats it, password
            // included: name the URL error alone then.
            let reason = match e.error() {
                Some(url_error) => format!("not a connection string: {url_error}"),
                None => e.message().to_owned(),
            };
            StoreError::InvalidInput {
                field: "EVENTSTORE_URL",
                reason,
            }
        })?;
        check_tls_files(&settings)?;
        let client = new_client(&settings)?;
        Ok(EsdbEventStore {
            conn: Arc::new(Connection {
                settings,
                current: Mutex::new(Current {
                    generation: 0,
                    client,
                }),
            }),
        })
    }
}

/// The crate unwraps these files inside its connection task (even with `tls=false`); a
/// missing one would kill the task on every attempt, so refuse it here with the setting named.
fn check_tls_files(settings: &ClientSettings) -> Result<(), StoreError> {
    let mut files: Vec<&String> = settings.tls_ca_file().into_iter().collect();
    if let Some((cert, key)) = settings.user_certificate() {
        files.extend([cert, key]);
    }
    for file in files {
        std::fs::File::open(file).map_err(|e| StoreError::InvalidInput {
            field: "EVENTSTORE_URL",
            reason: format!("cannot open TLS file {file:?}: {e}"),
        })?;
    }
    Ok(())
}

fn new_client(settings: &ClientSettings) -> Result<Client, StoreError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
        StoreError::Unavailable(format!(
            "the EventStoreDB client needs a Tokio runtime: {e}"
        ))
    })?;
    Client::with_runtime_handle(runtime, settings.clone())
        .map_err(|e| StoreError::Unavailable(format!("EventStoreDB client: {e}")))
}

struct Connection {
    settings: ClientSettings,
    current: Mutex<Current>,
}

/// The client in use; `generation` tells a failed client from its replacement.
#[derive(Clone)]
struct Current {
    generation: u64,
    client: Client,
}

impl Connection {
    fn current(&self) -> Current {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Maps a failure of the client of `generation`, replacing that client when its
    /// connection task has ended.
    fn unavailable(&self, generation: u64, e: eventstore::Error) -> StoreError {
        if matches!(
            e,
            eventstore::Error::ConnectionClosed | eventstore::Error::GrpcConnectionError(_)
        ) {
            self.renew(generation);
        }
        StoreError::Unavailable(format!("EventStoreDB: {e}"))
    }

    fn renew(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.generation != generation {
            // Another caller already replaced it.
            return;
        }
        match new_client(&self.settings) {
            Ok(client) => {
                current.client = client;
                current.generation += 1;
                tracing::debug!("EventStoreDB client restarted after its connection task ended");
            }
            Err(e) => tracing::warn!(error = %e, "could not restart the EventStoreDB client"),
        }
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        options: &ReadStreamOptions,
    ) -> Result<Reader<'_>, StoreError> {
        let Current { generation, client } = self.current();
        match client.read_stream(stream_id, options).await {
            Ok(read) => Ok(Reader::new(self, generation, Some(read))),
            Err(eventstore::Error::ResourceNotFound | eventstore::Error::ResourceDeleted) => {
                Ok(Reader::new(self, generation, None))
            }
            Err(e) => Err(self.unavailable(generation, e)),
        }
    }

    async fn read_all(&self, options: &ReadAllOptions) -> Result<Reader<'_>, StoreError> {
        let Current { generation, client } = self.current();
        match client.read_all(options).await {
            Ok(read) => Ok(Reader::new(self, generation, Some(read))),
            Err(e) => Err(self.unavailable(generation, e)),
        }
    }
}

/// One read in progress. A stream that does not exist (or was deleted) reads as empty.
struct Reader<'a> {
    conn: &'a Connection,
    generation: u64,
    read: Option<ReadStream>,
}

impl<'a> Reader<'a> {
    fn new(conn: &'a Connection, generation: u64, read: Option<ReadStream>) -> Self {
        Reader {
            conn,
            generation,
            read,
        }
    }

    async fn next(&mut self) -> Result<Option<ResolvedEvent>, StoreError> {
        let Some(read) = self.read.as_mut() else {
            return Ok(None);
        };
        match read.next().await {
            Ok(Some(event)) => Ok(Some(event)),
            // The server says "not found" in the stream of answers, not when the read opens.
            Ok(None)
            | Err(eventstore::Error::ResourceNotFound | eventstore::Error::ResourceDeleted) => {
                self.read = None;
                Ok(None)
            }
            Err(e) => {
                self.read = None;
                Err(self.conn.unavailable(self.generation, e))
            }
        }
    }
}

fn position_of(p: eventstore::Position) -> Position {
    Position::new(p.commit, p.prepare)
}

/// Refuses the "no position" of stream reads as a place in `$all`: after it, nothing would
/// ever be read, and a reader would wait forever without knowing why.
fn check_after(after: Position) -> Result<(), StoreError> {
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
fn all_from(after: Position) -> StreamPosition<eventstore::Position> {
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
fn original(resolved: &ResolvedEvent) -> Result<&eventstore::RecordedEvent, StoreError> {
    resolved
        .link
        .as_ref()
        .or(resolved.event.as_ref())
        .ok_or_else(|| StoreError::Corrupt("the server answered a read with no event".into()))
}

/// EventStoreDB's own events: projection links, statistics, settings, ...
fn is_system(e: &eventstore::RecordedEvent) -> bool {
    e.stream_id.starts_with('$') || e.event_type.starts_with('$')
}

fn recorded_at(e: &eventstore::RecordedEvent) -> DateTime<Utc> {
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

fn decode(resolved: &ResolvedEvent) -> Result<RecordedEvent, StoreError> {
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

fn to_esdb(events: &[NewEvent]) -> Result<Vec<EventData>, StoreError> {
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

/// Where a batch's ids sit in the end of a stream.
#[derive(Debug, PartialEq, Eq)]
enum Retry {
    /// The first id is not there: not a retry (as far as the window reaches).
    Absent,
    /// The ids follow each other in order; the revision of the last.
    Found(u64),
    /// The first id is there but other events follow it: a different command reusing ids.
    Mismatch,
}

/// Looks for `ids` in `tail`, the end of a stream in revision order.
fn find_batch(tail: &[(Uuid, u64)], ids: &[Uuid]) -> Retry {
    let Some(first) = ids.first() else {
        return Retry::Absent;
    };
    let Some(start) = tail.iter().position(|(id, _)| id == first) else {
        return Retry::Absent;
    };
    let run = &tail[start..];
    if run.len() >= ids.len() && run.iter().zip(ids).all(|((found, _), id)| found == id) {
        Retry::Found(run[ids.len() - 1].1)
    } else {
        Retry::Mismatch
    }
}

impl EsdbEventStore {
    /// Recognises `events` as a batch already at the end of `stream_id`.
    async fn find_retry(
        &self,
        stream_id: &str,
        events: &[NewEvent],
    ) -> Result<Option<AppendResult>, StoreError> {
        let options = ReadStreamOptions::default()
            .position(StreamPosition::End)
            .backwards()
            .max_count(events.len().saturating_add(RETRY_TAIL));
        let mut read = self.conn.read_stream(stream_id, &options).await?;
        let mut tail = Vec::new();
        while let Some(resolved) = read.next().await? {
            let e = original(&resolved)?;
            tail.push((e.id, e.revision));
        }
        tail.reverse();
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        match find_batch(&tail, &ids) {
            Retry::Absent => Ok(None),
            Retry::Found(revision) => Ok(Some(
                self.answer_retry(stream_id, events, revision, None).await?,
            )),
            Retry::Mismatch => Err(StoreError::DuplicateEventId {
                event_id: ids[0],
                existing_stream: stream_id.to_owned(),
            }),
        }
    }

    /// The first append's answer for a batch whose last event has `revision`. Stream reads
    /// carry no `$all` position, so it comes from the server (`known`) or from `$all`.
    async fn answer_retry(
        &self,
        stream_id: &str,
        events: &[NewEvent],
        revision: u64,
        known: Option<Position>,
    ) -> Result<AppendResult, StoreError> {
        let position = match known {
            Some(p) => p,
            None => match self.find_in_all(stream_id, events).await? {
                Some(p) => p,
                None => {
                    // Too old to find cheaply. The head is past the first append, so a
                    // caller waiting for readers to reach this position still waits enough.
                    tracing::warn!(
                        stream = stream_id,
                        revision,
                        "retried append recognised, but its position is beyond the search; answering the head of $all"
                    );
                    self.head_position().await?
                }
            },
        };
        Ok(AppendResult { revision, position })
    }

    /// The `$all` position of the batch's last event, searching back from the end.
    async fn find_in_all(
        &self,
        stream_id: &str,
        events: &[NewEvent],
    ) -> Result<Option<Position>, StoreError> {
        let Some(last) = events.last() else {
            return Ok(None);
        };
        let mut from = StreamPosition::End;
        let mut scanned = 0;
        while scanned < RETRY_SCAN {
            let options = ReadAllOptions::default()
                .position(from)
                .backwards()
                .max_count(ALL_PAGE);
            let mut read = self.conn.read_all(&options).await?;
            let mut seen = 0;
            while let Some(resolved) = read.next().await? {
                seen += 1;
                let e = original(&resolved)?;
                if e.id == last.id && e.stream_id == stream_id {
                    return Ok(Some(position_of(e.position)));
                }
                from = StreamPosition::Position(e.position);
            }
            if seen < ALL_PAGE {
                break;
            }
            scanned += seen;
        }
        Ok(None)
    }

    fn append_error(&self, generation: u64, stream_id: &str, e: eventstore::Error) -> StoreError {
        match e {
            eventstore::Error::ResourceDeleted => StoreError::InvalidInput {
                field: "stream_id",
                reason: format!("stream {stream_id:?} was deleted in EventStoreDB"),
            },
            // Mapped by status code: e.g. the server's append size limit.
            eventstore::Error::Grpc { code, message }
                if i32::from(code) == GRPC_INVALID_ARGUMENT =>
            {
                StoreError::InvalidInput {
                    field: "events",
                    reason: message,
                }
            }
            other => self.conn.unavailable(generation, other),
        }
    }
}

#[async_trait]
impl EventStore for EsdbEventStore {
    #[tracing::instrument(skip_all, fields(stream = stream_id, expected = %expected, n = events.len()), err)]
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        validate_append(stream_id, &events)?;
        if let Some((i, e)) = events
            .iter()
            .enumerate()
            .find(|(_, e)| e.event_type.starts_with('$'))
        {
            return Err(StoreError::InvalidInput {
                field: "event_type",
                reason: format!(
                    "event {i}: {:?} starts with '$', which EventStoreDB reserves",
                    e.event_type
                ),
            });
        }
        let payload = to_esdb(&events)?;
        // With these two the server recognises a retry only while its ids are in a cache,
        // and otherwise appends it again; look first.
        if matches!(
            expected,
            ExpectedVersion::Any | ExpectedVersion::StreamExists
        ) {
            if let Some(done) = self.find_retry(stream_id, &events).await? {
                return Ok(done);
            }
        }
        let options = AppendToStreamOptions::default().expected_revision(match expected {
            ExpectedVersion::Any => ExpectedRevision::Any,
            ExpectedVersion::NoStream => ExpectedRevision::NoStream,
            ExpectedVersion::StreamExists => ExpectedRevision::StreamExists,
            ExpectedVersion::Exact(v) => ExpectedRevision::Exact(v),
        });
        let Current { generation, client } = self.conn.current();
        match client.append_to_stream(stream_id, &options, payload).await {
            Ok(written) => {
                let answer = AppendResult {
                    revision: written.next_expected_version,
                    position: position_of(written.position),
                };
                let n = events.len() as u64;
                let fresh_revision = match expected {
                    ExpectedVersion::NoStream => Some(n - 1),
                    ExpectedVersion::Exact(v) => v.checked_add(n),
                    ExpectedVersion::Any | ExpectedVersion::StreamExists => None,
                };
                let has_position = answer.position != Position::START;
                if has_position && fresh_revision.is_none_or(|r| r == answer.revision) {
                    return Ok(answer);
                }
                // The server recognised a retry and wrote nothing: it names the batch's last
                // revision, and its position unless it is an older server.
                self.answer_retry(
                    stream_id,
                    &events,
                    answer.revision,
                    has_position.then_some(answer.position),
                )
                .await
            }
            Err(eventstore::Error::WrongExpectedVersion { current, .. }) => {
                // The same batch may already be there, appended with another expectation or
                // by a concurrent identical retry that won.
                if let Some(done) = self.find_retry(stream_id, &events).await? {
                    return Ok(done);
                }
                Err(StoreError::WrongExpectedVersion {
                    stream: stream_id.to_owned(),
                    expected,
                    actual: match current {
                        CurrentRevision::NoStream => ActualVersion::NoStream,
                        CurrentRevision::Current(v) => ActualVersion::Revision(v),
                    },
                })
            }
            Err(e) => Err(self.append_error(generation, stream_id, e)),
        }
    }

    #[tracing::instrument(skip_all, fields(stream = stream_id), err)]
    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        // `position` sets the direction for `Start`/`End`, so the direction comes after it.
        let options = ReadStreamOptions::default()
            .position(match (from, direction) {
                (ReadFrom::Revision(r), _) => StreamPosition::Position(r),
                (ReadFrom::End, Direction::Forwards) => StreamPosition::Start,
                (ReadFrom::End, Direction::Backwards) => StreamPosition::End,
            })
            .max_count(limit);
        let options = match direction {
            Direction::Forwards => options.forwards(),
            Direction::Backwards => options.backwards(),
        };
        let mut read = self.conn.read_stream(stream_id, &options).await?;
        let mut out = Vec::new();
        while let Some(resolved) = read.next().await? {
            out.push(decode(&resolved)?);
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(after = %after, limit = limit), err)]
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        check_after(after)?;
        let mut out = Vec::new();
        let mut cursor = after;
        while out.len() < limit {
            let page = (limit - out.len())
                .saturating_mul(ALL_PAGE_FACTOR)
                .clamp(MIN_ALL_PAGE, ALL_PAGE);
            let options = ReadAllOptions::default()
                .position(all_from(cursor))
                .forwards()
                .max_count(page);
            let mut read = self.conn.read_all(&options).await?;
            let mut seen = 0;
            while let Some(resolved) = read.next().await? {
                seen += 1;
                let e = original(&resolved)?;
                let position = position_of(e.position);
                if position <= cursor {
                    // The event at the position a read starts from.
                    continue;
                }
                cursor = position;
                if is_system(e) {
                    continue;
                }
                out.push(decode(&resolved)?);
                if out.len() == limit {
                    return Ok(out);
                }
            }
            if seen < page {
                break;
            }
        }
        Ok(out)
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        check_after(after)?;
        let follow = Follow {
            conn: self.conn.clone(),
            after,
            live: None,
            failed: false,
        };
        Ok(futures::stream::unfold(follow, |mut follow| async move {
            let next = follow.next_event().await;
            Some((next, follow))
        })
        .boxed())
    }

    #[tracing::instrument(skip_all, err)]
    async fn head_position(&self) -> Result<Position, StoreError> {
        let mut from = StreamPosition::End;
        loop {
            let options = ReadAllOptions::default()
                .position(from)
                .backwards()
                .max_count(ALL_PAGE);
            let mut read = self.conn.read_all(&options).await?;
            let mut seen = 0;
            while let Some(resolved) = read.next().await? {
                seen += 1;
                let e = original(&resolved)?;
                if !is_system(e) {
                    return Ok(position_of(e.position));
                }
                from = StreamPosition::Position(e.position);
            }
            if seen < ALL_PAGE {
                return Ok(Position::START);
            }
        }
    }

    #[tracing::instrument(skip_all, fields(prefix = prefix, limit = limit), err)]
    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let options = ReadStreamOptions::default()
            .position(StreamPosition::Start)
            .forwards();
        let mut links = self.conn.read_stream(STREAMS_PROJECTION, &options).await?;
        let mut names = Vec::new();
        let mut any_link = false;
        while let Some(resolved) = links.next().await? {
            any_link = true;
            // A link's data names its target, `<revision>@<stream>`: the stream id without
            // fetching the event it points to.
            let link = original(&resolved)?;
            let Some((_, name)) = std::str::from_utf8(&link.data)
                .ok()
                .and_then(|text| text.split_once('@'))
            else {
                continue;
            };
            if name.starts_with('$')
                || !name.starts_with(prefix)
                || after.is_some_and(|a| name <= a)
            {
                continue;
            }
            names.push(name.to_owned());
        }
        if !any_link {
            tracing::warn!(
                "{STREAMS_PROJECTION} is empty: stream listing needs EventStoreDB's standard projections"
            );
        }
        names.sort_unstable();
        names.dedup();

        let last_event = ReadStreamOptions::default()
            .position(StreamPosition::End)
            .backwards()
            .max_count(1);
        let mut out = Vec::new();
        for name in names {
            let mut read = self.conn.read_stream(&name, &last_event).await?;
            // A deleted stream keeps its link but reads as empty: not listed.
            if let Some(resolved) = read.next().await? {
                let last = original(&resolved)?;
                out.push(StreamInfo {
                    revision: last.revision,
                    updated_at: recorded_at(last),
                    stream_id: name,
                });
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// A catch-up subscription to `$all` that survives failures: after an error the next poll
/// subscribes again after the last event it delivered.
struct Follow {
    conn: Arc<Connection>,
    /// The last event delivered, or where the subscription started.
    after: Position,
    /// The server subscription and the generation of the client that opened it.
    live: Option<(u64, Subscription)>,
    failed: bool,
}

impl Follow {
    async fn next_event(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if self.live.is_none() {
                if std::mem::take(&mut self.failed) {
                    tokio::time::sleep(RESUBSCRIBE_DELAY).await;
                }
                let Current { generation, client } = self.conn.current();
                // The server filters its own events out; `is_system` below is the guarantee.
                let options = SubscribeToAllOptions::default()
                    .position(all_from(self.after))
                    .filter(SubscriptionFilter::on_event_type().exclude_system_events());
                self.live = Some((generation, client.subscribe_to_all(&options).await));
            }
            let Some((generation, subscription)) = self.live.as_mut() else {
                continue;
            };
            let generation = *generation;
            let next = subscription.next().await;
            let resolved = match next {
                Ok(resolved) => resolved,
                Err(e) => {
                    self.live = None;
                    self.failed = true;
                    return Err(self.conn.unavailable(generation, e));
                }
            };
            let decoded = original(&resolved).and_then(|e| {
                if position_of(e.position) <= self.after || is_system(e) {
                    Ok(None)
                } else {
                    decode(&resolved).map(Some)
                }
            });
            match decoded {
                Ok(Some(event)) => {
                    self.after = event.position;
                    return Ok(event);
                }
                Ok(None) => continue,
                Err(e) => {
                    // Start over before this event, so the next poll meets it again
                    // instead of silently passing it.
                    self.live = None;
                    self.failed = true;
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

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

    /// A retry is the same ids in the same order; a first id followed by others is not.
    #[test]
    fn batches_are_found_at_the_end_of_a_stream() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        let tail: Vec<(Uuid, u64)> = ids.iter().copied().zip(10..).collect();
        assert_eq!(find_batch(&tail, &ids[1..3]), Retry::Found(12));
        assert_eq!(find_batch(&tail, &ids[3..]), Retry::Found(14));
        assert_eq!(find_batch(&tail, &[Uuid::new_v4()]), Retry::Absent);
        assert_eq!(find_batch(&tail, &[ids[1], ids[3]]), Retry::Mismatch);
        // The batch would run past the end of the stream.
        assert_eq!(
            find_batch(&tail, &[ids[4], Uuid::new_v4()]),
            Retry::Mismatch
        );
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

    /// The parse error of a non-URL repeats the string, password included; ours does not.
    #[tokio::test]
    async fn a_bad_url_is_refused_without_echoing_it() {
        match EsdbEventStore::connect("esdb://admin:s3cret@host:notaport").await {
            Err(StoreError::InvalidInput { field, reason }) => {
                assert_eq!(field, "EVENTSTORE_URL");
                assert!(!reason.contains("s3cret"), "{reason}");
            }
            Err(e) => panic!("expected invalid input, got {e:?}"),
            Ok(_) => panic!("a malformed URL was accepted"),
        }
        match EsdbEventStore::connect("esdb://host:2113?tlsCAFile=/nonexistent/ca.pem").await {
            Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "EVENTSTORE_URL"),
            Err(e) => panic!("expected invalid input, got {e:?}"),
            Ok(_) => panic!("a missing CA file was accepted"),
        }
    }
}
