//! The cart's use cases: add a product at its price now, change or remove a line, apply
//! or remove a coupon, empty the cart, check it out into an order, and merge a guest's
//! cart into the customer's on sign-in. Each takes the
//! [`Handlers`](crate::handlers::Handlers), the [`Shopper`], typed input and the request's
//! [`CommandMeta`](crate::handler::CommandMeta), and answers the cart after it (checkout:
//! the order) or a [`CartUseCaseError`].
//!
//! # Layout
//!
//! - [`shopper`]: whose cart ([`Shopper`], guest cart ids), what a use case answers
//!   ([`CartOutcome`]), and the command id of each step of a flow of several commands.
//! - [`coupon`]: a coupon by its code, and the discount a cart previews with it.
//! - [`lines`]: adding, changing and removing lines; emptying the cart.
//! - [`apply_coupon`]: applying and removing a coupon.
//! - [`checkout`]: the cart into an order, with the coupon's redemption released when the
//!   order cannot be placed.
//! - [`merge`]: a guest's lines into the customer's cart.
//! - [`error`]: [`CartUseCaseError`], at the bottom.

pub mod apply_coupon;
pub mod checkout;
pub mod coupon;
pub mod error;
pub mod lines;
pub mod merge;
pub mod shopper;

pub use apply_coupon::{apply_coupon, remove_coupon};
pub use checkout::{check_out, CheckedOut};
pub use coupon::COUPON_CODE_KIND;
pub use error::CartUseCaseError;
pub use lines::{add_item, change_quantity, empty_cart, remove_item, ItemAdded};
pub use merge::merge_guest_cart;
pub use shopper::{guest_cart_id, CartOutcome, Shopper};
