//! An order's lines and totals, and what the order's rules refuse: the arithmetic every
//! placed order is checked by.

use serde::{Deserialize, Serialize};

use crate::id::ProductId;
use crate::money::{Money, MoneyError, MAX_TOTAL};
use crate::value::Sku;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub discount: Money,
    pub tax: Money,
    pub shipping: Money,
    pub total: Money,
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
    #[error("the discount exceeds the subtotal")]
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
}

/// The totals of `lines` with a fixed discount, a tax rate and a shipping cost.
pub fn compute_totals(
    lines: &[OrderLine],
    discount: Money,
    tax_rate_bp: u32,
    shipping: Money,
) -> Result<OrderTotals, OrderError> {
    let currency = lines
        .first()
        .ok_or(OrderError::NoLines)?
        .unit_price
        .currency;
    let mut subtotal = Money::zero(currency);
    for line in lines {
        subtotal = line
            .unit_price
            .checked_mul(line.quantity)
            .and_then(|l| subtotal.checked_add(l))
            .map_err(|_| OrderError::TotalTooLarge)?;
    }
    if discount.amount < 0 || shipping.amount < 0 {
        return Err(MoneyError::Negative.into());
    }
    if discount.checked_sub(subtotal)?.amount > 0 {
        return Err(OrderError::DiscountExceedsSubtotal);
    }
    let taxable = subtotal.checked_sub(discount)?;
    let tax = taxable.percent_bp(tax_rate_bp)?;
    let total = taxable
        .checked_add(tax)
        .and_then(|t| t.checked_add(shipping))
        .and_then(|t| t.at_most(MAX_TOTAL))
        .map_err(|e| match e {
            MoneyError::Overflow | MoneyError::TooLarge(_) => OrderError::TotalTooLarge,
            other => other.into(),
        })?;
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
