//! Parked events as staff act on them (issue 25): listed with their error, then retried,
//! skipped or discarded, each action recorded in `projections.parked_actions` (who, when,
//! why, what came of it) in the same transaction as the action itself.
//!
//! - **Retry** applies the event to the live read model now, under the projection's lock,
//!   as a batch would. It comes after the events that followed it in `$all`: a read model
//!   whose rows depend on that order is better rebuilt (`crate::rebuild`). Applied, the
//!   park ends; refused again, the park stays with the new error and one more attempt.
//! - **Skip** ends the park: the read model goes on without the event. A rebuild replays
//!   it, and parks it again if it still fails.
//! - **Discard** ends the park for good: the event is listed in `projections.discarded`,
//!   and a rebuild that fails on it drops it without parking it (see `super::batch`).

use chrono::{DateTime, Utc};
use commands::store::{Position, RecordedEvent};
use sqlx::PgPool;
use uuid::Uuid;

use super::batch::{begin_batch, Target};
use super::projection::{Projection, ProjectionError};

/// One parked event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Parked {
    pub parked_id: Uuid,
    /// The read model that parked it (`<name>#rebuild` while a rebuild runs).
    pub projection: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub event_type: String,
    pub commit_position: i64,
    pub prepare_position: i64,
    pub error: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
}

impl Parked {
    /// Its position in `$all`.
    pub fn position(&self) -> Position {
        Position::new(self.commit_position as u64, self.prepare_position as u64)
    }
}

/// What staff may do with a parked event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    Skip,
    Discard,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Skip => "skip",
            Action::Discard => "discard",
        }
    }
}

/// Who acts, and why: what the audit row records beside the action.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub role: String,
    pub reason: String,
    /// The request that acts.
    pub correlation_id: Option<Uuid>,
}

/// What came of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Retried and applied: the park ended.
    Applied,
    /// Retried and refused again, with what the read model said; still parked.
    Failed(String),
    Skipped,
    Discarded,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Discarded => "discarded",
        }
    }
}

/// One recorded action.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRecord {
    pub action_id: Uuid,
    pub parked_id: Uuid,
    pub projection: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub event_type: String,
    pub action: String,
    pub outcome: String,
    pub error: Option<String>,
    pub reason: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    pub correlation_id: Option<Uuid>,
    pub acted_at: DateTime<Utc>,
}

const COLUMNS: &str = "parked_id, projection, event_id, stream_id, event_type, \
     commit_position, prepare_position, error, attempts, parked_at";

/// One page of parked events, oldest first (of `projection` alone, when given), and how
/// many there are in all.
pub async fn list(
    pool: &PgPool,
    projection: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Parked>, i64), sqlx::Error> {
    let items = sqlx::query_as::<_, Parked>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from projections.parked
          where $1::text is null or projection = $1
          order by parked_at, commit_position, prepare_position, projection
          limit $2 offset $3"
    )))
    .bind(projection)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from projections.parked where $1::text is null or projection = $1",
    )
    .bind(projection)
    .fetch_one(pool)
    .await?;
    Ok((items, total))
}

/// The parked event `parked_id`, if it is still parked.
pub async fn find(pool: &PgPool, parked_id: Uuid) -> Result<Option<Parked>, sqlx::Error> {
    sqlx::query_as::<_, Parked>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from projections.parked where parked_id = $1"
    )))
    .bind(parked_id)
    .fetch_optional(pool)
    .await
}

/// Records `action` on `parked` and its `outcome`, inside the action's transaction.
async fn record(
    conn: &mut sqlx::PgConnection,
    parked: &Parked,
    action: Action,
    outcome: &Outcome,
    by: &Actor,
) -> Result<(), sqlx::Error> {
    let error = match outcome {
        Outcome::Failed(e) => Some(e.as_str()),
        _ => None,
    };
    sqlx::query(
        "insert into projections.parked_actions (parked_id, projection, event_id, stream_id,
             event_type, action, outcome, error, reason, actor_id, actor_role, correlation_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(parked.parked_id)
    .bind(&parked.projection)
    .bind(parked.event_id)
    .bind(&parked.stream_id)
    .bind(&parked.event_type)
    .bind(action.as_str())
    .bind(outcome.as_str())
    .bind(error)
    .bind(&by.reason)
    .bind(by.user_id)
    .bind(&by.role)
    .bind(by.correlation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies `event`, parked by `projection` as `parked_id`, to the live read model now, in
/// one transaction with the park's end (or its new error) and the audit row. `None` when
/// the event is no longer parked (someone acted on it first).
pub async fn retry(
    pool: &PgPool,
    projection: &dyn Projection,
    parked_id: Uuid,
    event: &RecordedEvent,
    by: &Actor,
) -> Result<Option<Outcome>, ProjectionError> {
    let target = Target {
        schema: projection.schema(),
        key: projection.name(),
    };
    // The projection's lock: no batch of its runner, and no rebuild's swap, runs meanwhile.
    let mut tx = begin_batch(pool, target).await?;
    let parked = sqlx::query_as::<_, Parked>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from projections.parked
          where parked_id = $1 and projection = $2 and event_id = $3 for update"
    )))
    .bind(parked_id)
    .bind(projection.name())
    .bind(event.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(parked) = parked else {
        return Ok(None);
    };
    sqlx::query("savepoint parked_retry")
        .execute(&mut *tx)
        .await?;
    let outcome = match projection.apply(&mut tx, event).await {
        Ok(()) => {
            sqlx::query("release savepoint parked_retry")
                .execute(&mut *tx)
                .await?;
            sqlx::query("delete from projections.parked where parked_id = $1")
                .bind(parked_id)
                .execute(&mut *tx)
                .await?;
            Outcome::Applied
        }
        Err(e) if !e.is_deterministic() => return Err(e),
        Err(e) => {
            sqlx::query("rollback to savepoint parked_retry")
                .execute(&mut *tx)
                .await?;
            let error = e.to_string();
            sqlx::query(
                "update projections.parked set error = $2, attempts = attempts + 1
                  where parked_id = $1",
            )
            .bind(parked_id)
            .bind(&error)
            .execute(&mut *tx)
            .await?;
            Outcome::Failed(error)
        }
    };
    record(&mut tx, &parked, Action::Retry, &outcome, by).await?;
    tx.commit().await?;
    if outcome == Outcome::Applied {
        metrics::counter!("projection_parked_retried_total", "projection" => projection.name())
            .increment(1);
    }
    Ok(Some(outcome))
}

/// Ends the park of `parked_id` without applying it: skipped (a rebuild tries it again) or
/// discarded (a rebuild drops it too). `None` when it is no longer parked. `Retry` is
/// [`retry`]'s and is refused here.
pub async fn set_aside(
    pool: &PgPool,
    parked_id: Uuid,
    action: Action,
    by: &Actor,
) -> Result<Option<Outcome>, ProjectionError> {
    let outcome = match action {
        Action::Skip => Outcome::Skipped,
        Action::Discard => Outcome::Discarded,
        Action::Retry => {
            return Err(ProjectionError::Setup(
                "parked".into(),
                "a retry applies the event; use `retry`".into(),
            ))
        }
    };
    let mut tx = pool.begin().await?;
    let parked = sqlx::query_as::<_, Parked>(sqlx::AssertSqlSafe(format!(
        "delete from projections.parked where parked_id = $1 returning {COLUMNS}"
    )))
    .bind(parked_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(parked) = parked else {
        return Ok(None);
    };
    if action == Action::Discard {
        // A rebuild's park names `<name>#rebuild`; the discard is the read model's.
        let name = parked
            .projection
            .split_once('#')
            .map_or(parked.projection.as_str(), |(name, _)| name);
        sqlx::query(
            "insert into projections.discarded (projection, event_id) values ($1, $2)
             on conflict do nothing",
        )
        .bind(name)
        .bind(parked.event_id)
        .execute(&mut *tx)
        .await?;
    }
    record(&mut tx, &parked, action, &outcome, by).await?;
    tx.commit().await?;
    Ok(Some(outcome))
}

/// One page of the recorded actions, newest first, and how many there are in all.
pub async fn actions(
    pool: &PgPool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ActionRecord>, i64), sqlx::Error> {
    let items = sqlx::query_as::<_, ActionRecord>(
        "select action_id, parked_id, projection, event_id, stream_id, event_type, action,
                outcome, error, reason, actor_id, actor_role, correlation_id, acted_at
           from projections.parked_actions
          order by acted_at desc, action_id
          limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("select count(*) from projections.parked_actions")
        .fetch_one(pool)
        .await?;
    Ok((items, total))
}
