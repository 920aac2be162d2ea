//! The PostgreSQL adapter, the default store.
//!
//! Appends are one call of `store.append_events` (one round trip, one implicit
//! transaction); the function checks the expected version against `store.streams` under a
//! row lock and answers conflicts and retries as data rather than exceptions, so the
//! adapter maps outcomes, never message text.
//!
//! Readers of `$all` only see rows below the oldest transaction in flight (see the module
//! docs of [`crate::store`]). Subscribers wake on appends made in this process at once, on
//! appends made elsewhere through `LISTEN/NOTIFY`, and otherwise poll slowly: a wake can
//! find nothing readable yet while an older transaction is still open, so after an empty
//! wake they look again on a short, growing delay.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::{
    validate_append, validate_stream_id, ActualVersion, AppendResult, Direction, EventStore,
    ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent, StoreError, StreamInfo,
    SubscriptionStream,
};

/// Every PostgreSQL migration of the engine: the store and the read models.
pub static MIGRATOR: Migrator = sqlx::migrate!("../schemas/migrations");

/// The channel appends are announced on to other processes.
const NOTIFY_CHANNEL: &str = "um_store_events";
/// How many events a subscription reads per query.
const SUBSCRIPTION_BATCH: usize = 512;
/// A subscriber with nothing to do still looks this often, in case a wake was lost.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The first retry after a wake that found nothing readable.
const FIRST_RETRY: Duration = Duration::from_millis(2);

#[derive(Clone)]
pub struct PgEventStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// Bumped after every append in this process and on every notification from others.
    wake: watch::Sender<u64>,
    /// Asks the notifier task to send one `NOTIFY`; bursts of appends coalesce into one.
    notify_request: Arc<Notify>,
    listener_running: Mutex<bool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Lets the notifier task see the store is gone and end.
        self.notify_request.notify_one();
    }
}

impl PgEventStore {
    /// A store over `pool`. The schema must be migrated (see [`MIGRATOR`]).
    pub fn new(pool: PgPool) -> Self {
        let (wake, _) = watch::channel(0);
        let notify_request = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            pool,
            wake,
            notify_request: notify_request.clone(),
            listener_running: Mutex::new(false),
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
}

/// Sends one `NOTIFY` per burst of appends, outside their transactions: a `NOTIFY` inside
/// the append would take PostgreSQL's global notify lock at commit and serialize every
/// writer's commit behind it.
async fn notifier(store: Weak<Inner>, request: Arc<Notify>) {
    loop {
        request.notified().await;
        let Some(inner) = store.upgrade() else { return };
        let pool = inner.pool.clone();
        drop(inner);
        if let Err(e) = sqlx::query("select pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&pool)
            .await
        {
            if matches!(e, sqlx::Error::PoolClosed) {
                return;
            }
            tracing::debug!(error = %e, "could not announce appended events");
        }
    }
}

async fn listen(store: Weak<Inner>) {
    loop {
        let Some(inner) = store.upgrade() else { return };
        let wake = inner.wake.clone();
        let pool = inner.pool.clone();
        drop(inner);
        if wake.receiver_count() > 0 {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed; subscribers fall back to polling");
                    } else {
                        loop {
                            tokio::select! {
                                received = listener.try_recv() => match received {
                                    Ok(_) => wake.send_modify(|n| *n = n.wrapping_add(1)),
                                    Err(e) => {
                                        tracing::warn!(error = %e, "LISTEN connection failed; subscribers fall back to polling");
                                        break;
                                    }
                                },
                                _ = wake.closed() => break,
                            }
                        }
                    }
                }
                Err(sqlx::Error::PoolClosed) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not LISTEN; subscribers fall back to polling");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
        }
        // Stop only if nobody subscribed again meanwhile; the check and the flag share the
        // lock `ensure_listener` takes.
        let Some(inner) = store.upgrade() else { return };
        let mut running = inner
            .listener_running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if inner.wake.receiver_count() == 0 || inner.pool.is_closed() {
            *running = false;
            return;
        }
    }
}

#[derive(sqlx::FromRow)]
struct AppendRow {
    outcome: String,
    revision: Option<i64>,
    commit_position: Option<i64>,
    prepare_position: Option<i64>,
    conflict_stream: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
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

const EVENT_COLUMNS: &str = "event_position, transaction_id::text::bigint as commit_position, \
     event_id, stream_id, stream_revision, event_type, schema_version, data, metadata, recorded_at";

fn db_error(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn to_i64(v: u64, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput {
        field,
        reason: format!("{v} is out of range"),
    })
}

fn clamp_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
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
    #[tracing::instrument(skip_all, fields(stream = stream_id, expected = %expected, n = events.len()), err)]
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
                self.inner.wake.send_modify(|n| *n = n.wrapping_add(1));
                self.inner.notify_request.notify_one();
                answer(&row)
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
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
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
        // Everything below the oldest open transaction is final; nothing can commit later
        // with a smaller transaction id.
        let sql = format!(
            "select {EVENT_COLUMNS} from store.events \
             where (transaction_id, event_position) > ($1::bigint::text::xid8, $2) \
               and transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             order by transaction_id, event_position limit $3"
        );
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(to_i64(after.commit, "position")?)
            .bind(to_i64(after.prepare, "position")?)
            .bind(clamp_limit(limit))
            .fetch_all(&self.inner.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(RecordedEvent::try_from).collect()
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        let wake = self.inner.wake.subscribe();
        self.ensure_listener();
        let state = Subscription {
            store: self.clone(),
            after,
            buffer: VecDeque::new(),
            wake,
            retry: None,
        };
        Ok(futures::stream::unfold(state, |mut s| async move {
            match s.next_event().await {
                Ok(event) => Some((Ok(event), s)),
                Err(e) => Some((Err(e), s)),
            }
        })
        .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "select transaction_id::text::bigint, event_position from store.events \
             where transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
             order by transaction_id desc, event_position desc limit 1",
        )
        .fetch_optional(&self.inner.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map_or(Position::START, |(c, p)| Position {
            commit: c as u64,
            prepare: p as u64,
        }))
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
}

struct Subscription {
    store: PgEventStore,
    after: Position,
    buffer: VecDeque<RecordedEvent>,
    wake: watch::Receiver<u64>,
    /// Set after a wake that found nothing: how long until looking again.
    retry: Option<Duration>,
}

impl Subscription {
    async fn next_event(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.position;
                return Ok(event);
            }
            // Mark the wake seen before reading, so an append landing during the read
            // wakes the next wait instead of being missed.
            self.wake.borrow_and_update();
            let batch = self.store.read_all(self.after, SUBSCRIPTION_BATCH).await?;
            if !batch.is_empty() {
                self.retry = None;
                self.buffer.extend(batch);
                continue;
            }
            let wait = self.retry.unwrap_or(IDLE_POLL);
            let woken = tokio::select! {
                changed = self.wake.changed() => changed.is_ok(),
                _ = tokio::time::sleep(wait) => false,
            };
            self.retry = if woken {
                Some(FIRST_RETRY)
            } else {
                self.retry
                    .map(|d| (d * 2).min(IDLE_POLL))
                    .filter(|d| *d < IDLE_POLL)
            };
        }
    }
}
