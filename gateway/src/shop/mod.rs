//! The store's settings over HTTP (issue 22 item 5): `GET /store` for anyone (what a
//! storefront needs to render prices and pick a language), `PUT /store` for staff, which
//! replaces the whole document.
//!
//! Reads fold the settings stream on the write side, through the process's
//! [`Followed`](crate::followed::Followed) cache, forgotten whenever the stream changes.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers and the mapping of
//!   `commands::shop`'s errors to problems.
//! - [`views`]: [`StoreView`](views::StoreView) and [`StoreBody`](views::StoreBody).

pub mod routes;
pub mod views;

pub use routes::{router, ShopApi};
