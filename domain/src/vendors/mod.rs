//! Vendors (issue 23): the stores that sell on the marketplace.
//!
//! A [`Vendor`] is applied for by a signed-in account (store name, a unique slug, a
//! description and logo, contact and payout details), and staff approve or reject the
//! application; an approved store may be suspended and then reinstated. Staff set its
//! terms: a commission rate of its own (otherwise the store setting's default applies)
//! and whether its products go on sale without review (`trusted`).
//!
//! The contact and payout details identify a person: they are declared personal in the
//! events' schemas and sealed with the owner's key, so erasing the owner erases them.
//!
//! - [`status`]: [`VendorStatus`] and which moves it allows.
//! - [`commission`]: [`CommissionRule`], stacked fees (a percent, a fixed amount, a
//!   minimum and a maximum) and how a line's commission is computed and rounded.
//! - [`vendor`]: the aggregate: commands, events, state, `decide`, `evolve`.

pub mod commission;
pub mod status;
pub mod vendor;

pub use commission::{Charge, CommissionRule, RuleError, RuleSource, MAX_COMMISSION_AMOUNT};
pub use status::VendorStatus;
pub use vendor::{
    Application, Payout, Terms, Vendor, VendorCommand, VendorError, VendorEvent, VendorRecord,
    VendorState, MAX_COMMISSION_BP,
};
