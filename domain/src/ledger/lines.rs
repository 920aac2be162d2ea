//! A store's sold lines: what a sale records of a paid order's line (its sale, tax,
//! commission and fee by the store's rule), and what a refund gives back of one.
//!
//! A refund is shared over a line pro rata of what the customer paid for it: its tax, its
//! commission and its fee go back in the same proportion, computed on the running total
//! refunded and rounded half up, so the parts given back never drift from the parts
//! charged and a line refunded in full gives back exactly what it took. A refund never
//! takes more than is left of a line; one of a line already paid out is a clawback.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entries::{Account, Entry, EntryKind};
use super::error::LedgerError;
use crate::id::{OrderId, PayoutId, ProductId, VariantId};
use crate::money::{Currency, Money, MAX_TOTAL};
use crate::value::Sku;
use crate::vendors::{CommissionRule, RuleSource};

/// A line of a paid order as the sale is asked to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sold {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for the line, tax included.
    pub gross: Money,
    /// The line's tax (added to or included in its price).
    pub tax: Money,
    pub rule: CommissionRule,
    pub rule_version: u32,
    pub rule_source: RuleSource,
}

/// A sold line as the ledger records it: the sale, the commission and fee it paid, and
/// the rule (with its version) they were computed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SaleLine {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for the line, tax included.
    pub gross: Money,
    pub tax: Money,
    /// `gross - tax`: the store's sale, which the commission is a part of.
    pub net: Money,
    /// The percent part, after the rule's bounds.
    pub commission: Money,
    /// The fixed part.
    pub fee: Money,
    pub rule: CommissionRule,
    pub rule_version: u32,
    pub rule_source: RuleSource,
}

/// What a refund gave back of one line, and took back from the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundLine {
    pub sku: Sku,
    /// What the customer got back for the line, tax included.
    pub amount: Money,
    pub tax: Money,
    /// `amount - tax`: taken from the store.
    pub net: Money,
    /// Commission and fee the marketplace gives back to the store.
    pub commission: Money,
    pub fee: Money,
    /// The line had been paid out: the store owes the net back (recovered from its next
    /// payout).
    pub clawback: bool,
}

/// A line sold by the store, with what has been refunded of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub sale: SaleLine,
    pub sold_at: DateTime<Utc>,
    /// Given back so far: to the customer (tax included), of tax, and to the store of
    /// commission and fee.
    pub refunded: i64,
    pub tax_refunded: i64,
    pub commission_back: i64,
    pub fee_back: i64,
    /// The payout that paid the line's sale to the store, while not failed.
    pub paid_by: Option<PayoutId>,
}

/// `whole × part / of`, rounded half up; `whole` when `part == of`.
fn pro_rata(whole: i64, part: i64, of: i64) -> i64 {
    if of <= 0 || part >= of {
        return whole;
    }
    let scaled = i128::from(whole) * i128::from(part) * 2 + i128::from(of);
    (scaled / (2 * i128::from(of))) as i64
}

/// The entries of one line: each move a transfer of its kind, skipped when it is zero.
fn line_entries(
    currency: Currency,
    order_id: OrderId,
    sku: &Sku,
    moves: [(EntryKind, Account, Account, i64); 4],
) -> Vec<Entry> {
    moves
        .into_iter()
        .filter_map(|(kind, debit, credit, amount)| {
            Entry::transfer(kind, currency, debit, credit, amount)
        })
        .map(|e| e.on_line(order_id, sku))
        .collect()
}

pub(super) fn sale(order_id: OrderId, s: &Sold) -> Result<(SaleLine, Vec<Entry>), LedgerError> {
    let invalid = |reason: &str| LedgerError::InvalidLine {
        sku: s.sku.to_string(),
        reason: reason.into(),
    };
    if s.gross.currency != s.tax.currency {
        return Err(invalid("gross and tax are in different currencies"));
    }
    if s.gross.amount < 0 || s.gross.amount > MAX_TOTAL {
        return Err(invalid("gross out of range"));
    }
    if s.tax.amount < 0 || s.tax.amount > s.gross.amount {
        return Err(invalid("tax is negative or more than the line"));
    }
    let rule = s
        .rule
        .check()
        .map_err(|e| invalid(&format!("commission rule: {e}")))?;
    let currency = s.gross.currency;
    let net = s.gross.amount - s.tax.amount;
    let charge = rule.charge(net);
    let line = SaleLine {
        product_id: s.product_id,
        variant_id: s.variant_id,
        sku: s.sku.clone(),
        quantity: s.quantity,
        gross: s.gross,
        tax: s.tax,
        net: Money::new(net, currency),
        commission: Money::new(charge.commission, currency),
        fee: Money::new(charge.fee, currency),
        rule,
        rule_version: s.rule_version,
        rule_source: s.rule_source,
    };
    use Account as A;
    use EntryKind as K;
    let entries = line_entries(
        currency,
        order_id,
        &s.sku,
        [
            (K::Sale, A::Cash, A::VendorPayable, net),
            (K::Tax, A::Cash, A::TaxPayable, s.tax.amount),
            (
                K::Commission,
                A::VendorPayable,
                A::CommissionIncome,
                charge.commission,
            ),
            (K::Fee, A::VendorPayable, A::FeeIncome, charge.fee),
        ],
    );
    Ok((line, entries))
}

/// What refunding `requested` (all that is left when `None`) of `line` gives back, and
/// its entries; `None` when nothing is left to refund.
pub(super) fn refund(
    order_id: OrderId,
    line: &LedgerLine,
    requested: Option<i64>,
) -> Option<(RefundLine, Vec<Entry>)> {
    let s = &line.sale;
    let currency = s.gross.currency;
    let left = s.gross.amount - line.refunded;
    let amount = requested.map_or(left, |r| r.min(left));
    if amount <= 0 {
        return None;
    }
    let after = line.refunded + amount;
    let of = s.gross.amount;
    let tax = pro_rata(s.tax.amount, after, of) - line.tax_refunded;
    let commission = pro_rata(s.commission.amount, after, of) - line.commission_back;
    let fee = pro_rata(s.fee.amount, after, of) - line.fee_back;
    let net = amount - tax;
    let clawback = line.paid_by.is_some();
    use Account as A;
    use EntryKind as K;
    let (kind, store) = if clawback {
        (K::Clawback, A::ClawbackReceivable)
    } else {
        (K::Refund, A::VendorPayable)
    };
    let entries = line_entries(
        currency,
        order_id,
        &s.sku,
        [
            (kind, store, A::Cash, net),
            (K::Tax, A::TaxPayable, A::Cash, tax),
            (K::Commission, A::CommissionIncome, store, commission),
            (K::Fee, A::FeeIncome, store, fee),
        ],
    );
    let refunded = RefundLine {
        sku: s.sku.clone(),
        amount: Money::new(amount, currency),
        tax: Money::new(tax, currency),
        net: Money::new(net, currency),
        commission: Money::new(commission, currency),
        fee: Money::new(fee, currency),
        clawback,
    };
    Some((refunded, entries))
}
