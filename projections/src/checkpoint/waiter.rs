//! [`Waiter`]: waits until a read model has reached a position (a client's consistency
//! token), woken by the runners' announcements (see [`super::announcements`]) instead of
//! reading `projections.checkpoints` again and again. A poll per waiting request turned
//! every request with a far-off token into a stream of queries for as long as it waited.
//!
//! One `LISTEN` connection per waiter (the gateway has one) keeps the furthest position
//! announced for each read model. Each time it (re)connects it reads the table once, after
//! `LISTEN` took effect: a move made before is in the table, one made after is announced,
//! so nothing falls between. While it is connected a wait reads nothing; while it is not
//! (starting, or the connection was lost), a wait reads the table once when it begins.
//! A wait that runs out of time looks at the table a last time before giving up, in case an
//! announcement was lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use commands::store::Position;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;

use super::announcements::{parse, CHANNEL};

/// How long the listener waits before it tries to connect again.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Waits for read models to reach positions. Cheap to clone; the listener task ends when
/// the last clone goes.
#[derive(Clone)]
pub struct Waiter {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    /// The furthest position known for each read model: read from the table when the
    /// listener connects, then raised by announcements. Never moves back.
    reached: Mutex<HashMap<String, watch::Sender<Position>>>,
    /// Whether the listener is connected and has read the table since: then `reached`
    /// misses no move.
    live: watch::Sender<bool>,
    started: AtomicBool,
    /// Reads of `projections.checkpoints`, for tests and metrics: they must not grow with
    /// the length of a wait.
    reads: AtomicU64,
    /// Dropped with the last waiter, which tells the listener to stop.
    alive: watch::Sender<()>,
}

impl Shared {
    fn entry(&self, projection: &str) -> watch::Sender<Position> {
        let mut reached = self.reached.lock().unwrap_or_else(|e| e.into_inner());
        reached
            .entry(projection.to_owned())
            .or_insert_with(|| watch::Sender::new(Position::START))
            .clone()
    }

    /// Records that `projection` has reached `at`, waking its waiters if that is further.
    fn raise(&self, projection: &str, at: Position) {
        self.entry(projection).send_if_modified(|known| {
            let further = at > *known;
            if further {
                *known = at;
            }
            further
        });
    }

    async fn read(&self, projection: &str) -> Result<Position, sqlx::Error> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        super::position(&self.pool, projection).await
    }

    /// Every checkpoint in the table, into `reached`.
    async fn read_all(&self) -> Result<(), sqlx::Error> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "select projection, commit_position, prepare_position from projections.checkpoints",
        )
        .fetch_all(&self.pool)
        .await?;
        for (projection, commit, prepare) in rows {
            self.raise(&projection, Position::new(commit as u64, prepare as u64));
        }
        Ok(())
    }
}

impl Waiter {
    /// A waiter over `pool`'s checkpoints; it starts listening on its first wait.
    pub fn new(pool: PgPool) -> Self {
        Waiter {
            shared: Arc::new(Shared {
                pool,
                reached: Mutex::default(),
                live: watch::Sender::new(false),
                started: AtomicBool::new(false),
                reads: AtomicU64::new(0),
                alive: watch::Sender::new(()),
            }),
        }
    }

    /// How many times this waiter has read `projections.checkpoints`.
    pub fn reads(&self) -> u64 {
        self.shared.reads.load(Ordering::Relaxed)
    }

    /// The furthest position `projection` is known to have reached, without a query: what
    /// the listener has heard so far, so never more than the truth.
    pub fn known(&self, projection: &str) -> Position {
        *self.shared.entry(projection).borrow()
    }

    /// How many waits for `projection` are under way.
    #[cfg(test)]
    fn waiting(&self, projection: &str) -> usize {
        self.shared.entry(projection).receiver_count()
    }

    /// Starts the listener (once) and waits until it is connected and up to date.
    pub async fn listening(&self) {
        self.ensure_listener();
        let mut live = self.shared.live.subscribe();
        // `Err` only if the waiter is gone, which `self` prevents.
        let _ = live.wait_for(|live| *live).await;
    }

    fn ensure_listener(&self) {
        if !self.shared.started.swap(true, Ordering::AcqRel) {
            let alive = self.shared.alive.subscribe();
            tokio::spawn(listen(Arc::downgrade(&self.shared), alive));
        }
    }

    /// Waits until `projection` has reached `target`, or `deadline` passes; answers
    /// whether it did.
    pub async fn wait_for(
        &self,
        projection: &str,
        target: Position,
        deadline: Instant,
    ) -> Result<bool, sqlx::Error> {
        self.ensure_listener();
        let mut reached = self.shared.entry(projection).subscribe();
        let mut live = self.shared.live.subscribe();
        if !*live.borrow_and_update() {
            let at = self.shared.read(projection).await?;
            self.shared.raise(projection, at);
        }
        loop {
            if *reached.borrow_and_update() >= target {
                return Ok(true);
            }
            tokio::select! {
                // The senders live as long as `self`: neither fails.
                _ = reached.changed() => {}
                // Connected again: it read the table, into `reached`.
                _ = live.changed() => {}
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        let at = self.shared.read(projection).await?;
        self.shared.raise(projection, at);
        Ok(at >= target)
    }
}

/// The listener: connects, `LISTEN`s, reads the table, then raises positions as they are
/// announced; connects again when the connection is lost; ends with the waiter.
async fn listen(shared: Weak<Shared>, mut alive: watch::Receiver<()>) {
    loop {
        let Some(pool) = shared.upgrade().map(|s| s.pool.clone()) else {
            return;
        };
        let connect = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let connected = tokio::select! {
            connected = connect => connected,
            _ = alive.changed() => return,
        };
        match connected {
            Ok(mut listener) => {
                if follow(&shared, &mut listener, &mut alive).await.is_break() {
                    return;
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for checkpoint moves; waits read the table meanwhile")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(RECONNECT_DELAY) => {}
            _ = alive.changed() => return,
        }
    }
}

/// Follows one `LISTEN` connection until it fails (`Continue`: connect again) or the
/// waiter or the pool is gone (`Break`).
async fn follow(
    shared: &Weak<Shared>,
    listener: &mut PgListener,
    alive: &mut watch::Receiver<()>,
) -> std::ops::ControlFlow<()> {
    use std::ops::ControlFlow::{Break, Continue};
    let set_live = |live: bool| {
        if let Some(s) = shared.upgrade() {
            s.live.send_replace(live);
        }
    };
    // Read after `LISTEN`: nothing moves unseen between the two.
    let caught_up = match shared.upgrade() {
        Some(s) => s.read_all().await,
        None => return Break(()),
    };
    if let Err(e) = caught_up {
        tracing::warn!(error = %e, "cannot read the checkpoints; waits read the table meanwhile");
        return Continue(());
    }
    set_live(true);
    let outcome = loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            _ = alive.changed() => break Break(()),
        };
        let Some(s) = shared.upgrade() else {
            break Break(());
        };
        match received {
            Ok(Some(notification)) => {
                if let Some((projection, at)) = parse(notification.payload()) {
                    s.raise(projection, at);
                }
            }
            // The connection was lost and made again (`LISTEN` included): moves announced
            // in between are only in the table.
            Ok(None) => {
                if let Err(e) = s.read_all().await {
                    tracing::warn!(error = %e, "cannot read the checkpoints after a reconnect");
                    break Continue(());
                }
            }
            Err(sqlx::Error::PoolClosed) => break Break(()),
            Err(e) => {
                tracing::warn!(error = %e, "the LISTEN connection for checkpoint moves failed; reconnecting");
                break Continue(());
            }
        }
    };
    set_live(false);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::announcements::notify;

    async fn move_checkpoint(pool: &PgPool, projection: &str, at: Position) {
        let mut conn = pool.acquire().await.unwrap();
        super::super::set(&mut conn, projection, at, 0, "", None)
            .await
            .unwrap();
    }

    /// A wait is woken by announcements, not by reading the table: while the listener is
    /// connected, ten moves and the wait they end read `projections.checkpoints` not once.
    /// A waiter that polled would read it at least once per move it waited through.
    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn a_wait_wakes_on_announcements_without_reading_the_table(pool: PgPool) {
        let waiter = Waiter::new(pool.clone());
        move_checkpoint(&pool, "orders", Position::new(1, 0)).await;
        waiter.listening().await;
        let before = waiter.reads();
        let target = Position::new(10, 0);
        let far = Instant::now() + Duration::from_secs(600);
        let waiting = tokio::spawn({
            let waiter = waiter.clone();
            async move { waiter.wait_for("orders", target, far).await }
        });
        while waiter.waiting("orders") == 0 {
            tokio::task::yield_now().await;
        }
        for commit in 2..=10 {
            let at = Position::new(commit, 0);
            move_checkpoint(&pool, "orders", at).await;
            notify(&pool, "orders", at).await.unwrap();
        }
        assert!(waiting.await.unwrap().unwrap(), "the wait saw its position");
        assert_eq!(waiter.reads(), before, "the wait read the table");
        // Reached already: answered from what the listener knows.
        assert!(waiter.wait_for("orders", target, far).await.unwrap());
        assert_eq!(waiter.reads(), before);
    }

    /// A move nobody announced (a lost `NOTIFY`) still counts when the wait runs out: the
    /// last look at the table finds it, so a lost announcement costs time, not a wrong
    /// answer.
    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn a_wait_that_runs_out_looks_at_the_table_last(pool: PgPool) {
        let waiter = Waiter::new(pool.clone());
        waiter.listening().await;
        move_checkpoint(&pool, "carts", Position::new(5, 0)).await;
        let soon = Instant::now();
        assert!(waiter
            .wait_for("carts", Position::new(5, 0), soon)
            .await
            .unwrap());
        assert!(!waiter
            .wait_for("carts", Position::new(6, 0), soon)
            .await
            .unwrap());
    }
}
