//! The double-entry vocabulary of a store's ledger: accounts, postings, entries, and what
//! an entry does to the store's balance.
//!
//! Every [`Entry`] balances: its debits add up to its credits. The store's *balance* (what
//! the marketplace owes it now) is the credit balance of [`Account::VendorPayable`] less
//! the debit balance of [`Account::ClawbackReceivable`] (what it owes back from refunds of
//! lines already paid out, recovered from its next payout). [`Entry::effect`] is an
//! entry's move of that balance, and [`Totals`] sums entries by kind; the aggregate, the
//! read model and the property test all count with these same functions.

use serde::{Deserialize, Serialize};

use crate::id::{OrderId, PayoutId};
use crate::money::Currency;
use crate::value::Sku;

/// The accounts a store's postings move.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// What customers paid for the store's lines, held by the marketplace (an asset).
    Cash,
    /// What the marketplace owes the store (a liability).
    VendorPayable,
    /// What the store owes back: refunds of lines already paid out (an asset).
    ClawbackReceivable,
    /// The marketplace's commission (income).
    CommissionIncome,
    /// The marketplace's fixed fees per line (income).
    FeeIncome,
    /// Tax collected on the store's lines, owed to the tax authority (a liability).
    TaxPayable,
    /// Staff's corrections in the store's favour or against it (the marketplace's expense).
    Adjustments,
    /// Payouts sent to the provider and not yet confirmed.
    PayoutsInTransit,
}

impl Account {
    pub fn as_str(self) -> &'static str {
        match self {
            Account::Cash => "cash",
            Account::VendorPayable => "vendor_payable",
            Account::ClawbackReceivable => "clawback_receivable",
            Account::CommissionIncome => "commission_income",
            Account::FeeIncome => "fee_income",
            Account::TaxPayable => "tax_payable",
            Account::Adjustments => "adjustments",
            Account::PayoutsInTransit => "payouts_in_transit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }
}

/// One side of an entry: an amount in minor units (never negative) on one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Posting {
    pub account: Account,
    pub side: Side,
    pub amount: i64,
}

impl Posting {
    pub fn debit(account: Account, amount: i64) -> Self {
        Posting {
            account,
            side: Side::Debit,
            amount,
        }
    }

    pub fn credit(account: Account, amount: i64) -> Self {
        Posting {
            account,
            side: Side::Credit,
            amount,
        }
    }
}

/// What an entry records.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A line's sale, without its tax: the store earns it.
    Sale,
    /// A line's tax, collected for the tax authority (or given back with a refund).
    Tax,
    /// The percent part of a line's commission (or its return with a refund).
    Commission,
    /// The fixed part of a line's commission (or its return with a refund).
    Fee,
    /// A refund of a line not yet paid out: the store's balance shrinks.
    Refund,
    /// A refund of a line already paid out: the store owes it back, and its next payout
    /// recovers it.
    Clawback,
    /// Staff's correction.
    Adjustment,
    /// A payout sent (recovering any clawback), confirmed, or failed and reversed.
    Payout,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Sale => "sale",
            EntryKind::Tax => "tax",
            EntryKind::Commission => "commission",
            EntryKind::Fee => "fee",
            EntryKind::Refund => "refund",
            EntryKind::Clawback => "clawback",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Payout => "payout",
        }
    }
}

/// One balanced entry of a store's ledger, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Entry {
    pub kind: EntryKind,
    pub currency: Currency,
    /// The order line it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// The payout it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<PayoutId>,
    pub postings: Vec<Posting>,
}

impl Entry {
    /// An entry of `kind` moving `amount` from the debit of `from` to the credit of `to`;
    /// `None` when there is nothing to move.
    pub fn transfer(
        kind: EntryKind,
        currency: Currency,
        debit: Account,
        credit: Account,
        amount: i64,
    ) -> Option<Entry> {
        (amount > 0).then(|| Entry {
            kind,
            currency,
            order_id: None,
            sku: None,
            payout_id: None,
            postings: vec![
                Posting::debit(debit, amount),
                Posting::credit(credit, amount),
            ],
        })
    }

    pub fn on_line(mut self, order_id: OrderId, sku: &Sku) -> Self {
        self.order_id = Some(order_id);
        self.sku = Some(sku.clone());
        self
    }

    pub fn of_payout(mut self, payout_id: PayoutId) -> Self {
        self.payout_id = Some(payout_id);
        self
    }

    pub fn debits(&self) -> i64 {
        self.side_total(Side::Debit)
    }

    pub fn credits(&self) -> i64 {
        self.side_total(Side::Credit)
    }

    fn side_total(&self, side: Side) -> i64 {
        self.postings
            .iter()
            .filter(|p| p.side == side)
            .map(|p| p.amount)
            .sum()
    }

    /// Debits equal credits and no posting is negative.
    pub fn balances(&self) -> bool {
        self.postings.iter().all(|p| p.amount >= 0) && self.debits() == self.credits()
    }

    /// The entry's net credit to `account` (credits less debits).
    pub fn net_credit(&self, account: Account) -> i64 {
        self.postings
            .iter()
            .filter(|p| p.account == account)
            .map(|p| match p.side {
                Side::Credit => p.amount,
                Side::Debit => -p.amount,
            })
            .sum()
    }

    /// How the entry moves the store's balance: its net credit to what the marketplace
    /// owes the store, less its net debit to what the store owes back.
    pub fn effect(&self) -> i64 {
        self.net_credit(Account::VendorPayable) + self.net_credit(Account::ClawbackReceivable)
    }
}

/// A store's ledger summed by kind, in one currency. Every field is what the kind did to
/// the store's balance, signed so that `net = gross - commission - fees - refunds -
/// clawbacks + adjustments` and `balance = net - paid_out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sales without tax.
    pub gross: i64,
    /// Tax collected on the sales, less tax refunded (not the store's money).
    pub tax: i64,
    /// Commission charged, less commission returned with refunds.
    pub commission: i64,
    /// Fixed fees charged, less fees returned with refunds.
    pub fees: i64,
    /// Refunds of lines not yet paid out.
    pub refunds: i64,
    /// Refunds of lines already paid out.
    pub clawbacks: i64,
    /// Staff's corrections (signed).
    pub adjustments: i64,
    /// Payouts sent, less payouts that failed.
    pub paid_out: i64,
    /// What the store owes back, still to be recovered from a payout.
    pub clawback_outstanding: i64,
}

impl Totals {
    /// `gross - commission - fees - refunds - clawbacks + adjustments`.
    pub fn net(&self) -> i64 {
        self.gross - self.commission - self.fees - self.refunds - self.clawbacks + self.adjustments
    }

    /// What the marketplace owes the store now: `net - paid_out`.
    pub fn balance(&self) -> i64 {
        self.net() - self.paid_out
    }

    /// The totals with `entry` counted.
    pub fn add(&mut self, entry: &Entry) {
        let effect = entry.effect();
        match entry.kind {
            EntryKind::Sale => self.gross += effect,
            EntryKind::Tax => self.tax += entry.net_credit(Account::TaxPayable),
            EntryKind::Commission => self.commission -= effect,
            EntryKind::Fee => self.fees -= effect,
            EntryKind::Refund => self.refunds -= effect,
            EntryKind::Clawback => self.clawbacks -= effect,
            EntryKind::Adjustment => self.adjustments += effect,
            EntryKind::Payout => self.paid_out -= effect,
        }
        self.clawback_outstanding -= entry.net_credit(Account::ClawbackReceivable);
    }

    /// The totals of `entries`.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Totals {
        let mut t = Totals::default();
        for e in entries {
            t.add(e);
        }
        t
    }
}
