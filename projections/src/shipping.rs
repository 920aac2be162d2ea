//! The `shipping` read model (issue 22): every shipment with its lines (an order's, a
//! warehouse's), the fulfilment queue (orders paid and not fully shipped, oldest first),
//! and each carrier's time from `shipped` to `delivered`.
//!
//! Shipments come from the `shipment-<id>` streams, the queue from the `order-<id>`
//! streams: an order joins it when placed, is in the queue once paid, counts the units its
//! shipments took as they leave, and leaves it when every line has shipped (or it is
//! cancelled, or refunded in full). A carrier's time is counted from the shipment's
//! `shipped` step to its `delivered` one, both event times, so a rebuild counts the same.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::order::{Order, OrderEvent};
use domain::shipping::{Shipment, ShipmentEvent, ShipmentStatus};
use domain::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::{decode, Projection, ProjectionError};

pub struct ShippingProjection;

#[async_trait]
impl Projection for ShippingProjection {
    fn name(&self) -> &'static str {
        "shipping"
    }

    fn schema(&self) -> &'static str {
        "shipping"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/shipping.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        match event.category() {
            c if c == Shipment::CATEGORY => true,
            c if c == Order::CATEGORY => matches!(
                event.event_type.as_str(),
                "OrderPlaced"
                    | "OrderPaid"
                    | "OrderLinesShipped"
                    | "OrderShipped"
                    | "OrderCancelled"
                    | "OrderRefunded"
                    | "OrderLinesCancelled"
            ),
            _ => false,
        }
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(id) = event.stream_uuid() else {
            return Ok(());
        };
        if event.category() == Shipment::CATEGORY {
            return apply_shipment(tx, id, decode::<ShipmentEvent>(event)?).await;
        }
        apply_order(tx, id, decode::<OrderEvent>(event)?).await
    }
}

async fn apply_shipment(
    tx: &mut PgConnection,
    id: Uuid,
    e: ShipmentEvent,
) -> Result<(), ProjectionError> {
    match e {
        ShipmentEvent::ShipmentCreated {
            shipment_id,
            order_id,
            user_id,
            lines,
            warehouse,
            carrier,
            service_level,
            tracking_number,
            cost,
            created_at,
            ..
        } => {
            let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
            sqlx::query(
                "insert into shipments (shipment_id, order_id, user_id, warehouse, carrier,
                     service_level, tracking_number, status, units, cost, currency,
                     created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $11)
                 on conflict (shipment_id) do nothing",
            )
            .bind(shipment_id.as_uuid())
            .bind(order_id.as_uuid())
            .bind(user_id.as_uuid())
            .bind(&warehouse)
            .bind(&carrier)
            .bind(&service_level)
            .bind(&tracking_number)
            .bind(units)
            .bind(cost.amount)
            .bind(cost.currency.as_str())
            .bind(created_at)
            .execute(&mut *tx)
            .await?;
            for l in &lines {
                sqlx::query(
                    "insert into shipment_lines (shipment_id, sku, product_id, variant_id, quantity)
                     values ($1, $2, $3, $4, $5) on conflict do nothing",
                )
                .bind(shipment_id.as_uuid())
                .bind(l.sku.as_str())
                .bind(l.product_id.as_uuid())
                .bind(l.variant_id.map(|v| v.as_uuid()))
                .bind(i32::try_from(l.quantity).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await?;
            }
        }
        ShipmentEvent::ShipmentStatusChanged { to, at, .. } => {
            let row: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
                "update shipments set status = $2, updated_at = $3,
                     shipped_at = case when $2 = 'shipped' then $3 else shipped_at end,
                     delivered_at = case when $2 = 'delivered' then $3 else delivered_at end
                  where shipment_id = $1
                  returning carrier, shipped_at",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if let (ShipmentStatus::Delivered, Some((carrier, Some(shipped_at)))) = (to, row) {
                let seconds = (at - shipped_at).num_seconds().max(0);
                sqlx::query(
                    "insert into carrier_performance (carrier, delivered, total_seconds,
                         fastest_seconds, slowest_seconds)
                     values ($1, 1, $2, $2, $2)
                     on conflict (carrier) do update set
                         delivered = carrier_performance.delivered + 1,
                         total_seconds = carrier_performance.total_seconds + $2,
                         fastest_seconds = least(carrier_performance.fastest_seconds, $2),
                         slowest_seconds = greatest(carrier_performance.slowest_seconds, $2)",
                )
                .bind(&carrier)
                .bind(seconds)
                .execute(&mut *tx)
                .await?;
            }
        }
        // The timeline is the shipment's own (GET /shipments/{id}/tracking).
        ShipmentEvent::ShipmentTracked { .. } => {}
    }
    Ok(())
}

async fn apply_order(
    tx: &mut PgConnection,
    order_id: Uuid,
    e: OrderEvent,
) -> Result<(), ProjectionError> {
    match e {
        OrderEvent::OrderPlaced {
            lines, placed_at, ..
        } => {
            let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
            sqlx::query(
                "insert into fulfilment_queue (order_id, placed_at, units_ordered)
                 values ($1, $2, $3) on conflict (order_id) do nothing",
            )
            .bind(order_id)
            .bind(placed_at)
            .bind(units)
            .execute(&mut *tx)
            .await?;
        }
        OrderEvent::OrderPaid { at, .. } => {
            sqlx::query("update fulfilment_queue set paid_at = $2 where order_id = $1")
                .bind(order_id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        OrderEvent::OrderLinesShipped { lines, .. } => {
            let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
            sqlx::query(
                "update fulfilment_queue set units_shipped = units_shipped + $2,
                     shipments = shipments + 1
                  where order_id = $1",
            )
            .bind(order_id)
            .bind(units)
            .execute(&mut *tx)
            .await?;
        }
        // Cancelled units no longer wait to ship.
        OrderEvent::OrderLinesCancelled { lines, .. } => {
            let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
            sqlx::query(
                "update fulfilment_queue set units_ordered = units_ordered - $2
                  where order_id = $1",
            )
            .bind(order_id)
            .bind(units)
            .execute(&mut *tx)
            .await?;
        }
        OrderEvent::OrderShipped { .. }
        | OrderEvent::OrderCancelled { .. }
        | OrderEvent::OrderRefunded { full: true, .. } => {
            sqlx::query("delete from fulfilment_queue where order_id = $1")
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
