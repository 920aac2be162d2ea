//! An order from placement to delivery, cancellation or refund.
//!
//! ```text
//! pending ──stock reserved──▶ awaiting_payment ──paid──▶ paid ──▶ shipped ──▶ delivered
//!    │                               │                    │          │            │
//!    └──────────── cancelled ◀───────┴────────────────────┘          └─ refunded / partially_refunded
//! ```
//!
//! An order shipped in shipments (issue 22, `shipments`) goes `paid → partially_shipped →
//! shipped → delivered` as they leave and arrive: each shipment is recorded when it is
//! created (`OrderShipmentCreated`, which is where "no more than was ordered" holds), when
//! it leaves (`OrderLinesShipped`, then `OrderShipped` once every line has left) and when
//! it arrives (`OrderShipmentDelivered`, then `OrderDelivered` once every one has). An
//! order without shipments is still shipped and delivered by hand (`Ship`, `Deliver`).
//!
//! Prices, the tax rate and mode and the shipping cost arrive inside `PlaceOrder` (the
//! catalog, the tax table and the checkout decide them); the order records per line its
//! total, its share of the discount and its tax, and its totals are their fold
//! (`totals`, ADR 0006): `total = subtotal - discount + tax (when prices exclude it) +
//! shipping`. `OrderPlaced` v1 (lines without them) is upcast in `legacy`.
//! What the input must be before an order is asked at all (payment method, notes, line
//! count) is in `input`, shared by placing an order and checking a cart out; the statuses
//! are in `status`; lines, totals and the rules' refusals in `totals`; the commands and
//! events in `messages`, the state they fold into in `state`. This file holds
//! `decide`/`evolve`.

use chrono::{DateTime, Utc};

use crate::aggregate::Aggregate;
use crate::money::Money;
use crate::value::Quantity;

mod cancelled;
mod input;
mod legacy;
mod messages;
mod shipments;
mod state;
mod status;
mod totals;

pub use cancelled::{unallocated, Cancelled, CancelledLine};
pub use shipments::{all_delivered, all_shipped, taken, OrderShipment, Shipments, ShippedLine};

pub use legacy::{upcast_lines, OrderLineV1, OrderPlacedV1};
pub use messages::{ChangedBy, OrderCommand, OrderEvent, PlaceOrder};
pub use state::{OrderState, PlacedOrder, StatusChange};
pub use status::{CancellationReason, OrderStatus, PaymentStatus};
pub use totals::{
    compute_totals, fold, place_lines, OrderError, OrderLine, OrderTotals, PlacedLine, TaxTerms,
};

pub use input::{
    check_line_count, check_notes, check_payment_method, OrderInputError, CARD, MAX_LINES,
    MAX_NOTES,
};

pub struct Order;

fn transition(action: &'static str, status: OrderStatus) -> OrderError {
    if status == OrderStatus::Cancelled && action == "cancel" {
        return OrderError::AlreadyCancelled;
    }
    OrderError::InvalidTransition {
        action,
        status: status.as_str(),
    }
}

impl Aggregate for Order {
    const CATEGORY: &'static str = "order";
    type State = OrderState;
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;

    fn decide(s: &OrderState, cmd: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        use OrderCommand as C;
        use OrderEvent as E;
        use OrderStatus as S;
        let placed = || s.placed.as_ref().ok_or(OrderError::NotPlaced);
        match cmd {
            C::Place(p) => {
                if s.placed.is_some() {
                    return Err(OrderError::AlreadyPlaced);
                }
                if p.lines.is_empty() {
                    return Err(OrderError::NoLines);
                }
                if p.lines.len() > MAX_LINES {
                    return Err(OrderError::TooManyLines(MAX_LINES));
                }
                let currency = p.lines[0].unit_price.currency;
                for (i, line) in p.lines.iter().enumerate() {
                    if line.quantity == 0 {
                        return Err(OrderError::InvalidLine {
                            line: i,
                            reason: "quantity must be positive".into(),
                        });
                    }
                    if line.quantity > Quantity::MAX {
                        return Err(OrderError::InvalidLine {
                            line: i,
                            reason: format!("quantity must be at most {}", Quantity::MAX),
                        });
                    }
                    if let Err(e) = Money::price(line.unit_price.amount, line.unit_price.currency) {
                        return Err(OrderError::InvalidLine {
                            line: i,
                            reason: format!("price: {e}"),
                        });
                    }
                    if line.unit_price.currency != currency {
                        return Err(OrderError::InvalidLine {
                            line: i,
                            reason: "all lines must share one currency".into(),
                        });
                    }
                    if p.lines[..i].iter().any(|l| l.sku == line.sku) {
                        return Err(OrderError::InvalidLine {
                            line: i,
                            reason: format!("{} appears twice; add up the quantities", line.sku),
                        });
                    }
                }
                let lines = place_lines(&p.lines, p.discount, p.discount_over.as_deref(), p.tax)?;
                let totals = fold(&lines, p.shipping)?;
                Ok(vec![E::OrderPlaced {
                    order_id: p.order_id,
                    user_id: p.user_id,
                    lines,
                    totals,
                    shipping_address: p.shipping_address.clone(),
                    billing_address: p.billing_address.clone(),
                    payment_method: p.payment_method.clone(),
                    notes: p.notes.clone(),
                    coupon_code: p.coupon_code.clone(),
                    shipping_method: p.shipping_method.clone(),
                    placed_at: p.at,
                }])
            }
            C::MarkStockReserved { at } => match placed()?.status {
                S::Pending => Ok(vec![E::OrderStockReserved { at: *at }]),
                // A process manager repeating itself after a restart.
                S::AwaitingPayment => Ok(vec![]),
                other => Err(transition("reserve stock for", other)),
            },
            C::RecordPaymentFailed { code, message, at } => match placed()?.status {
                S::AwaitingPayment => Ok(vec![E::OrderPaymentFailed {
                    code: code.clone(),
                    message: message.clone(),
                    at: *at,
                }]),
                other => Err(transition("record a failed payment for", other)),
            },
            C::MarkPaid {
                amount,
                payment_reference,
                at,
            } => {
                let o = placed()?;
                match o.status {
                    S::AwaitingPayment => {
                        if *amount != o.totals.total {
                            return Err(OrderError::PaymentMismatch {
                                paid: *amount,
                                total: o.totals.total,
                            });
                        }
                        Ok(vec![E::OrderPaid {
                            amount: *amount,
                            payment_reference: payment_reference.clone(),
                            at: *at,
                        }])
                    }
                    S::Paid | S::PartiallyShipped | S::Shipped | S::Delivered => Ok(vec![]),
                    other => Err(transition("pay", other)),
                }
            }
            // An order in shipments moves as they do.
            C::Ship { .. } | C::Deliver { .. } if !s.shipments.is_empty() => {
                Err(OrderError::FollowsShipments)
            }
            C::Ship {
                tracking_number,
                note,
                by,
                at,
            } => match placed()?.status {
                S::Paid => Ok(vec![E::OrderShipped {
                    tracking_number: tracking_number.clone(),
                    note: note.clone(),
                    by: by.clone(),
                    at: *at,
                }]),
                other => Err(transition("ship", other)),
            },
            C::Deliver { note, by, at } => match placed()?.status {
                S::Shipped => Ok(vec![E::OrderDelivered {
                    note: note.clone(),
                    by: by.clone(),
                    at: *at,
                }]),
                other => Err(transition("deliver", other)),
            },
            C::Cancel {
                reason,
                note,
                by,
                at,
            } => {
                let o = placed()?;
                let allowed = match o.status {
                    S::Pending => true,
                    S::AwaitingPayment => *reason != CancellationReason::OutOfStock,
                    // Paid but not shipped: staff (or the customer) may still cancel; the
                    // money goes back in full.
                    S::Paid => matches!(
                        reason,
                        CancellationReason::Staff | CancellationReason::Customer
                    ),
                    _ => false,
                };
                if !allowed {
                    return Err(transition("cancel", o.status));
                }
                Ok(vec![E::OrderCancelled {
                    reason: *reason,
                    note: note.clone(),
                    by: by.clone(),
                    was_paid: o.status == S::Paid,
                    at: *at,
                }])
            }
            C::Refund {
                amount,
                reason,
                by,
                at,
            } => {
                let o = placed()?;
                if !matches!(
                    o.status,
                    S::Paid
                        | S::PartiallyShipped
                        | S::Shipped
                        | S::Delivered
                        | S::PartiallyRefunded
                ) {
                    return Err(transition("refund", o.status));
                }
                let refundable = o.paid.checked_sub(o.refunded)?;
                let amount = amount.unwrap_or(refundable);
                if amount.amount <= 0 {
                    return Err(OrderError::NonPositiveRefund);
                }
                if amount.checked_sub(refundable)?.amount > 0 {
                    return Err(OrderError::RefundExceedsPaid {
                        requested: amount,
                        refundable,
                    });
                }
                Ok(vec![E::OrderRefunded {
                    amount,
                    reason: reason.clone(),
                    full: amount == refundable,
                    by: by.clone(),
                    at: *at,
                }])
            }
            C::AllocateShipment {
                shipment_id,
                lines,
                at,
            } => {
                let o = placed()?;
                if s.shipments.contains_key(shipment_id) {
                    return Ok(vec![]);
                }
                if !matches!(o.stage(), S::Paid | S::PartiallyShipped) {
                    return Err(transition("create a shipment for", o.status));
                }
                for l in lines {
                    let remaining = o
                        .lines
                        .iter()
                        .find(|p| p.sku == l.sku)
                        .map_or(0, |p| unallocated(p, &s.shipments, &o.cancelled));
                    if l.quantity == 0 || l.quantity > remaining {
                        return Err(OrderError::ShipmentExceedsOrder {
                            sku: l.sku.to_string(),
                            requested: l.quantity,
                            remaining,
                        });
                    }
                }
                Ok(vec![E::OrderShipmentCreated {
                    shipment_id: *shipment_id,
                    lines: lines.clone(),
                    at: *at,
                }])
            }
            C::ShipLines {
                shipment_id,
                tracking_number,
                by,
                at,
            } => {
                let o = placed()?;
                let shipment = s
                    .shipments
                    .get(shipment_id)
                    .ok_or(OrderError::UnknownShipment)?;
                if shipment.shipped {
                    return Ok(vec![]);
                }
                if !matches!(o.stage(), S::Paid | S::PartiallyShipped) {
                    return Err(transition("ship lines of", o.status));
                }
                let mut events = vec![E::OrderLinesShipped {
                    shipment_id: *shipment_id,
                    lines: shipment.lines.clone(),
                    tracking_number: tracking_number.clone(),
                    by: by.clone(),
                    at: *at,
                }];
                let after = Self::evolve(s.clone(), &events[0]);
                if all_shipped(&o.lines, &after.shipments, &o.cancelled) {
                    events.push(E::OrderShipped {
                        tracking_number: tracking_number.clone(),
                        note: Some("every line has shipped".into()),
                        by: by.clone(),
                        at: *at,
                    });
                }
                Ok(events)
            }
            C::RecordShipmentDelivered {
                shipment_id,
                by,
                at,
            } => {
                let o = placed()?;
                let shipment = s
                    .shipments
                    .get(shipment_id)
                    .ok_or(OrderError::UnknownShipment)?;
                if shipment.delivered {
                    return Ok(vec![]);
                }
                if !shipment.shipped {
                    return Err(OrderError::ShipmentNotShipped);
                }
                let mut events = vec![E::OrderShipmentDelivered {
                    shipment_id: *shipment_id,
                    by: by.clone(),
                    at: *at,
                }];
                let after = Self::evolve(s.clone(), &events[0]);
                if o.stage() == S::Shipped && all_delivered(&after.shipments) {
                    events.push(E::OrderDelivered {
                        note: Some("every shipment has arrived".into()),
                        by: by.clone(),
                        at: *at,
                    });
                }
                Ok(events)
            }
            C::CancelLines {
                cancellation_id,
                lines,
                reason,
                by,
                at,
            } => {
                let o = placed()?;
                if s.cancellations.contains_key(cancellation_id) {
                    return Ok(vec![]);
                }
                if !matches!(o.stage(), S::Paid | S::PartiallyShipped) {
                    return Err(transition("cancel lines of", o.status));
                }
                let (cancelled, refund) =
                    cancelled::cancel(&o.lines, &s.shipments, &o.cancelled, lines)?;
                let mut events = vec![E::OrderLinesCancelled {
                    cancellation_id: *cancellation_id,
                    lines: cancelled,
                    refund,
                    reason: reason.clone(),
                    by: by.clone(),
                    at: *at,
                }];
                // What is left may all have gone already: the order is shipped, and
                // delivered when those shipments have arrived.
                let after = Self::evolve(s.clone(), &events[0]);
                let o = after.placed.as_ref().ok_or(OrderError::NotPlaced)?;
                if !s.shipments.is_empty() && all_shipped(&o.lines, &after.shipments, &o.cancelled)
                {
                    let note = Some("every line left has shipped".to_owned());
                    events.push(E::OrderShipped {
                        tracking_number: o.tracking_number.clone(),
                        note: note.clone(),
                        by: by.clone(),
                        at: *at,
                    });
                    if all_delivered(&after.shipments) {
                        events.push(E::OrderDelivered {
                            note,
                            by: by.clone(),
                            at: *at,
                        });
                    }
                }
                Ok(events)
            }
        }
    }

    fn evolve(mut s: OrderState, event: &OrderEvent) -> OrderState {
        use OrderEvent as E;
        use OrderStatus as S;
        let change = |s: &mut OrderState,
                      status: S,
                      by: ChangedBy,
                      note: Option<String>,
                      at: DateTime<Utc>| {
            if let Some(o) = s.placed.as_mut() {
                o.status = status;
                o.updated_at = at;
                if !matches!(status, S::Refunded | S::PartiallyRefunded) {
                    o.fulfilment = status;
                }
            }
            s.history.push(StatusChange {
                status,
                by,
                note,
                at,
            });
        };
        match event {
            E::OrderPlaced {
                order_id,
                user_id,
                lines,
                totals,
                notes,
                placed_at,
                shipping_address,
                billing_address,
                payment_method,
                shipping_method,
                ..
            } => {
                s.placed = Some(PlacedOrder {
                    order_id: *order_id,
                    user_id: *user_id,
                    lines: lines.clone(),
                    totals: totals.clone(),
                    status: S::Pending,
                    payment_status: PaymentStatus::Pending,
                    paid: Money::zero(totals.total.currency),
                    refunded: Money::zero(totals.total.currency),
                    tracking_number: None,
                    cancellation_reason: None,
                    shipping_address: shipping_address.clone(),
                    billing_address: billing_address.clone(),
                    payment_method: payment_method.clone(),
                    notes: notes.clone(),
                    shipping_method: shipping_method.clone(),
                    placed_at: *placed_at,
                    updated_at: *placed_at,
                    fulfilment: S::Pending,
                    cancelled: Cancelled::new(),
                });
                s.history.push(StatusChange {
                    status: S::Pending,
                    by: ChangedBy {
                        user_id: Some(*user_id),
                        role: "customer".into(),
                    },
                    note: notes.clone(),
                    at: *placed_at,
                });
            }
            E::OrderStockReserved { at } => {
                change(&mut s, S::AwaitingPayment, ChangedBy::system(), None, *at)
            }
            E::OrderPaymentFailed { code, at, .. } => {
                if let Some(o) = s.placed.as_mut() {
                    o.payment_status = PaymentStatus::Failed;
                }
                let status = s.placed.as_ref().map_or(S::AwaitingPayment, |o| o.status);
                change(
                    &mut s,
                    status,
                    ChangedBy::system(),
                    Some(format!("payment failed: {code}")),
                    *at,
                );
            }
            E::OrderPaid { amount, at, .. } => {
                if let Some(o) = s.placed.as_mut() {
                    o.payment_status = PaymentStatus::Captured;
                    o.paid = *amount;
                }
                change(&mut s, S::Paid, ChangedBy::system(), None, *at);
            }
            E::OrderShipped {
                tracking_number,
                note,
                by,
                at,
            } => {
                if let Some(o) = s.placed.as_mut() {
                    o.tracking_number = tracking_number.clone();
                }
                change(&mut s, S::Shipped, by.clone(), note.clone(), *at);
            }
            E::OrderDelivered { note, by, at } => {
                change(&mut s, S::Delivered, by.clone(), note.clone(), *at)
            }
            E::OrderCancelled {
                reason,
                note,
                by,
                was_paid,
                at,
            } => {
                if let Some(o) = s.placed.as_mut() {
                    o.cancellation_reason = Some(*reason);
                    if *was_paid {
                        o.refunded = o.paid;
                        o.payment_status = PaymentStatus::Refunded;
                    }
                }
                change(&mut s, S::Cancelled, by.clone(), note.clone(), *at);
            }
            E::OrderShipmentCreated {
                shipment_id, lines, ..
            } => {
                s.shipments.insert(
                    *shipment_id,
                    OrderShipment {
                        lines: lines.clone(),
                        shipped: false,
                        delivered: false,
                    },
                );
            }
            E::OrderLinesShipped {
                shipment_id,
                tracking_number,
                by,
                at,
                ..
            } => {
                if let Some(sh) = s.shipments.get_mut(shipment_id) {
                    sh.shipped = true;
                }
                if let Some(o) = s.placed.as_mut() {
                    if tracking_number.is_some() {
                        o.tracking_number = tracking_number.clone();
                    }
                }
                change(
                    &mut s,
                    S::PartiallyShipped,
                    by.clone(),
                    Some(format!("shipment {shipment_id} left")),
                    *at,
                );
            }
            E::OrderShipmentDelivered { shipment_id, .. } => {
                if let Some(sh) = s.shipments.get_mut(shipment_id) {
                    sh.delivered = true;
                }
            }
            E::OrderLinesCancelled {
                cancellation_id,
                lines,
                refund,
                at,
                ..
            } => {
                s.cancellations.insert(*cancellation_id, *refund);
                if let Some(o) = s.placed.as_mut() {
                    for l in lines {
                        *o.cancelled.entry(l.sku.clone()).or_default() += l.quantity;
                    }
                    o.refunded = o.refunded.checked_add(*refund).unwrap_or(o.refunded);
                    o.payment_status = PaymentStatus::PartiallyRefunded;
                    o.updated_at = *at;
                }
            }
            E::OrderRefunded {
                amount,
                reason,
                full,
                by,
                at,
            } => {
                if let Some(o) = s.placed.as_mut() {
                    o.refunded = o.refunded.checked_add(*amount).unwrap_or(o.refunded);
                    o.payment_status = if *full {
                        PaymentStatus::Refunded
                    } else {
                        PaymentStatus::PartiallyRefunded
                    };
                }
                let status = if *full {
                    S::Refunded
                } else {
                    S::PartiallyRefunded
                };
                change(&mut s, status, by.clone(), Some(reason.clone()), *at);
            }
        }
        s
    }
}
