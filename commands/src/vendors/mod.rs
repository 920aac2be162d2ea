//! Vendors' use cases (issue 23): applying for a store, staff's approval, rejection,
//! suspension and reinstatement, the store's terms, and reading a store.
//!
//! # Layout
//!
//! - [`apply`]: [`apply`](apply::apply): the store's slug is claimed (`vendor_slug`, set
//!   uniqueness on the write side), then the application recorded; the claim is given
//!   back when the application is refused.
//! - [`status`]: [`change_status`]: staff move the store; once it is approved its owner
//!   becomes a vendor member (the account's role `vendor`).
//! - [`terms`]: [`change_terms`]: the commission rate and whether the store is trusted.
//! - [`commission`]: [`change_commission`]: the store's commission rule (stacked fees),
//!   each change a new version that the sales paid from then on record.
//! - [`stores`], at the bottom: the slug's uniqueness kind, a store read whole from the write side (by id, by slug, the caller's
//!   own), its effective commission, and whether a vendor may sell now.
//! - [`error`]: [`VendorUseError`], at the bottom.

pub mod apply;
pub mod commission;
pub mod error;
pub mod status;
pub mod stores;
pub mod terms;

pub use apply::{apply, NewVendor};
pub use commission::change_commission;
pub use error::VendorUseError;
pub use status::change_status;
pub use stores::{
    by_slug, commission_of, default_commission_bp, find, selling_vendor, Commission, VendorOutcome,
    SLUG_KEY,
};
pub use terms::change_terms;
