//! [`ShopError`]: what a settings use case answers when it does not go through.

use domain::shop::SettingsError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a settings use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    /// A field the rules refuse, named by its path.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<SettingsError>> for ShopError {
    fn from(e: CommandError<SettingsError>) -> Self {
        match e {
            CommandError::Rejected(SettingsError::Invalid { field, message }) => {
                ShopError::Invalid { field, message }
            }
            CommandError::Store(e) => ShopError::Store(e),
            other => ShopError::Failed(other.to_string()),
        }
    }
}
