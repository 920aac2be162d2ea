//! The proof that a buyer received a product: read from the events of one of their
//! orders, so the review can name the events it rests on.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::id::{OrderId, ProductId, ShipmentId, UserId};
use crate::order::OrderEvent;
use crate::value::Sku;

/// How a review is verified, as the API says it to shoppers (the EU's Omnibus directive
/// asks a shop to say whether and how it checks that reviews come from buyers).
pub const VERIFICATION: &str = "Verified purchase: the engine checked, when the review was \
written, that its author placed an order with this product, that the order's line was \
delivered to them and not all sent back, and that the order was neither cancelled nor \
refunded in full; the review keeps the ids of the order's events that show it.";

/// The events of one order that show `product` reached its buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub order_id: OrderId,
    /// The `OrderPlaced` event, then the delivery (`OrderShipmentDelivered` of a shipment
    /// holding the product, or `OrderDelivered`).
    pub event_ids: Vec<Uuid>,
}

/// The proof, in `events` (one order's stream in order, each with its id), that `buyer`
/// bought `product` and it was delivered; `None` when the order shows no such thing, or
/// was cancelled or refunded in full after all. Returns are not looked at:
/// [`proof_of_kept_purchase`] does.
pub fn proof_of_purchase(
    events: &[(Uuid, OrderEvent)],
    buyer: UserId,
    product: ProductId,
) -> Option<Proof> {
    proof_of_kept_purchase(events, buyer, product, |_| 0)
}

/// [`proof_of_purchase`], and some delivered unit of the product was kept: `returned`
/// says how many units of a SKU the order's returns (those not rejected) took back. Units
/// cancelled before they shipped were never delivered.
pub fn proof_of_kept_purchase(
    events: &[(Uuid, OrderEvent)],
    buyer: UserId,
    product: ProductId,
    returned: impl Fn(&Sku) -> u32,
) -> Option<Proof> {
    // The product's lines: SKU → units ordered.
    let mut placed: Option<(Uuid, OrderId, BTreeMap<Sku, u32>)> = None;
    // Each shipment's units of the product.
    let mut shipments: BTreeMap<ShipmentId, BTreeMap<Sku, u32>> = BTreeMap::new();
    let mut cancelled: BTreeMap<Sku, u32> = BTreeMap::new();
    let mut delivered: BTreeMap<Sku, u32> = BTreeMap::new();
    let mut first_delivery: Option<Uuid> = None;
    for (id, event) in events {
        match event {
            OrderEvent::OrderPlaced {
                order_id,
                user_id,
                lines,
                ..
            } => {
                if *user_id != buyer {
                    return None;
                }
                let skus: BTreeMap<Sku, u32> = lines
                    .iter()
                    .filter(|l| l.product_id == product)
                    .map(|l| (l.sku.clone(), l.quantity))
                    .collect();
                if skus.is_empty() {
                    return None;
                }
                placed = Some((*id, *order_id, skus));
            }
            OrderEvent::OrderShipmentCreated {
                shipment_id, lines, ..
            } => {
                let Some((_, _, skus)) = &placed else {
                    continue;
                };
                let held = lines
                    .iter()
                    .filter(|l| skus.contains_key(&l.sku))
                    .map(|l| (l.sku.clone(), l.quantity))
                    .collect();
                shipments.insert(*shipment_id, held);
            }
            OrderEvent::OrderLinesCancelled { lines, .. } => {
                for l in lines {
                    *cancelled.entry(l.sku.clone()).or_default() += l.quantity;
                }
            }
            OrderEvent::OrderShipmentDelivered { shipment_id, .. } => {
                let Some(held) = shipments.get(shipment_id).filter(|h| !h.is_empty()) else {
                    continue;
                };
                for (sku, n) in held {
                    *delivered.entry(sku.clone()).or_default() += n;
                }
                first_delivery.get_or_insert(*id);
            }
            // Delivered by hand (an order without shipments): every unit not cancelled.
            OrderEvent::OrderDelivered { .. } if shipments.is_empty() => {
                if let Some((_, _, skus)) = &placed {
                    for (sku, n) in skus {
                        let gone = cancelled.get(sku).copied().unwrap_or(0);
                        delivered.insert(sku.clone(), n.saturating_sub(gone));
                    }
                }
                first_delivery.get_or_insert(*id);
            }
            OrderEvent::OrderCancelled { .. } | OrderEvent::OrderRefunded { full: true, .. } => {
                return None
            }
            _ => {}
        }
    }
    let (placed_id, order_id, _) = placed?;
    let delivery = first_delivery?;
    let kept = delivered.iter().any(|(sku, n)| *n > returned(sku));
    kept.then_some(Proof {
        order_id,
        event_ids: vec![placed_id, delivery],
    })
}
