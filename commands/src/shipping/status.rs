//! Staff move a shipment one step (`packed`, `shipped`, `in_transit`, `delivered`, or
//! `returned` / `lost` once it has left), and the order and stock follow.

use domain::order::{Order, OrderStatus};
use domain::shipping::{Shipment, ShipmentCommand, ShipmentError, ShipmentStatus};
use domain::value::{optional_paragraphs, MAX_NOTE};
use uuid::Uuid;

use super::error::ShippingUseError;
use super::follow::follow;
use super::shipments::{load_shipment, ShipmentOutcome};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::Caller;

/// Moves `shipment_id` to `to`. A step back, a skipped step or a step from an end is
/// refused by the shipment's rules before anything is written; the step into `shipped`
/// also needs an order that still ships (paid, or partly shipped), checked before the
/// shipment moves. Asking again for the status it has writes nothing on the shipment and
/// finishes whatever the first request left undone of the order and the stock.
#[tracing::instrument(skip_all, fields(%shipment_id, to = %to), err)]
pub async fn change_shipment_status(
    handlers: &Handlers,
    caller: &Caller,
    shipment_id: Uuid,
    to: ShipmentStatus,
    note: Option<String>,
    meta: CommandMeta,
) -> Result<ShipmentOutcome, ShippingUseError> {
    if !caller.is_staff() {
        return Err(ShippingUseError::NotStaff);
    }
    let note = optional_paragraphs("notes", note.as_deref(), MAX_NOTE)?;
    let shipment = load_shipment(handlers, shipment_id).await?;
    let moves = shipment
        .status
        .step(to)
        .map_err(|e| ShippingUseError::Rejected(ShipmentError::Step(e)))?;
    if moves && to == ShipmentStatus::Shipped {
        let (order, _) = handlers
            .orders
            .load(&CommandHandler::<Order>::stream_id(shipment.order_id))
            .await?;
        let status = order
            .placed
            .as_ref()
            .map_or(OrderStatus::Cancelled, |o| o.status);
        if !matches!(status, OrderStatus::Paid | OrderStatus::PartiallyShipped) {
            return Err(ShippingUseError::NotShippable(status.as_str()));
        }
    }
    let by = caller.changed_by();
    let handled = handlers
        .shipments
        .handle(
            &CommandHandler::<Shipment>::stream_id(shipment_id),
            ShipmentCommand::ChangeStatus {
                to,
                note,
                by: by.clone(),
                at: meta.occurred_at,
            },
            meta.clone(),
        )
        .await?;
    let shipment = load_shipment(handlers, shipment_id).await?;
    let followed = follow(handlers, &shipment, &by, &meta).await?;
    Ok(ShipmentOutcome {
        shipment,
        position: followed.or(handled.position),
    })
}
