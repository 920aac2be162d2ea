//! One batch, one transaction: the effectively-once core that the [`Runner`] and a rebuild
//! both apply events through. The batch and its checkpoint move commit together; events
//! at or below the checkpoint are skipped; an event that keeps failing the same way is
//! parked in `projections.parked` and the rest go on.
//!
//! [`Runner`]: super::runner::Runner

use std::collections::HashMap;

use commands::store::{Position, RecordedEvent};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use super::projection::{Projection, ProjectionError};
use super::schema::quote_ident;
use crate::checkpoint;

/// Attempts at an event before it is parked as poison.
const POISON_ATTEMPTS: u32 = 3;

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
/// aborted transaction that sqlx 0.8 did not roll back (launchbadge/sqlx#4409). So an
/// operator's `statement_timeout` or `lock_timeout` does not apply to it.
pub(crate) async fn begin_batch(
    pool: &PgPool,
    target: Target<'_>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let lock_key = quote_literal(&format!("projection:{}", target.key));
    let search_path = quote_literal(&quote_ident(target.schema));
    // The only dynamic parts are quoted as literals above.
    pool.begin_with(AssertSqlSafe(format!(
        "begin;
         select set_config('statement_timeout', '0', true),
                set_config('lock_timeout', '0', true);
         select pg_advisory_xact_lock(hashtext({lock_key})),
                       set_config('search_path', {search_path}, true),
                       set_config('synchronous_commit', 'off', true)"
    )))
    .await
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
        None => checkpoint::position_in(&mut *conn, target.key).await?,
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
    if checkpoint::move_from(conn, target.key, start, last, applied + passed_over).await? {
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
        // Staff discarded this event for this read model once already (a rebuild replays
        // it): dropped again, without a park nobody needs to look at twice.
        let discarded: bool = sqlx::query_scalar(
            "select exists (select 1 from projections.discarded
                             where projection = $1 and event_id = $2)",
        )
        .bind(projection.name())
        .bind(event.id)
        .fetch_one(&mut *conn)
        .await?;
        if discarded {
            tracing::warn!(
                projection = target.key, event_id = %event.id, event_type = %event.event_type,
                error = %error, "a discarded event failed again; dropped"
            );
            return Ok(());
        }
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
