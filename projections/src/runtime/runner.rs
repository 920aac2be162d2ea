//! The [`Runner`]: one per read model, following `$all` from its checkpoint (the embedded
//! feed, or batches a JetStream worker hands it), each batch and its checkpoint in one
//! transaction (see [`super::batch`]), and the checkpoint moves over events the read model
//! wants nothing of held back for [`CHECKPOINT_LINGER`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use commands::privacy::{DataKeys, Sealed};
use commands::store::{EventStore, Position, RecordedEvent};
use futures::{FutureExt, StreamExt};
use sqlx::PgPool;
use tokio::sync::{watch, OnceCell};

use super::batch::{apply_in, begin_batch, Target};
use super::projection::{Projection, ProjectionError};
use super::schema::{ensure_schema, SchemaState};
use crate::checkpoint;
use crate::checkpoint::announcements::Announcer;
use crate::lease;

/// Most events applied in one transaction.
pub const BATCH: usize = 500;

/// How long the checkpoint move of batches a read model wants nothing of may wait, to be
/// made with a later batch's. Such batches were one transaction each, most of a busy
/// engine's (a read model of users passes over every order event), for nothing a reader
/// could see: the tables are the same before and after. The cost is that the table's
/// checkpoint runs up to this much behind for positions a read model passes over, which
/// only a consistency token from another read model's write waits for.
pub const CHECKPOINT_LINGER: Duration = Duration::from_millis(50);

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
    /// Tells other processes where `applied` got.
    announcer: Announcer,
    /// Opens the personal data of events before the read model sees them (ADR 0005);
    /// `None` for a log written without sealing (the runtime's own tests).
    keys: Option<Arc<DataKeys>>,
}

impl Runner {
    /// A runner of `projection`, following `store` into `pool`'s tables, with an
    /// [`Announcer`] of its own; runners of one process share one through
    /// [`Runner::with_announcer`].
    pub fn new(store: Arc<dyn EventStore>, pool: PgPool, projection: Arc<dyn Projection>) -> Self {
        let announcer = Announcer::new(pool.clone());
        Self::with_announcer(store, pool, projection, announcer)
    }

    /// A runner whose every move of [`Runner::applied`] is announced to other processes
    /// through `announcer` (see [`checkpoint::announcements`]), so the gateway's waits for
    /// consistency tokens wake on them.
    pub fn with_announcer(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        projection: Arc<dyn Projection>,
        announcer: Announcer,
    ) -> Self {
        Runner {
            store,
            pool,
            projection,
            ready: Arc::new(OnceCell::new()),
            attempts: Arc::default(),
            applied: Arc::new(watch::Sender::new(Position::START)),
            held: Arc::default(),
            announcer,
            keys: None,
        }
    }

    /// This runner, opening sealed personal data with `keys`: events read from the store
    /// come opened, and those from elsewhere (JetStream) are opened by
    /// [`Runner::open`]. An erased person's fields read as their declared replacement, so
    /// the read model shows them erased, on a rebuild as live.
    pub fn with_keys(mut self, keys: Arc<DataKeys>) -> Self {
        self.store = Arc::new(Sealed::new(self.store, keys.clone()));
        self.keys = Some(keys);
        self
    }

    /// Opens the sealed personal data of `events` delivered by other means than this
    /// runner's store.
    pub async fn open(&self, events: &mut [RecordedEvent]) -> Result<(), ProjectionError> {
        if let Some(keys) = &self.keys {
            commands::privacy::open_events(keys, events)
                .await
                .map_err(|e| ProjectionError::Store(e.into()))?;
        }
        Ok(())
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
        if raise(&self.applied, to) {
            self.announcer.moved(self.name(), to);
        }
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
    /// twice changes nothing. An event that fails the same way three times
    /// (`POISON_ATTEMPTS` in [`super::batch`]) is parked in `projections.parked` and
    /// skipped.
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
    /// turns true, while this process holds the read model's lease (see [`lease_key`]):
    /// a runner of the same read model in another process stands by meanwhile. A batch
    /// that fails for a passing reason is retried after a pause rather than skipped: a
    /// read model that silently missed an event would be wrong forever.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let pool = self.pool.clone();
        lease::lead(&pool, &lease_key(self.name()), shutdown, |stop| {
            self.clone().follow(stop)
        })
        .await
    }

    /// [`Runner::run`] once the lease is held: from the checkpoint in the table, wherever
    /// a previous leader left it. A failure on the way (a pool with no free connection
    /// under a burst of queries, a dropped subscription, a batch that failed) is logged
    /// and followed again from the checkpoint after a pause: a read model's runner never
    /// ends for a passing reason, since the process would stop with it.
    async fn follow(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        self.prepare().await?;
        loop {
            match self.follow_from_checkpoint(&mut shutdown).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(projection = name, error = %e, "projection runner failed; following again from the checkpoint");
                }
            }
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Follows `$all` from the checkpoint until `shutdown` (answers true) or a batch fails
    /// (answers false, logged, to be followed again from the checkpoint).
    async fn follow_from_checkpoint(
        &self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, ProjectionError> {
        let name = self.projection.name();
        self.flush_checkpoint().await?;
        let mut from = checkpoint::position(&self.pool, name).await?;
        self.advance(from);
        let mut events = self.store.subscribe_all(from).await?;
        loop {
            // `None` when the held checkpoint move fell due with no batch to take it.
            let next = tokio::select! {
                _ = shutdown.changed() => {
                    self.stopping().await;
                    return Ok(true);
                }
                next = events.next() => Some(next),
                () = until(self.checkpoint_due()) => None,
            };
            let done = match next {
                None => self.flush_checkpoint().await,
                Some(None) => return Ok(false),
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
                return Ok(false);
            }
        }
    }
}

/// The lease a read model's runners share (see [`crate::lease`]): one process at a time
/// follows `$all` into its tables, by whichever feed.
pub fn lease_key(projection: &str) -> String {
    format!("projection:{projection}")
}

/// Moves a watched position to `to` if that is later, waking its receivers only then: a
/// position that followers of `$all` announce never moves back. Answers whether it moved.
pub fn raise(position: &watch::Sender<Position>, to: Position) -> bool {
    position.send_if_modified(|at| {
        let later = to > *at;
        if later {
            *at = to;
        }
        later
    })
}

/// Waits until `at`; forever when there is none.
pub(crate) async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
