//! [`LedgerError`]: what a store's ledger refuses.

use crate::id::PayoutId;
use crate::money::Currency;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("line {sku}: {reason}")]
    InvalidLine { sku: String, reason: String },
    #[error("nothing is owed to the store in {currency} for that period")]
    NothingToPay { currency: Currency },
    #[error("the ledger holds several currencies ({0}); name one")]
    CurrencyRequired(String),
    #[error("payout {0} is still waiting for the provider")]
    PayoutInFlight(PayoutId),
    #[error("no such payout")]
    UnknownPayout,
    #[error("the payout is {0} already")]
    PayoutSettled(&'static str),
    #[error("period_start: must be before period_end")]
    InvalidPeriod,
    #[error("amount: {0}")]
    InvalidAmount(String),
    #[error("reason: {0}")]
    InvalidReason(String),
}
