//! Provider webhooks: the signature (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
//! in `crate::webhook`, which carriers' webhooks share), the timestamp window, and the
//! replay cache.
//!
//! The signature covers the timestamp, so a captured request cannot be sent again later
//! with a fresh time; the window bounds how long one can be replayed as it is, and the
//! replay cache (`payment.webhook_receipts`, in PostgreSQL so every gateway process shares
//! it) refuses a signature seen before within the window.

use std::time::Duration;

use sqlx::PgPool;

pub use crate::webhook::{WebhookError, WebhookSigner, FUTURE_SKEW};

/// The signatures already received, shared by every process through PostgreSQL.
#[derive(Clone)]
pub struct ReplayCache {
    pool: PgPool,
    window: Duration,
}

impl ReplayCache {
    /// `window`: the signer's tolerance; a receipt older than it can go, as its replay
    /// would be refused as stale.
    pub fn new(pool: PgPool, window: Duration) -> Self {
        ReplayCache { pool, window }
    }

    /// Records `signature` (of the provider's event `event_id`); refuses one recorded
    /// before. Concurrent claims of one signature: one wins (the primary key).
    #[tracing::instrument(skip_all, fields(%event_id), err)]
    pub async fn claim(&self, signature: &str, event_id: &str) -> Result<(), ReplayError> {
        // Twice the window plus the skew: a receipt is kept for as long as its signature
        // could pass the time check.
        let keep = self.window.as_secs_f64() * 2.0 + FUTURE_SKEW.as_secs_f64();
        sqlx::query(
            "delete from payment.webhook_receipts
              where received_at < now() - make_interval(secs => $1)",
        )
        .bind(keep)
        .execute(&self.pool)
        .await?;
        let fresh = sqlx::query(
            "insert into payment.webhook_receipts (signature, event_id) values ($1, $2)
             on conflict (signature) do nothing",
        )
        .bind(signature)
        .bind(event_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            Ok(())
        } else {
            Err(ReplayError::Replayed)
        }
    }
}

/// What receiving webhooks needs: the signer of `PAYMENT_WEBHOOK_SECRET` and the replay
/// cache over the same window.
pub struct WebhookReceiver {
    pub signer: WebhookSigner,
    pub replay: ReplayCache,
}

impl WebhookReceiver {
    pub fn new(secret: impl Into<Vec<u8>>, tolerance: Duration, pool: PgPool) -> Self {
        WebhookReceiver {
            signer: WebhookSigner::new(secret, tolerance),
            replay: ReplayCache::new(pool, tolerance),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("this signature was received before")]
    Replayed,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
