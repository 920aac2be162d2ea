//! The projection runtime: one runner per read model, applying `$all` from its checkpoint.
//!
//! A read model owns one PostgreSQL schema. Its tables are created from its DDL (unqualified
//! names) and every batch runs with `search_path` set to that schema, which is what lets a
//! rebuild fill a shadow schema with the very same code and then swap it in by renaming
//! (see [`crate::rebuild`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::database::begin;
use commands::store::{EventStore, Position, RecordedEvent, StoreError};
use futures::{FutureExt, StreamExt};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{watch, OnceCell};

/// Most events applied in one transaction.
pub const BATCH: usize = 500;

/// How long the checkpoint move of batches a read model wants nothing of may wait, to be
/// made with a later batch's. Such batches were one transaction each, most of a busy
/// engine's (a read model of users passes over every order event), for nothing a reader
/// could see: the tables are the same before and after. The cost is that the table's
/// checkpoint runs up to this much behind for positions a read model passes over, which
/// only a consistency token from another read model's write waits for.
pub const CHECKPOINT_LINGER: Duration = Duration::from_millis(50);

/// Attempts at an event before it is parked as poison.
const POISON_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event {event_id} ({event_type}): {reason}")]
    Event {
        event_id: uuid::Uuid,
        event_type: String,
        reason: String,
    },
    #[error("projection {0}: {1}")]
    Setup(String, String),
}

impl ProjectionError {
    /// Whether applying the same event again would fail the same way: a bad event or a
    /// statement PostgreSQL refuses, as opposed to a lost connection or a deadlock.
    pub(crate) fn is_deterministic(&self) -> bool {
        match self {
            ProjectionError::Event { .. } => true,
            ProjectionError::Database(sqlx::Error::Database(e)) => {
                // Class 40: serialization failures and deadlocks are worth retrying.
                !e.code().is_some_and(|c| c.starts_with("40"))
            }
            _ => false,
        }
    }

    /// A decoding failure of `event`, for projections' `apply`.
    pub fn event(event: &RecordedEvent, reason: impl std::fmt::Display) -> Self {
        ProjectionError::Event {
            event_id: event.id,
            event_type: event.event_type.clone(),
            reason: reason.to_string(),
        }
    }
}

/// A read model: what to do with each event of `$all` (most are none of its business).
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Its name: the checkpoint's key and the JetStream consumer's.
    fn name(&self) -> &'static str;

    /// The PostgreSQL schema its tables live in (analysts query `<schema>.<table>`).
    fn schema(&self) -> &'static str;

    /// DDL that creates its tables in an empty schema, with unqualified names.
    fn tables(&self) -> &'static str;

    /// Columns whose values belong to the store that holds the log rather than to the
    /// events (a `$all` position, a record time): left out of the portable checksum that
    /// compares a read model across stores (see `umctl verify`).
    fn store_local_columns(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether `event` may change this read model. Events it does not want are never given
    /// to [`Projection::apply`], and a batch of nothing but such events only moves the
    /// checkpoint. Must answer true for every event `apply` does something with; the
    /// default, true, is always correct. Decides on the envelope (stream, type, versions,
    /// position, time): a JetStream worker asks before it parses the data and metadata,
    /// which are `null` then.
    fn wants(&self, event: &RecordedEvent) -> bool {
        let _ = event;
        true
    }

    /// Applies a batch of events (in `$all` order, all after the checkpoint) inside the
    /// runner's transaction. A read model that can write a batch with fewer statements
    /// than one event at a time overrides this; the result must be the same as applying
    /// them one by one, which is what the poison fallback does.
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }

    /// Applies one event inside the runner's transaction, whose `search_path` is the
    /// read model's schema (or its shadow): use unqualified table names.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;
}

/// `event`'s data as the domain event `E`, upcast to its current schema version; a
/// failure is the event's, for [`Projection::apply`].
pub fn decode<E: domain::DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    E::from_data(&event.event_type, event.schema_version, event.data.clone())
        .map_err(|e| ProjectionError::event(event, e))
}

/// A unit enum value as it is written in events (`snake_case`), for text columns.
pub fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One column of `rows`, for binding as an array parameter: read models write a batch
/// with one `insert ... select from unnest($1, $2, ...)` statement per table.
pub fn column<R, T>(rows: R, value: impl FnMut(R::Item) -> T) -> Vec<T>
where
    R: IntoIterator,
{
    rows.into_iter().map(value).collect()
}

/// When an event happened, for events without a business time of their own: the command's
/// time from the metadata, which travels with the event when a log is exported and
/// imported (so read models match across stores); the store's record time only when the
/// metadata lacks it.
pub fn event_time(event: &RecordedEvent) -> chrono::DateTime<chrono::Utc> {
    event
        .metadata
        .get("occurred_at")
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(event.recorded_at, |t| t.with_timezone(&chrono::Utc))
}

/// The position a projection has applied up to.
pub async fn checkpoint(pool: &PgPool, projection: &str) -> Result<Position, sqlx::Error> {
    checkpoint_in(pool, projection).await
}

/// The position a projection has applied up to, read on `conn` (inside its transaction,
/// when it has one).
pub async fn checkpoint_in<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    projection: &str,
) -> Result<Position, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select commit_position, prepare_position from projections.checkpoints where projection = $1",
    )
    .bind(projection)
    .fetch_optional(conn)
    .await?;
    Ok(row.map_or(Position::START, |(c, p)| Position::new(c as u64, p as u64)))
}

/// Serializes the batches of one projection's checkpoint key across processes (and against
/// the rebuild's swap), for the length of the transaction.
pub(crate) async fn lock(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('projection:' || $1))")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `name` as a quoted SQL identifier. Schema names come from code, never from input;
/// quoted all the same.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) async fn set_search_path(
    conn: &mut PgConnection,
    schema: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("set local search_path to {}", quote_ident(schema)))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What [`ensure_schema`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// The schema was missing and has been created empty, checkpoint at the start.
    Created,
    /// Tables match the projection's DDL.
    Current,
    /// Tables were made from other DDL: the read model must be rebuilt.
    Outdated,
}

/// Creates the projection's schema and tables if they do not exist.
pub async fn ensure_schema(
    pool: &PgPool,
    projection: &dyn Projection,
) -> Result<SchemaState, ProjectionError> {
    let name = projection.name();
    let schema = projection.schema();
    let mut tx = begin(pool, None).await?;
    lock(&mut tx, name).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    let state = if exists {
        let same: Option<bool> = sqlx::query_scalar(
            "select tables_md5 is not distinct from md5($2) from projections.checkpoints
              where projection = $1",
        )
        .bind(name)
        .bind(projection.tables())
        .fetch_optional(&mut *tx)
        .await?;
        if same.unwrap_or(true) {
            SchemaState::Current
        } else {
            SchemaState::Outdated
        }
    } else {
        create_tables(&mut tx, schema, projection.tables()).await?;
        set_checkpoint(&mut tx, name, Position::START, 0, projection.tables(), None).await?;
        SchemaState::Created
    };
    tx.commit().await?;
    Ok(state)
}

pub(crate) async fn create_tables(
    conn: &mut PgConnection,
    schema: &str,
    ddl: &'static str,
) -> Result<(), ProjectionError> {
    sqlx::query(&format!(
        "create schema \"{}\"",
        schema.replace('"', "\"\"")
    ))
    .execute(&mut *conn)
    .await?;
    set_search_path(conn, schema).await?;
    // A bare string runs over the simple query protocol, which takes several statements.
    sqlx::Executor::execute(&mut *conn, ddl)
        .await
        .map_err(|e| ProjectionError::Setup(schema.to_owned(), format!("tables DDL: {e}")))?;
    sqlx::query("set local search_path to default")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces a checkpoint row outright (a new or swapped-in read model).
pub(crate) async fn set_checkpoint(
    conn: &mut PgConnection,
    key: &str,
    at: Position,
    events_applied: i64,
    ddl: &str,
    last_event_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into projections.checkpoints
             (projection, commit_position, prepare_position, events_applied, tables_md5, last_event_at)
         values ($1, $2, $3, $4, md5($5), $6)
         on conflict (projection) do update set commit_position = excluded.commit_position,
             prepare_position = excluded.prepare_position, events_applied = excluded.events_applied,
             tables_md5 = excluded.tables_md5, last_event_at = excluded.last_event_at,
             updated_at = now()",
    )
    .bind(key)
    .bind(at.commit as i64)
    .bind(at.prepare as i64)
    .bind(events_applied)
    .bind(ddl)
    .bind(last_event_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Where a batch goes: the live schema under the projection's checkpoint, or a rebuild's
/// shadow under its own.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub schema: &'a str,
    pub key: &'a str,
}

/// `s` as a quoted SQL string literal (standard-conforming strings, the default).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Opens the transaction a batch for `target` is applied in: it holds `target`'s lock and
/// resolves names in its schema. One round trip: `BEGIN` and the settings go as one
/// simple query.
///
/// A read model is derived from the log, which is written durably: a crash that loses a
/// batch's commit loses its checkpoint with it, and the runner applies those events
/// again. So the batch need not wait for its WAL flush (`synchronous_commit = off`), and
/// holds its transaction id, which holds back every reader of `$all`, for less time.
///
/// The lock wait lasts as long as another runner's batch or a rebuild, and must not end
/// in an error: a statement failing inside this one query leaves the session in an
/// aborted transaction that sqlx 0.8 does not roll back (launchbadge/sqlx#4409). So an
/// operator's `statement_timeout` or `lock_timeout` does not apply to it.
pub(crate) async fn begin_batch(
    pool: &PgPool,
    target: Target<'_>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let lock_key = quote_literal(&format!("projection:{}", target.key));
    let search_path = quote_literal(&quote_ident(target.schema));
    begin(
        pool,
        Some(format!(
            "begin;
             select set_config('statement_timeout', '0', true),
                    set_config('lock_timeout', '0', true);
             select pg_advisory_xact_lock(hashtext({lock_key})),
                           set_config('search_path', {search_path}, true),
                           set_config('synchronous_commit', 'off', true)"
        )),
    )
    .await
}

/// Moves checkpoint `key` from exactly `from` to `to`, counting `applied` events, in the
/// batch's transaction; answers whether it was at `from`.
async fn move_checkpoint(
    conn: &mut PgConnection,
    key: &str,
    from: Position,
    to: &RecordedEvent,
    applied: usize,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "update projections.checkpoints
            set commit_position = $4, prepare_position = $5,
                events_applied = events_applied + $6, last_event_at = $7, updated_at = now()
          where projection = $1 and commit_position = $2 and prepare_position = $3",
    )
    .bind(key)
    .bind(from.commit as i64)
    .bind(from.prepare as i64)
    .bind(to.position.commit as i64)
    .bind(to.position.prepare as i64)
    .bind(applied as i64)
    .bind(to.recorded_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// Moves checkpoint `key` over events a read model wants nothing of: to `held.to` from
/// anywhere in `held.from..held.to`, since nothing between needs applying. Takes no lock:
/// a batch that holds it and finds its own move beaten retries from the table (see
/// [`apply_in`]). Answers whether the checkpoint moved; it has not when it is past
/// `held.to` already.
///
/// It commits asynchronously, as a batch does (see [`begin_batch`]): it is a transaction of
/// its own, and waiting for its WAL flush made it queue behind the appends'.
async fn pass_over(pool: &PgPool, key: &str, held: &HeldMove) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "update projections.checkpoints
            set commit_position = $4, prepare_position = $5,
                events_applied = events_applied + $6, last_event_at = $7, updated_at = now()
           from (select set_config('synchronous_commit', 'off', true)) as async_commit
          where projection = $1
            and (commit_position, prepare_position) >= ($2, $3)
            and (commit_position, prepare_position) < ($4, $5)",
    )
    .bind(key)
    .bind(held.from.commit as i64)
    .bind(held.from.prepare as i64)
    .bind(held.to.commit as i64)
    .bind(held.to.prepare as i64)
    .bind(held.events as i64)
    .bind(held.recorded_at)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// A checkpoint move held back for [`CHECKPOINT_LINGER`]: the runner passed over the
/// `events` after `from`, up to `to`, as wanting none of them, and the table still says
/// `from` as far as it knows.
#[derive(Debug, Clone, Copy)]
struct HeldMove {
    from: Position,
    to: Position,
    recorded_at: DateTime<Utc>,
    events: usize,
    since: Instant,
}

/// Applies `events` to `target` inside `conn`'s transaction, which [`begin_batch`] opened,
/// skipping those at or below its checkpoint, parking poison, and advancing the
/// checkpoint. Answers how many were applied (parked ones included: they are behind the
/// checkpoint too).
///
/// `known` is where the caller last saw the checkpoint. Then the checkpoint is not read
/// first (one round trip less per batch): the batch is applied after `known` and the
/// checkpoint moved from exactly there. Should it have moved meanwhile (another process,
/// a rebuild's swap), the answer is `None` and the caller must roll back and try again
/// without `known`. `passed_over` more events (held back, see [`CHECKPOINT_LINGER`]) lie
/// between `known` and the batch, and count as applied in the checkpoint's tally.
///
/// Without `known` the checkpoint is read under the lock, and can still be moved by a
/// runner passing over events (which takes no lock); then too the answer is `None`.
pub(crate) async fn apply_in(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    target: Target<'_>,
    events: &[RecordedEvent],
    attempts: &mut HashMap<uuid::Uuid, u32>,
    known: Option<Position>,
    passed_over: usize,
) -> Result<Option<usize>, ProjectionError> {
    let start = match known {
        Some(at) => at,
        None => checkpoint_in(&mut *conn, target.key).await?,
    };
    let fresh: Vec<&RecordedEvent> = events.iter().filter(|e| e.position > start).collect();
    let Some(&last) = fresh.last() else {
        return Ok(Some(0));
    };
    let applied = fresh.len();
    let fresh: Vec<&RecordedEvent> = fresh.into_iter().filter(|e| projection.wants(e)).collect();
    // Fast path: no savepoints. An event that has failed before goes the slow way.
    let careful = fresh.iter().any(|e| attempts.contains_key(&e.id));
    if fresh.is_empty() {
        // Nothing for this read model: only the checkpoint moves.
    } else if careful {
        for event in &fresh {
            apply_guarded(conn, projection, target, event, attempts).await?;
        }
    } else if let Err(e) = projection.apply_batch(conn, &fresh).await {
        // Which event failed is unknown: the retry goes event by event, each in a
        // savepoint, and parks the culprit.
        if e.is_deterministic() {
            attempts.insert(fresh[0].id, 0);
        }
        return Err(e);
    }
    if move_checkpoint(conn, target.key, start, last, applied + passed_over).await? {
        return Ok(Some(applied));
    }
    if known.is_some() {
        return Ok(None);
    }
    // The row is missing, or a runner passing over events moved it since it was read.
    let inserted = sqlx::query(
        "insert into projections.checkpoints
             (projection, commit_position, prepare_position, events_applied, last_event_at)
         values ($1, $2, $3, $4, $5)
         on conflict (projection) do nothing",
    )
    .bind(target.key)
    .bind(last.position.commit as i64)
    .bind(last.position.prepare as i64)
    .bind(applied as i64)
    .bind(last.recorded_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(applied))
}

/// Applies one event in a savepoint; after [`POISON_ATTEMPTS`] deterministic failures
/// parks it instead.
async fn apply_guarded(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    target: Target<'_>,
    event: &RecordedEvent,
    attempts: &mut HashMap<uuid::Uuid, u32>,
) -> Result<(), ProjectionError> {
    loop {
        sqlx::query("savepoint poison_guard")
            .execute(&mut *conn)
            .await?;
        let error = match projection.apply(conn, event).await {
            Ok(()) => {
                sqlx::query("release savepoint poison_guard")
                    .execute(&mut *conn)
                    .await?;
                attempts.remove(&event.id);
                return Ok(());
            }
            Err(e) if !e.is_deterministic() => return Err(e),
            Err(e) => e,
        };
        sqlx::query("rollback to savepoint poison_guard")
            .execute(&mut *conn)
            .await?;
        let tries = attempts.entry(event.id).or_insert(0);
        *tries += 1;
        if *tries < POISON_ATTEMPTS {
            continue;
        }
        let tries = *tries;
        attempts.remove(&event.id);
        tracing::error!(
            projection = target.key, event_id = %event.id, event_type = %event.event_type,
            stream = %event.stream_id, position = %event.position, error = %error,
            "poison event parked; the projection goes on without it"
        );
        metrics::counter!("projection_parked_total", "projection" => projection.name())
            .increment(1);
        sqlx::query(
            "insert into projections.parked (projection, event_id, stream_id, event_type,
                 commit_position, prepare_position, error, attempts)
             values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        )
        .bind(target.key)
        .bind(event.id)
        .bind(&event.stream_id)
        .bind(&event.event_type)
        .bind(event.position.commit as i64)
        .bind(event.position.prepare as i64)
        .bind(error.to_string())
        .bind(tries as i32)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
}

/// Follows `$all` for one projection.
#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    projection: Arc<dyn Projection>,
    ready: Arc<OnceCell<()>>,
    attempts: Arc<std::sync::Mutex<HashMap<uuid::Uuid, u32>>>,
    /// How far this runner has brought the read model: the checkpoint as it last committed
    /// or read it, or past that over events it wants nothing of (see `held`).
    applied: Arc<watch::Sender<Position>>,
    /// The checkpoint move over events passed over, not made yet.
    held: Arc<std::sync::Mutex<Option<HeldMove>>>,
}

impl Runner {
    pub fn new(store: Arc<dyn EventStore>, pool: PgPool, projection: Arc<dyn Projection>) -> Self {
        Runner {
            store,
            pool,
            projection,
            ready: Arc::new(OnceCell::new()),
            attempts: Arc::default(),
            applied: Arc::new(watch::Sender::new(Position::START)),
            held: Arc::default(),
        }
    }

    /// The position the read model reflects, as this runner brings it there: a wait for a
    /// read model in the same process needs no polling of `projections.checkpoints`.
    /// Other processes (or a rebuild's swap) may move the checkpoint too. The table can
    /// be behind this by events the read model wants nothing of, for up to
    /// [`CHECKPOINT_LINGER`]; otherwise it is the truth, and this only runs behind it.
    pub fn applied(&self) -> watch::Receiver<Position> {
        self.applied.subscribe()
    }

    /// The position the read model reflects (see [`Runner::applied`]).
    pub fn position(&self) -> Position {
        *self.applied.borrow()
    }

    /// When the checkpoint move held back over passed-over events is due, if one is.
    pub fn checkpoint_due(&self) -> Option<Instant> {
        self.held
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(|held| held.since + CHECKPOINT_LINGER)
    }

    /// Makes the checkpoint move held back over passed-over events, if there is one; a
    /// runner's loop calls this when [`Runner::checkpoint_due`] comes without a batch,
    /// and when it stops.
    pub async fn flush_checkpoint(&self) -> Result<(), ProjectionError> {
        let held = self.held.lock().expect("not poisoned").take();
        match held {
            Some(held) => self.pass_over(held).await,
            None => Ok(()),
        }
    }

    /// Makes the held checkpoint move before the runner stops. Failing that (the database
    /// gone), the checkpoint is only behind by events the read model wants nothing of.
    pub async fn stopping(&self) {
        if let Err(e) = self.flush_checkpoint().await {
            tracing::warn!(projection = self.name(), error = %e, "checkpoint move not made at stop");
        }
    }

    async fn pass_over(&self, held: HeldMove) -> Result<(), ProjectionError> {
        match pass_over(&self.pool, self.name(), &held).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::debug!(projection = self.name(), to = %held.to, "the checkpoint was already past the events passed over");
                Ok(())
            }
            Err(e) => {
                // Kept, so the next try still starts where the table is.
                let mut slot = self.held.lock().expect("not poisoned");
                *slot = match slot.take() {
                    Some(later) if later.from == held.to => Some(HeldMove {
                        from: held.from,
                        events: held.events + later.events,
                        ..later
                    }),
                    Some(later) => Some(later),
                    None => Some(held),
                };
                Err(e.into())
            }
        }
    }

    /// Records a position the read model reflects, for [`Runner::position`]; never moves
    /// back.
    pub(crate) fn advance(&self, to: Position) {
        raise(&self.applied, to);
    }

    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    pub fn projection(&self) -> &Arc<dyn Projection> {
        &self.projection
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the read model's tables when missing, and rebuilds it when its tables were
    /// made from other DDL than the code's. Runs once per runner.
    pub async fn prepare(&self) -> Result<(), ProjectionError> {
        self.ready
            .get_or_try_init(|| async {
                if ensure_schema(&self.pool, &*self.projection).await? == SchemaState::Outdated {
                    tracing::warn!(
                        projection = self.name(),
                        "read model tables differ from the code's DDL; rebuilding"
                    );
                    crate::rebuild::rebuild(
                        self.store.clone(),
                        &self.pool,
                        self.projection.clone(),
                        &mut |_| {},
                    )
                    .await?;
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Applies `events` (in `$all` order) and moves the checkpoint past them, in one
    /// transaction; events at or below the checkpoint are skipped, so a batch delivered
    /// twice changes nothing. An event that fails the same way [`POISON_ATTEMPTS`] times
    /// is parked in `projections.parked` and skipped.
    pub async fn apply_batch(&self, events: &[RecordedEvent]) -> Result<usize, ProjectionError> {
        self.apply_after(None, 0, events).await
    }

    /// [`Runner::apply_batch`], with the checkpoint believed to be at `known` and
    /// `passed_over` events held back between it and `events`.
    async fn apply_after(
        &self,
        known: Option<Position>,
        passed_over: usize,
        events: &[RecordedEvent],
    ) -> Result<usize, ProjectionError> {
        self.prepare().await?;
        let name = self.projection.name();
        let target = Target {
            schema: self.projection.schema(),
            key: name,
        };
        let mut attempts = std::mem::take(&mut *self.attempts.lock().expect("not poisoned"));
        let result = async {
            let (mut known, mut passed_over) = (known, passed_over);
            loop {
                let mut tx = begin_batch(&self.pool, target).await?;
                let applied = apply_in(
                    &mut tx,
                    &*self.projection,
                    target,
                    events,
                    &mut attempts,
                    known,
                    passed_over,
                )
                .await?;
                match applied {
                    Some(n) => {
                        tx.commit().await?;
                        return Ok::<_, ProjectionError>(n);
                    }
                    // The checkpoint moved elsewhere: roll back, and read it this time.
                    None => (known, passed_over) = (None, 0),
                }
            }
        }
        .await;
        *self.attempts.lock().expect("not poisoned") = attempts;
        let n = result?;
        if n > 0 {
            metrics::counter!("projection_events_applied_total", "projection" => name)
                .increment(n as u64);
        }
        // Applied now or covered already (by another process, say): committed either way.
        if let Some(last) = events.last() {
            self.advance(last.position);
        }
        Ok(n)
    }

    /// Like [`Runner::apply_until_parked`], for `events` known to be the whole of `$all`
    /// after `prev`. A batch this read model wants nothing of changes no table: its
    /// checkpoint move is held back for [`CHECKPOINT_LINGER`] and made with a later
    /// batch's, or alone when it falls due. Had the checkpoint moved elsewhere meanwhile
    /// (another process, a rebuild), a batch takes the ordinary path.
    pub async fn apply_following(
        &self,
        prev: Position,
        events: &[RecordedEvent],
    ) -> Result<usize, ProjectionError> {
        let Some(last) = events.last() else {
            return Ok(0);
        };
        // A held move these events follow on from. Any other is dropped: the caller went
        // back to the table's checkpoint, which is where such a move would have started.
        let held = self
            .held
            .lock()
            .expect("not poisoned")
            .take()
            .filter(|held| held.to == prev);
        if events[0].position <= prev {
            return self.apply_until_parked(events).await;
        }
        if events.iter().any(|e| self.projection.wants(e)) {
            let (known, passed_over) = held.map_or((prev, 0), |held| (held.from, held.events));
            return self
                .retry_until_parked(Some(known), passed_over, events)
                .await;
        }
        self.prepare().await?;
        let n = events.len();
        let held = match held {
            Some(held) => HeldMove {
                to: last.position,
                recorded_at: last.recorded_at,
                events: held.events + n,
                ..held
            },
            None => HeldMove {
                from: prev,
                to: last.position,
                recorded_at: last.recorded_at,
                events: n,
                since: Instant::now(),
            },
        };
        metrics::counter!("projection_events_applied_total", "projection" => self.name())
            .increment(n as u64);
        self.advance(last.position);
        if held.since.elapsed() < CHECKPOINT_LINGER {
            *self.held.lock().expect("not poisoned") = Some(held);
        } else {
            self.pass_over(held).await?;
        }
        Ok(n)
    }

    /// Like [`Runner::apply_batch`], retrying a failed batch at once while the failure
    /// looks like poison (so the poison is parked), and answering other failures.
    pub async fn apply_until_parked(
        &self,
        events: &[RecordedEvent],
    ) -> Result<usize, ProjectionError> {
        self.retry_until_parked(None, 0, events).await
    }

    async fn retry_until_parked(
        &self,
        known: Option<Position>,
        passed_over: usize,
        events: &[RecordedEvent],
    ) -> Result<usize, ProjectionError> {
        loop {
            match self.apply_after(known, passed_over, events).await {
                Err(e) if e.is_deterministic() => {
                    tracing::warn!(projection = self.name(), error = %e, "batch failed; retrying event by event");
                }
                other => return other,
            }
        }
    }

    /// Runs from the store's own `$all` subscription (the embedded feed) until `shutdown`
    /// turns true. A batch that fails for a passing reason is retried after a pause
    /// rather than skipped: a read model that silently missed an event would be wrong
    /// forever.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        self.prepare().await?;
        loop {
            self.flush_checkpoint().await?;
            let mut from = checkpoint(&self.pool, name).await?;
            self.advance(from);
            let mut events = self.store.subscribe_all(from).await?;
            loop {
                // `None` when the held checkpoint move fell due with no batch to take it.
                let next = tokio::select! {
                    _ = shutdown.changed() => {
                        self.stopping().await;
                        return Ok(());
                    }
                    next = events.next() => Some(next),
                    () = until(self.checkpoint_due()) => None,
                };
                let done = match next {
                    None => self.flush_checkpoint().await,
                    Some(None) => break,
                    Some(Some(first)) => {
                        let mut batch = vec![first?];
                        // Take whatever else is already there, without waiting.
                        while batch.len() < BATCH {
                            match events.next().now_or_never() {
                                Some(Some(Ok(e))) => batch.push(e),
                                Some(Some(Err(e))) => return Err(e.into()),
                                _ => break,
                            }
                        }
                        let applied = self.apply_following(from, &batch).await;
                        from = batch.last().map_or(from, |e| e.position);
                        applied.map(|_| ())
                    }
                };
                if let Err(e) = done {
                    tracing::error!(projection = name, error = %e, "projection batch failed; retrying from the checkpoint");
                    tokio::select! {
                        _ = shutdown.changed() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    break;
                }
            }
        }
    }
}

/// Moves a watched position to `to` if that is later, waking its receivers only then: a
/// position that followers of `$all` announce never moves back.
pub fn raise(position: &watch::Sender<Position>, to: Position) {
    position.send_if_modified(|at| {
        let later = to > *at;
        if later {
            *at = to;
        }
        later
    });
}

/// Waits until `at`; forever when there is none.
pub(crate) async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
