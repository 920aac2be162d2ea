//! Shipping's routes (issue 22): an order's shipments (staff create them, the customer and
//! staff read them), a shipment's steps and its tracking timeline, the carriers' signed
//! webhooks, and the fulfilment queue.
//!
//! - [`routes`], the staff's and customers' routes: `router()` (with the webhook's and the queue's routes), the OpenAPI
//!   description, and `/orders/{id}/shipments`, `/shipments/{id}/status`,
//!   `/shipments/{id}/tracking`, each calling one use case of `commands::shipping`.
//! - [`webhook`], the carriers' side: `/shipping/webhooks/{carrier}`.
//! - [`queue`], from the `shipping` read model: `/fulfilment/queue`.
//! - [`rates`]: `/shipping/zones` (staff set zones, methods and rates) and
//!   `/shipping/quote` (a cart's methods and fees to a destination); [`rates_views`], their
//!   bodies and answers, and the quote's refusals (`unknown_shipping_method`,
//!   `shipping_method_unavailable`, `shipping_unavailable`).
//! - [`views`]: the answers, built `From` the write side's shipment and the read model's
//!   rows; and the mapping of the use cases' errors.

pub mod queue;
pub mod rates;
pub mod rates_views;
pub mod routes;
pub mod views;
pub mod webhook;

pub use routes::{router, ShippingApi};
