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
//! - [`saved`]: lines saved for later, and back.
//! - [`share`]: a read-only link to the cart (its token known to the log by its hash),
//!   and copying a shared cart into one's own.
//! - [`expiry`]: the expiry of an idle cart, for the cart expiry process.
//! - [`quote`]: the shipping methods the cart could leave by to a destination, and their
//!   fees.
//! - [`error`]: [`CartUseCaseError`], at the bottom.

pub mod apply_coupon;
pub mod checkout;
pub mod coupon;
pub mod error;
pub mod lines;
pub mod merge;
pub mod quote;
pub mod shopper;

pub use apply_coupon::{apply_coupon, remove_coupon};
pub use checkout::{check_out, check_out_at_prices, CheckedOut};
pub use coupon::COUPON_CODE_KIND;
pub use error::{CartUseCaseError, PriceChange};
pub use lines::{add_item, change_quantity, empty_cart, remove_item, ItemAdded};
pub use merge::merge_guest_cart;
pub use quote::{quote_cart, CartQuote};
pub use shopper::{guest_cart_id, CartOutcome, Shopper};

pub mod expiry;
pub mod saved;
pub mod share;

pub use expiry::expire_idle_cart;
pub use saved::{move_to_cart, remove_saved, save_for_later};
pub use share::{copy_shared_cart, revoke_share, share_cart, share_token_hash, Shared};
