//! Creating a shipment of some of an order's lines (staff).

use domain::aggregate::Aggregate;
use domain::id::{OrderId, ShipmentId};
use domain::order::{taken, Order, OrderCommand, OrderStatus, ShippedLine};
use domain::shipping::{CreateShipment, Remaining, Shipment, ShipmentCommand, ShipmentState};
use domain::value::Sku;
use uuid::Uuid;

use super::carrier::{CarrierError, Parcel};
use super::error::ShippingUseError;
use super::setup::Carriers;
use super::shipments::{load_shipment, visible_order, ShipmentOutcome};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::Caller;

/// The warehouse a shipment leaves from when none is named.
pub const DEFAULT_WAREHOUSE: &str = domain::inventory::DEFAULT_WAREHOUSE;
/// The weight of a parcel when none is given: one kilogram.
pub const DEFAULT_WEIGHT_GRAMS: u32 = 1_000;

/// A shipment as staff ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShipment {
    /// SKUs (as the order's lines name them) and quantities.
    pub lines: Vec<(String, u32)>,
    pub warehouse: Option<String>,
    pub carrier: String,
    pub service_level: String,
    pub weight_grams: Option<u32>,
}

/// Creates a shipment of `input.lines` of `order_id`. In order, so nothing is half-written
/// when a rule refuses: the lines are checked against what the order has left to ship
/// (the shipment's own `decide`, on no state, before anyone is asked), the carrier quotes
/// and makes the label, the order records the shipment (its stream decides the units, so
/// a shipment created at the same moment cannot take the same ones), and the shipment is
/// created. The shipment's id derives from the command id: a retried request creates the
/// one shipment, and finishes one a failure cut short.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn create_shipment(
    handlers: &Handlers,
    carriers: &Carriers,
    caller: &Caller,
    order_id: Uuid,
    input: NewShipment,
    meta: CommandMeta,
) -> Result<ShipmentOutcome, ShippingUseError> {
    if !caller.is_staff() {
        return Err(ShippingUseError::NotStaff);
    }
    let requested = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, (sku, quantity))| {
            Sku::parse(sku)
                .map(|s| (s, *quantity))
                .map_err(|e| ShippingUseError::invalid(format!("lines[{i}].sku"), e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let carrier = carriers.named(input.carrier.trim()).ok_or_else(|| {
        ShippingUseError::invalid(
            "carrier",
            format!(
                "no carrier {:?}; the carriers are {}",
                input.carrier,
                carriers.names()
            ),
        )
    })?;
    let order = visible_order(handlers, caller, order_id).await?;
    let Some(placed) = order.placed.as_ref() else {
        return Err(ShippingUseError::OrderNotFound);
    };
    if !matches!(
        placed.stage(),
        OrderStatus::Paid | OrderStatus::PartiallyShipped
    ) {
        return Err(ShippingUseError::NotShippable(placed.status.as_str()));
    }
    let shipment_id = ShipmentId::new(Uuid::new_v5(&meta.command_id, b"shipment"));
    // A retry finds its own shipment recorded on the order: what it took is its own.
    let mut earlier = order.shipments.clone();
    earlier.remove(&shipment_id);
    let order_lines = placed
        .lines
        .iter()
        .map(|l| Remaining {
            product_id: l.product_id,
            variant_id: l.variant_id,
            sku: l.sku.clone(),
            ordered: l.quantity,
            // Cancelled units are gone as surely as shipped ones.
            taken: taken(&earlier, &l.sku, false)
                + placed.cancelled.get(&l.sku).copied().unwrap_or(0),
        })
        .collect();
    let mut command = CreateShipment {
        shipment_id,
        order_id: OrderId::new(order_id),
        customer: placed.user_id,
        requested,
        order_lines,
        warehouse: input
            .warehouse
            .clone()
            .unwrap_or_else(|| DEFAULT_WAREHOUSE.into()),
        carrier: carrier.name().into(),
        service_level: input.service_level.trim().to_owned(),
        // Placeholders while the rules are asked: the carrier is called only for a
        // shipment they accept.
        tracking_number: "pending".into(),
        label_url: "pending".into(),
        cost: domain::money::Money::zero(placed.totals.total.currency),
        at: meta.occurred_at,
    };
    let wanted = Shipment::decide(
        &ShipmentState::default(),
        &ShipmentCommand::Create(Box::new(command.clone())),
    )
    .map_err(|e| ShippingUseError::from(crate::handler::CommandError::Rejected(e)))?;
    let lines: Vec<ShippedLine> = match wanted.first() {
        Some(domain::shipping::ShipmentEvent::ShipmentCreated { lines, .. }) => lines
            .iter()
            .map(|l| ShippedLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
        _ => return Err(ShippingUseError::Failed("no shipment was decided".into())),
    };

    let parcel = Parcel {
        weight_grams: input.weight_grams.unwrap_or(DEFAULT_WEIGHT_GRAMS),
        service_level: command.service_level.clone(),
        currency: placed.totals.total.currency,
        from: command.warehouse.clone(),
    };
    let refused = |e: CarrierError| match e {
        CarrierError::UnknownServiceLevel { .. } => {
            ShippingUseError::invalid("service_level", e.to_string())
        }
        CarrierError::Refused(m) => ShippingUseError::invalid("weight_grams", m),
        other => ShippingUseError::CarrierUnavailable(other.to_string()),
    };
    command.cost = carrier.quote(&parcel).await.map_err(refused)?;
    let label = carrier
        .create_label(shipment_id, &parcel)
        .await
        .map_err(refused)?;
    command.tracking_number = label.tracking_number;
    command.label_url = label.label_url;

    let order_stream = CommandHandler::<Order>::stream_id(order_id);
    let allocate = OrderCommand::AllocateShipment {
        shipment_id,
        lines,
        at: meta.occurred_at,
    };
    handlers
        .orders
        .handle(
            &order_stream,
            allocate,
            crate::cart::shopper::step(&meta, "allocate"),
        )
        .await?;
    let stream = CommandHandler::<Shipment>::stream_id(shipment_id);
    let handled = match handlers
        .shipments
        .handle(
            &stream,
            ShipmentCommand::Create(Box::new(command)),
            crate::cart::shopper::step(&meta, "create"),
        )
        .await
    {
        // The retry of a request that created it: the shipment as it is.
        Err(crate::handler::CommandError::Rejected(
            domain::shipping::ShipmentError::AlreadyCreated,
        )) => None,
        other => Some(other?),
    };
    Ok(ShipmentOutcome {
        shipment: load_shipment(handlers, shipment_id.as_uuid()).await?,
        position: handled.and_then(|h| h.position),
    })
}
