//! Checkpoint moves announced across processes: each [`Runner`](crate::Runner) tells its
//! process's [`Announcer`] when the position its read model reflects moves, and the
//! announcer sends a `NOTIFY` on [`CHANNEL`] per read model that moved, carrying the
//! projection and the position; the gateway's [`Waiter`](super::waiter::Waiter) wakes the
//! requests waiting for it.
//!
//! The notifications go out after the batches' commits, on a transaction of the
//! announcer's own, for the reason the store gives for its own announcements: a `NOTIFY`
//! inside a batch would take PostgreSQL's global notify lock at commit and serialize every
//! read model's commits behind it. One announcer serves every runner of a process, and
//! sends all the moves it has gathered in one statement: while that statement is out, new
//! moves gather (only the latest position of each read model is kept) and go in the next.
//! A runner of its own per read model made each batch cost a second transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use commands::store::Position;
use sqlx::PgPool;
use tokio::sync::Notify;

/// The channel checkpoint moves are announced on.
pub const CHANNEL: &str = "um_checkpoints";

/// The payload of an announcement: `<projection> <commit>/<prepare>`.
pub fn payload(projection: &str, at: Position) -> String {
    format!("{projection} {at}")
}

/// The projection and position an announcement carries; `None` for anything else.
pub fn parse(payload: &str) -> Option<(&str, Position)> {
    let (projection, at) = payload.split_once(' ')?;
    Some((projection, at.parse().ok()?))
}

/// Announces that `projection` reflects `$all` up to `at`.
pub async fn notify(pool: &PgPool, projection: &str, at: Position) -> Result<(), sqlx::Error> {
    notify_all(pool, &[payload(projection, at)]).await
}

/// Sends every payload in one statement (one transaction).
async fn notify_all(pool: &PgPool, payloads: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, p) from unnest($2::text[]) as p")
        .bind(CHANNEL)
        .bind(payloads)
        .execute(pool)
        .await?;
    Ok(())
}

/// Announces the checkpoint moves of a process's runners. Cheap to clone; its task (on the
/// runtime it was made in) ends when the last clone goes.
#[derive(Clone)]
pub struct Announcer {
    shared: Arc<Gathered>,
}

/// The moves not announced yet: the latest position of each read model that moved.
struct Gathered {
    moves: Mutex<HashMap<&'static str, Position>>,
    wake: Arc<Notify>,
}

impl Drop for Gathered {
    fn drop(&mut self) {
        // Wakes the task, which then finds nothing left to serve and ends.
        self.wake.notify_one();
    }
}

impl Announcer {
    /// An announcer on `pool`, its task spawned on the current runtime; outside one
    /// (a tool without a runtime yet) it announces nothing.
    pub fn new(pool: PgPool) -> Self {
        let wake = Arc::new(Notify::new());
        let shared = Arc::new(Gathered {
            moves: Mutex::default(),
            wake: wake.clone(),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(announce(pool, Arc::downgrade(&shared), wake));
        }
        Announcer { shared }
    }

    /// Notes that `projection` reflects `$all` up to `at`, to be announced.
    pub fn moved(&self, projection: &'static str, at: Position) {
        let mut moves = self.shared.moves.lock().unwrap_or_else(|e| e.into_inner());
        let latest = moves.entry(projection).or_insert(at);
        *latest = (*latest).max(at);
        drop(moves);
        self.shared.wake.notify_one();
    }
}

/// Sends what the runners gathered, one statement at a time, until the announcer goes.
async fn announce(pool: PgPool, gathered: Weak<Gathered>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(shared) = gathered.upgrade() else {
            return;
        };
        let moves = std::mem::take(&mut *shared.moves.lock().unwrap_or_else(|e| e.into_inner()));
        drop(shared);
        if moves.is_empty() {
            continue;
        }
        let payloads: Vec<String> = moves.iter().map(|(p, at)| payload(p, *at)).collect();
        match notify_all(&pool, &payloads).await {
            Ok(()) => {}
            Err(sqlx::Error::PoolClosed) => return,
            // A lost announcement costs a waiter its wait (it looks at the table once more
            // before it gives up), never a wrong answer.
            Err(e) => tracing::debug!(error = %e, "could not announce checkpoint moves"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgListener;
    use std::time::Duration;

    /// Moves of several read models made between two sends go out together, each read
    /// model once with its latest position.
    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn moves_gathered_meanwhile_go_out_together_latest_only(pool: PgPool) {
        let mut listener = PgListener::connect_with(&pool).await.unwrap();
        listener.listen(CHANNEL).await.unwrap();
        let announcer = Announcer::new(pool.clone());
        // No await between them: the announcer's task runs only after all three.
        announcer.moved("orders", Position::new(1, 0));
        announcer.moved("catalog", Position::new(2, 0));
        announcer.moved("orders", Position::new(3, 0));
        let mut heard = Vec::new();
        while let Ok(n) = tokio::time::timeout(Duration::from_millis(500), listener.recv()).await {
            heard.push(n.unwrap().payload().to_owned());
        }
        heard.sort();
        assert_eq!(heard, ["catalog 2/0", "orders 3/0"]);
        drop(announcer);
    }

    #[test]
    fn payloads_round_trip_and_strangers_are_ignored() {
        let at = Position::new(42, 7);
        assert_eq!(parse(&payload("orders", at)), Some(("orders", at)));
        for stranger in ["", "orders", "orders 42", "orders x/y"] {
            assert_eq!(parse(stranger), None, "{stranger:?}");
        }
    }
}
