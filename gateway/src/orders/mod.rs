//! Orders and payments over HTTP: place, pay, cancel, change status (staff), refund
//! (staff), the queries of the `orders` read model, and the staff export.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, and the command handlers, each one
//!   use case of `commands::orders` with its error mapped to a problem.
//! - [`queries`]: one order, a page, a user's timeline; from the read model.
//! - [`read_model`]: the read model's rows and the SQL that reads them.
//! - [`views`]: the answers ([`OrderView`](views::OrderView) and the rest), built from the
//!   write side's state and from read-model rows alike.
//! - [`export`]: `GET /orders/export` (staff), streamed as CSV or NDJSON.

pub mod export;
pub mod queries;
pub mod read_model;
pub mod routes;
pub mod views;

pub use routes::{router, OrdersApi};
