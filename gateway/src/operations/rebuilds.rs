//! Rebuilds started through the admin API: the rebuild of `projections::rebuild` in a task
//! of its own, its progress written to `projections.rebuilds` as it goes, then the
//! rebuilt read model verified against a fresh replay (what `umctl verify` does).
//!
//! The progress lives in the database, not in the process: any gateway answers it, and a
//! row that stops moving (its process stopped) is marked failed when the next rebuild of
//! the same read model is asked for.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use commands::store::EventStore;
use projections::rebuild::{self, Progress, Verification};
use projections::{Projection, ProjectionError};
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::guard::{self, writable};
use super::parked::Acting;
use super::views::RebuildView;
use crate::error::{ApiError, ResultExt};
use crate::state::AppState;

/// How often a running rebuild writes its progress (and shows it is alive).
const BEAT: Duration = Duration::from_millis(500);
/// A running rebuild whose row has not moved for this long was left by a process that
/// stopped.
const ABANDONED_AFTER_SECONDS: i64 = 60;

const COLUMNS: &str = "rebuild_id, projection, state, reason, actor_id, actor_role, events, \
     position, head, error, started_at, updated_at, finished_at";

/// Starts rebuilding the read model `name` from the store and answers at once; the
/// rebuild goes on in a task of its own. 409 `rebuild_running` while one runs.
pub async fn start(
    state: &AppState,
    by: Acting,
    name: &str,
    reason: &str,
) -> Result<RebuildView, ApiError> {
    writable(state)?;
    let reason = guard::reason(reason)?;
    let projection = projections::by_name(name)
        .ok_or_else(|| ApiError::NotFound(format!("there is no read model {name:?}")))?;
    sqlx::query(
        "update projections.rebuilds
            set state = 'failed', finished_at = now(),
                error = 'abandoned: the process running it stopped'
          where projection = $1 and state in ('running', 'verifying')
            and updated_at < now() - make_interval(secs => $2)",
    )
    .bind(name)
    .bind(ABANDONED_AFTER_SECONDS as f64)
    .execute(&state.pool)
    .await?;
    let id = Uuid::new_v4();
    let view = sqlx::query_as::<_, RebuildView>(sqlx::AssertSqlSafe(format!(
        "insert into projections.rebuilds (rebuild_id, projection, state, reason, actor_id,
             actor_role)
         values ($1, $2, 'running', $3, $4, $5)
         returning {COLUMNS}"
    )))
    .bind(id)
    .bind(name)
    .bind(reason)
    .bind(by.user_id)
    .bind(by.role.as_str())
    .fetch_one(&state.pool)
    .await
    .on_unique_violation("rebuilds_one_running_idx", || {
        ApiError::conflict(
            "rebuild_running",
            format!("a rebuild of {name} is running already; follow its progress"),
        )
    })?;
    tracing::info!(rebuild_id = %id, projection = name, actor = %by.user_id, reason, "rebuild started");
    // Read as the runners read: personal data opened (ADR 0005).
    let store = state.handlers.store.clone();
    let pool = state.pool.clone();
    tokio::spawn(run(store, pool, id, projection));
    Ok(view)
}

/// The rebuild `id`, as far as it has come; 404 for none.
pub async fn progress(state: &AppState, id: Uuid) -> Result<RebuildView, ApiError> {
    sqlx::query_as::<_, RebuildView>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from projections.rebuilds where rebuild_id = $1"
    )))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no rebuild {id}")))
}

/// The latest rebuild of the read model `name`, if any was started here.
pub async fn latest(state: &AppState, name: &str) -> Result<Option<RebuildView>, ApiError> {
    Ok(
        sqlx::query_as::<_, RebuildView>(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from projections.rebuilds where projection = $1
          order by started_at desc limit 1"
        )))
        .bind(name)
        .fetch_optional(&state.pool)
        .await?,
    )
}

/// The latest rebuild of each read model, by name.
pub(super) async fn latest_of_each(
    pool: &PgPool,
) -> Result<HashMap<String, RebuildView>, sqlx::Error> {
    let rows = sqlx::query_as::<_, RebuildView>(sqlx::AssertSqlSafe(format!(
        "select distinct on (projection) {COLUMNS} from projections.rebuilds
          order by projection, started_at desc"
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.projection.clone(), r))
        .collect())
}

/// Where the work is: the phase and the progress it last reported.
type Beat = (&'static str, Option<Progress>);

/// Rebuilds, then verifies, writing the progress every [`BEAT`]; records how it ended.
async fn run(store: Arc<dyn EventStore>, pool: PgPool, id: Uuid, projection: Arc<dyn Projection>) {
    let (beat, beats) = watch::channel::<Beat>(("running", None));
    let work = async {
        let mut report = |p: &Progress| {
            beat.send_replace(("running", Some(*p)));
        };
        rebuild::rebuild(store.clone(), &pool, projection.clone(), &mut report).await?;
        // The row keeps the rebuild's own figures while the verification replays.
        beat.send_modify(|(phase, _)| *phase = "verifying");
        rebuild::verify(store.clone(), &pool, projection.clone(), &mut |_| {}).await
    };
    let heart = async {
        loop {
            tokio::time::sleep(BEAT).await;
            let now = *beats.borrow();
            if let Err(e) = write_beat(&pool, id, now).await {
                tracing::warn!(rebuild_id = %id, error = %e, "could not record the rebuild's progress");
            }
        }
    };
    let ended: Result<Verification, ProjectionError> = tokio::select! {
        ended = work => ended,
        () = heart => unreachable!("the heartbeat never ends"),
    };
    let last = *beats.borrow();
    let (state, error) = match &ended {
        Ok(v) if v.matches() => ("verified", None),
        Ok(v) => ("mismatch", Some(differing(v))),
        Err(e) => ("failed", Some(e.to_string())),
    };
    match &ended {
        Ok(_) => {
            tracing::info!(rebuild_id = %id, projection = projection.name(), state, "rebuild ended")
        }
        Err(e) => {
            tracing::error!(rebuild_id = %id, projection = projection.name(), error = %e, "rebuild failed")
        }
    }
    let (events, position, head) = match last.1 {
        Some(p) => (
            Some(p.events as i64),
            Some(p.position.to_string()),
            Some(p.head.to_string()),
        ),
        None => (None, None, None),
    };
    let finished = sqlx::query(
        "update projections.rebuilds
            set state = $2, error = $3, events = coalesce($4, events),
                position = coalesce($5, position), head = coalesce($6, head),
                updated_at = now(), finished_at = now()
          where rebuild_id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(error)
    .bind(events)
    .bind(position)
    .bind(head)
    .execute(&pool)
    .await;
    if let Err(e) = finished {
        tracing::error!(rebuild_id = %id, error = %e, "could not record how the rebuild ended");
    }
}

async fn write_beat(pool: &PgPool, id: Uuid, (phase, progress): Beat) -> Result<(), sqlx::Error> {
    let (events, position, head) = match progress {
        Some(p) => (
            Some(p.events as i64),
            Some(p.position.to_string()),
            Some(p.head.to_string()),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "update projections.rebuilds
            set state = $2, events = coalesce($3, events), position = coalesce($4, position),
                head = coalesce($5, head), updated_at = now()
          where rebuild_id = $1 and finished_at is null",
    )
    .bind(id)
    .bind(phase)
    .bind(events)
    .bind(position)
    .bind(head)
    .execute(pool)
    .await?;
    Ok(())
}

/// The tables whose rebuilt rows differ from the fresh replay's.
fn differing(v: &Verification) -> String {
    let live = v.live.as_deref().unwrap_or_default();
    let tables: Vec<&str> = v
        .replayed
        .iter()
        .filter(|r| !live.iter().any(|l| l == *r))
        .map(|r| r.table.as_str())
        .collect();
    format!(
        "the rebuilt tables differ from a fresh replay at {}: {}",
        v.position,
        tables.join(", ")
    )
}
