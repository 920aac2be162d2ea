//! [`CouponsError`]: what a coupon use case answers when it does not go through.

use domain::coupon::CouponError;

use crate::handler::CommandError;
use crate::store::StoreError;
use crate::unique::UniqueError;

/// Why a coupon use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum CouponsError {
    /// A term the rules refuse, named by the field that carries it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Another coupon holds the code.
    #[error("the code {0:?} is already used")]
    CodeTaken(String),
    /// No coupon has the code.
    #[error("no such coupon")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl CouponsError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        CouponsError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<CommandError<CouponError>> for CouponsError {
    fn from(e: CommandError<CouponError>) -> Self {
        match e {
            CommandError::Rejected(CouponError::Invalid { field, message }) => {
                CouponsError::invalid(field, message)
            }
            CommandError::Rejected(CouponError::NotCreated) => CouponsError::NotFound,
            CommandError::Rejected(other) => CouponsError::invalid("code", other),
            CommandError::Store(e) => CouponsError::Store(e),
            other => CouponsError::Failed(other.to_string()),
        }
    }
}

impl From<UniqueError> for CouponsError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { key, .. } => CouponsError::CodeTaken(key),
            UniqueError::Store(e) => CouponsError::Store(e),
            other => CouponsError::Failed(other.to_string()),
        }
    }
}
