//! [`NavigationUseError`]: what a menu use case answers when it does not go through.

use domain::navigation::NavigationError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a menu use case did not go through.
#[derive(Debug, thiserror::Error)]
pub enum NavigationUseError {
    /// A node the rules refuse (its shape, or a link to a category or product that does
    /// not exist), named by its path.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<NavigationError>> for NavigationUseError {
    fn from(e: CommandError<NavigationError>) -> Self {
        match e {
            CommandError::Rejected(NavigationError::Invalid { field, message }) => {
                NavigationUseError::Invalid { field, message }
            }
            CommandError::Store(e) => NavigationUseError::Store(e),
            other => NavigationUseError::Failed(other.to_string()),
        }
    }
}
