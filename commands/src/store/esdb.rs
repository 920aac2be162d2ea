//! The EventStoreDB adapter (`EVENTSTORE_URL=esdb://...`), over the `eventstore` crate.
//!
//! # Mapping
//!
//! - Streams, revisions (from 0) and expected versions map one to one.
//! - `$all` positions are EventStoreDB's own `{commit, prepare}`; system events (streams or
//!   types starting with `$`) are left out of every `$all` read.
//! - An event's `data` is its JSON body. Its ESDB custom metadata is
//!   `{"schema_version": n, "metadata": {...}}`: our metadata plus the schema version, which
//!   EventStoreDB has no field for.
//!
//! # What differs from PostgreSQL
//!
//! - A retried append is recognised by reading the stream's tail: EventStoreDB deduplicates
//!   by id only when the expected version still matches, so on a conflict the adapter looks
//!   for the ids among the stream's last events and answers as the first append did.
//! - EventStoreDB keeps no index of event ids across streams, so an id already used by
//!   another stream is not detected here (the contract test for it is PostgreSQL's alone).
//! - `list_streams` reads the `$streams` system projection (standard projections must run,
//!   as `compose.yml` configures) and each listed stream's last event: one read per stream.
//!
//! # The rustls trap
//!
//! `eventstore` 4.0.0 installs a process-wide rustls crypto provider with `expect` the first
//! time it connects, and panics if another crate installed one before. Nothing in this engine
//! installs one (sqlx is built without TLS; async-nats picks its provider per connection), so
//! the adapter coexists with them in one process (`tests/esdb_coexist.rs` proves it).

use async_trait::async_trait;
use eventstore::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ExpectedRevision,
    ReadAllOptions, ReadStreamOptions, ResolvedEvent, StreamPosition, SubscribeToAllOptions,
    SubscriptionFilter,
};
use futures::StreamExt;
use serde_json::{json, Value};

use super::{
    validate_append, validate_stream_id, ActualVersion, AppendResult, Direction, EventStore,
    ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent, StoreError, StreamInfo,
    SubscriptionStream,
};

/// Events read per `$all` page when skipping system events.
const ALL_PAGE: usize = 1_000;

#[derive(Clone)]
pub struct EsdbEventStore {
    client: Client,
}

impl EsdbEventStore {
    /// Connects lazily: a bad URL fails here, an unreachable server on first use.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let settings: ClientSettings = url.parse().map_err(|e| StoreError::InvalidInput {
            field: "EVENTSTORE_URL",
            reason: format!("{e}"),
        })?;
        let client = Client::new(settings).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(EsdbEventStore { client })
    }
}

fn unavailable(e: eventstore::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn is_system(e: &eventstore::RecordedEvent) -> bool {
    e.stream_id.starts_with('$') || e.event_type.starts_with('$')
}

fn decode(resolved: &ResolvedEvent) -> Result<RecordedEvent, StoreError> {
    let e = resolved.get_original_event();
    let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", e.id));
    let data: Value = serde_json::from_slice(&e.data).map_err(|_| corrupt("data is not JSON"))?;
    if !data.is_object() {
        return Err(corrupt("data is not a JSON object"));
    }
    let custom: Value = if e.custom_metadata.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&e.custom_metadata)
            .map_err(|_| corrupt("custom metadata is not JSON"))?
    };
    let schema_version = custom
        .get("schema_version")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(1);
    let metadata = custom.get("metadata").cloned().unwrap_or_else(|| json!({}));
    Ok(RecordedEvent {
        id: e.id,
        stream_id: e.stream_id.clone(),
        revision: e.revision,
        position: Position::new(e.position.commit, e.position.prepare),
        event_type: e.event_type.clone(),
        schema_version,
        data,
        metadata,
        recorded_at: e.created,
    })
}

fn to_esdb(events: &[NewEvent]) -> Result<Vec<EventData>, StoreError> {
    events
        .iter()
        .map(|e| {
            EventData::json(e.event_type.clone(), &e.data)
                .and_then(|d| {
                    d.id(e.id).metadata_as_json(&json!({
                        "schema_version": e.schema_version,
                        "metadata": e.metadata,
                    }))
                })
                .map_err(|err| StoreError::InvalidInput {
                    field: "data",
                    reason: err.to_string(),
                })
        })
        .collect()
}

impl EsdbEventStore {
    /// The answer to a retried append: the stream's events with these ids, if they are
    /// its events in this order.
    async fn find_retry(
        &self,
        stream_id: &str,
        events: &[NewEvent],
    ) -> Result<Option<AppendResult>, StoreError> {
        // The ids may sit anywhere; look at a generous tail.
        let tail = self
            .read_stream(stream_id, ReadFrom::End, Direction::Backwards, 4096)
            .await?;
        let Some(first) = tail.iter().position(|e| e.id == events[0].id) else {
            return Ok(None);
        };
        // `tail` is newest first: the batch runs from `first` towards the front.
        let run: Vec<&RecordedEvent> = tail[..=first].iter().rev().take(events.len()).collect();
        if run.len() == events.len() && run.iter().zip(events).all(|(r, e)| r.id == e.id) {
            let last = run[run.len() - 1];
            return Ok(Some(AppendResult {
                revision: last.revision,
                position: last.position,
            }));
        }
        Err(StoreError::DuplicateEventId {
            event_id: events[0].id,
            existing_stream: stream_id.to_owned(),
        })
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
        let revision = match expected {
            ExpectedVersion::Any => ExpectedRevision::Any,
            ExpectedVersion::NoStream => ExpectedRevision::NoStream,
            ExpectedVersion::StreamExists => ExpectedRevision::StreamExists,
            ExpectedVersion::Exact(v) => ExpectedRevision::Exact(v),
        };
        // With an exact or no-stream expectation a retry comes back as a conflict and is
        // recognised below; with the loose ones EventStoreDB would append it again, so look
        // first.
        if matches!(
            expected,
            ExpectedVersion::Any | ExpectedVersion::StreamExists
        ) {
            if let Some(done) = self.find_retry(stream_id, &events).await? {
                return Ok(done);
            }
        }
        let options = AppendToStreamOptions::default().expected_revision(revision);
        match self
            .client
            .append_to_stream(stream_id, &options, to_esdb(&events)?)
            .await
        {
            Ok(w) => Ok(AppendResult {
                revision: w.next_expected_version,
                position: Position::new(w.position.commit, w.position.prepare),
            }),
            Err(eventstore::Error::WrongExpectedVersion { current, .. }) => {
                // A concurrent identical retry may have won the race.
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
            Err(e) => Err(unavailable(e)),
        }
    }

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
        let mut options = ReadStreamOptions::default().max_count(limit);
        options = match direction {
            Direction::Forwards => options.forwards(),
            Direction::Backwards => options.backwards(),
        };
        options = options.position(match (from, direction) {
            (ReadFrom::Revision(r), _) => StreamPosition::Position(r),
            (ReadFrom::End, Direction::Forwards) => StreamPosition::Start,
            (ReadFrom::End, Direction::Backwards) => StreamPosition::End,
        });
        let mut read = match self.client.read_stream(stream_id, &options).await {
            Ok(r) => r,
            Err(eventstore::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        let mut out = Vec::new();
        loop {
            match read.next().await {
                Ok(Some(e)) => out.push(decode(&e)?),
                Ok(None) => break,
                Err(eventstore::Error::ResourceNotFound) => break,
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(out)
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut out = Vec::new();
        let mut from = after;
        let mut first_page = true;
        while out.len() < limit {
            let start = if from == Position::START && first_page {
                StreamPosition::Start
            } else {
                StreamPosition::Position(eventstore::Position {
                    commit: from.commit,
                    prepare: from.prepare,
                })
            };
            first_page = false;
            let options = ReadAllOptions::default()
                .forwards()
                .position(start)
                .max_count(ALL_PAGE);
            let mut read = self.client.read_all(&options).await.map_err(unavailable)?;
            let mut seen = 0;
            while let Some(e) = read.next().await.map_err(unavailable)? {
                seen += 1;
                let original = e.get_original_event();
                let position = Position::new(original.position.commit, original.position.prepare);
                from = from.max(position);
                // Reading from a position includes it; `after` is exclusive.
                if position <= after || is_system(original) {
                    continue;
                }
                out.push(decode(&e)?);
                if out.len() == limit {
                    break;
                }
            }
            if seen < ALL_PAGE {
                break;
            }
        }
        Ok(out)
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        let start = if after == Position::START {
            StreamPosition::Start
        } else {
            StreamPosition::Position(eventstore::Position {
                commit: after.commit,
                prepare: after.prepare,
            })
        };
        let options = SubscribeToAllOptions::default()
            .position(start)
            .filter(SubscriptionFilter::on_event_type().exclude_system_events());
        let sub = self.client.subscribe_to_all(&options).await;
        Ok(futures::stream::unfold(sub, move |mut sub| async move {
            loop {
                match sub.next().await {
                    Ok(e) => {
                        let original = e.get_original_event();
                        let position =
                            Position::new(original.position.commit, original.position.prepare);
                        if position <= after || is_system(original) {
                            continue;
                        }
                        return Some((decode(&e), sub));
                    }
                    Err(e) => return Some((Err(unavailable(e)), sub)),
                }
            }
        })
        .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        let mut from = StreamPosition::End;
        loop {
            let options = ReadAllOptions::default()
                .backwards()
                .position(from)
                .max_count(ALL_PAGE);
            let mut read = self.client.read_all(&options).await.map_err(unavailable)?;
            let mut seen = 0;
            while let Some(e) = read.next().await.map_err(unavailable)? {
                seen += 1;
                let original = e.get_original_event();
                if !is_system(original) {
                    return Ok(Position::new(
                        original.position.commit,
                        original.position.prepare,
                    ));
                }
                from = StreamPosition::Position(original.position);
            }
            if seen < ALL_PAGE {
                return Ok(Position::START);
            }
        }
    }

    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Start);
        let mut read = match self.client.read_stream("$streams", &options).await {
            Ok(r) => r,
            Err(eventstore::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        // `$streams` holds one link per stream, in creation order, its data "0@<stream>".
        let mut names = Vec::new();
        loop {
            let link = match read.next().await {
                Ok(Some(l)) => l,
                Ok(None) | Err(eventstore::Error::ResourceNotFound) => break,
                Err(e) => return Err(unavailable(e)),
            };
            let raw = link.get_original_event();
            let text = String::from_utf8_lossy(&raw.data);
            let Some((_, name)) = text.split_once('@') else {
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
        names.sort();
        names.dedup();
        let mut out = Vec::new();
        for name in names.into_iter().take(limit) {
            let last = self
                .read_stream(&name, ReadFrom::End, Direction::Backwards, 1)
                .await?;
            if let Some(last) = last.into_iter().next() {
                out.push(StreamInfo {
                    stream_id: name,
                    revision: last.revision,
                    updated_at: last.recorded_at,
                });
            }
        }
        Ok(out)
    }
}
