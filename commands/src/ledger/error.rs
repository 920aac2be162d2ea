//! [`LedgerUseError`]: what a ledger use case answers when it does not go through.

use domain::ledger::LedgerError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a ledger use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum LedgerUseError {
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no such vendor")]
    VendorNotFound,
    #[error("no such order")]
    OrderNotFound,
    /// The ledger's rules refuse the command (nothing to pay, a payout in flight).
    #[error(transparent)]
    Rejected(LedgerError),
    #[error(transparent)]
    Store(StoreError),
    /// The payout provider could not be asked (it did not answer at all).
    #[error("payout provider: {0}")]
    Provider(String),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl LedgerUseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        LedgerUseError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<CommandError<LedgerError>> for LedgerUseError {
    fn from(e: CommandError<LedgerError>) -> Self {
        match e {
            CommandError::Rejected(LedgerError::InvalidPeriod) => {
                LedgerUseError::invalid("period_start", LedgerError::InvalidPeriod)
            }
            CommandError::Rejected(e @ LedgerError::InvalidAmount(_)) => {
                LedgerUseError::invalid("amount", e)
            }
            CommandError::Rejected(e @ LedgerError::InvalidReason(_)) => {
                LedgerUseError::invalid("reason", e)
            }
            CommandError::Rejected(e @ LedgerError::CurrencyRequired(_)) => {
                LedgerUseError::invalid("currency", e)
            }
            CommandError::Rejected(e) => LedgerUseError::Rejected(e),
            CommandError::Store(e) => LedgerUseError::Store(e),
            other => LedgerUseError::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for LedgerUseError {
    fn from(e: StoreError) -> Self {
        LedgerUseError::Store(e)
    }
}
