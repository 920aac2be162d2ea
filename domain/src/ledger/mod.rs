//! Money for vendors (issue 23 item 4): each store's double-entry ledger and its payouts.
//!
//! - [`entries`]: the accounts, postings and entries of the book, what an entry does to
//!   the store's balance, and the ledger's [`Totals`] by kind.
//! - [`book`]: the `VendorLedger` aggregate (`vendor_ledger-<vendor id>`): sales recorded
//!   at payment with their commission, refunds and clawbacks, payouts and their outcome,
//!   staff's adjustments.
//! - [`lines`]: a sold line's sale and what a refund gives back of it, pro rata;
//!   [`payouts`]: a payout's status and the provider's answer; [`error`]: [`LedgerError`].

pub mod book;
pub mod entries;
pub mod error;
pub mod lines;
pub mod payouts;

pub use book::{LedgerCommand, LedgerEvent, LedgerState, VendorLedger};
pub use entries::{Account, Entry, EntryKind, Posting, Side, Totals};
pub use error::LedgerError;
pub use lines::{LedgerLine, RefundLine, SaleLine, Sold};
pub use payouts::{Payout, PayoutStatus, Settlement};
