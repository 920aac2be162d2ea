//! What an order knows of its shipments: which lines each one holds, whether it has left
//! and whether it arrived. The shipments themselves are the `shipping` aggregate's; the
//! order records them so that what is left to ship is decided on the order's own stream
//! (two shipments created at once cannot both take the last unit), and so its status
//! follows them: `partially_shipped` once one has left, `shipped` when every line has,
//! `delivered` when every shipment has arrived.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::totals::PlacedLine;
use crate::id::ShipmentId;
use crate::value::Sku;

/// Some quantity of one order line, in one shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippedLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// One shipment of the order, as the order follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderShipment {
    pub lines: Vec<ShippedLine>,
    pub shipped: bool,
    pub delivered: bool,
}

/// The order's shipments by id.
pub type Shipments = BTreeMap<ShipmentId, OrderShipment>;

/// How much of `sku` the shipments hold (`shipped_only`: those that have left).
pub fn taken(shipments: &Shipments, sku: &Sku, shipped_only: bool) -> u32 {
    shipments
        .values()
        .filter(|s| s.shipped || !shipped_only)
        .flat_map(|s| &s.lines)
        .filter(|l| &l.sku == sku)
        .map(|l| l.quantity)
        .sum()
}

/// Every unit of every line has left in a shipment, or was cancelled.
pub fn all_shipped(
    lines: &[PlacedLine],
    shipments: &Shipments,
    cancelled: &BTreeMap<Sku, u32>,
) -> bool {
    lines.iter().all(|l| {
        taken(shipments, &l.sku, true) + cancelled.get(&l.sku).copied().unwrap_or(0) >= l.quantity
    })
}

/// Every shipment has arrived (and there is at least one).
pub fn all_delivered(shipments: &Shipments) -> bool {
    !shipments.is_empty() && shipments.values().all(|s| s.delivered)
}
