//! [`CartUseCaseError`]: what a cart use case answers when it does not go through.

use domain::cart::CartError;
use domain::catalog::VariantRefusal;

use crate::handler::CommandError;
use crate::orders::error::OrdersError;
use crate::store::StoreError;

/// A cart line whose price moved since it was added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub item_id: uuid::Uuid,
    pub product_id: uuid::Uuid,
    pub variant_id: Option<uuid::Uuid>,
    /// One unit's price when the line was added.
    pub was: domain::money::Money,
    /// One unit's price now.
    pub now: domain::money::Money,
}

/// Why a cart use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum CartUseCaseError {
    /// A guest with no cart yet asked for something only an existing cart can do.
    #[error("sign in, or send the X-Guest-Cart token of your guest cart")]
    NoCart,
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A line's variant does not fit its product: none named for a product sold as its
    /// variants, one it does not have, or one named for a product without variants.
    #[error("{field}: {refusal}")]
    Variant {
        field: String,
        refusal: VariantRefusal,
    },
    /// The cart's rules refuse the command in its current state.
    #[error(transparent)]
    Rejected(CartError),
    /// The coupon cannot be used: unknown, inactive, outside its window, or (at checkout)
    /// past its limits. `field` is the input that names it (`code`, or the cart's `coupon`).
    #[error("{message}")]
    CouponRefused {
        field: &'static str,
        message: String,
    },
    /// The coupon would take nothing off the order (no line in its scope, below its
    /// minimum, another currency), so it is not used: the customer removes it or changes
    /// the cart.
    #[error("{message}")]
    CouponNotApplicable { message: String },
    /// Checkout could not place the order.
    #[error(transparent)]
    Order(OrdersError),
    #[error(transparent)]
    Store(StoreError),
    /// A line's price moved since it was added (its list price, or a rule that started
    /// or ended), and the client did not accept the prices now: nothing was placed.
    #[error("prices changed since the lines were added: {} line(s); check out again accepting the new prices", changes.len())]
    PricesChanged {
        changes: Vec<PriceChange>,
        /// The cart's subtotal at the prices now, its rules applied.
        subtotal: domain::money::Money,
    },
    /// No live share link has this token (never given, revoked, or the cart expired).
    #[error("no shared cart has this token")]
    UnknownShare,
    /// The command handler failed otherwise, or the catalog or a coupon could not be read.
    #[error("{0}")]
    Failed(String),
}

impl CartUseCaseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        CartUseCaseError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<CommandError<CartError>> for CartUseCaseError {
    fn from(e: CommandError<CartError>) -> Self {
        match e {
            CommandError::Rejected(e) => CartUseCaseError::Rejected(e),
            CommandError::Store(e) => CartUseCaseError::Store(e),
            other => CartUseCaseError::Failed(other.to_string()),
        }
    }
}
