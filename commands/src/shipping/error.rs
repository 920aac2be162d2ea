//! [`ShippingUseError`]: what a shipping use case answers when it does not go through.

use domain::inventory::InventoryError;
use domain::order::OrderError;
use domain::shipping::ShipmentError;

use crate::handler::CommandError;
use crate::store::StoreError;
use crate::webhook::WebhookError;

/// Why a shipping use case did not go through. Rule rejections and failures (`Store`,
/// `Failed`, `CarrierUnavailable`) never share a variant.
#[derive(Debug, thiserror::Error)]
pub enum ShippingUseError {
    /// A field of the input the rules refuse, named as the client sent it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No such order, or not one the caller may see.
    #[error("no such order")]
    OrderNotFound,
    /// No such shipment, or not one the caller may see.
    #[error("no such shipment")]
    NotFound,
    /// Only staff create and move shipments.
    #[error("shipments are created and moved by staff")]
    NotStaff,
    /// The order is not one that ships (unpaid, cancelled, shipped by hand, refunded).
    #[error("the order is {0}; it has nothing to ship")]
    NotShippable(&'static str),
    /// The shipment's rules refuse the command (more than was ordered, a step back).
    #[error(transparent)]
    Rejected(ShipmentError),
    /// The order's rules refuse it (another shipment took the units first).
    #[error(transparent)]
    Order(OrderError),
    /// The stock of a shipped line is not reserved for the order.
    #[error("stock: {0}")]
    Stock(InventoryError),
    /// The carrier refuses the parcel (a service level it does not offer, a weight).
    #[error("{0}")]
    CarrierRefused(String),
    /// The carrier did not answer.
    #[error("{0}")]
    CarrierUnavailable(String),
    /// The webhook's signature is missing, wrong, outside the window or seen before.
    #[error(transparent)]
    Signature(WebhookError),
    /// A signed body that is not a tracking update of the carrier, or one that names a
    /// parcel the shipment is not.
    #[error("the body is not a tracking update: {0}")]
    Malformed(String),
    /// No carrier of this name.
    #[error("no carrier {0:?}")]
    UnknownCarrier(String),
    /// `SHIPPING_WEBHOOK_SECRET` is not set: no webhook is taken.
    #[error("carriers' webhooks are not configured on this server")]
    WebhooksOff,
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, an unreadable event, shutdown),
    /// or the replay cache could not be written.
    #[error("{0}")]
    Failed(String),
}

impl ShippingUseError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        ShippingUseError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

impl From<domain::value::InvalidValue> for ShippingUseError {
    fn from(e: domain::value::InvalidValue) -> Self {
        ShippingUseError::invalid(e.field, e.message)
    }
}

impl From<CommandError<ShipmentError>> for ShippingUseError {
    fn from(e: CommandError<ShipmentError>) -> Self {
        match e {
            CommandError::Rejected(ShipmentError::InvalidText { field, reason }) => {
                ShippingUseError::invalid(field, reason)
            }
            CommandError::Rejected(e) => ShippingUseError::Rejected(e),
            CommandError::Store(e) => ShippingUseError::Store(e),
            other => ShippingUseError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<OrderError>> for ShippingUseError {
    fn from(e: CommandError<OrderError>) -> Self {
        match e {
            CommandError::Rejected(e) => ShippingUseError::Order(e),
            CommandError::Store(e) => ShippingUseError::Store(e),
            other => ShippingUseError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<InventoryError>> for ShippingUseError {
    fn from(e: CommandError<InventoryError>) -> Self {
        match e {
            CommandError::Rejected(e) => ShippingUseError::Stock(e),
            CommandError::Store(e) => ShippingUseError::Store(e),
            other => ShippingUseError::Failed(other.to_string()),
        }
    }
}

impl From<StoreError> for ShippingUseError {
    fn from(e: StoreError) -> Self {
        ShippingUseError::Store(e)
    }
}
