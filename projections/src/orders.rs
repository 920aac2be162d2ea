//! The `orders` read model: `orders`, `order_items`, `order_history`
//! (the seed's tables, money as minor units plus currency).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::order::{ChangedBy, OrderEvent};
use domain::DomainEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::{Projection, ProjectionError};

pub struct OrdersProjection;

fn status_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn history(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    order_id: Uuid,
    status: &str,
    notes: Option<&str>,
    by: Option<&ChangedBy>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (user, role) = match by {
        Some(b) => (b.user_id.map(|u| u.as_uuid()), b.role.clone()),
        None => (
            event
                .metadata
                .get("actor_id")
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok()),
            event
                .metadata
                .get("actor_role")
                .and_then(|v| v.as_str())
                .unwrap_or("system")
                .to_owned(),
        ),
    };
    sqlx::query(
        "insert into order_history (order_id, event_id, status, notes, updated_by, role, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (event_id) do nothing",
    )
    .bind(order_id)
    .bind(event.id)
    .bind(status)
    .bind(notes)
    .bind(user)
    .bind(role)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn set_status(
    tx: &mut PgConnection,
    order_id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update orders set status = $2, updated_at = $3 where order_id = $1")
        .bind(order_id)
        .bind(status)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[async_trait]
impl Projection for OrdersProjection {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn schema(&self) -> &'static str {
        "orders"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/orders.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.category() != "order" {
            return Ok(());
        }
        let Some(order_id) = event
            .stream_id
            .strip_prefix("order-")
            .and_then(|s| Uuid::parse_str(s).ok())
        else {
            return Ok(());
        };
        let e = OrderEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
            .map_err(|e| ProjectionError::event(event, e))?;
        match e {
            OrderEvent::OrderPlaced {
                user_id,
                lines,
                totals,
                shipping_address,
                billing_address,
                payment_method,
                notes,
                placed_at,
                ..
            } => {
                sqlx::query(
                    "insert into orders (order_id, user_id, status, payment_status, currency, subtotal,
                         tax, shipping, discount, total, shipping_address, billing_address, payment_method,
                         notes, created_at, updated_at)
                     values ($1, $2, 'pending', 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
                     on conflict (order_id) do nothing",
                )
                .bind(order_id)
                .bind(user_id.as_uuid())
                .bind(totals.total.currency.as_str())
                .bind(totals.subtotal.amount)
                .bind(totals.tax.amount)
                .bind(totals.shipping.amount)
                .bind(totals.discount.amount)
                .bind(totals.total.amount)
                .bind(serde_json::to_value(&shipping_address).unwrap_or_default())
                .bind(billing_address.map(|a| serde_json::to_value(a).unwrap_or_default()))
                .bind(&payment_method)
                .bind(&notes)
                .bind(placed_at)
                .execute(&mut *tx)
                .await?;
                for (i, l) in lines.iter().enumerate() {
                    sqlx::query(
                        "insert into order_items (order_id, line, product_id, sku, quantity, price, subtotal)
                         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
                    )
                    .bind(order_id)
                    .bind(i as i32)
                    .bind(l.product_id.as_uuid())
                    .bind(l.sku.as_str())
                    .bind(l.quantity as i32)
                    .bind(l.unit_price.amount)
                    .bind(l.unit_price.amount * i64::from(l.quantity))
                    .execute(&mut *tx)
                    .await?;
                }
                history(
                    tx,
                    event,
                    order_id,
                    "pending",
                    notes.as_deref(),
                    None,
                    placed_at,
                )
                .await?;
            }
            OrderEvent::OrderStockReserved { at } => {
                set_status(tx, order_id, "awaiting_payment", at).await?;
                history(
                    tx,
                    event,
                    order_id,
                    "awaiting_payment",
                    None,
                    Some(&ChangedBy::system()),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderPaymentFailed { code, at, .. } => {
                sqlx::query("update orders set payment_status = 'failed', updated_at = $2 where order_id = $1")
                    .bind(order_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                history(
                    tx,
                    event,
                    order_id,
                    "awaiting_payment",
                    Some(&format!("payment failed: {code}")),
                    Some(&ChangedBy::system()),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderPaid { at, .. } => {
                sqlx::query("update orders set status = 'paid', payment_status = 'captured', updated_at = $2 where order_id = $1")
                    .bind(order_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                history(
                    tx,
                    event,
                    order_id,
                    "paid",
                    None,
                    Some(&ChangedBy::system()),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderShipped {
                tracking_number,
                note,
                by,
                at,
            } => {
                sqlx::query("update orders set status = 'shipped', tracking_number = $2, updated_at = $3 where order_id = $1")
                    .bind(order_id)
                    .bind(&tracking_number)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                history(
                    tx,
                    event,
                    order_id,
                    "shipped",
                    note.as_deref(),
                    Some(&by),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderDelivered { note, by, at } => {
                set_status(tx, order_id, "delivered", at).await?;
                history(
                    tx,
                    event,
                    order_id,
                    "delivered",
                    note.as_deref(),
                    Some(&by),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderCancelled {
                reason,
                note,
                by,
                was_paid,
                at,
            } => {
                sqlx::query(
                    "update orders set status = 'cancelled', cancellation_reason = $2, updated_at = $3,
                         payment_status = case when $4 then 'refunded' else payment_status end,
                         refunded = case when $4 then total else refunded end
                      where order_id = $1",
                )
                .bind(order_id)
                .bind(status_json(&reason))
                .bind(at)
                .bind(was_paid)
                .execute(&mut *tx)
                .await?;
                history(
                    tx,
                    event,
                    order_id,
                    "cancelled",
                    note.as_deref(),
                    Some(&by),
                    at,
                )
                .await?;
            }
            OrderEvent::OrderRefunded {
                amount,
                reason,
                full,
                by,
                at,
            } => {
                let status = if full {
                    "refunded"
                } else {
                    "partially_refunded"
                };
                sqlx::query(
                    "update orders set status = $2, payment_status = $2, refunded = refunded + $3, updated_at = $4
                      where order_id = $1",
                )
                .bind(order_id)
                .bind(status)
                .bind(amount.amount)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                history(tx, event, order_id, status, Some(&reason), Some(&by), at).await?;
            }
        }
        Ok(())
    }
}
