//! [`ReturnsUseError`]: what a returns use case answers when it does not go through.

use domain::inventory::InventoryError;
use domain::order::OrderError;
use domain::returns::ReturnError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a returns use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`, `ProviderFailed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum ReturnsUseError {
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No such order, or not one the caller may see.
    #[error("no such order")]
    OrderNotFound,
    /// No such return, or not one the caller may see.
    #[error("no such return")]
    NotFound,
    /// Only the order's customer asks for a return.
    #[error("a return is asked for by the order's customer")]
    NotCustomer,
    /// Only staff approve, reject, receive and refund a return.
    #[error("returns are approved, received and refunded by staff")]
    NotStaff,
    /// The returns' rules refuse the command (past the window, more than delivered, a
    /// step out of order).
    #[error(transparent)]
    Rejected(ReturnError),
    /// The order's rules refuse the refund (more than is left of what was paid).
    #[error(transparent)]
    Order(OrderError),
    /// The stock of a restocked line could not be put back.
    #[error("stock: {0}")]
    Stock(InventoryError),
    /// The payment provider did not refund.
    #[error("{0}")]
    ProviderFailed(String),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<ReturnError>> for ReturnsUseError {
    fn from(e: CommandError<ReturnError>) -> Self {
        match e {
            CommandError::Rejected(e) => ReturnsUseError::Rejected(e),
            CommandError::Store(e) => ReturnsUseError::Store(e),
            other => ReturnsUseError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<OrderError>> for ReturnsUseError {
    fn from(e: CommandError<OrderError>) -> Self {
        match e {
            CommandError::Rejected(e) => ReturnsUseError::Order(e),
            CommandError::Store(e) => ReturnsUseError::Store(e),
            other => ReturnsUseError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<InventoryError>> for ReturnsUseError {
    fn from(e: CommandError<InventoryError>) -> Self {
        match e {
            CommandError::Rejected(e) => ReturnsUseError::Stock(e),
            CommandError::Store(e) => ReturnsUseError::Store(e),
            other => ReturnsUseError::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for ReturnsUseError {
    fn from(e: StoreError) -> Self {
        ReturnsUseError::Store(e)
    }
}
