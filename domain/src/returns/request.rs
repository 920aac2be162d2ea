//! A new return: what the customer asks for, what the order says may be returned, and the
//! lines the return takes — never more than was delivered within the window less what
//! earlier returns hold.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::error::ReturnError;
use crate::id::{OrderId, ProductId, ReturnId, UserId, VariantId};
use crate::money::Money;
use crate::value::{paragraphs, Sku, MAX_REASON};

/// Some quantity of one order line, in a return, and what it refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReturnLine {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for these units: their share of the line's price after its
    /// rules, less its discount, with the tax added when prices excluded it.
    pub refund: Money,
}

/// One order line as a new return sees it: when its units arrived, and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returnable {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    /// The line's quantity and what the customer paid for all of it.
    pub ordered: u32,
    pub paid: Money,
    /// Each delivery of some of its units: how many, and when the carrier delivered them.
    pub deliveries: Vec<(u32, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReturn {
    pub return_id: ReturnId,
    pub order_id: OrderId,
    pub customer: UserId,
    /// The SKUs and quantities asked for, in the client's order.
    pub requested: Vec<(Sku, u32)>,
    pub reason: String,
    /// Every line of the order, with its deliveries.
    pub lines: Vec<Returnable>,
    /// Days after its delivery a unit may be returned (the store's setting).
    pub window_days: u32,
    pub at: DateTime<Utc>,
}

pub(super) fn required_text(field: &'static str, raw: &str) -> Result<String, ReturnError> {
    let s = paragraphs(field, raw, MAX_REASON)?;
    if s.is_empty() {
        return Err(ReturnError::InvalidText {
            field,
            reason: "is required".into(),
        });
    }
    Ok(s)
}

/// The lines of a new return: each asked SKU matched with its order line, never more than
/// was delivered within the window less what earlier returns hold.
/// `returned` says how much of a SKU the order's earlier returns (not rejected) hold.
pub(super) fn lines_of(
    returned: impl Fn(&Sku) -> u32,
    c: &RequestReturn,
) -> Result<Vec<ReturnLine>, ReturnError> {
    if c.requested.is_empty() {
        return Err(ReturnError::NoLines);
    }
    let window = Duration::days(i64::from(c.window_days));
    let mut lines = Vec::with_capacity(c.requested.len());
    for (i, (sku, quantity)) in c.requested.iter().enumerate() {
        if *quantity == 0 {
            return Err(ReturnError::ZeroQuantity { line: i });
        }
        if c.requested[..i].iter().any(|(s, _)| s == sku) {
            return Err(ReturnError::DuplicateLine {
                line: i,
                sku: sku.clone(),
            });
        }
        let Some(ordered) = c.lines.iter().find(|l| &l.sku == sku) else {
            return Err(ReturnError::NotOrdered {
                line: i,
                sku: sku.clone(),
            });
        };
        if ordered.deliveries.is_empty() {
            return Err(ReturnError::NotDelivered {
                line: i,
                sku: sku.clone(),
            });
        }
        let in_window: u32 = ordered
            .deliveries
            .iter()
            .filter(|(_, at)| c.at <= *at + window)
            .map(|(q, _)| q)
            .sum();
        if in_window == 0 {
            let last = ordered.deliveries.iter().map(|(_, at)| *at).max();
            return Err(ReturnError::WindowClosed {
                line: i,
                sku: sku.clone(),
                closed_at: last.unwrap_or(c.at) + window,
            });
        }
        // Units returned earlier are counted against the latest deliveries first: a
        // customer is never refused a unit the window still covers.
        let delivered: u32 = ordered.deliveries.iter().map(|(q, _)| q).sum();
        let returned = returned(sku);
        let remaining = in_window.min(delivered.saturating_sub(returned));
        if *quantity > remaining {
            return Err(ReturnError::ExceedsReturnable {
                line: i,
                sku: sku.clone(),
                requested: *quantity,
                remaining,
            });
        }
        lines.push(ReturnLine {
            product_id: ordered.product_id,
            variant_id: ordered.variant_id,
            sku: sku.clone(),
            quantity: *quantity,
            refund: ordered
                .paid
                .share_of_units(ordered.ordered, returned, *quantity),
        });
    }
    Ok(lines)
}
