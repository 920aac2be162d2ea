//! [`ConfigUseError`]: what a configuration use case answers when it does not go through.

use domain::configuration::ConfigError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a configuration use case did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ConfigUseError {
    /// No key of the registry has this name.
    #[error("no configuration key is named {0:?}")]
    UnknownKey(String),
    /// The value is not of the key's type or outside its range.
    #[error("value: {0}")]
    InvalidValue(String),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<ConfigError>> for ConfigUseError {
    fn from(e: CommandError<ConfigError>) -> Self {
        match e {
            CommandError::Rejected(ConfigError::UnknownKey(key)) => ConfigUseError::UnknownKey(key),
            CommandError::Rejected(ConfigError::InvalidValue(m)) => ConfigUseError::InvalidValue(m),
            CommandError::Store(e) => ConfigUseError::Store(e),
            other => ConfigUseError::Failed(other.to_string()),
        }
    }
}
