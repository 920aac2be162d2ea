//! [`ReviewUseError`]: what a review use case answers when it does not go through.

use domain::reviews::ReviewError;

use crate::handler::CommandError;
use crate::store::StoreError;
use crate::unique::UniqueError;

/// Why a review use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum ReviewUseError {
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no such review")]
    NotFound,
    #[error("no such product")]
    ProductNotFound,
    /// None of the caller's orders shows this product delivered to them (and kept).
    #[error("only a buyer who received this product may review it")]
    NotVerified,
    /// The caller reviewed this product already.
    #[error("you have reviewed this product already")]
    AlreadyReviewed,
    /// The review's rules refuse the command (not the author, not the vendor, withdrawn).
    #[error(transparent)]
    Rejected(ReviewError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl ReviewUseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        ReviewUseError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<CommandError<ReviewError>> for ReviewUseError {
    fn from(e: CommandError<ReviewError>) -> Self {
        match e {
            CommandError::Rejected(ReviewError::Invalid { field, reason }) => {
                ReviewUseError::invalid(field, reason)
            }
            CommandError::Rejected(e @ ReviewError::Rating(_)) => {
                ReviewUseError::invalid("rating", e)
            }
            CommandError::Rejected(e @ ReviewError::MissingReason) => {
                ReviewUseError::invalid("reason", e)
            }
            CommandError::Rejected(ReviewError::NotWritten) => ReviewUseError::NotFound,
            CommandError::Rejected(e) => ReviewUseError::Rejected(e),
            CommandError::Store(e) => ReviewUseError::Store(e),
            other => ReviewUseError::Failed(other.to_string()),
        }
    }
}

impl From<UniqueError> for ReviewUseError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { .. } => ReviewUseError::AlreadyReviewed,
            UniqueError::Store(e) => ReviewUseError::Store(e),
            other => ReviewUseError::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for ReviewUseError {
    fn from(e: StoreError) -> Self {
        ReviewUseError::Store(e)
    }
}
