//! Orders' use cases: place an order, pay it, cancel it, move it on (staff), refund it
//! (staff). Each takes the [`Handlers`](crate::handlers::Handlers), the [`Caller`], typed
//! input and the request's [`CommandMeta`](crate::handler::CommandMeta), and answers the
//! order after the command or an [`OrdersError`] ([`PayOrderError`] for paying).
//!
//! # Layout
//!
//! - [`caller`]: who acts ([`Caller`]) and which orders they may see.
//! - [`pricing`]: a product on sale, as the catalog's write side holds it now; an order
//!   line takes its price from there, never from the client.
//! - [`place`]: placing an order, and the order command checkout builds the same way.
//! - [`pay`]: paying an order through a [`PaymentProvider`](crate::payment::PaymentProvider).
//! - [`payment_webhook`]: a provider's signed word on a charge, recorded on the order's
//!   payment.
//! - [`cancel`], [`status`], [`refund`]: what customers and staff do to a placed order;
//!   [`cancel_lines`]: staff cancel units that have not shipped, and refund them.
//! - [`error`]: [`OrdersError`], at the bottom: every other file imports it.

pub mod caller;
pub mod cancel;
pub mod cancel_lines;
pub mod error;
pub mod pay;
pub mod payment_webhook;
pub mod place;
pub mod pricing;
pub mod refund;
pub mod status;

pub use caller::{Caller, OrderOutcome};
pub use cancel::cancel_order;
pub use cancel_lines::{cancel_lines, CancelLinesRequest};
pub use error::OrdersError;
pub use pay::{pay_for_order, PayOrderError, PaymentTaken};
pub use payment_webhook::{receive_payment_webhook, PaymentWebhookError, WebhookOutcome};
pub use place::{place_order, Delivery, PlaceOrderInput, RequestedItem};
pub use pricing::{product_on_sale, CatalogUnreadable};
pub use refund::{refund_order, RefundRequest};
pub use status::{change_order_status, StatusRequest};
