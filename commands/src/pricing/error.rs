//! [`PricingUseError`]: what a price-rule use case answers when it does not go through.

use domain::pricing::PriceRuleError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a price-rule use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum PricingUseError {
    /// A term the rules refuse, named by its field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no such price rule")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<PriceRuleError>> for PricingUseError {
    fn from(e: CommandError<PriceRuleError>) -> Self {
        match e {
            CommandError::Rejected(PriceRuleError::Invalid(e)) => PricingUseError::Invalid {
                field: e.field.into(),
                message: e.message,
            },
            CommandError::Rejected(PriceRuleError::NotCreated) => PricingUseError::NotFound,
            CommandError::Rejected(e @ PriceRuleError::AlreadyCreated) => {
                PricingUseError::Failed(e.to_string())
            }
            CommandError::Store(e) => PricingUseError::Store(e),
            other => PricingUseError::Failed(other.to_string()),
        }
    }
}
