//! Reviews' routes (issue 23): a verified buyer reviews a product; anyone reads a
//! product's published reviews with its rating; the author edits and withdraws theirs;
//! shoppers mark reviews helpful; staff hide and restore them; the product's vendor
//! replies.
//!
//! - [`routes`]: `router()`, the OpenAPI description, and the commands
//!   (`POST /products/{id}/reviews`, `PUT`/`DELETE /reviews/{id}`,
//!   `POST /reviews/{id}/helpful`, `PUT /reviews/{id}/status`, `PUT /reviews/{id}/reply`),
//!   each calling one use case of `commands::reviews`.
//! - [`list`]: `GET /products/{id}/reviews`, from the `reviews` read model.
//! - [`admin`]: `GET /admin/reviews`, every product's reviews for staff to moderate (the
//!   console's reviews page renders the same query).
//! - [`views`]: the answers, built `From` the write side's review and the read model's
//!   rows; and the mapping of the use cases' errors.

pub mod admin;
pub mod list;
pub mod routes;
pub mod views;

pub use routes::{router, ReviewsApi};
