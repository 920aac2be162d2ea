//! The coupons' use cases (issue 21): staff create a coupon with its code claimed
//! (invariant 7), change its terms, deactivate and reactivate it; everyone else finds a
//! coupon by its code. Redeeming belongs to checkout (`crate::cart::checkout`), giving a
//! redemption back to checkout's compensation and to the checkout saga when an order is
//! cancelled (`crate::checkout`).
//!
//! - [`code`]: the coupon code's `unique` kind and the coupon a code names.
//! - [`lines`]: a cart's or an order's lines as a coupon's scope sees them (each product's
//!   category, read from the catalog when the scope names categories).
//! - [`manage`]: [`create_coupon`], [`update_coupon`], [`deactivate_coupon`],
//!   [`reactivate_coupon`].
//! - [`error`]: [`CouponsError`], at the bottom.

pub mod code;
pub mod error;
pub mod lines;
pub mod manage;

pub use code::{coupon_by_code, COUPON_CODE_KIND};
pub use error::CouponsError;
pub use lines::coupon_lines;
pub use manage::{
    create_coupon, deactivate_coupon, reactivate_coupon, update_coupon, CouponDecided,
};
