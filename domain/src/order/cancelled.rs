//! Cancelling some units of lines that have not shipped (issue 22): the order keeps its
//! other lines, the cancelled units' stock is released (the checkout saga answers
//! `OrderLinesCancelled`) and their price goes back to the customer.
//!
//! A line's refund is its share of what the line was charged (its price after rules,
//! less its share of the coupon, plus its tax when prices exclude it), by units
//! ([`Money::share_of_units`]): however a line is cancelled bit by bit, its cancellations
//! add up to exactly what it was charged. The shipping fee stays: what
//! is left still ships. Cancelling every unit of the order is cancelling the order, which
//! has its own command (and gives the shipping fee back too).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::shipments::{taken, Shipments, ShippedLine};
use super::totals::{OrderError, PlacedLine};
use crate::money::Money;
use crate::value::Sku;

/// Some units of one line, cancelled, and what they give back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CancelledLine {
    pub sku: Sku,
    pub quantity: u32,
    pub refund: Money,
}

/// How many units of each SKU have been cancelled.
pub type Cancelled = BTreeMap<Sku, u32>;

/// What is left of `line` that no shipment holds and no cancellation took.
pub fn unallocated(line: &PlacedLine, shipments: &Shipments, cancelled: &Cancelled) -> u32 {
    line.quantity
        .saturating_sub(taken(shipments, &line.sku, false))
        .saturating_sub(cancelled.get(&line.sku).copied().unwrap_or(0))
}

/// The lines `asked` cancels of an order's `lines`, each with what it gives back, and
/// their sum: each SKU once, a positive quantity no shipment holds, and never every unit
/// of the order (that is cancelling the order).
pub fn cancel(
    lines: &[PlacedLine],
    shipments: &Shipments,
    cancelled: &Cancelled,
    asked: &[ShippedLine],
) -> Result<(Vec<CancelledLine>, Money), OrderError> {
    let first = lines.first().ok_or(OrderError::NoLines)?;
    if asked.is_empty() {
        return Err(OrderError::NoLines);
    }
    let mut out = Vec::with_capacity(asked.len());
    let mut refund = Money::zero(first.line_total.currency);
    for (i, l) in asked.iter().enumerate() {
        if asked[..i].iter().any(|e| e.sku == l.sku) {
            return Err(OrderError::InvalidLine {
                line: i,
                reason: format!("{} appears twice; add up the quantities", l.sku),
            });
        }
        let Some(placed) = lines.iter().find(|p| p.sku == l.sku) else {
            return Err(OrderError::InvalidLine {
                line: i,
                reason: format!("the order has no line {}", l.sku),
            });
        };
        let remaining = unallocated(placed, shipments, cancelled);
        if l.quantity == 0 || l.quantity > remaining {
            return Err(OrderError::CancelExceedsUnshipped {
                sku: l.sku.to_string(),
                requested: l.quantity,
                remaining,
            });
        }
        let before = cancelled.get(&l.sku).copied().unwrap_or(0);
        let back = placed
            .charged()?
            .share_of_units(placed.quantity, before, l.quantity);
        refund = refund.checked_add(back)?;
        out.push(CancelledLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            refund: back,
        });
    }
    let left: u32 = lines
        .iter()
        .map(|p| {
            let now = out
                .iter()
                .find(|c| c.sku == p.sku)
                .map_or(0, |c| c.quantity);
            let before = cancelled.get(&p.sku).copied().unwrap_or(0);
            p.quantity.saturating_sub(before + now)
        })
        .sum();
    if left == 0 {
        return Err(OrderError::CancelsEveryLine);
    }
    Ok((out, refund))
}
