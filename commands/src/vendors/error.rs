//! [`VendorUseError`]: what a vendor use case answers when it does not go through.

use domain::user::UserError;
use domain::vendors::VendorError;

use crate::accounts::AccountError;
use crate::handler::CommandError;
use crate::store::StoreError;
use crate::unique::UniqueError;

/// Why a vendor use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum VendorUseError {
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no such vendor")]
    NotFound,
    /// Another store holds the slug.
    #[error("the store slug {0:?} is taken")]
    SlugTaken(String),
    /// The store's rules refuse the command (applied already, a move it does not allow).
    #[error(transparent)]
    Rejected(VendorError),
    /// The owner's account refuses to become a member (erased, say).
    #[error("the owner's account: {0}")]
    Account(UserError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl VendorUseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        VendorUseError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<domain::value::InvalidValue> for VendorUseError {
    fn from(e: domain::value::InvalidValue) -> Self {
        VendorUseError::invalid(e.field, e.message)
    }
}

impl From<CommandError<VendorError>> for VendorUseError {
    fn from(e: CommandError<VendorError>) -> Self {
        match e {
            CommandError::Rejected(VendorError::Invalid { field, reason }) => {
                VendorUseError::invalid(field, reason)
            }
            CommandError::Rejected(VendorError::MissingReason) => {
                VendorUseError::invalid("reason", VendorError::MissingReason)
            }
            CommandError::Rejected(e @ VendorError::CommissionOutOfRange(_)) => {
                VendorUseError::invalid("commission_rate_bp", e)
            }
            CommandError::Rejected(VendorError::Rule(e)) => VendorUseError::invalid(e.field(), e),
            CommandError::Rejected(VendorError::NotApplied) => VendorUseError::NotFound,
            CommandError::Rejected(e) => VendorUseError::Rejected(e),
            CommandError::Store(e) => VendorUseError::Store(e),
            other => VendorUseError::Failed(other.to_string()),
        }
    }
}

impl From<AccountError> for VendorUseError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Rejected(e) => VendorUseError::Account(e),
            AccountError::Store(e) => VendorUseError::Store(e),
            AccountError::Failed(e) => VendorUseError::Failed(e.to_string()),
        }
    }
}

impl From<UniqueError> for VendorUseError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { key, .. } => VendorUseError::SlugTaken(key),
            UniqueError::Store(e) => VendorUseError::Store(e),
            other => VendorUseError::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for VendorUseError {
    fn from(e: StoreError) -> Self {
        VendorUseError::Store(e)
    }
}
