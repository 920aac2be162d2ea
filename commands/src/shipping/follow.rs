//! What a shipment's status means for the rest of the shop. Once it has left, each of its
//! lines commits that much of the order's stock reservation, then the order records it
//! (`partially_shipped`, or `shipped` with the last one); once it arrived, the order
//! records that (`delivered` with the last one). The stock goes first: the checkout saga
//! commits whatever an order still holds when it ships, and by then the shipments have
//! taken their parts.
//!
//! Every step is idempotent (a shipment commits once per SKU, the order records a
//! shipment once), so running this again after a failure finishes what was cut short:
//! the use cases run it on every change, including a repeated one.

use domain::id::ShipmentId;
use domain::inventory::{Inventory, InventoryCommand};
use domain::order::{ChangedBy, Order, OrderCommand};
use domain::shipping::{CreatedShipment, ShipmentStatus};

use super::error::ShippingUseError;
use crate::cart::shopper::step;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// Brings the stock and the order up to `shipment`'s status; answers the position of the
/// last event it appended.
pub(crate) async fn follow(
    handlers: &Handlers,
    shipment: &CreatedShipment,
    by: &ChangedBy,
    meta: &CommandMeta,
) -> Result<Option<Position>, ShippingUseError> {
    let mut last = None;
    if !shipment.status.has_left() {
        return Ok(last);
    }
    let id: ShipmentId = shipment.shipment_id;
    for line in &shipment.lines {
        let command = InventoryCommand::CommitShipped {
            order_id: shipment.order_id,
            shipment_id: id,
            quantity: line.quantity,
            warehouse: shipment.warehouse.clone(),
        };
        let handled = handlers
            .inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(&line.sku),
                command,
                step(meta, &format!("commit:{id}:{}", line.sku)),
            )
            .await?;
        last = handled.position.or(last);
    }
    let order_stream = CommandHandler::<Order>::stream_id(shipment.order_id);
    let shipped = OrderCommand::ShipLines {
        shipment_id: id,
        tracking_number: Some(shipment.tracking_number.clone()),
        by: by.clone(),
        at: meta.occurred_at,
    };
    let handled = handlers
        .orders
        .handle(&order_stream, shipped, step(meta, &format!("shipped:{id}")))
        .await?;
    last = handled.position.or(last);
    if shipment.status == ShipmentStatus::Delivered {
        let delivered = OrderCommand::RecordShipmentDelivered {
            shipment_id: id,
            by: by.clone(),
            at: meta.occurred_at,
        };
        let handled = handlers
            .orders
            .handle(
                &order_stream,
                delivered,
                step(meta, &format!("delivered:{id}")),
            )
            .await?;
        last = handled.position.or(last);
    }
    Ok(last)
}
