//! Money for vendors (issue 23 item 4): each store's double-entry ledger and its payouts.
//!
//! - [`entries`]: the accounts, postings and entries of the book, what an entry does to
//!   the store's balance, and the ledger's [`Totals`] by kind.
//! - [`book`]: the `VendorLedger` aggregate (`vendor_ledger-<vendor id>`): sales recorded
//!   at payment with their commission, refunds and clawbacks, payouts and their outcome,
//!   staff's adjustments.

pub mod book;
pub mod entries;

pub use book::{
    LedgerCommand, LedgerError, LedgerEvent, LedgerLine, LedgerState, Payout, PayoutStatus,
    RefundLine, SaleLine, Settlement, Sold, VendorLedger,
};
pub use entries::{Account, Entry, EntryKind, Posting, Side, Totals};
