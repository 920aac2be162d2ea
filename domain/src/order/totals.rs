//! An order's lines and totals, and what the order's rules refuse: the arithmetic every
//! placed order is checked by ([ADR 0006]).
//!
//! An [`OrderLine`] is what the order is asked for (a product, its variant, a quantity, a
//! price); a [`PlacedLine`] is what the order records of it: the line's total, its share
//! of the order's discount and its tax, all integers in minor units. [`OrderTotals`] are
//! their fold ([`fold`]): the totals of the event, the order answer, the payment amount
//! and every report are the same integers.
//!
//! [ADR 0006]: ../../../docs/adr/0006-tax-and-discounts-per-line.md

use serde::{Deserialize, Serialize};

use crate::id::{ProductId, VariantId, VendorId};
use crate::money::{Money, MoneyError, MAX_TOTAL};
use crate::pricing::Applied;
use crate::tax::{line_tax, share, LineTax, Rounding};
use crate::value::Sku;

/// A line as the order is asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLine {
    pub product_id: ProductId,
    /// The variant bought, when the product has variants; `sku` is then the variant's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// One unit's list price.
    pub unit_price: Money,
    /// The price rules that took something off the line, in the order applied (ADR 0008).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_rules: Vec<Applied>,
    /// The store that sells the product (issue 23); `None`: the marketplace's own stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<VendorId>,
}

impl OrderLine {
    /// What the price rules took off the line, in minor units.
    pub fn price_off(&self) -> i64 {
        self.price_rules.iter().map(|r| r.amount_off).sum()
    }
}

/// A line as the order records it (`OrderPlaced` v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlacedLine {
    pub product_id: ProductId,
    /// The variant bought; `None` for a product without variants.
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// One unit's list price.
    pub unit_price: Money,
    /// `unit_price × quantity`: the line at list price.
    pub line_total: Money,
    /// The price rules that took something off the line, each with its version and
    /// amount, in the order applied (ADR 0008). Absent on orders placed before rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_rules: Vec<Applied>,
    /// The line's share of the order's discount (a coupon's), shared over the lines'
    /// prices after their rules.
    pub discount: Money,
    /// The tax of `line_total − price rules − discount`.
    pub tax: LineTax,
    /// The store that sold the product when the order was placed (issue 23), whose ledger
    /// the line's sale goes to; `None`: the marketplace's own stock, and every line of an
    /// order placed before vendors were recorded (a compatible addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<VendorId>,
}

impl PlacedLine {
    /// What the price rules took off the line, in minor units.
    pub fn price_off(&self) -> i64 {
        self.price_rules.iter().map(|r| r.amount_off).sum()
    }

    /// The line's price after its rules (before the coupon's share): what it adds to the
    /// subtotal.
    pub fn price(&self) -> Result<Money, MoneyError> {
        self.line_total
            .checked_sub(Money::new(self.price_off(), self.line_total.currency))
    }

    /// What the line adds to the order's total: its price less its discount, plus its tax
    /// when prices exclude it.
    pub fn charged(&self) -> Result<Money, MoneyError> {
        self.price()?
            .checked_sub(self.discount)?
            .checked_add(self.tax.added())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub discount: Money,
    pub tax: Money,
    pub shipping: Money,
    pub total: Money,
}

/// How an order's lines are taxed: the rate of its shipping address and whether the
/// store's prices include tax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaxTerms {
    /// Parts per million (8.875% = 88,750).
    pub rate_ppm: u32,
    pub inclusive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the order already exists")]
    AlreadyPlaced,
    #[error("no such order")]
    NotPlaced,
    #[error("an order needs at least one line")]
    NoLines,
    #[error("an order holds at most {0} lines")]
    TooManyLines(usize),
    #[error("line {line}: {reason}")]
    InvalidLine { line: usize, reason: String },
    #[error("the order's total would exceed {MAX_TOTAL} minor units")]
    TotalTooLarge,
    #[error("the discount exceeds the subtotal of the lines it applies to")]
    DiscountExceedsSubtotal,
    #[error("money: {0}")]
    Money(#[from] MoneyError),
    #[error("cannot {action} an order that is {status}")]
    InvalidTransition {
        action: &'static str,
        status: &'static str,
    },
    #[error("the payment of {paid} does not match the total {total}")]
    PaymentMismatch { paid: Money, total: Money },
    #[error("refund of {requested} exceeds the {refundable} still refundable")]
    RefundExceedsPaid { requested: Money, refundable: Money },
    #[error("a refund must be a positive amount")]
    NonPositiveRefund,
    #[error("the order is already cancelled")]
    AlreadyCancelled,
    #[error("{requested} of {sku} asked, {remaining} left to ship")]
    ShipmentExceedsOrder {
        sku: String,
        requested: u32,
        remaining: u32,
    },
    #[error("{requested} of {sku} asked to cancel, {remaining} not in a shipment")]
    CancelExceedsUnshipped {
        sku: String,
        requested: u32,
        remaining: u32,
    },
    #[error("cancelling every line is cancelling the order")]
    CancelsEveryLine,
    #[error("the order has no such shipment")]
    UnknownShipment,
    #[error("the shipment has not left yet")]
    ShipmentNotShipped,
    #[error("the order ships in shipments; its status follows them")]
    FollowsShipments,
}

fn too_large(e: MoneyError) -> OrderError {
    match e {
        MoneyError::Overflow | MoneyError::TooLarge(_) => OrderError::TotalTooLarge,
        other => other.into(),
    }
}

/// The lines an order records for `lines`, in their order:
/// 1. `line_total = unit_price × quantity` (never tax per unit), less what the line's
///    price rules took off (its price);
/// 2. `discount` shared over the lines `discount_over` names (every line when `None`) in
///    proportion to their prices, by largest remainder, so the shares add up exactly;
/// 3. the tax of `price − discount` at `tax`, rounded once per line.
pub fn place_lines(
    lines: &[OrderLine],
    discount: Money,
    discount_over: Option<&[ProductId]>,
    tax: TaxTerms,
) -> Result<Vec<PlacedLine>, OrderError> {
    let currency = lines
        .first()
        .ok_or(OrderError::NoLines)?
        .unit_price
        .currency;
    if discount.amount < 0 {
        return Err(MoneyError::Negative.into());
    }
    let mut totals = Vec::with_capacity(lines.len());
    let mut subtotal = Money::zero(currency);
    for line in lines {
        let total = line
            .unit_price
            .checked_mul(line.quantity)
            .and_then(|t| t.at_most(MAX_TOTAL))
            .map_err(too_large)?;
        let off = line.price_off();
        if line.price_rules.iter().any(|r| r.amount_off <= 0) || off > total.amount {
            return Err(OrderError::InvalidLine {
                line: totals.len(),
                reason: "a price rule takes off nothing, or more than the line's total".into(),
            });
        }
        let price = Money::new(total.amount - off, currency);
        subtotal = subtotal
            .checked_add(price)
            .and_then(|s| s.at_most(MAX_TOTAL))
            .map_err(too_large)?;
        totals.push((total, price));
    }
    discount.checked_sub(subtotal)?;
    let weights: Vec<i64> = lines
        .iter()
        .zip(&totals)
        .map(|(l, (_, price))| match discount_over {
            Some(products) if !products.contains(&l.product_id) => 0,
            _ => price.amount,
        })
        .collect();
    if discount.amount > weights.iter().sum::<i64>() {
        return Err(OrderError::DiscountExceedsSubtotal);
    }
    let shares = share(discount.amount, &weights).ok_or(OrderError::DiscountExceedsSubtotal)?;
    lines
        .iter()
        .zip(totals)
        .zip(shares)
        .map(|((l, (line_total, price)), discount)| {
            let discount = Money::new(discount, currency);
            let taxable = price.checked_sub(discount)?;
            let tax = line_tax(taxable, tax.rate_ppm, tax.inclusive, Rounding::HalfUp)?;
            Ok(PlacedLine {
                product_id: l.product_id,
                variant_id: l.variant_id,
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                line_total,
                price_rules: l.price_rules.clone(),
                discount,
                tax,
                vendor_id: l.vendor_id,
            })
        })
        .collect()
}

/// The totals of recorded lines and a shipping cost: `subtotal = Σ price` (each line's
/// total after its price rules), `discount = Σ discount`, `tax = Σ tax`, `total =
/// subtotal − discount + (exclusive ? tax : 0) + shipping`. What `decide` records, and
/// what every reader may recompute.
pub fn fold(lines: &[PlacedLine], shipping: Money) -> Result<OrderTotals, OrderError> {
    let currency = lines
        .first()
        .ok_or(OrderError::NoLines)?
        .unit_price
        .currency;
    if shipping.amount < 0 {
        return Err(MoneyError::Negative.into());
    }
    let zero = Money::zero(currency);
    let (mut subtotal, mut discount, mut tax, mut total) = (zero, zero, zero, zero);
    for l in lines {
        subtotal = subtotal
            .checked_add(l.price().map_err(too_large)?)
            .map_err(too_large)?;
        discount = discount.checked_add(l.discount).map_err(too_large)?;
        tax = tax.checked_add(l.tax.amount).map_err(too_large)?;
        total = total
            .checked_add(l.charged().map_err(too_large)?)
            .map_err(too_large)?;
    }
    let total = total
        .checked_add(shipping)
        .and_then(|t| t.at_most(MAX_TOTAL))
        .map_err(too_large)?;
    if subtotal.amount > MAX_TOTAL {
        return Err(OrderError::TotalTooLarge);
    }
    Ok(OrderTotals {
        subtotal,
        discount,
        tax,
        shipping,
        total,
    })
}

/// The totals of `lines` with a discount over every line, a tax and a shipping cost:
/// [`place_lines`] then [`fold`].
pub fn compute_totals(
    lines: &[OrderLine],
    discount: Money,
    tax: TaxTerms,
    shipping: Money,
) -> Result<OrderTotals, OrderError> {
    fold(&place_lines(lines, discount, None, tax)?, shipping)
}
