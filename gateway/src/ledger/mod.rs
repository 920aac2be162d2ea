//! A store's ledger and payouts (issue 23 item 4).
//!
//! - [`routes`]: `router()`, the OpenAPI description, and `GET /vendors/me/ledger`,
//!   `GET /vendors/me/payouts`, `GET /vendors/{id}/ledger`, `GET /vendors/{id}/payouts`,
//!   `POST /vendors/{id}/payouts`, `POST /vendors/{id}/adjustments`; JSON pages or CSV.
//! - [`views`]: the answers, built `From` the `ledger` read model's rows and the write
//!   side's payout; their CSV lines; and the mapping of the use cases' errors.

pub mod routes;
pub mod views;

pub use routes::{router, LedgerApi};
