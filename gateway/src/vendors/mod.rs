//! Vendors' routes (issue 23): applying for a store, a store's public page, staff's
//! decisions on it and its terms.
//!
//! - [`routes`]: `router()`, the OpenAPI description, and `POST /vendors`,
//!   `GET /vendors/{slug}`, `PUT /vendors/{id}/status`, `PUT /vendors/{id}/terms`.
//! - [`list`]: `GET /vendors`, the approved stores for anyone, any status for staff.
//! - [`orders`]: `GET /vendors/me/orders` and `GET /vendors/{id}/orders`, a store's
//!   sub-orders from the `vendor_orders` read model.
//! - [`views`]: the answers, built `From` the write side's store and the read model's
//!   row; and the mapping of the use cases' errors.

pub mod list;
pub mod orders;
pub mod routes;
pub mod views;

pub use routes::{router, VendorsApi};
