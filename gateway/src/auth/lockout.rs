//! The failed-login limit, counted before the password is checked.
//!
//! The policy (README "Security", docs/api.md):
//!
//! - an account takes at most `LOGIN_FAILURES_LIMIT` failed logins from one client
//!   address in any 15 minutes; past that, that address gets 429 for the account, even
//!   with the right password;
//! - from all addresses together an account takes at most `LOGIN_FAILURES_ACCOUNT_LIMIT`
//!   (a higher ceiling, against a guesser that rotates addresses);
//! - both windows slide: a lockout lasts until the oldest counted failure is 15 minutes
//!   old, never longer, and `Retry-After` says when. A flood from one address therefore
//!   never locks the owner out from another, and even a distributed one only for 15
//!   minutes after it stops;
//! - a password reset clears the account's count (the owner proved control of the
//!   address).
//!
//! Counting is atomic: an attempt is claimed (a row written) under a transaction-scoped
//! advisory lock on the account before its password is looked at, so 200 parallel guesses
//! get at most the limit checked and the rest 429. A right password gives its claim back.
//! Unknown e-mails are counted the same way, so the limit tells nothing about which
//! accounts exist.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::error::ApiError;

/// The window both limits count failures in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// How many failures are allowed in [`WINDOW`]; 0 turns the check off.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// For one account from one client address.
    pub per_address: u32,
    /// For one account from all addresses.
    pub per_account: u32,
}

/// A claimed attempt: it counts as a failure until [`Attempt::give_back`] (the password
/// was right, or was never checked).
#[must_use]
#[derive(Debug)]
pub struct Attempt(Option<i64>);

fn locked_out(detail: &str, oldest: Option<DateTime<Utc>>) -> ApiError {
    let free_at = oldest.unwrap_or_else(Utc::now)
        + chrono::Duration::from_std(WINDOW).unwrap_or_else(|_| chrono::Duration::minutes(15));
    let wait = (free_at - Utc::now()).num_seconds().max(1) as u64;
    ApiError::TooManyRequests {
        code: "too_many_login_failures",
        detail: detail.into(),
        retry_after: Duration::from_secs(wait),
    }
}

/// Claims one attempt at `email` from `ip`, or answers 429 when either limit is reached.
#[tracing::instrument(skip_all)]
pub async fn claim(
    pool: &PgPool,
    limits: Limits,
    email: &str,
    ip: IpAddr,
) -> Result<Attempt, ApiError> {
    if limits.per_address == 0 && limits.per_account == 0 {
        return Ok(Attempt(None));
    }
    let mut tx = pool.begin().await?;
    // Serialises the count and the claim of one account; other accounts go on in
    // parallel. Released at commit.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('login:' || $1, 0))")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    let (from_here, oldest_here, all, oldest): (
        i64,
        Option<DateTime<Utc>>,
        i64,
        Option<DateTime<Utc>>,
    ) = sqlx::query_as(
        "select count(*) filter (where client_ip = $2::inet),
                min(failed_at) filter (where client_ip = $2::inet),
                count(*), min(failed_at)
           from auth.login_failures
          where email = $1 and failed_at > now() - make_interval(secs => $3)",
    )
    .bind(email)
    .bind(ip.to_string())
    .bind(WINDOW.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    if limits.per_address > 0 && from_here >= i64::from(limits.per_address) {
        return Err(locked_out(
            "too many failed logins for this account from this address; try again later",
            oldest_here,
        ));
    }
    if limits.per_account > 0 && all >= i64::from(limits.per_account) {
        return Err(locked_out(
            "too many failed logins for this account; try again later",
            oldest,
        ));
    }
    let id: i64 = sqlx::query_scalar(
        "insert into auth.login_failures (email, client_ip) values ($1, $2::inet)
         returning login_failure_id",
    )
    .bind(email)
    .bind(ip.to_string())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Attempt(Some(id)))
}

impl Attempt {
    /// The attempt was not a failure: it no longer counts.
    pub async fn give_back(self, pool: &PgPool) -> Result<(), ApiError> {
        if let Some(id) = self.0 {
            sqlx::query("delete from auth.login_failures where login_failure_id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// The attempt was a failure: it stays counted until it leaves the window.
    pub fn keep(self) {}
}

/// Forgets every failed login of `email` (after a password reset).
pub async fn clear(pool: &PgPool, email: &str) -> Result<(), ApiError> {
    sqlx::query("delete from auth.login_failures where email = $1")
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}
