//! Checkpoints: how far each read model has applied `$all`, one row per projection in
//! `projections.checkpoints`.
//!
//! [`position`] is the read side's answer to "has this read model seen my write yet?", and
//! `status` measures lag from it. The writes (a batch's compare-and-set move, a new or
//! swapped-in read model's row) and the lock that serializes them belong to the runtime and
//! the rebuild.
//!
//! A wait for a position does not read the table over and over: each runner announces
//! where its read model has got ([`announcements`], a `NOTIFY` per move), and the
//! gateway's [`waiter::Waiter`] listens and wakes the requests waiting for it.

pub mod announcements;
pub mod waiter;

use commands::store::{Position, RecordedEvent};
use sqlx::PgConnection;
use sqlx::PgPool;

/// The position a projection has applied up to: every event of `$all` at or below it is
/// in its tables. It can trail by events the read model wants nothing of, for up to
/// [`CHECKPOINT_LINGER`](crate::runtime::runner::CHECKPOINT_LINGER).
pub async fn position(pool: &PgPool, projection: &str) -> Result<Position, sqlx::Error> {
    position_in(pool, projection).await
}

/// The position a projection has applied up to, read on `conn` (inside its transaction,
/// when it has one).
pub async fn position_in<'c>(
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

/// Replaces a checkpoint row outright (a new or swapped-in read model).
pub(crate) async fn set(
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

/// Moves checkpoint `key` from exactly `from` to `to`, counting `applied` events, in the
/// batch's transaction; answers whether it was at `from`.
pub(crate) async fn move_from(
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
