//! The PostgreSQL adapter, the default store.
//!
//! Appends are one call of `store.append_events` (one round trip, one implicit
//! transaction); the function checks the expected version against `store.streams` under a
//! row lock and answers conflicts and retries as data rather than exceptions, so the
//! adapter maps outcomes, never message text.
//!
//! Readers of `$all` only see rows below the oldest transaction in flight (see the module
//! docs of [`crate::store`]). One task per store, the tail, follows `$all` for every
//! subscription: it wakes on appends made in this process at once, on appends made
//! elsewhere through `LISTEN/NOTIFY`, and otherwise polls slowly; a wake can find nothing
//! readable yet while an older transaction is still open, so after an empty wake it looks
//! again on a short, growing delay. Every append announces its position (the notification
//! carries it to other processes), and while an announced position is beyond what the
//! tail has read, the delay stops growing at [`OWED_RETRY`]: however long an older
//! transaction hides an event, the tail picks it up soon after. It keeps the latest
//! events in memory, and a subscription that has caught up takes them from there:
//! however many projections, the relay and process managers follow the store, the head
//! of `$all` is read once. A subscription behind the tail's window (catching up, or
//! slow) reads the store itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::Value;
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::{
    validate_append, validate_stream_id, ActualVersion, AppendResult, Direction, EventStore,
    ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent, StoreError, StreamInfo,
    SubscriptionStream,
};

/// The channel appends are announced on to other processes.
const NOTIFY_CHANNEL: &str = "um_store_events";
/// How many events a subscription reads per query.
const SUBSCRIPTION_BATCH: usize = 512;
/// A subscriber with nothing to do still looks this often, in case a wake was lost.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The first retry after a wake that found nothing readable.
const FIRST_RETRY: Duration = Duration::from_millis(2);
/// The longest pause between looks while an announced event is not readable yet.
const OWED_RETRY: Duration = Duration::from_millis(32);
/// How many of the latest events of `$all` the tail keeps for its subscriptions.
const TAIL_WINDOW: usize = 8192;

#[derive(Clone)]
pub struct PgEventStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// Bumped after every append in this process and on every notification from others.
    wake: watch::Sender<u64>,
    /// The furthest position an append is known to have reached: this process's own,
    /// and those other processes' notifications carry.
    announced: Mutex<Position>,
    /// Asks the notifier task to send one `NOTIFY`; bursts of appends coalesce into one.
    notify_request: Arc<Notify>,
    listener_running: Mutex<bool>,
    tail: Mutex<Tail>,
    /// Bumped each time the tail's window grows; every subscription holds a receiver.
    grown: watch::Sender<u64>,
    /// How often the tail settled into its idle poll while it knew of an unread append:
    /// never, or such an event waits for the idle poll. Tests read it.
    #[cfg(test)]
    idle_while_owed: std::sync::atomic::AtomicU64,
}

/// The shared follower of `$all`.
#[derive(Default)]
struct Tail {
    running: bool,
    /// `None` until a running tail has found where `$all` ends.
    window: Option<Window>,
}

/// The latest events of `$all`, contiguous.
struct Window {
    /// The position just before `events[0]`.
    base: Position,
    events: VecDeque<RecordedEvent>,
}

impl Window {
    fn head(&self) -> Position {
        self.events.back().map_or(self.base, |e| e.position)
    }

    /// Up to `limit` events after `after`, or `None` when `after` is not in the window.
    fn after(&self, after: Position, limit: usize) -> Option<Vec<RecordedEvent>> {
        let start = if after == self.base {
            0
        } else {
            self.events
                .binary_search_by_key(&after, |e| e.position)
                .ok()?
                + 1
        };
        Some(self.events.range(start..).take(limit).cloned().collect())
    }

    fn extend(&mut self, batch: Vec<RecordedEvent>) {
        self.events.extend(batch);
        let excess = self.events.len().saturating_sub(TAIL_WINDOW);
        if let Some(last_dropped) = self.events.drain(..excess).next_back() {
            self.base = last_dropped.position;
        }
    }
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

impl Inner {
    fn lock_tail(&self) -> std::sync::MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn announced(&self) -> Position {
        *self.announced.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that an append reached `at`, and wakes the tail.
    fn announce(&self, at: Position) {
        {
            let mut announced = self.announced.lock().unwrap_or_else(|e| e.into_inner());
            *announced = (*announced).max(at);
        }
        bump(&self.wake);
    }
}

/// Tells the receivers of a wake or growth counter that something happened.
fn bump(counter: &watch::Sender<u64>) {
    counter.send_modify(|n| *n = n.wrapping_add(1));
}

/// The tail: reads `$all` from its end as it grows, into the shared window.
async fn follow(store: Weak<Inner>, mut wake: watch::Receiver<u64>) {
    // After a wake that found nothing: how long until looking again.
    let mut retry: Option<Duration> = None;
    loop {
        let Some(inner) = store.upgrade() else { return };
        let pool = inner.pool.clone();
        let after = {
            // Stop only if nobody subscribed meanwhile; `ensure_tail` takes the same lock.
            let mut tail = inner.lock_tail();
            if inner.grown.receiver_count() == 0 || pool.is_closed() {
                tail.running = false;
                tail.window = None;
                return;
            }
            tail.window.as_ref().map(Window::head)
        };
        drop(inner);
        let Some(after) = after else {
            // Starting: the window begins at the end of `$all`; subscriptions further back
            // read the store until they reach it.
            match head_position(&pool).await {
                Ok(head) => {
                    let Some(inner) = store.upgrade() else { return };
                    inner.lock_tail().window = Some(Window {
                        base: head,
                        events: VecDeque::new(),
                    });
                    bump(&inner.grown);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the tail of $all could not find its end; retrying");
                    tokio::time::sleep(IDLE_POLL).await;
                }
            }
            continue;
        };
        // Woken since the last look: if the read below finds nothing, an older transaction
        // still holds the horizon, and the short retries must start now; the wake is
        // spent, and none may follow.
        let woke = wake.borrow_and_update().has_changed();
        let read = read_all(&pool, after, SUBSCRIPTION_BATCH).await;
        // Whether an append is known to have gone past what the tail has read.
        let mut owed = false;
        match read {
            Ok(batch) if !batch.is_empty() => {
                let Some(inner) = store.upgrade() else { return };
                if let Some(window) = inner.lock_tail().window.as_mut() {
                    window.extend(batch);
                }
                bump(&inner.grown);
                retry = None;
                continue;
            }
            Ok(_) => {
                let Some(inner) = store.upgrade() else { return };
                owed = inner.announced() > after;
                if (woke || owed) && retry.is_none() {
                    retry = Some(FIRST_RETRY);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the tail of $all could not read the store; retrying");
                retry = None;
            }
        }
        let wait = retry.unwrap_or(IDLE_POLL);
        #[cfg(test)]
        if owed && wait == IDLE_POLL {
            if let Some(inner) = store.upgrade() {
                inner
                    .idle_while_owed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let woken = tokio::select! {
            changed = wake.changed() => changed.is_ok(),
            _ = tokio::time::sleep(wait) => false,
        };
        retry = if woken {
            Some(FIRST_RETRY)
        } else if owed {
            retry.map(|d| (d * 2).min(OWED_RETRY))
        } else {
            retry
                .map(|d| (d * 2).min(IDLE_POLL))
                .filter(|d| *d < IDLE_POLL)
        };
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
        let announced = inner.announced().to_string();
        drop(inner);
        if let Err(e) = sqlx::query("select pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(announced)
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
                                    Ok(Some(notification)) => match (
                                        notification.payload().parse::<Position>(),
                                        store.upgrade(),
                                    ) {
                                        (Ok(at), Some(inner)) => inner.announce(at),
                                        // From a version that announced no position.
                                        _ => bump(&wake),
                                    },
                                    Ok(None) => bump(&wake),
                                    // Shutting down: the pool closed under it.
                                    Err(sqlx::Error::PoolClosed) => break,
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

async fn read_all(
    pool: &PgPool,
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
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

async fn head_position(pool: &PgPool) -> Result<Position, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select transaction_id::text::bigint, event_position from store.events \
         where transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
         order by transaction_id desc, event_position desc limit 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    Ok(row.map_or(Position::START, |(c, p)| Position {
        commit: c as u64,
        prepare: p as u64,
    }))
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
        read_all(&self.inner.pool, after, limit).await
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        // Subscribe before starting the tail, so a tail about to stop sees this one.
        let grown = self.inner.grown.subscribe();
        self.ensure_tail();
        let state = Subscription {
            store: self.clone(),
            after,
            buffer: VecDeque::new(),
            grown,
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
        head_position(&self.inner.pool).await
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
    grown: watch::Receiver<u64>,
}

impl Subscription {
    async fn next_event(&mut self) -> Result<RecordedEvent, StoreError> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.position;
                return Ok(event);
            }
            // Mark the window seen before looking, so growth during the look wakes the
            // next wait instead of being missed.
            self.grown.borrow_and_update();
            let shared = self
                .store
                .inner
                .lock_tail()
                .window
                .as_ref()
                .and_then(|w| w.after(self.after, SUBSCRIPTION_BATCH));
            let in_window = shared.is_some();
            let batch = match shared {
                Some(batch) => batch,
                None => self.store.read_all(self.after, SUBSCRIPTION_BATCH).await?,
            };
            if !batch.is_empty() {
                self.buffer.extend(batch);
                continue;
            }
            let woken = tokio::select! {
                changed = self.grown.changed() => changed.is_ok(),
                _ = tokio::time::sleep(IDLE_POLL) => false,
            };
            if !woken && in_window {
                // The tail has said nothing for a while: look once ourselves, so a stuck
                // tail delays events rather than loses them.
                let batch = self.store.read_all(self.after, SUBSCRIPTION_BATCH).await?;
                self.buffer.extend(batch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(commit: u64, prepare: u64) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::new_v4(),
            stream_id: "order-1".into(),
            revision: 0,
            position: Position::new(commit, prepare),
            event_type: "OrderPlaced".into(),
            schema_version: 1,
            data: Value::Null,
            metadata: Value::Null,
            recorded_at: Utc::now(),
        }
    }

    fn positions(events: &[RecordedEvent]) -> Vec<(u64, u64)> {
        events
            .iter()
            .map(|e| (e.position.commit, e.position.prepare))
            .collect()
    }

    fn new_event(bytes: usize) -> NewEvent {
        NewEvent {
            id: Uuid::new_v4(),
            event_type: "Noted".into(),
            schema_version: 1,
            data: serde_json::json!({ "text": "x".repeat(bytes) }),
            metadata: serde_json::json!({}),
        }
    }

    /// The tail can spend an append's wake on a read that was already under way, then find
    /// the event still hidden behind an older open transaction. It must keep looking on
    /// short retries until that transaction ends, not wait for the next wake or the idle
    /// poll: at the end of a burst there is no next wake. The older transaction is held
    /// past the idle poll, so growing retries would have given up by then; the test asserts
    /// the order of things, not a time: the event arrives, and the tail never settled into
    /// its idle poll while it knew of the unread append.
    #[sqlx::test(migrator = "crate::database::MIGRATOR")]
    async fn an_event_held_back_by_an_older_transaction_arrives_soon_after_it_shows(pool: PgPool) {
        use crate::store::{EventStore, ExpectedVersion};
        use std::sync::atomic::Ordering;
        let store = PgEventStore::new(pool.clone());
        let mut sub = store.subscribe_all(Position::START).await.unwrap();
        // Only a guard against a stall: a slow machine may take long, never this long.
        let mut next = async || {
            tokio::time::timeout(Duration::from_secs(60), sub.next())
                .await
                .expect("the subscription stalled")
                .expect("the subscription ended")
                .unwrap()
        };
        for round in 0..3 {
            // A batch large enough that the tail is still reading it when the next
            // append announces itself.
            let big: Vec<NewEvent> = (0..400).map(|_| new_event(8_000)).collect();
            store
                .append(&format!("big-{round}"), ExpectedVersion::Any, big)
                .await
                .unwrap();
            let mut older = crate::database::begin(&pool, None).await.unwrap();
            sqlx::query("select pg_current_xact_id()")
                .execute(&mut *older)
                .await
                .unwrap();
            let hidden = new_event(10);
            let hidden_id = hidden.id;
            store
                .append(&format!("late-{round}"), ExpectedVersion::Any, vec![hidden])
                .await
                .unwrap();
            for _ in 0..400 {
                let big = next().await;
                assert!(big.stream_id.starts_with("big-"));
            }
            // Longer than the idle poll: retries that grew without bound would have
            // stopped by now. A longer hold only makes the test stricter.
            tokio::time::sleep(IDLE_POLL + Duration::from_millis(100)).await;
            older.commit().await.unwrap();
            assert_eq!(next().await.id, hidden_id, "round {round}");
            assert_eq!(
                store.inner.idle_while_owed.load(Ordering::Relaxed),
                0,
                "round {round}: the tail waited for its idle poll with the event unread"
            );
        }
    }

    #[test]
    fn a_window_answers_only_from_positions_it_holds() {
        let mut w = Window {
            base: Position::new(10, 3),
            events: VecDeque::new(),
        };
        assert_eq!(w.after(Position::new(10, 3), 5), Some(vec![]));
        w.extend(vec![event(12, 4), event(12, 5), event(15, 6)]);
        assert_eq!(w.head(), Position::new(15, 6));
        let all = w.after(Position::new(10, 3), 5).unwrap();
        assert_eq!(positions(&all), [(12, 4), (12, 5), (15, 6)]);
        let rest = w.after(Position::new(12, 4), 1).unwrap();
        assert_eq!(positions(&rest), [(12, 5)]);
        assert_eq!(w.after(Position::new(15, 6), 5), Some(vec![]));
        // Before the window, between its events, or past its head: the store must answer.
        assert!(w.after(Position::START, 5).is_none());
        assert!(w.after(Position::new(11, 0), 5).is_none());
        assert!(w.after(Position::new(16, 0), 5).is_none());
    }

    #[test]
    fn a_full_window_forgets_its_oldest_events() {
        let mut w = Window {
            base: Position::START,
            events: VecDeque::new(),
        };
        w.extend((1..=TAIL_WINDOW as u64 + 2).map(|i| event(i, i)).collect());
        assert_eq!(w.events.len(), TAIL_WINDOW);
        assert_eq!(w.base, Position::new(2, 2));
        assert!(w.after(Position::new(1, 1), 1).is_none());
        let next = w.after(Position::new(2, 2), 1).unwrap();
        assert_eq!(positions(&next), [(3, 3)]);
    }
}
