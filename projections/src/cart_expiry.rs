//! The cart expiry process (issue 21): carts nobody touched for a while are expired, so
//! their lines, saved lines, coupon and share link go.
//!
//! How long a cart may stay idle depends on whose it is ([`CartTtl`], defaults from
//! Saleor): a guest's 30 days, a signed-in customer's 90, and 6 hours for a cart with
//! neither lines nor saved lines (only a coupon or a share link left). Idle means no cart
//! event since `carts.carts.active_at`. A cart with nothing in it has nothing to expire
//! and is never looked at.
//!
//! A [`sweep`] reads the idle carts from the `carts` read model and sends each the
//! `expire_idle_cart` use case with the stream revision it saw. The use case derives its
//! command id from the cart and that revision, and the domain appends nothing if the cart
//! changed since, so a sweep behind a lagging read model leaves an active cart alone, and
//! two copies of the process (or one sweep repeated) expire each cart once. It runs under
//! a lease anyway (one copy at a time), started by the `serve` and `process` roles.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use commands::handlers::Handlers;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

/// Carts one sweep looks at, oldest activity first; the next sweep takes the rest.
const BATCH: i64 = 500;

/// How long a cart may stay idle before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartTtl {
    /// A guest's cart (no user).
    pub guest: Duration,
    /// A signed-in customer's cart.
    pub user: Duration,
    /// A cart with no line and no saved line (a coupon or a share link left behind).
    pub empty: Duration,
}

impl CartTtl {
    /// Saleor's defaults: guests 30 days, customers 90 days, empty carts 6 hours.
    pub const DEFAULT: CartTtl = CartTtl {
        guest: Duration::from_secs(30 * 86_400),
        user: Duration::from_secs(90 * 86_400),
        empty: Duration::from_secs(6 * 3_600),
    };
}

impl Default for CartTtl {
    fn default() -> Self {
        CartTtl::DEFAULT
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CartExpiryError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Command(#[from] commands::cart::CartUseCaseError),
}

fn before(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now - TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX)
}

/// The carts idle past their window at `now`: id and the revision they were seen at.
pub async fn idle_carts(
    pool: &PgPool,
    ttl: CartTtl,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select cart_id, revision from (
             select c.cart_id, c.revision, c.active_at, c.user_id,
                    exists (select 1 from carts.cart_items i where i.cart_id = c.cart_id) as lines,
                    exists (select 1 from carts.cart_saved_items s where s.cart_id = c.cart_id) as saved,
                    exists (select 1 from carts.cart_shares h where h.cart_id = c.cart_id) as shared,
                    c.coupon_code is not null as coupon
               from carts.carts c
              where c.active_at < $1 and c.revision is not null
         ) c
          where (lines or saved or shared or coupon)
            and active_at < case when not lines and not saved then $2
                                 when user_id is null then $3
                                 else $4 end
          order by active_at
          limit $5",
    )
    // The oldest any window reaches, so the index narrows the scan first.
    .bind(before(now, ttl.empty.min(ttl.guest).min(ttl.user)))
    .bind(before(now, ttl.empty))
    .bind(before(now, ttl.guest))
    .bind(before(now, ttl.user))
    .bind(BATCH)
    .fetch_all(pool)
    .await
}

/// One sweep at `now`: expires every cart idle past its window that did not change since
/// the read model saw it. Answers how many carts were expired.
#[tracing::instrument(skip_all, err)]
pub async fn sweep(
    handlers: &Handlers,
    pool: &PgPool,
    ttl: CartTtl,
    now: DateTime<Utc>,
) -> Result<usize, CartExpiryError> {
    let mut expired = 0;
    for (cart_id, revision) in idle_carts(pool, ttl, now).await? {
        let Ok(revision) = u64::try_from(revision) else {
            continue;
        };
        if commands::cart::expire_idle_cart(handlers, cart_id, revision, now)
            .await?
            .is_some()
        {
            expired += 1;
        }
    }
    if expired > 0 {
        metrics::counter!("carts_expired_total").increment(expired as u64);
        tracing::info!(expired, "idle carts expired");
    }
    Ok(expired)
}

/// A sweep at once, then one every `every`, until `stop`. A failed sweep is logged and
/// tried again next time.
pub async fn run(
    handlers: Arc<Handlers>,
    pool: PgPool,
    ttl: CartTtl,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Infallible> {
    loop {
        if let Err(e) = sweep(&handlers, &pool, ttl, Utc::now()).await {
            tracing::warn!(error = %e, "cart expiry failed; trying again next interval");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}
