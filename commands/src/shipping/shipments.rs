//! A shipment, and an order's shipments, as the caller may see them: read whole from the
//! write side (the order names its shipments), so a staff member who just created one
//! reads it back at once.

use domain::order::{Order, OrderState};
use domain::shipping::{CreatedShipment, Shipment};
use uuid::Uuid;

use super::error::ShippingUseError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::orders::Caller;
use crate::store::Position;

/// What a shipment use case answers: the shipment after the command, and where the
/// command's events sit in `$all` (`None` when it appended nothing).
#[derive(Debug, Clone)]
pub struct ShipmentOutcome {
    pub shipment: CreatedShipment,
    pub position: Option<Position>,
}

/// The order `order_id` as its customer or staff may see it; others learn nothing.
pub(crate) async fn visible_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
) -> Result<OrderState, ShippingUseError> {
    let (state, _) = handlers
        .orders
        .load(&CommandHandler::<Order>::stream_id(order_id))
        .await?;
    let placed = state
        .placed
        .as_ref()
        .ok_or(ShippingUseError::OrderNotFound)?;
    if placed.user_id.as_uuid() != caller.user_id && !caller.is_staff() {
        return Err(ShippingUseError::OrderNotFound);
    }
    Ok(state)
}

/// The shipment, whoever asks (the use cases check who may act).
pub(crate) async fn load_shipment(
    handlers: &Handlers,
    shipment_id: Uuid,
) -> Result<CreatedShipment, ShippingUseError> {
    let (state, _) = handlers
        .shipments
        .load(&CommandHandler::<Shipment>::stream_id(shipment_id))
        .await?;
    state.shipment.ok_or(ShippingUseError::NotFound)
}

/// The shipment, for its order's customer or staff.
#[tracing::instrument(skip_all, fields(%shipment_id), err)]
pub async fn shipment(
    handlers: &Handlers,
    caller: &Caller,
    shipment_id: Uuid,
) -> Result<CreatedShipment, ShippingUseError> {
    let shipment = load_shipment(handlers, shipment_id).await?;
    if shipment.user_id.as_uuid() != caller.user_id && !caller.is_staff() {
        return Err(ShippingUseError::NotFound);
    }
    Ok(shipment)
}

/// Every shipment of the order, oldest first, for its customer or staff.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn shipments_of_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
) -> Result<Vec<CreatedShipment>, ShippingUseError> {
    let order = visible_order(handlers, caller, order_id).await?;
    let mut all = Vec::with_capacity(order.shipments.len());
    for id in order.shipments.keys() {
        // An id the order holds whose shipment is not there yet: its creation was cut
        // short and is finished by a retry; there is nothing to show until then.
        match load_shipment(handlers, id.as_uuid()).await {
            Ok(s) => all.push(s),
            Err(ShippingUseError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    all.sort_by_key(|s| (s.created_at, s.shipment_id));
    Ok(all)
}
