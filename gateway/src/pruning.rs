//! Deleting what has expired from the gateway's own tables: failed logins older than the
//! lockout window, refresh tokens past their expiry, idempotency answers past theirs, and
//! the rate limit's rows of clients whose allowance is whole again.
//! None of it is a business fact (those live in the log and are never deleted); left
//! alone, these tables only grow and slow the queries that read them.
//!
//! [`prune`] is one pass; [`run`] repeats it every `PRUNE_INTERVAL` in every process that
//! serves the API. Several processes pruning at once is harmless: a row is deleted once.
//!
//! A refresh token is kept until it expires even once spent, since presenting a spent
//! token is how a copy is detected (and its family revoked); an expired one is refused
//! anyway.

use std::convert::Infallible;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// Rows deleted per statement, so one pass never holds long locks on a large backlog.
const BATCH: i64 = 10_000;

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub login_failures: u64,
    pub refresh_tokens: u64,
    pub idempotency_responses: u64,
    pub rate_limit_clients: u64,
}

/// Deletes, in batches, the rows of `table` that `expired` selects.
async fn delete_expired(pool: &PgPool, table: &str, expired: &str) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "delete from {table} where ctid in (select ctid from {table} where {expired} limit $1)"
        )))
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// One pass over the four tables.
#[tracing::instrument(skip_all, err)]
pub async fn prune(pool: &PgPool, login_failure_window: Duration) -> Result<Pruned, sqlx::Error> {
    let window = login_failure_window.as_secs();
    Ok(Pruned {
        login_failures: delete_expired(
            pool,
            "auth.login_failures",
            &format!("failed_at < now() - interval '{window} seconds'"),
        )
        .await?,
        refresh_tokens: delete_expired(pool, "auth.refresh_tokens", "expires_at < now()").await?,
        idempotency_responses: delete_expired(pool, "idempotency.responses", "expires_at < now()")
            .await?,
        // A row whose TAT has passed says what no row says: a full allowance.
        rate_limit_clients: delete_expired(pool, "rate_limit.clients", "tat < now()").await?,
    })
}

/// Prunes every `every` until `stop`. A failed pass is logged and tried again next time:
/// the API does not depend on it.
pub async fn run(
    pool: PgPool,
    every: Duration,
    login_failure_window: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Infallible> {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
        match prune(&pool, login_failure_window).await {
            Ok(pruned) if pruned != Pruned::default() => {
                tracing::info!(?pruned, "pruned expired session rows");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning expired session rows failed"),
        }
    }
}
