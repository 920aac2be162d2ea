//! Money for vendors' use cases (issue 23 item 4): each store's double-entry ledger.
//!
//! # Layout
//!
//! - [`sales`]: a paid order's vendor lines recorded in their stores' ledgers with the
//!   commission rule (and version) each store had at payment; refunds of them (a paid
//!   order cancelled, a full refund, a return's refund). The process manager
//!   `projections::ledger_process` calls these.
//! - [`payouts`]: staff pay a store through the [`PayoutProvider`], which pays or
//!   refuses; staff's adjustments; a store's ledger read whole from the write side.
//! - [`provider`]: the [`PayoutProvider`] port; [`test_provider`]: the built-in `test`
//!   provider (an account starting `FAIL` is refused).
//! - [`error`]: [`LedgerUseError`], at the bottom.

pub mod error;
pub mod payouts;
pub mod provider;
pub mod sales;
pub mod test_provider;

pub use error::LedgerUseError;
pub use payouts::{adjust, create_payout, ledger_of, PayoutOutcome, PayoutRequest};
pub use provider::{PayoutAnswer, PayoutProvider, PayoutProviderError};
pub use sales::{record_refund, record_return_refund, record_sales, rule_at, Refunded};
pub use test_provider::TestPayoutProvider;
