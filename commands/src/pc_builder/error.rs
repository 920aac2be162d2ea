//! [`PcBuilderError`]: what a PC builder use case answers when it does not go through.

use domain::pc_builder::PcBuildError;

use crate::cart::CartUseCaseError;
use crate::handler::CommandError;
use crate::store::StoreError;
use crate::unique::UniqueError;

/// Why a PC builder use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum PcBuilderError {
    /// A field of the input the rules refuse, named as the client sent it
    /// (`components[2].product_id`): an unknown product, one off sale, one that is not a
    /// part of the slot it was put in, a slot over its capacity, a bad name.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No such build, or not the caller's: one answer for both, so a build's id tells a
    /// stranger nothing.
    #[error("no such build")]
    NotFound,
    /// The cart refused the build's parts; nothing of the build was left in it.
    #[error("the cart refused the build: {0}")]
    Cart(CartUseCaseError),
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Failed(String),
}

impl PcBuilderError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        PcBuilderError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<CommandError<PcBuildError>> for PcBuilderError {
    fn from(e: CommandError<PcBuildError>) -> Self {
        match e {
            CommandError::Rejected(PcBuildError::NotCreated | PcBuildError::NotOwner) => {
                PcBuilderError::NotFound
            }
            CommandError::Rejected(PcBuildError::Invalid { field, message }) => {
                PcBuilderError::Invalid { field, message }
            }
            CommandError::Store(e) => PcBuilderError::Store(e),
            other => PcBuilderError::Failed(other.to_string()),
        }
    }
}

impl From<UniqueError> for PcBuilderError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Store(e) => PcBuilderError::Store(e),
            other => PcBuilderError::Failed(other.to_string()),
        }
    }
}
