//! What receiving carriers' webhooks needs: the signer of `SHIPPING_WEBHOOK_SECRET` and
//! the replay cache of the carriers' webhook ids, in PostgreSQL so every gateway shares it.

use std::time::Duration;

use sqlx::PgPool;

use crate::webhook::{WebhookSigner, FUTURE_SKEW};

/// The webhook ids already received, per carrier, shared by every process.
#[derive(Clone)]
pub struct TrackingReplay {
    pool: PgPool,
    window: Duration,
}

impl TrackingReplay {
    pub fn new(pool: PgPool, window: Duration) -> Self {
        TrackingReplay { pool, window }
    }

    /// Records `webhook_id` of `carrier`; `false` when it was received before.
    /// Concurrent claims of one id: one wins (the primary key).
    #[tracing::instrument(skip_all, fields(carrier, webhook_id), err)]
    pub async fn claim(&self, carrier: &str, webhook_id: &str) -> Result<bool, sqlx::Error> {
        // Twice the window plus the skew: a receipt is kept as long as a replay of it
        // could pass the time check.
        let keep = self.window.as_secs_f64() * 2.0 + FUTURE_SKEW.as_secs_f64();
        sqlx::query(
            "delete from carrier.webhook_receipts
              where received_at < now() - make_interval(secs => $1)",
        )
        .bind(keep)
        .execute(&self.pool)
        .await?;
        let fresh = sqlx::query(
            "insert into carrier.webhook_receipts (carrier, webhook_id) values ($1, $2)
             on conflict (carrier, webhook_id) do nothing",
        )
        .bind(carrier)
        .bind(webhook_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(fresh)
    }

    /// Forgets a claim whose update could not be recorded, so the carrier's retry of it is
    /// taken rather than refused as a replay.
    pub(crate) async fn release(&self, carrier: &str, webhook_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("delete from carrier.webhook_receipts where carrier = $1 and webhook_id = $2")
            .bind(carrier)
            .bind(webhook_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What receiving carriers' webhooks needs: the signer of `SHIPPING_WEBHOOK_SECRET` and
/// the replay cache over the same window.
pub struct TrackingReceiver {
    pub signer: WebhookSigner,
    pub replay: TrackingReplay,
}

impl TrackingReceiver {
    pub fn new(secret: impl Into<Vec<u8>>, tolerance: Duration, pool: PgPool) -> Self {
        TrackingReceiver {
            signer: WebhookSigner::new(secret, tolerance),
            replay: TrackingReplay::new(pool, tolerance),
        }
    }
}
