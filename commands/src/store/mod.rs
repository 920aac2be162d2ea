//! The `EventStore` port: the one durable, ordered log every other part of the engine
//! derives from.
//!
//! Two adapters implement it: [`postgres::PgEventStore`] (the default) and, with the `esdb`
//! feature, [`esdb::EsdbEventStore`] over EventStoreDB. Both pass the same contract suite in
//! `commands/tests/store_contract.rs`.
//!
//! # Positions
//!
//! A position in `$all` is a pair, as in EventStoreDB: `commit` orders transactions and
//! `prepare` orders events within them. On PostgreSQL `commit` is the appending
//! transaction's id (`xid8`) and `prepare` the event's row number. A single sequence alone
//! cannot be the order of `$all` there: concurrent transactions commit out of sequence order,
//! so a reader that has seen sequence number 7 may later find 6 committed. Ordering by
//! transaction id and reading only below the oldest transaction still in flight makes the
//! prefix a reader has seen final. See `docs/adr/0001-all-stream-ordering.md`.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde_json::Value;
use uuid::Uuid;

#[cfg(feature = "esdb")]
pub mod esdb;
pub mod postgres;

/// Longest stream id the store accepts, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 200;
/// Longest event type name the store accepts, in bytes.
pub const MAX_EVENT_TYPE_LEN: usize = 100;

/// The version a command expects its stream to be at when it appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream's state.
    Any,
    /// The stream must not exist yet (set uniqueness relies on this).
    NoStream,
    /// The stream must hold at least one event.
    StreamExists,
    /// The stream's last event must have exactly this revision (revisions start at 0).
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::StreamExists => f.write_str("stream exists"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// A stream's current state as the store saw it when refusing an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActualVersion {
    NoStream,
    Revision(u64),
}

impl fmt::Display for ActualVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActualVersion::NoStream => f.write_str("no stream"),
            ActualVersion::Revision(v) => write!(f, "{v}"),
        }
    }
}

/// A position in `$all`; ordered first by `commit`, then by `prepare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub commit: u64,
    pub prepare: u64,
}

impl Position {
    /// Before every event: reading `$all` after it starts at the beginning.
    pub const START: Position = Position {
        commit: 0,
        prepare: 0,
    };

    pub fn new(commit: u64, prepare: u64) -> Self {
        Position { commit, prepare }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.commit, self.prepare)
    }
}

/// Parses the `commit/prepare` form that `Display` writes.
impl FromStr for Position {
    type Err = InvalidPosition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (c, p) = s
            .split_once('/')
            .ok_or_else(|| InvalidPosition(s.to_owned()))?;
        let commit = c.parse().map_err(|_| InvalidPosition(s.to_owned()))?;
        let prepare = p.parse().map_err(|_| InvalidPosition(s.to_owned()))?;
        Ok(Position { commit, prepare })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid position {0:?}: expected <commit>/<prepare>, e.g. 1234/5678")]
pub struct InvalidPosition(pub String);

/// An event to append. Its `id` is how a retry is recognised (invariant 3), so callers
/// derive it from the command id rather than drawing it at random.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    /// A JSON object.
    pub data: Value,
    /// A JSON object: correlation id, causation id, actor, occurred-at (invariant 9).
    pub metadata: Value,
}

/// An event as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream_id: String,
    /// The event's revision within its stream, from 0.
    pub revision: u64,
    pub position: Position,
    pub event_type: String,
    pub schema_version: u32,
    pub data: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// The stream's category: its id before the first `-` (`order-42` → `order`).
    pub fn category(&self) -> &str {
        category_of(&self.stream_id)
    }

    /// The stream's id after its category (`order-42` → `42`); empty when it has none.
    pub fn stream_key(&self) -> &str {
        self.stream_id.split_once('-').map_or("", |(_, key)| key)
    }

    /// The stream's key as the aggregate id it names (`order-<uuid>`), when it is one.
    pub fn stream_uuid(&self) -> Option<Uuid> {
        Uuid::parse_str(self.stream_key()).ok()
    }
}

/// The category of a stream id: the part before the first `-`, or the whole id.
pub fn category_of(stream_id: &str) -> &str {
    stream_id.split_once('-').map_or(stream_id, |(c, _)| c)
}

/// What a successful append answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Revision of the stream's last event after the append.
    pub revision: u64,
    /// Position of the last appended event in `$all`.
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forwards,
    Backwards,
}

/// Where a stream read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// The first event when reading forwards, the last when reading backwards.
    End,
    /// This revision, inclusive.
    Revision(u64),
}

/// One stream as listed by [`EventStore::list_streams`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub stream_id: String,
    pub revision: u64,
    pub updated_at: DateTime<Utc>,
}

/// Which streams [`EventStore::search_streams`] answers: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamFilter {
    /// Streams of this category only (`order` → `order`, `order-…`).
    pub category: Option<String>,
    /// The id, where `*` stands for any run of characters; without a `*`, any id that
    /// contains it. Letters match in either case.
    pub id_pattern: Option<String>,
    /// Streams that took an event at or after this time.
    pub active_since: Option<DateTime<Utc>>,
}

impl StreamFilter {
    /// Whether `stream` passes, as the PostgreSQL adapter's SQL decides it.
    pub fn matches(&self, stream: &StreamInfo) -> bool {
        self.category
            .as_deref()
            .is_none_or(|c| category_of(&stream.stream_id) == c)
            && self
                .id_pattern
                .as_deref()
                .is_none_or(|p| id_matches(p, &stream.stream_id))
            && self.active_since.is_none_or(|t| stream.updated_at >= t)
    }
}

/// `pattern` against `id` as [`StreamFilter::id_pattern`] reads it.
fn id_matches(pattern: &str, id: &str) -> bool {
    let (pattern, id) = (pattern.to_lowercase(), id.to_lowercase());
    if !pattern.contains('*') {
        return id.contains(&pattern);
    }
    // Anchored at both ends: the first piece starts the id, the last ends it, and the
    // pieces between come in order.
    let pieces: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !id.starts_with(first) || id.len() < first.len() + last.len() || !id.ends_with(last) {
        return false;
    }
    let mut rest = &id[first.len()..id.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Which events [`EventStore::read_all_filtered`] answers: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Events of streams of this category.
    pub category: Option<String>,
    pub event_type: Option<String>,
    /// Recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before this time.
    pub to: Option<DateTime<Utc>>,
    /// The `correlation_id` of the event's metadata.
    pub correlation_id: Option<Uuid>,
    /// The `causation_id` of the event's metadata.
    pub causation_id: Option<Uuid>,
}

impl EventFilter {
    /// Whether `event` passes, as the PostgreSQL adapter's SQL decides it.
    pub fn matches(&self, event: &RecordedEvent) -> bool {
        let meta = |field: &str| event.metadata.get(field).and_then(Value::as_str);
        let same = |want: Option<Uuid>, field: &str| {
            want.is_none_or(|w| meta(field) == Some(w.to_string().as_str()))
        };
        self.category
            .as_deref()
            .is_none_or(|c| event.category() == c)
            && self
                .event_type
                .as_deref()
                .is_none_or(|t| event.event_type == t)
            && self.from.is_none_or(|t| event.recorded_at >= t)
            && self.to.is_none_or(|t| event.recorded_at < t)
            && same(self.correlation_id, "correlation_id")
            && same(self.causation_id, "causation_id")
    }
}

/// Where a filtered read of `$all` starts, and which way it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllRead {
    /// The events strictly after this position, oldest first.
    Forwards { after: Position },
    /// The events strictly before this position (the newest of all without one), newest
    /// first.
    Backwards { before: Option<Position> },
}

/// How many events the scanning defaults of [`EventStore`] read per call.
const SCAN_PAGE: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: the stream is not where the command expected it.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: ActualVersion,
    },
    /// An event id already used by another stream, or a retry that does not match the
    /// first append.
    #[error("event {event_id} already exists in stream {existing_stream}")]
    DuplicateEventId {
        event_id: Uuid,
        existing_stream: String,
    },
    /// The request itself is malformed; nothing was written.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// The store is unreachable or failed; the caller may retry later.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The store holds something this code cannot read.
    #[error("corrupt event in store: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::WrongExpectedVersion { .. })
    }
}

pub type SubscriptionStream = BoxStream<'static, Result<RecordedEvent, StoreError>>;

/// The durable log.
///
/// Reads of `$all` never skip an event that commits later at a lower position
/// (invariant 4), so a checkpoint is a complete description of what a reader has seen.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends all of `events` to `stream_id` or none of them. An empty `events` is refused.
    ///
    /// Appending events whose ids are already the latest events of this stream (a retried
    /// command) writes nothing and answers as the first append did, whatever `expected`
    /// says; an id already used by another stream is [`StoreError::DuplicateEventId`].
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError>;

    /// Reads up to `limit` events of one stream from `from` in `direction`. A stream that
    /// does not exist reads as empty.
    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Reads up to `limit` events of `$all` strictly after `after`, in `$all` order.
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Every event strictly after `after`: first those already stored, then each new one as
    /// it becomes readable. The stream ends only on an error.
    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError>;

    /// The position of the last readable event of `$all`, `Position::START` when empty.
    async fn head_position(&self) -> Result<Position, StoreError>;

    /// The position of the last committed event of `$all`, readable yet or not: no append
    /// has answered a later one, so a client's position beyond it is not one the store
    /// gave. Where every committed event is readable at once, the readable head.
    async fn committed_head(&self) -> Result<Position, StoreError> {
        self.head_position().await
    }

    /// Streams whose id starts with `prefix`, in id order, with paging by `after` (an id).
    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError>;

    /// Streams that pass `filter`, in id order, with paging by `after` (an id).
    ///
    /// This default pages through [`EventStore::list_streams`] and filters each page, which
    /// reads every stream of the category; an adapter that can filter where the streams
    /// are kept answers it there.
    async fn search_streams(
        &self,
        filter: &StreamFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        let prefix = filter.category.as_deref().unwrap_or("");
        let mut after = after.map(str::to_owned);
        let mut found = Vec::new();
        while found.len() < limit {
            let page = self
                .list_streams(prefix, after.as_deref(), SCAN_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.stream_id.clone());
            found.extend(page.into_iter().filter(|s| filter.matches(s)));
        }
        found.truncate(limit);
        Ok(found)
    }

    /// Up to `limit` events of `$all` that pass `filter`, from `from`: oldest first going
    /// forwards, newest first going backwards. Like [`EventStore::read_all`], it never
    /// answers an event that a later read could find before one it answered, so pages cut
    /// at the positions of their first and last events neither repeat nor skip an event.
    ///
    /// This default scans `$all` from the start with [`EventStore::read_all`] (all of it
    /// going backwards); an adapter that can filter where the events are kept answers it
    /// there.
    async fn read_all_filtered(
        &self,
        filter: &EventFilter,
        from: AllRead,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (mut after, before) = match from {
            AllRead::Forwards { after } => (after, None),
            AllRead::Backwards { before } => (Position::START, Some(before)),
        };
        // Going backwards, only the last `limit` matches before the cursor are kept.
        let mut found = std::collections::VecDeque::new();
        loop {
            let page = self.read_all(after, SCAN_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for event in page {
                match before {
                    None if found.len() == limit => return Ok(found.into()),
                    Some(Some(cursor)) if event.position >= cursor => {
                        return Ok(found.into_iter().rev().collect())
                    }
                    _ => {}
                }
                if filter.matches(&event) {
                    found.push_back(event);
                    if before.is_some() && found.len() > limit {
                        found.pop_front();
                    }
                }
            }
        }
        Ok(match before {
            None => found.into(),
            Some(_) => found.into_iter().rev().collect(),
        })
    }
}

/// Checks what every adapter refuses the same way before touching storage.
pub fn validate_append(stream_id: &str, events: &[NewEvent]) -> Result<(), StoreError> {
    validate_stream_id(stream_id)?;
    if events.is_empty() {
        return Err(StoreError::InvalidInput {
            field: "events",
            reason: "an append needs at least one event".into(),
        });
    }
    for (i, e) in events.iter().enumerate() {
        if e.event_type.is_empty() || e.event_type.len() > MAX_EVENT_TYPE_LEN {
            return Err(StoreError::InvalidInput {
                field: "event_type",
                reason: format!(
                    "event {i}: must be 1 to {MAX_EVENT_TYPE_LEN} bytes, got {}",
                    e.event_type.len()
                ),
            });
        }
        if !e.data.is_object() {
            return Err(StoreError::InvalidInput {
                field: "data",
                reason: format!("event {i}: must be a JSON object"),
            });
        }
        if !e.metadata.is_object() {
            return Err(StoreError::InvalidInput {
                field: "metadata",
                reason: format!("event {i}: must be a JSON object"),
            });
        }
        if events[..i].iter().any(|prev| prev.id == e.id) {
            return Err(StoreError::InvalidInput {
                field: "id",
                reason: format!("event {i}: id {} appears twice in one append", e.id),
            });
        }
    }
    Ok(())
}

pub fn validate_stream_id(stream_id: &str) -> Result<(), StoreError> {
    if stream_id.is_empty() || stream_id.len() > MAX_STREAM_ID_LEN {
        return Err(StoreError::InvalidInput {
            field: "stream_id",
            reason: format!(
                "must be 1 to {MAX_STREAM_ID_LEN} bytes, got {}",
                stream_id.len()
            ),
        });
    }
    if stream_id.starts_with('$') {
        return Err(StoreError::InvalidInput {
            field: "stream_id",
            reason: "ids starting with '$' are reserved for the store".into(),
        });
    }
    if stream_id.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput {
            field: "stream_id",
            reason: "must not contain control characters".into(),
        });
    }
    Ok(())
}
