//! The `returns` read model (issue 22): every return with its lines, its status and when
//! each step happened, from the `returns-<order id>` streams. Staff find a return's order
//! here (`PUT /returns/{id}/status`), and analysts count returns by reason, status and
//! disposition.

use async_trait::async_trait;
use commands::store::RecordedEvent;
use domain::returns::{OrderReturns, ReturnsEvent};
use domain::Aggregate;
use sqlx::PgConnection;

use crate::runtime::{decode, Projection, ProjectionError};

pub struct ReturnsProjection;

#[async_trait]
impl Projection for ReturnsProjection {
    fn name(&self) -> &'static str {
        "returns"
    }

    fn schema(&self) -> &'static str {
        "returns"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/returns.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == OrderReturns::CATEGORY
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        use ReturnsEvent as E;
        match decode::<ReturnsEvent>(event)? {
            E::ReturnRequested {
                return_id,
                order_id,
                user_id,
                lines,
                reason,
                requested_at,
                ..
            } => {
                let refund: i64 = lines.iter().map(|l| l.refund.amount).sum();
                let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
                let currency = lines
                    .first()
                    .map_or("USD".to_owned(), |l| l.refund.currency.as_str().to_owned());
                sqlx::query(
                    "insert into returns (return_id, order_id, user_id, status, reason, refund,
                         currency, units, requested_at, updated_at)
                     values ($1, $2, $3, 'requested', $4, $5, $6, $7, $8, $8)
                     on conflict (return_id) do nothing",
                )
                .bind(return_id.as_uuid())
                .bind(order_id.as_uuid())
                .bind(user_id.as_uuid())
                .bind(&reason)
                .bind(refund)
                .bind(&currency)
                .bind(units)
                .bind(requested_at)
                .execute(&mut *tx)
                .await?;
                for l in &lines {
                    sqlx::query(
                        "insert into return_lines (return_id, sku, product_id, variant_id,
                             quantity, refund)
                         values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
                    )
                    .bind(return_id.as_uuid())
                    .bind(l.sku.as_str())
                    .bind(l.product_id.as_uuid())
                    .bind(l.variant_id.map(|v| v.as_uuid()))
                    .bind(i32::try_from(l.quantity).unwrap_or(i32::MAX))
                    .bind(l.refund.amount)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            E::ReturnApproved { return_id, at, .. } => {
                sqlx::query(
                    "update returns set status = 'approved', approved_at = $2, updated_at = $2
                      where return_id = $1",
                )
                .bind(return_id.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            E::ReturnRejected { return_id, at, .. } => {
                sqlx::query(
                    "update returns set status = 'rejected', rejected_at = $2, updated_at = $2
                      where return_id = $1",
                )
                .bind(return_id.as_uuid())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            E::ReturnReceived {
                return_id,
                warehouse,
                disposition,
                at,
                ..
            } => {
                sqlx::query(
                    "update returns set status = 'received', received_at = $2, updated_at = $2,
                         warehouse = $3, disposition = $4
                      where return_id = $1",
                )
                .bind(return_id.as_uuid())
                .bind(at)
                .bind(&warehouse)
                .bind(disposition.as_str())
                .execute(&mut *tx)
                .await?;
            }
            E::ReturnRefunded {
                return_id,
                payment_reference,
                at,
                ..
            } => {
                sqlx::query(
                    "update returns set status = 'refunded', refunded_at = $2, updated_at = $2,
                         payment_reference = $3
                      where return_id = $1",
                )
                .bind(return_id.as_uuid())
                .bind(at)
                .bind(&payment_reference)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}
