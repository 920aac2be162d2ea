//! The projection runtime: one runner per read model, following `$all` from its checkpoint.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use commands::store::{EventStore, Position, RecordedEvent, StoreError};
use futures::{FutureExt, StreamExt};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

/// Most events applied in one transaction.
const BATCH: usize = 500;

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
}

/// A read model: what to do with each event of `$all` (most are none of its business).
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Applies one event inside the runner's transaction.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;
}

/// Follows `$all` for one projection.
#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    projection: Arc<dyn Projection>,
}

/// The position a projection has applied up to.
pub async fn checkpoint(pool: &PgPool, projection: &str) -> Result<Position, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select commit_position, prepare_position from projections.checkpoints where projection = $1",
    )
    .bind(projection)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or(Position::START, |(c, p)| Position::new(c as u64, p as u64)))
}

impl Runner {
    pub fn new(store: Arc<dyn EventStore>, pool: PgPool, projection: Arc<dyn Projection>) -> Self {
        Runner {
            store,
            pool,
            projection,
        }
    }

    /// Applies `events` (all after the checkpoint, in `$all` order) and moves the
    /// checkpoint past them, in one transaction; events at or below the checkpoint are
    /// skipped, so a batch delivered twice changes nothing.
    pub async fn apply_batch(&self, events: &[RecordedEvent]) -> Result<usize, ProjectionError> {
        let name = self.projection.name();
        let mut tx = self.pool.begin().await?;
        let current: Option<(i64, i64)> = sqlx::query_as(
            "select commit_position, prepare_position from projections.checkpoints
              where projection = $1 for update",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let mut at = current.map_or(Position::START, |(c, p)| Position::new(c as u64, p as u64));
        let mut applied = 0i64;
        for event in events {
            if event.position <= at {
                continue;
            }
            self.projection.apply(&mut tx, event).await?;
            at = event.position;
            applied += 1;
        }
        if applied > 0 {
            sqlx::query(
                "insert into projections.checkpoints (projection, commit_position, prepare_position, events_applied)
                 values ($1, $2, $3, $4)
                 on conflict (projection) do update set commit_position = excluded.commit_position,
                     prepare_position = excluded.prepare_position,
                     events_applied = projections.checkpoints.events_applied + excluded.events_applied,
                     updated_at = now()",
            )
            .bind(name)
            .bind(at.commit as i64)
            .bind(at.prepare as i64)
            .bind(applied)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(applied as usize)
    }

    /// Runs until `shutdown` turns true. A failing batch is retried after a pause rather
    /// than skipped: a read model that silently missed an event would be wrong forever.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        loop {
            let from = checkpoint(&self.pool, name).await?;
            let mut events = self.store.subscribe_all(from).await?;
            loop {
                let first = tokio::select! {
                    _ = shutdown.changed() => return Ok(()),
                    next = events.next() => next,
                };
                let Some(first) = first else { break };
                let mut batch = vec![first?];
                // Take whatever else is already there, without waiting.
                while batch.len() < BATCH {
                    match events.next().now_or_never() {
                        Some(Some(Ok(e))) => batch.push(e),
                        Some(Some(Err(e))) => return Err(e.into()),
                        _ => break,
                    }
                }
                if let Err(e) = self.apply_batch(&batch).await {
                    tracing::error!(projection = name, error = %e, "projection batch failed; retrying from the checkpoint");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}
