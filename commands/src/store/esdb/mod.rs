//! The EventStoreDB adapter (`EVENTSTORE_URL=esdb://...`), over the `eventstore` crate.
//!
//! [`EsdbEventStore::connect`] only parses the connection string: the client connects on first
//! use, so the engine can start before EventStoreDB does. The crate's connection task gives up
//! for good after a failed discovery (every later call answers "connection closed"), so the
//! adapter builds a fresh client after such a failure and the next call tries again. Every
//! failure to reach the server is [`StoreError::Unavailable`] with the crate's cause.
//!
//! # What differs from PostgreSQL
//!
//! - **Retried appends.** EventStoreDB checks event ids itself only in some cases; the
//!   adapter fills the gaps the contract needs, and says which retries it still cannot
//!   recognise, in the `retry` module.
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
//! # Layout
//!
//! - `mod.rs`: [`EsdbEventStore`] and its [`EventStore`] implementation.
//! - `connection`: the client, renewed after its connection task ends, and reads over it;
//!   the rustls trap.
//! - `mapping`: how events, their metadata, positions and times map onto EventStoreDB's.
//! - `retry`: recognising a retried append and answering as the first one did.
//! - `reading`: reads of `$all`, forwards and to find its head.
//! - `subscription`: a catch-up subscription to `$all` that survives failures.

use std::sync::Arc;

use async_trait::async_trait;
use eventstore::{
    AppendToStreamOptions, ClientSettings, CurrentRevision, ExpectedRevision, ReadStreamOptions,
    StreamPosition,
};
use futures::StreamExt;

use super::{
    validate_append, validate_stream_id, ActualVersion, AppendResult, Direction, EventStore,
    ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent, StoreError, StreamInfo,
    SubscriptionStream,
};

mod connection;
mod mapping;
mod reading;
mod retry;
mod subscription;

use connection::{Connection, Current};
use mapping::{check_after, decode, original, position_of, recorded_at, to_esdb};
use reading::{head_position, read_all};
use retry::{answer_retry, find_retry};
use subscription::Follow;

/// gRPC status `INVALID_ARGUMENT`: the server refused the request itself (e.g. too large).
const GRPC_INVALID_ARGUMENT: i32 = 3;
/// The standard projection that links the first event of every stream.
const STREAMS_PROJECTION: &str = "$streams";

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
        Ok(EsdbEventStore {
            conn: Arc::new(Connection::new(settings)?),
        })
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
            if let Some(done) = find_retry(&self.conn, stream_id, &events).await? {
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
                answer_retry(
                    &self.conn,
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
                if let Some(done) = find_retry(&self.conn, stream_id, &events).await? {
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

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read_all(&self.conn, after, limit).await
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        check_after(after)?;
        let follow = Follow::new(self.conn.clone(), after);
        Ok(futures::stream::unfold(follow, |mut follow| async move {
            let next = follow.next_event().await;
            Some((next, follow))
        })
        .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        head_position(&self.conn).await
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

#[cfg(test)]
mod tests {
    use super::*;

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
