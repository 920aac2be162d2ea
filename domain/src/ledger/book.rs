//! The `VendorLedger` aggregate: one store's double-entry book (`vendor_ledger-<vendor id>`).
//!
//! ```text
//! RecordSale    (an order paid)      → VendorSaleRecorded    sale, tax, commission, fee per line
//! RecordRefund  (a refund or return) → VendorRefundRecorded  refund or clawback, tax, commission and fee back
//! RequestPayout (staff)              → VendorPayoutRequested the balance earned before the period's end
//! SettlePayout  (the provider)       → VendorPayoutPaid | VendorPayoutFailed (reversed)
//! Adjust        (staff)              → VendorLedgerAdjusted
//! ```
//!
//! Each event carries its entries, decided here, so the read model and an analyst see the
//! very postings the rules made, and a dispute recomputes a line's commission from the
//! rule and version the line records. Sales are recorded once per order and refunds once
//! per refund key, so the process manager that sends them may repeat itself.
//!
//! Refunds are shared over a line pro rata (see `lines`). A line already paid out to the
//! store is refunded as a *clawback*: the store owes it back and the next payout recovers
//! it first.
//!
//! A payout pays what the store earned before the period's end and has not been paid,
//! never more than its balance now; one payout is in flight at a time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entries::{Account, Entry, EntryKind, Posting, Totals};
use super::error::LedgerError;
use super::lines::{refund, sale, LedgerLine, RefundLine, SaleLine, Sold};
use super::payouts::{Payout, PayoutStatus, Settlement};
use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, PayoutId, VendorId};
use crate::money::{Currency, Money, MAX_TOTAL};
use crate::value::{paragraphs, Sku, MAX_REASON};

pub struct VendorLedger;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerCommand {
    RecordSale {
        vendor_id: VendorId,
        order_id: OrderId,
        lines: Vec<Sold>,
        at: DateTime<Utc>,
    },
    /// Refunds some of the order's lines of this store: per SKU, the amount the customer
    /// got back for it (`None`: all that is left of the line). `key` names the refund
    /// (`cancelled`, `refund:<event id>`, `return:<return id>`): each is recorded once.
    RecordRefund {
        vendor_id: VendorId,
        order_id: OrderId,
        key: String,
        lines: Vec<(Sku, Option<i64>)>,
        at: DateTime<Utc>,
    },
    RequestPayout {
        vendor_id: VendorId,
        payout_id: PayoutId,
        /// `None`: the ledger's only currency.
        currency: Option<Currency>,
        period_start: Option<DateTime<Utc>>,
        period_end: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    SettlePayout {
        payout_id: PayoutId,
        outcome: Settlement,
        at: DateTime<Utc>,
    },
    Adjust {
        vendor_id: VendorId,
        adjustment_id: uuid::Uuid,
        /// In the store's favour when positive, against it when negative.
        amount: Money,
        reason: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum LedgerEvent {
    VendorSaleRecorded {
        vendor_id: VendorId,
        order_id: OrderId,
        lines: Vec<SaleLine>,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
    VendorRefundRecorded {
        vendor_id: VendorId,
        order_id: OrderId,
        refund: String,
        lines: Vec<RefundLine>,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
    VendorPayoutRequested {
        vendor_id: VendorId,
        payout_id: PayoutId,
        period_start: Option<DateTime<Utc>>,
        period_end: DateTime<Utc>,
        /// What goes to the store.
        amount: Money,
        /// What the payout recovered of earlier clawbacks (kept back from the store).
        clawback: Money,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
    VendorPayoutPaid {
        payout_id: PayoutId,
        provider_reference: String,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
    /// The provider refused the payout: its entries are reversed, the store is owed again.
    VendorPayoutFailed {
        payout_id: PayoutId,
        reason: String,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
    VendorLedgerAdjusted {
        vendor_id: VendorId,
        adjustment_id: uuid::Uuid,
        amount: Money,
        reason: String,
        entries: Vec<Entry>,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(LedgerEvent {
    VendorSaleRecorded,
    VendorRefundRecorded,
    VendorPayoutRequested,
    VendorPayoutPaid,
    VendorPayoutFailed,
    VendorLedgerAdjusted,
});
impl Upcast for LedgerEvent {}

impl LedgerEvent {
    /// The entries the event posts.
    pub fn entries(&self) -> &[Entry] {
        use LedgerEvent as E;
        match self {
            E::VendorSaleRecorded { entries, .. }
            | E::VendorRefundRecorded { entries, .. }
            | E::VendorPayoutRequested { entries, .. }
            | E::VendorPayoutPaid { entries, .. }
            | E::VendorPayoutFailed { entries, .. }
            | E::VendorLedgerAdjusted { entries, .. } => entries,
        }
    }

    pub fn at(&self) -> DateTime<Utc> {
        use LedgerEvent as E;
        match self {
            E::VendorSaleRecorded { at, .. }
            | E::VendorRefundRecorded { at, .. }
            | E::VendorPayoutRequested { at, .. }
            | E::VendorPayoutPaid { at, .. }
            | E::VendorPayoutFailed { at, .. }
            | E::VendorLedgerAdjusted { at, .. } => *at,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerState {
    pub vendor_id: Option<VendorId>,
    /// The ledger summed by kind, per currency.
    pub totals: BTreeMap<Currency, Totals>,
    /// What every entry that is not a payout moved the balance by, and when: what a
    /// payout's period has earned.
    pub earned: BTreeMap<Currency, Vec<(DateTime<Utc>, i64)>>,
    pub lines: BTreeMap<(OrderId, Sku), LedgerLine>,
    /// Orders whose sale is recorded.
    pub orders: BTreeSet<OrderId>,
    /// Refunds recorded, by order and key.
    pub refunds: BTreeSet<(OrderId, String)>,
    pub payouts: BTreeMap<PayoutId, Payout>,
    pub adjustments: BTreeSet<uuid::Uuid>,
}

impl LedgerState {
    /// The store's balance in `currency`: what the marketplace owes it now.
    pub fn balance(&self, currency: Currency) -> i64 {
        self.totals.get(&currency).map_or(0, Totals::balance)
    }

    /// The payout sent and not yet answered, if any.
    pub fn in_flight(&self) -> Option<&Payout> {
        self.payouts
            .values()
            .find(|p| p.status == PayoutStatus::Requested)
    }
}

fn payout_currency(s: &LedgerState, asked: Option<Currency>) -> Result<Currency, LedgerError> {
    if let Some(c) = asked {
        return Ok(c);
    }
    let mut held = s.totals.keys();
    match (held.next(), held.next()) {
        (Some(c), None) => Ok(*c),
        (None, _) => Err(LedgerError::NothingToPay {
            currency: Currency::USD,
        }),
        _ => Err(LedgerError::CurrencyRequired(
            s.totals
                .keys()
                .map(|c| c.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

impl Aggregate for VendorLedger {
    const CATEGORY: &'static str = "vendor_ledger";
    type State = LedgerState;
    type Command = LedgerCommand;
    type Event = LedgerEvent;
    type Error = LedgerError;

    fn decide(s: &LedgerState, cmd: &LedgerCommand) -> Result<Vec<LedgerEvent>, LedgerError> {
        use LedgerCommand as C;
        use LedgerEvent as E;
        match cmd {
            C::RecordSale {
                vendor_id,
                order_id,
                lines,
                at,
            } => {
                if s.orders.contains(order_id) || lines.is_empty() {
                    return Ok(vec![]);
                }
                let mut recorded = Vec::with_capacity(lines.len());
                let mut entries = Vec::new();
                for l in lines {
                    let (line, posted) = sale(*order_id, l)?;
                    recorded.push(line);
                    entries.extend(posted);
                }
                Ok(vec![E::VendorSaleRecorded {
                    vendor_id: *vendor_id,
                    order_id: *order_id,
                    lines: recorded,
                    entries,
                    at: *at,
                }])
            }
            C::RecordRefund {
                vendor_id,
                order_id,
                key,
                lines,
                at,
            } => {
                if s.refunds.contains(&(*order_id, key.clone())) {
                    return Ok(vec![]);
                }
                let mut refunded = Vec::new();
                let mut entries = Vec::new();
                for (sku, amount) in lines {
                    if amount.is_some_and(|a| a < 0) {
                        return Err(LedgerError::InvalidAmount(format!(
                            "a refund of {sku} is negative"
                        )));
                    }
                    let Some(line) = s.lines.get(&(*order_id, sku.clone())) else {
                        continue;
                    };
                    if let Some((r, posted)) = refund(*order_id, line, *amount) {
                        refunded.push(r);
                        entries.extend(posted);
                    }
                }
                if refunded.is_empty() {
                    return Ok(vec![]);
                }
                Ok(vec![E::VendorRefundRecorded {
                    vendor_id: *vendor_id,
                    order_id: *order_id,
                    refund: key.clone(),
                    lines: refunded,
                    entries,
                    at: *at,
                }])
            }
            C::RequestPayout {
                vendor_id,
                payout_id,
                currency,
                period_start,
                period_end,
                at,
            } => {
                if s.payouts.contains_key(payout_id) {
                    // The same request again: it was made.
                    return Ok(vec![]);
                }
                if period_start.is_some_and(|start| start >= *period_end) {
                    return Err(LedgerError::InvalidPeriod);
                }
                if let Some(p) = s.in_flight() {
                    return Err(LedgerError::PayoutInFlight(p.payout_id));
                }
                let currency = payout_currency(s, *currency)?;
                let totals = s.totals.get(&currency).copied().unwrap_or_default();
                let earned: i64 = s.earned.get(&currency).map_or(0, |e| {
                    e.iter()
                        .filter(|(t, _)| t < period_end)
                        .map(|(_, x)| x)
                        .sum()
                });
                let amount = totals.balance().min(earned - totals.paid_out);
                if amount <= 0 {
                    return Err(LedgerError::NothingToPay { currency });
                }
                let clawback = totals.clawback_outstanding.max(0);
                let entry = Entry {
                    kind: EntryKind::Payout,
                    currency,
                    order_id: None,
                    sku: None,
                    payout_id: Some(*payout_id),
                    postings: [
                        Posting::debit(Account::VendorPayable, amount + clawback),
                        Posting::credit(Account::ClawbackReceivable, clawback),
                        Posting::credit(Account::PayoutsInTransit, amount),
                    ]
                    .into_iter()
                    .filter(|p| p.amount > 0)
                    .collect(),
                };
                Ok(vec![E::VendorPayoutRequested {
                    vendor_id: *vendor_id,
                    payout_id: *payout_id,
                    period_start: *period_start,
                    period_end: *period_end,
                    amount: Money::new(amount, currency),
                    clawback: Money::new(clawback, currency),
                    entries: vec![entry],
                    at: *at,
                }])
            }
            C::SettlePayout {
                payout_id,
                outcome,
                at,
            } => {
                let p = s.payouts.get(payout_id).ok_or(LedgerError::UnknownPayout)?;
                let currency = p.amount.currency;
                match (p.status, outcome) {
                    (PayoutStatus::Paid, Settlement::Paid { .. })
                    | (PayoutStatus::Failed, Settlement::Failed { .. }) => return Ok(vec![]),
                    (PayoutStatus::Requested, _) => {}
                    (status, _) => return Err(LedgerError::PayoutSettled(status.as_str())),
                }
                Ok(vec![match outcome {
                    Settlement::Paid { provider_reference } => E::VendorPayoutPaid {
                        payout_id: *payout_id,
                        provider_reference: provider_reference.clone(),
                        entries: Entry::transfer(
                            EntryKind::Payout,
                            currency,
                            Account::PayoutsInTransit,
                            Account::Cash,
                            p.amount.amount,
                        )
                        .map(|e| e.of_payout(*payout_id))
                        .into_iter()
                        .collect(),
                        at: *at,
                    },
                    Settlement::Failed { reason } => E::VendorPayoutFailed {
                        payout_id: *payout_id,
                        reason: reason.clone(),
                        entries: vec![Entry {
                            kind: EntryKind::Payout,
                            currency,
                            order_id: None,
                            sku: None,
                            payout_id: Some(*payout_id),
                            postings: [
                                Posting::debit(Account::PayoutsInTransit, p.amount.amount),
                                Posting::debit(Account::ClawbackReceivable, p.clawback.amount),
                                Posting::credit(
                                    Account::VendorPayable,
                                    p.amount.amount + p.clawback.amount,
                                ),
                            ]
                            .into_iter()
                            .filter(|p| p.amount > 0)
                            .collect(),
                        }],
                        at: *at,
                    },
                }])
            }
            C::Adjust {
                vendor_id,
                adjustment_id,
                amount,
                reason,
                at,
            } => {
                if s.adjustments.contains(adjustment_id) {
                    return Ok(vec![]);
                }
                if amount.amount == 0 || amount.amount.abs() > MAX_TOTAL {
                    return Err(LedgerError::InvalidAmount(format!(
                        "must be non-zero and at most {MAX_TOTAL} minor units either way"
                    )));
                }
                let reason = paragraphs("reason", reason, MAX_REASON)
                    .map_err(|e| LedgerError::InvalidReason(e.message))?;
                if reason.is_empty() {
                    return Err(LedgerError::InvalidReason(
                        "an adjustment needs a reason".into(),
                    ));
                }
                let (debit, credit) = if amount.amount > 0 {
                    (Account::Adjustments, Account::VendorPayable)
                } else {
                    (Account::VendorPayable, Account::Adjustments)
                };
                Ok(vec![E::VendorLedgerAdjusted {
                    vendor_id: *vendor_id,
                    adjustment_id: *adjustment_id,
                    amount: *amount,
                    reason,
                    entries: Entry::transfer(
                        EntryKind::Adjustment,
                        amount.currency,
                        debit,
                        credit,
                        amount.amount.abs(),
                    )
                    .into_iter()
                    .collect(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut s: LedgerState, event: &LedgerEvent) -> LedgerState {
        use LedgerEvent as E;
        let at = event.at();
        for entry in event.entries() {
            s.totals.entry(entry.currency).or_default().add(entry);
            if entry.kind != EntryKind::Payout {
                s.earned
                    .entry(entry.currency)
                    .or_default()
                    .push((at, entry.effect()));
            }
        }
        match event {
            E::VendorSaleRecorded {
                vendor_id,
                order_id,
                lines,
                ..
            } => {
                s.vendor_id = Some(*vendor_id);
                s.orders.insert(*order_id);
                for l in lines {
                    s.lines.insert(
                        (*order_id, l.sku.clone()),
                        LedgerLine {
                            sale: l.clone(),
                            sold_at: at,
                            refunded: 0,
                            tax_refunded: 0,
                            commission_back: 0,
                            fee_back: 0,
                            paid_by: None,
                        },
                    );
                }
            }
            E::VendorRefundRecorded {
                order_id,
                refund,
                lines,
                ..
            } => {
                s.refunds.insert((*order_id, refund.clone()));
                for r in lines {
                    if let Some(l) = s.lines.get_mut(&(*order_id, r.sku.clone())) {
                        l.refunded += r.amount.amount;
                        l.tax_refunded += r.tax.amount;
                        l.commission_back += r.commission.amount;
                        l.fee_back += r.fee.amount;
                    }
                }
            }
            E::VendorPayoutRequested {
                vendor_id,
                payout_id,
                period_start,
                period_end,
                amount,
                clawback,
                ..
            } => {
                s.vendor_id = Some(*vendor_id);
                s.payouts.insert(
                    *payout_id,
                    Payout {
                        payout_id: *payout_id,
                        period_start: *period_start,
                        period_end: *period_end,
                        amount: *amount,
                        clawback: *clawback,
                        status: PayoutStatus::Requested,
                        provider_reference: None,
                        failure_reason: None,
                        requested_at: at,
                        settled_at: None,
                    },
                );
                for l in s.lines.values_mut() {
                    if l.paid_by.is_none()
                        && l.sold_at < *period_end
                        && l.sale.gross.currency == amount.currency
                    {
                        l.paid_by = Some(*payout_id);
                    }
                }
            }
            E::VendorPayoutPaid {
                payout_id,
                provider_reference,
                ..
            } => {
                if let Some(p) = s.payouts.get_mut(payout_id) {
                    p.status = PayoutStatus::Paid;
                    p.provider_reference = Some(provider_reference.clone());
                    p.settled_at = Some(at);
                }
            }
            E::VendorPayoutFailed {
                payout_id, reason, ..
            } => {
                if let Some(p) = s.payouts.get_mut(payout_id) {
                    p.status = PayoutStatus::Failed;
                    p.failure_reason = Some(reason.clone());
                    p.settled_at = Some(at);
                }
                for l in s.lines.values_mut() {
                    if l.paid_by == Some(*payout_id) {
                        l.paid_by = None;
                    }
                }
            }
            E::VendorLedgerAdjusted {
                vendor_id,
                adjustment_id,
                ..
            } => {
                s.vendor_id = Some(*vendor_id);
                s.adjustments.insert(*adjustment_id);
            }
        }
        s
    }
}
