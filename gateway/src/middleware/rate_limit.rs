//! Requests per client IP per minute (`RATE_LIMIT_PER_MINUTE`; 0 turns it off), one limit
//! for every gateway on the database.
//!
//! The arithmetic is GCRA (see [`super::gcra`]): one timestamp per client, the TAT. With
//! `RATE_LIMIT_STORE=postgres` (the default) the TAT lives in `rate_limit.clients`, an
//! unlogged table, and a request costs one statement: an upsert that moves the TAT when the
//! request is admitted and answers whether it was. The database's clock is the only clock,
//! so gateways whose clocks differ still keep one limit. `memory` keeps it in the process,
//! as a single gateway may prefer (no round trip; N gateways then allow N times the limit).
//!
//! When PostgreSQL does not answer, the gateway limits on its own, in memory, and asks the
//! database again once every [`SHARED_RETRY`]: an outage must neither lift the limit nor
//! refuse everyone, nor make every request wait for a pool timeout first.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;

use super::client_ip::ClientIp;
use super::gcra::{bucket_key, LocalLimiter, WINDOW};
use crate::config::RateLimitStore;
use crate::error::ApiError;

/// How long the gateway limits on its own after the shared limit failed to answer.
pub const SHARED_RETRY: Duration = Duration::from_secs(1);

/// The per-IP limit, in PostgreSQL or in memory.
#[derive(Debug)]
pub struct RateLimiter {
    /// The cost of one request.
    interval: Duration,
    /// Where the limit is shared; `None` with `RATE_LIMIT_STORE=memory`.
    shared: Option<PgPool>,
    /// The limit itself with `memory`; the stand-in while PostgreSQL is away otherwise.
    local: LocalLimiter,
    /// Set when the shared limit failed: until then, requests are limited locally.
    degraded_until: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `None` when `per_minute` is 0: no limit.
    pub fn new(per_minute: u32, store: RateLimitStore, pool: &PgPool) -> Option<Self> {
        let local = LocalLimiter::per_minute(per_minute)?;
        Some(RateLimiter {
            interval: WINDOW / per_minute,
            shared: (store == RateLimitStore::Postgres).then(|| pool.clone()),
            local,
            degraded_until: Mutex::new(None),
        })
    }

    /// Admits one request from `ip`, or says how long until one would be admitted.
    pub async fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let Some(pool) = &self.shared else {
            return self.local.check(ip, now);
        };
        let degraded = self.degraded();
        if degraded.is_some_and(|until| now < until) {
            return self.local.check(ip, now);
        }
        match take(pool, bucket_key(ip), self.interval).await {
            Ok(answer) => {
                if degraded.is_some() && self.set_degraded(None).is_some() {
                    tracing::info!("the shared rate limit answers again");
                }
                answer
            }
            Err(e) => {
                if self
                    .set_degraded(Some(Instant::now() + SHARED_RETRY))
                    .is_none()
                {
                    tracing::warn!(error = %e, "the shared rate limit does not answer; limiting in this process until it does");
                }
                metrics::counter!("http_rate_limit_fallbacks_total").increment(1);
                self.local.check(ip, now)
            }
        }
    }

    fn degraded(&self) -> Option<Instant> {
        // A poisoned lock only means a panic mid-assignment of an `Option<Instant>`.
        *self
            .degraded_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sets when to ask the database again, answering the previous setting.
    fn set_degraded(&self, until: Option<Instant>) -> Option<Instant> {
        let mut slot = self
            .degraded_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, until)
    }
}

/// One request from the client under `key`, against the shared TAT: one statement.
async fn take(
    pool: &PgPool,
    key: IpAddr,
    interval: Duration,
) -> Result<Result<(), Duration>, sqlx::Error> {
    // Every expression in `set` reads the row as it was, so `admitted` and `tat` are
    // decided on the same old TAT; a refused request leaves the TAT where it was (a
    // refusal costs nothing). `retry_ms` is only meaningful when refused: the TAT is then
    // unchanged, and the next request fits once the TAT plus its cost is within a window.
    let (admitted, retry_ms): (bool, i64) = sqlx::query_as(
        "insert into rate_limit.clients as c (client_key, tat, admitted)
         values ($1, now() + $2 * interval '1 microsecond', true)
         on conflict (client_key) do update
            set admitted = greatest(c.tat, now()) + $2 * interval '1 microsecond'
                           <= now() + $3 * interval '1 microsecond',
                tat = case when greatest(c.tat, now()) + $2 * interval '1 microsecond'
                                <= now() + $3 * interval '1 microsecond'
                           then greatest(c.tat, now()) + $2 * interval '1 microsecond'
                           else c.tat end
         returning admitted,
                   ceil(extract(epoch from (tat - now())) * 1000
                        + ($2 - $3) / 1000.0)::int8",
    )
    .bind(key.to_string())
    .bind(interval.as_micros() as i64)
    .bind(WINDOW.as_micros() as i64)
    .fetch_one(pool)
    .await?;
    Ok(if admitted {
        Ok(())
    } else {
        Err(Duration::from_millis(retry_ms.max(1) as u64))
    })
}

/// Answers 429 with `Retry-After` once a client is over its allowance.
pub async fn rate_limit(
    State(limiter): State<Arc<RateLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0);
    match limiter.check(ip).await {
        Ok(()) => next.run(req).await,
        Err(retry_after) => {
            metrics::counter!("http_rate_limited_total").increment(1);
            ApiError::TooManyRequests {
                code: "rate_limited",
                detail: "too many requests from this address; retry after the time in Retry-After"
                    .into(),
                retry_after,
            }
            .into_response()
        }
    }
}
