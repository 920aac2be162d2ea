//! The price-rule scheduler (issue 24, ADR 0008): records, as events, when the clock has
//! made an enabled rule active (its window started) or expired (its window ended).
//!
//! The engine reads each rule's window and the clock itself, so prices never wait for this
//! process; what it gives is the audit trail and the status staff see. A [`sweep`] asks the
//! `pricing` read model for the rules due at `now` and sends each the `tick_rule` use case,
//! which appends nothing when the rule's stream has moved on already: a sweep behind a
//! lagging read model, a repeated one, or two copies of the process record each change
//! once. It runs under a lease anyway (one copy at a time), in the `serve` and `process`
//! roles.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

/// Rules one sweep looks at; the next sweep takes the rest.
const BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Command(#[from] commands::pricing::PricingUseError),
}

/// The enabled rules whose status the clock has moved at `now`.
pub async fn due_rules(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select rule_id from pricing.price_rules
          where enabled
            and ((status = 'scheduled' and starts_at <= $1)
              or (status in ('scheduled', 'active') and ends_at <= $1))
          order by coalesce(least(starts_at, ends_at), ends_at, starts_at), rule_id
          limit $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(pool)
    .await
}

/// One sweep at `now`; answers how many rules changed status.
#[tracing::instrument(skip_all, err)]
pub async fn sweep(
    handlers: &Handlers,
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    let mut changed = 0;
    for rule_id in due_rules(pool, now).await? {
        // A command id of its own per rule and instant: never taken for a retry of an
        // earlier tick, which would answer the earlier outcome.
        let command_id = Uuid::new_v5(
            &rule_id,
            format!("tick:{}", now.timestamp_micros()).as_bytes(),
        );
        let meta = CommandMeta::new(command_id, command_id, Actor::system(), now);
        if commands::pricing::tick_rule(handlers, rule_id, now, &meta)
            .await?
            .position
            .is_some()
        {
            changed += 1;
        }
    }
    if changed > 0 {
        tracing::info!(changed, "price rules activated or expired");
    }
    Ok(changed)
}

/// A sweep at once, then one every `every`, until `stop`. A failed sweep is logged and
/// tried again next time.
pub async fn run(
    handlers: Arc<Handlers>,
    pool: PgPool,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Infallible> {
    loop {
        if let Err(e) = sweep(&handlers, &pool, Utc::now()).await {
            tracing::warn!(error = %e, "price rule schedule failed; trying again next interval");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}
