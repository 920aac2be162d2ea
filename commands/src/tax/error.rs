//! [`TaxUseError`]: what a tax use case answers when it does not go through.

use domain::tax::TaxError;

use crate::handler::CommandError;
use crate::store::StoreError;

/// Why a tax use case did not go through. Rule rejections and failures (`Store`, `Failed`)
/// never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum TaxUseError {
    /// A zone, rate or name the rules refuse, named by its field.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The table has no rate for the zone.
    #[error("no rate is set for this zone")]
    UnknownZone,
    /// The table is full.
    #[error("{0}")]
    Full(String),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<TaxError>> for TaxUseError {
    fn from(e: CommandError<TaxError>) -> Self {
        match e {
            CommandError::Rejected(TaxError::Invalid { field, message }) => {
                TaxUseError::Invalid { field, message }
            }
            CommandError::Rejected(TaxError::UnknownZone(_)) => TaxUseError::UnknownZone,
            CommandError::Rejected(e @ TaxError::TooManyRates) => TaxUseError::Full(e.to_string()),
            CommandError::Store(e) => TaxUseError::Store(e),
            other => TaxUseError::Failed(other.to_string()),
        }
    }
}
