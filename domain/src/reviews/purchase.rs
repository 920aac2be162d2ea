//! The proof that a buyer received a product: read from the events of one of their
//! orders, so the review can name the events it rests on.

use uuid::Uuid;

use crate::id::{OrderId, ProductId, ShipmentId, UserId};
use crate::order::OrderEvent;

/// How a review is verified, as the API says it to shoppers (the EU's Omnibus directive
/// asks a shop to say whether and how it checks that reviews come from buyers).
pub const VERIFICATION: &str = "Verified purchase: the engine checked, when the review was \
written, that its author placed an order with this product, that the order's line was \
delivered to them and that the order was neither cancelled nor refunded in full; the \
review keeps the ids of the order's events that show it.";

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
/// was cancelled or refunded in full after all.
pub fn proof_of_purchase(
    events: &[(Uuid, OrderEvent)],
    buyer: UserId,
    product: ProductId,
) -> Option<Proof> {
    let mut placed: Option<(Uuid, OrderId, Vec<crate::value::Sku>)> = None;
    let mut shipments: Vec<(ShipmentId, bool)> = vec![];
    let mut delivered: Option<Uuid> = None;
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
                let skus: Vec<_> = lines
                    .iter()
                    .filter(|l| l.product_id == product)
                    .map(|l| l.sku.clone())
                    .collect();
                if skus.is_empty() {
                    return None;
                }
                placed = Some((*id, *order_id, skus));
            }
            OrderEvent::OrderShipmentCreated {
                shipment_id, lines, ..
            } => {
                let holds = placed
                    .as_ref()
                    .is_some_and(|(_, _, skus)| lines.iter().any(|l| skus.contains(&l.sku)));
                shipments.push((*shipment_id, holds));
            }
            OrderEvent::OrderShipmentDelivered { shipment_id, .. }
                if delivered.is_none()
                    && shipments
                        .iter()
                        .any(|(s, holds)| s == shipment_id && *holds) =>
            {
                delivered = Some(*id);
            }
            OrderEvent::OrderDelivered { .. } => {
                delivered.get_or_insert(*id);
            }
            OrderEvent::OrderCancelled { .. } | OrderEvent::OrderRefunded { full: true, .. } => {
                return None
            }
            _ => {}
        }
    }
    let (placed_id, order_id, _) = placed?;
    Some(Proof {
        order_id,
        event_ids: vec![placed_id, delivered?],
    })
}
