//! The cart over HTTP: read it, add, change and remove lines, apply or remove a coupon,
//! empty it, check it out into an order, and merge a guest's cart into the customer's on
//! sign-in.
//!
//! A signed-in customer's cart is the stream `cart-<user id>`, so a user reaches their own
//! cart and no other. A guest (no `Authorization`) is given a random token in the
//! `X-Guest-Cart` answer header when adding a first line and sends it back on later calls;
//! the cart's id is a UUIDv5 of that token, so no token names a customer's cart. After
//! signing in, `POST /cart/merge` with the token moves the guest's lines into the user's
//! cart.
//!
//! Prices always come from the product as the catalog's write side holds it now, never from
//! the client. Commands answer the cart as the write side sees it, with
//! `X-Consistency-Token`; `GET /cart` reads the `carts` read model, waiting for that token
//! when sent. Checkout's answer and status code are those of `POST /orders`.
//!
//! # Layout
//!
//! - [`routes`]: `router()`, the OpenAPI description, the handlers, and the mapping of
//!   `commands::cart`'s errors to problems.
//! - [`owner`]: [`CartOwner`](owner::CartOwner), whose cart a request acts on.
//! - [`read_model`]: what `GET /cart` reads of the `carts` read model.
//! - [`views`]: [`CartView`](views::CartView), from the write side and the read model.

pub mod owner;
pub mod read_model;
pub mod routes;
pub mod views;

pub use owner::{CartOwner, GUEST_HEADER};
pub use routes::{router, CartApi};
