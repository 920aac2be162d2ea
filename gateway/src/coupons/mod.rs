//! Coupons over HTTP, for staff (issue 21): create a coupon, list and read them with their
//! use so far, change their terms, deactivate and reactivate them. Customers meet coupons
//! through the cart (`POST /cart/coupon`, checkout).
//!
//! Commands call one use case of `commands::coupons` and answer the coupon as the write
//! side holds it, with `X-Consistency-Token`; reads come from the `carts` read model's
//! `coupons` table (the one that previews a cart's discount), waiting for that token when
//! sent.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers, and the mapping of
//!   `commands::coupons`' errors to problems.
//! - [`read_model`]: what the reads take from `carts.coupons`.
//! - [`views`]: [`CouponView`](views::CouponView) and the request body, from the write
//!   side and from the read model.

pub mod read_model;
pub mod routes;
pub mod views;

pub use routes::{router, CouponsApi};
