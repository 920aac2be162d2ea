//! Returns' routes (issue 22 item 4): the order's customer asks for a return of delivered
//! lines; staff approve or reject it, receive it and refund it.
//!
//! - [`routes`]: `router()`, the OpenAPI description, `/orders/{id}/returns` and
//!   `/returns/{id}/status`, each calling one use case of `commands::returns`.
//! - [`views`]: the answers, built `From` the write side's return, and the mapping of the
//!   use cases' errors.

pub mod routes;
pub mod views;

pub use routes::{router, ReturnsApi};
