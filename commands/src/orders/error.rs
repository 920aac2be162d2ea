//! [`OrdersError`]: what an order use case answers when it does not go through.

use domain::catalog::VariantRefusal;
use domain::order::{OrderError, OrderInputError};

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why an order use case did not go through. Rule rejections (`Invalid`, `NotFound`,
/// `PaidOrderNeedsStaff`, `Rejected`) and failures (`Store`, `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// A field of the input the rules refuse; `field` names it as the client sent it
    /// (`items[2].quantity`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// An item's variant does not fit its product (`field` is `items[i].variant_id`).
    #[error("{field}: {refusal}")]
    Variant {
        field: String,
        refusal: VariantRefusal,
    },
    /// No such order, or not one the caller may see: they learn nothing of it.
    #[error("no such order")]
    NotFound,
    /// A customer cancelling an order past payment: staff cancel those.
    #[error("a paid order is cancelled by staff")]
    PaidOrderNeedsStaff,
    /// The order's rules refuse the command in its current state.
    #[error(transparent)]
    Rejected(OrderError),
    /// No shipping quote: an unknown method, one that does not serve the address or the
    /// order, or (without a method named) an address no zone serves.
    #[error(transparent)]
    Shipping(domain::shipping::QuoteError),
    /// The payment provider did not refund what the order recorded as given back; the
    /// request's retry (same idempotency key) asks it again.
    #[error("the refund failed: {0}")]
    RefundFailed(String),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an undecodable event, shutdown),
    /// or the catalog could not be read.
    #[error("{0}")]
    Failed(String),
}

impl OrdersError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        OrdersError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// An input rule's refusal of `field`.
    pub fn input(field: &str, e: OrderInputError) -> Self {
        OrdersError::invalid(field, e)
    }
}

/// Free text `domain::value` refuses, the field named.
impl From<domain::value::InvalidValue> for OrdersError {
    fn from(e: domain::value::InvalidValue) -> Self {
        OrdersError::invalid(e.field, e.message)
    }
}

impl From<CommandError<OrderError>> for OrdersError {
    fn from(e: CommandError<OrderError>) -> Self {
        match e {
            CommandError::Rejected(e) => OrdersError::Rejected(e),
            CommandError::Store(e) => OrdersError::Store(e),
            other => OrdersError::Failed(other.to_string()),
        }
    }
}
