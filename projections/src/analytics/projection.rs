//! The analytics read model as the runtime sees it: its schema, the events it wants, and a
//! batch applied in three steps (load, fold, write).

use async_trait::async_trait;
use commands::store::RecordedEvent;
use sqlx::PgConnection;

use super::batch::Batch;
use super::fact::fact;
use crate::runtime::projection::{Projection, ProjectionError};

pub struct AnalyticsProjection;

#[async_trait]
impl Projection for AnalyticsProjection {
    fn name(&self) -> &'static str {
        "analytics"
    }

    fn schema(&self) -> &'static str {
        "analytics"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../../schemas/read-models/analytics.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(
            (event.category(), event.event_type.as_str()),
            (
                "order",
                "OrderPlaced"
                    | "OrderPaid"
                    | "OrderPaymentFailed"
                    | "OrderRefunded"
                    | "OrderCancelled"
            ) | (
                "cart",
                "CartItemAdded" | "GuestCartMerged" | "CartCheckedOut" | "CartExpired"
            ) | ("inventory", _)
                | (
                    "product",
                    "ProductCreated" | "ProductUpdated" | "VariantAdded"
                )
                | ("category", _)
        )
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, &[event]).await
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut facts = Vec::with_capacity(events.len());
        for event in events {
            if self.wants(event) {
                facts.extend(fact(event)?);
            }
        }
        if facts.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::load(&mut *tx, &facts).await?;
        for fact in facts {
            batch.fold(fact);
        }
        batch.write(&mut *tx).await?;
        Ok(())
    }
}
