//! The `vendor_orders` read model (issue 23 item 3): a customer's order split per store.
//! Each store with lines in an order has its sub-order: its lines, their subtotal, the
//! order's status and, per line, how many units left in a shipment and arrived. The
//! marketplace's own lines stay in `orders`. Every value comes from the order's events,
//! so a rebuild equals the live build. The stores' dashboard figures (paid sales per day,
//! top products) are kept beside them, by [`vendor_sales`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::order::{Order, OrderEvent, OrderStatus};
use domain::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, Projection, ProjectionError};
use crate::vendor_sales;

pub struct VendorOrdersProjection;

#[async_trait]
impl Projection for VendorOrdersProjection {
    fn name(&self) -> &'static str {
        "vendor_orders"
    }

    fn schema(&self) -> &'static str {
        "vendor_orders"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == Order::CATEGORY
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/vendor_orders.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(order_id) = event.stream_uuid() else {
            return Ok(());
        };
        use OrderEvent as E;
        use OrderStatus as S;
        match decode::<OrderEvent>(event)? {
            E::OrderPlaced {
                lines, placed_at, ..
            } => {
                for l in lines.iter() {
                    let Some(vendor) = l.vendor_id else { continue };
                    // An order from before the money bounds may not subtract: saturated, as
                    // every read model's sums are, rather than parked.
                    let price = l.price().map_or(i64::MAX, |m| m.amount);
                    sqlx::query(
                        "insert into sub_order_lines (vendor_id, order_id, sku, product_id,
                             variant_id, quantity, price)
                         values ($1, $2, $3, $4, $5, $6, $7)
                         on conflict do nothing",
                    )
                    .bind(vendor.as_uuid())
                    .bind(order_id)
                    .bind(l.sku.as_str())
                    .bind(l.product_id.as_uuid())
                    .bind(l.variant_id.map(|v| v.as_uuid()))
                    .bind(l.quantity as i32)
                    .bind(price)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "insert into sub_orders (vendor_id, order_id, order_status, currency,
                         subtotal, line_count, units, placed_at, updated_at)
                     select vendor_id, order_id, 'pending', $2,
                            least(sum(price), 9223372036854775807), count(*), sum(quantity),
                            $3, $3
                       from sub_order_lines where order_id = $1
                      group by vendor_id, order_id
                     on conflict do nothing",
                )
                .bind(order_id)
                .bind(lines.first().map_or("USD".to_owned(), |l| {
                    l.unit_price.currency.as_str().to_owned()
                }))
                .bind(placed_at)
                .execute(&mut *tx)
                .await?;
            }
            E::OrderStockReserved { at } => status(tx, order_id, S::AwaitingPayment, at).await?,
            E::OrderPaid { at, .. } => {
                status(tx, order_id, S::Paid, at).await?;
                vendor_sales::paid(tx, order_id, at).await?;
            }
            E::OrderPaymentFailed { .. } => {}
            E::OrderCancelled { was_paid, at, .. } => {
                if was_paid {
                    vendor_sales::everything(tx, order_id, at).await?;
                }
                status(tx, order_id, S::Cancelled, at).await?;
            }
            E::OrderRefunded { full, at, .. } => {
                if full {
                    vendor_sales::everything(tx, order_id, at).await?;
                }
                let to = if full {
                    S::Refunded
                } else {
                    S::PartiallyRefunded
                };
                status(tx, order_id, to, at).await?;
            }
            E::OrderShipmentCreated {
                shipment_id, lines, ..
            } => {
                for l in lines {
                    sqlx::query(
                        "insert into shipment_lines (order_id, shipment_id, sku, quantity)
                         values ($1, $2, $3, $4) on conflict do nothing",
                    )
                    .bind(order_id)
                    .bind(shipment_id.as_uuid())
                    .bind(l.sku.as_str())
                    .bind(l.quantity as i32)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            E::OrderLinesShipped { lines, at, .. } => {
                for l in lines {
                    sqlx::query(
                        "update sub_order_lines set shipped = least(quantity, shipped + $3)
                          where order_id = $1 and sku = $2",
                    )
                    .bind(order_id)
                    .bind(l.sku.as_str())
                    .bind(l.quantity as i32)
                    .execute(&mut *tx)
                    .await?;
                }
                status(tx, order_id, S::PartiallyShipped, at).await?;
            }
            E::OrderShipmentDelivered { shipment_id, .. } => {
                sqlx::query(
                    "update sub_order_lines l set delivered = least(l.quantity, l.delivered + s.quantity)
                       from shipment_lines s
                      where s.order_id = $1 and s.shipment_id = $2
                        and l.order_id = s.order_id and l.sku = s.sku",
                )
                .bind(order_id)
                .bind(shipment_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            }
            E::OrderLinesCancelled { lines, at, .. } => {
                for l in lines {
                    vendor_sales::cancelled(tx, order_id, l.sku.as_str(), l.quantity, at).await?;
                    sqlx::query(
                        "update sub_order_lines set cancelled = least(quantity, cancelled + $3)
                          where order_id = $1 and sku = $2",
                    )
                    .bind(order_id)
                    .bind(l.sku.as_str())
                    .bind(l.quantity as i32)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("update sub_orders set updated_at = $2 where order_id = $1")
                    .bind(order_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            // An order shipped or delivered by hand, or its last shipment: every line that
            // was not cancelled.
            E::OrderShipped { at, .. } => {
                sqlx::query(
                    "update sub_order_lines set shipped = quantity - cancelled where order_id = $1",
                )
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
                status(tx, order_id, S::Shipped, at).await?;
            }
            E::OrderDelivered { at, .. } => {
                sqlx::query(
                    "update sub_order_lines set shipped = quantity - cancelled,
                         delivered = quantity - cancelled
                      where order_id = $1",
                )
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
                status(tx, order_id, S::Delivered, at).await?;
            }
        }
        Ok(())
    }
}

async fn status(
    tx: &mut PgConnection,
    order_id: Uuid,
    to: OrderStatus,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update sub_orders set order_status = $2, updated_at = $3 where order_id = $1")
        .bind(order_id)
        .bind(to.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
