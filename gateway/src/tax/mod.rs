//! The store's tax table over HTTP (issue 21, ADR 0006): staff set, read and remove the
//! rate of a zone (`US`, or a region of it, `US-NY`), and say whether prices include tax;
//! anyone may read that setting, so a storefront shows prices the way they are charged.
//!
//! The table is one small aggregate, read whole from the write side by
//! `commands::tax::tax_table` (what checkout applies), so reads need no consistency token.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers, and the mapping of
//!   `commands::tax`' errors to problems.
//! - [`views`]: [`TaxRateView`](views::TaxRateView), [`TaxSettingsView`](views::TaxSettingsView)
//!   and the bodies, and the zone as a path names it.

pub mod routes;
pub mod views;

pub use routes::{router, TaxApi};
