//! [`ReturnError`]: what the returns' rules refuse.

use chrono::{DateTime, Utc};

use super::status::ReturnStatus;
use crate::money::Money;
use crate::value::Sku;

/// The most returns one order has.
pub const MAX_RETURNS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the return already exists")]
    AlreadyRequested,
    #[error("no such return")]
    UnknownReturn,
    #[error("an order has at most {MAX_RETURNS} returns")]
    TooManyReturns,
    #[error("a return needs at least one line")]
    NoLines,
    #[error("lines[{line}].quantity: must be positive")]
    ZeroQuantity { line: usize },
    #[error("lines[{line}].sku: {sku} appears twice; add up the quantities")]
    DuplicateLine { line: usize, sku: Sku },
    #[error("lines[{line}].sku: the order has no line {sku}")]
    NotOrdered { line: usize, sku: Sku },
    #[error("lines[{line}].sku: no unit of {sku} has been delivered")]
    NotDelivered { line: usize, sku: Sku },
    #[error("lines[{line}].quantity: {requested} of {sku} asked, {remaining} delivered within the return window and not yet returned")]
    ExceedsReturnable {
        line: usize,
        sku: Sku,
        requested: u32,
        remaining: u32,
    },
    /// Every delivered unit of the line arrived longer ago than the window.
    #[error("lines[{line}].sku: the return window of {sku} closed at {closed_at}")]
    WindowClosed {
        line: usize,
        sku: Sku,
        closed_at: DateTime<Utc>,
    },
    #[error("a return that is {status} cannot be {action}")]
    InvalidTransition {
        status: ReturnStatus,
        action: &'static str,
    },
    #[error("the refund is {given}; the return refunds {due}")]
    RefundMismatch { given: Money, due: Money },
    #[error("{field}: {reason}")]
    InvalidText { field: &'static str, reason: String },
}

impl From<crate::value::InvalidValue> for ReturnError {
    fn from(e: crate::value::InvalidValue) -> Self {
        ReturnError::InvalidText {
            field: e.field,
            reason: e.message,
        }
    }
}
