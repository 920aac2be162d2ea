//! The price rules' use cases (issue 24, ADR 0008): staff create a rule (a draft, or
//! enabled at once), change its terms, enable and disable it; the scheduler records when
//! the clock has made a rule active or expired. Pricing itself is `domain::pricing`'s pure
//! engine, which every reader of a price calls with the live rules.
//!
//! - [`manage`]: [`create_rule`], [`update_rule`], [`enable_rule`], [`disable_rule`],
//!   [`tick_rule`], [`price_rule`].
//! - The port the cart and checkout price lines through ([`Pricer`], from a
//!   [`PriceSource`] the gateway sets; list prices without one) is `crate::prices`,
//!   re-exported here.
//! - [`error`]: [`PricingUseError`], at the bottom.

pub mod error;
pub mod manage;

pub use crate::prices::{ListPrices, PriceSource, Pricer, Prices, ToPrice};
pub use error::PricingUseError;
pub use manage::{
    create_rule, disable_rule, enable_rule, price_rule, tick_rule, update_rule, RuleDecided,
};
