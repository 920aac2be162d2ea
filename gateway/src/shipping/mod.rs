//! Shipping's routes (issue 22): an order's shipments (staff create them, the customer and
//! staff read them), a shipment's steps and its tracking timeline, the carriers' signed
//! webhooks, and the fulfilment queue.
//!
//! - [`routes`]: `/orders/{id}/shipments`, `/shipments/{id}/status`,
//!   `/shipments/{id}/tracking`, each calling one use case of `commands::shipping`.
//! - [`webhook`]: `/shipping/webhooks/{carrier}`.
//! - [`queue`]: `/fulfilment/queue`, from the `shipping` read model.
//! - [`views`]: the answers, built `From` the write side's shipment and the read model's
//!   rows; and the mapping of the use cases' errors.

pub mod queue;
pub mod routes;
pub mod views;
pub mod webhook;

use axum::Router;

use crate::state::AppState;

pub use routes::ShippingApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(routes::router())
        .merge(webhook::router())
        .merge(queue::router())
}
