//! The PostgreSQL adapter, the default store.
//!
//! Appends are one call of `store.append_events` (one round trip, one implicit
//! transaction); the function checks the expected version against `store.streams` under a
//! row lock and answers conflicts and retries as data rather than exceptions, so the
//! adapter maps outcomes, never message text.
//!
//! Readers of `$all` only see rows below the oldest transaction in flight (see the module
//! docs of [`crate::store`]). One task per store, the tail, follows `$all` for every
//! subscription and keeps the latest events in memory for them; the `tail` module tells how
//! it wakes and why no event waits long behind an older transaction.
//!
//! # Layout
//!
//! - `mod.rs`: [`PgEventStore`] and its [`EventStore`] implementation: appends, stream
//!   reads, listing.
//! - `tail`: the task that follows `$all` for every subscription.
//! - `window`: the latest events of `$all`, which the tail keeps in memory.
//! - `subscription`: one subscriber, reading from the window or, when behind it, the store.
//! - `announcements`: `NOTIFY` after this process's appends, `LISTEN` for other processes'.
//! - `horizon`: reads of `$all` below the oldest transaction in flight.
//! - `browse`: stream search and filtered reads of `$all`, for the console.
//! - `rows`: the rows the SQL answers, and their mapping to the port's types and errors.
//! - `state`: what the store and its tasks share.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::postgres::PgPool;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::{
    validate_append, validate_stream_id, ActualVersion, AllRead, AppendResult, Direction,
    EventFilter, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent,
    StoreError, StreamFilter, StreamInfo, SubscriptionStream,
};

mod announcements;
mod browse;
mod horizon;
mod rows;
mod state;
mod subscription;
mod tail;
mod window;

use announcements::{listen, notifier};
use horizon::{committed_head, head_position, read_all};
use rows::{clamp_limit, db_error, to_i64, AppendRow, EventRow, EVENT_COLUMNS};
use state::{Inner, Tail};
use subscription::Subscription;
use tail::follow;

#[derive(Clone)]
pub struct PgEventStore {
    inner: Arc<Inner>,
}

impl PgEventStore {
    /// A store over `pool`. The schema must be migrated (see [`MIGRATOR`](crate::database::MIGRATOR)).
    pub fn new(pool: PgPool) -> Self {
        let (wake, _) = watch::channel(0);
        let (grown, _) = watch::channel(0);
        let notify_request = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            pool,
            wake,
            announced: Mutex::new(Position::START),
            notify_request: notify_request.clone(),
            listener_running: Mutex::new(false),
            tail: Mutex::new(Tail::default()),
            grown,
            #[cfg(test)]
            idle_while_owed: Default::default(),
        });
        tokio::spawn(notifier(Arc::downgrade(&inner), notify_request));
        PgEventStore { inner }
    }

    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// Starts the `LISTEN` task unless one runs; it ends when the last subscriber goes.
    fn ensure_listener(&self) {
        let mut running = self
            .inner
            .listener_running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *running {
            return;
        }
        *running = true;
        tokio::spawn(listen(Arc::downgrade(&self.inner)));
    }

    /// Starts the tail unless it runs; it ends when the last subscription goes.
    fn ensure_tail(&self) {
        let mut tail = self.inner.lock_tail();
        if tail.running {
            return;
        }
        tail.running = true;
        // Its wake receiver keeps the `LISTEN` task alive for as long as it runs.
        let wake = self.inner.wake.subscribe();
        self.ensure_listener();
        tokio::spawn(follow(Arc::downgrade(&self.inner), wake));
    }
}

impl PgEventStore {
    async fn find_event_stream(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("select stream_id from store.events where event_id = $1")
            .bind(id)
            .fetch_optional(&self.inner.pool)
            .await
            .map_err(db_error)
    }
}

#[async_trait]
impl EventStore for PgEventStore {
    // A refused append is the caller's to judge, and mostly routine (optimistic
    // concurrency, two notifiers claiming one message): at ERROR every contended stream
    // filled the log. Callers log what they cannot handle.
    #[tracing::instrument(skip_all, fields(stream = stream_id, expected = %expected, n = events.len()), err(level = "debug"))]
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        validate_append(stream_id, &events)?;
        let expected_code = match expected {
            ExpectedVersion::Any => -1,
            ExpectedVersion::NoStream => -2,
            ExpectedVersion::StreamExists => -3,
            ExpectedVersion::Exact(v) => to_i64(v, "expected_version")?,
        };
        let n = events.len();
        let mut ids = Vec::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(n);
        for e in events {
            ids.push(e.id);
            types.push(e.event_type);
            versions.push(i32::try_from(e.schema_version).map_err(|_| {
                StoreError::InvalidInput {
                    field: "schema_version",
                    reason: format!("{} is out of range", e.schema_version),
                }
            })?);
            data.push(e.data);
            metadata.push(e.metadata);
        }
        let first_id = ids[0];
        let row: AppendRow = match sqlx::query_as(
            "select outcome, revision, commit_position, prepare_position, conflict_stream \
             from store.append_events($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(stream_id)
        .bind(expected_code)
        .bind(&ids)
        .bind(&types)
        .bind(&versions)
        .bind(&data)
        .bind(&metadata)
        .fetch_one(&self.inner.pool)
        .await
        {
            Ok(row) => row,
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("events_event_id_key") => {
                // Two appends raced with the same id: the loser's unique check fired.
                let existing_stream = self
                    .find_event_stream(first_id)
                    .await?
                    .unwrap_or_else(|| stream_id.to_owned());
                return Err(StoreError::DuplicateEventId {
                    event_id: first_id,
                    existing_stream,
                });
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22P05") => {
                // Untranslatable character: JSON with \u0000, which jsonb cannot hold.
                return Err(StoreError::InvalidInput {
                    field: "data",
                    reason: e.message().to_owned(),
                });
            }
            Err(e) => return Err(db_error(e)),
        };
        let answer = |row: &AppendRow| -> Result<AppendResult, StoreError> {
            let get = |v: Option<i64>, what: &str| {
                v.and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("append answered no {what}")))
            };
            Ok(AppendResult {
                revision: get(row.revision, "revision")?,
                position: Position {
                    commit: get(row.commit_position, "commit position")?,
                    prepare: get(row.prepare_position, "prepare position")?,
                },
            })
        };
        match row.outcome.as_str() {
            "appended" => {
                let appended = answer(&row)?;
                self.inner.announce(appended.position);
                self.inner.notify_request.notify_one();
                Ok(appended)
            }
            "duplicate" => answer(&row),
            "conflict" => Err(StoreError::WrongExpectedVersion {
                stream: stream_id.to_owned(),
                expected,
                actual: match row.revision {
                    None => ActualVersion::NoStream,
                    Some(v) => ActualVersion::Revision(u64::try_from(v).unwrap_or(0)),
                },
            }),
            "foreign" => Err(StoreError::DuplicateEventId {
                event_id: first_id,
                existing_stream: row.conflict_stream.unwrap_or_default(),
            }),
            other => Err(StoreError::Corrupt(format!(
                "unknown append outcome {other:?}"
            ))),
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
        let start = match from {
            ReadFrom::End => None,
            ReadFrom::Revision(r) => Some(to_i64(r, "revision")?),
        };
        let sql = match direction {
            Direction::Forwards => format!(
                "select {EVENT_COLUMNS} from store.events where stream_id = $1 \
                 and ($2::bigint is null or stream_revision >= $2) \
                 order by stream_revision limit $3"
            ),
            Direction::Backwards => format!(
                "select {EVENT_COLUMNS} from store.events where stream_id = $1 \
                 and ($2::bigint is null or stream_revision <= $2) \
                 order by stream_revision desc limit $3"
            ),
        };
        let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(stream_id)
            .bind(start)
            .bind(clamp_limit(limit))
            .fetch_all(&self.inner.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(RecordedEvent::try_from).collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        read_all(&self.inner.pool, after, limit).await
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        // Subscribe before starting the tail, so a tail about to stop sees this one.
        let grown = self.inner.grown.subscribe();
        self.ensure_tail();
        let state = Subscription::new(self.inner.clone(), after, grown);
        Ok(futures::stream::unfold(state, |mut s| async move {
            match s.next_event().await {
                Ok(event) => Some((Ok(event), s)),
                Err(e) => Some((Err(e), s)),
            }
        })
        .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        head_position(&self.inner.pool).await
    }

    async fn committed_head(&self) -> Result<Position, StoreError> {
        committed_head(&self.inner.pool).await
    }

    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        let rows: Vec<(String, i64, DateTime<Utc>)> = sqlx::query_as(
            "select stream_id, revision, updated_at from store.streams \
             where starts_with(stream_id, $1) and ($2::text is null or stream_id > $2) \
             order by stream_id limit $3",
        )
        .bind(prefix)
        .bind(after)
        .bind(clamp_limit(limit))
        .fetch_all(&self.inner.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(stream_id, revision, updated_at)| StreamInfo {
                stream_id,
                revision: revision as u64,
                updated_at,
            })
            .collect())
    }

    async fn search_streams(
        &self,
        filter: &StreamFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        browse::search_streams(&self.inner.pool, filter, after, limit).await
    }

    async fn read_all_filtered(
        &self,
        filter: &EventFilter,
        from: AllRead,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        browse::read_all_filtered(&self.inner.pool, filter, from, limit).await
    }
}
