//! Why the account's rules refuse a command.

use crate::id::AddressId;
use crate::value::InvalidValue;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("the account already exists")]
    AlreadyRegistered,
    #[error("no such account")]
    NotRegistered,
    #[error("the account is suspended")]
    Suspended,
    #[error("the account was erased")]
    Erased,
    #[error("the account is not suspended")]
    NotSuspended,
    /// Free text the rule of `crate::value` refuses: too long, or with control characters.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a password credential is required")]
    MissingCredential,
    #[error("an account holds at most {0} addresses")]
    TooManyAddresses(usize),
    #[error("no address {0}")]
    UnknownAddress(AddressId),
    #[error("the account already has the role {0}")]
    SameRole(&'static str),
    #[error("a suspension needs a reason")]
    MissingReason,
    #[error("the e-mail address is already verified")]
    EmailAlreadyVerified,
    #[error("no such token was issued to this account")]
    UnknownToken,
    #[error("the token has already been used")]
    TokenUsed,
    #[error("a newer token has replaced this one")]
    TokenSuperseded,
    #[error("the token has expired")]
    TokenExpired,
    #[error("a token must expire after it is issued")]
    TokenExpiresBeforeIssued,
    #[error("a token was issued moments ago; another may be asked for in {retry_after_secs} s")]
    TokenRecentlyIssued { retry_after_secs: i64 },
}

impl From<InvalidValue> for UserError {
    fn from(e: InvalidValue) -> Self {
        UserError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}
