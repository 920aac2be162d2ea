//! Checkpoint moves announced across processes: each [`Runner`](crate::Runner) sends a
//! `NOTIFY` on [`CHANNEL`] when the position its read model reflects moves, carrying the
//! projection and the position, and the gateway's [`Waiter`](super::waiter::Waiter)
//! wakes the requests waiting for it.
//!
//! The notification goes out after the batch's commit, on a transaction of its own, for
//! the reason the store gives for its own announcements: a `NOTIFY` inside the batch would
//! take PostgreSQL's global notify lock at commit and serialize every read model's
//! commits behind it. A burst of batches coalesces into one notification, since the
//! announcer sends only the latest position it has seen.

use commands::store::Position;
use sqlx::PgPool;
use tokio::sync::watch;

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
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload(projection, at))
        .execute(pool)
        .await?;
    Ok(())
}

/// Announces every move of `applied` until its sender goes (the runner is dropped).
pub(crate) async fn announce(
    pool: PgPool,
    projection: &'static str,
    mut applied: watch::Receiver<Position>,
) {
    while applied.changed().await.is_ok() {
        let at = *applied.borrow_and_update();
        match notify(&pool, projection, at).await {
            Ok(()) => {}
            Err(sqlx::Error::PoolClosed) => return,
            // A lost announcement costs a waiter its wait (it looks at the table once more
            // before it gives up), never a wrong answer.
            Err(e) => {
                tracing::debug!(projection, error = %e, "could not announce a checkpoint move")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_strangers_are_ignored() {
        let at = Position::new(42, 7);
        assert_eq!(parse(&payload("orders", at)), Some(("orders", at)));
        for stranger in ["", "orders", "orders 42", "orders x/y"] {
            assert_eq!(parse(stranger), None, "{stranger:?}");
        }
    }
}
