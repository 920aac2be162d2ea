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
//! A refund is shared over a line pro rata of what the customer paid for it: its tax, its
//! commission and its fee go back in the same proportion, computed on the running total
//! refunded and rounded half up, so the parts given back never drift from the parts
//! charged and a line refunded in full gives back exactly what it took. A refund never
//! takes more than is left of a line. A line already paid out to the store is refunded as
//! a *clawback*: the store owes it back and the next payout recovers it first.
//!
//! A payout pays what the store earned before the period's end and has not been paid,
//! never more than its balance now; one payout is in flight at a time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entries::{Account, Entry, EntryKind, Posting, Totals};
use crate::aggregate::{Aggregate, Upcast};
use crate::id::{OrderId, PayoutId, ProductId, VariantId, VendorId};
use crate::money::{Currency, Money, MAX_TOTAL};
use crate::value::{paragraphs, Sku, MAX_REASON};
use crate::vendors::{CommissionRule, RuleSource};

pub struct VendorLedger;

/// A line of a paid order as the sale is asked to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sold {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for the line, tax included.
    pub gross: Money,
    /// The line's tax (added to or included in its price).
    pub tax: Money,
    pub rule: CommissionRule,
    pub rule_version: u32,
    pub rule_source: RuleSource,
}

/// How the provider answered a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Paid { provider_reference: String },
    Failed { reason: String },
}

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

/// A sold line as the ledger records it: the sale, the commission and fee it paid, and
/// the rule (with its version) they were computed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SaleLine {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: u32,
    /// What the customer paid for the line, tax included.
    pub gross: Money,
    pub tax: Money,
    /// `gross - tax`: the store's sale, which the commission is a part of.
    pub net: Money,
    /// The percent part, after the rule's bounds.
    pub commission: Money,
    /// The fixed part.
    pub fee: Money,
    pub rule: CommissionRule,
    pub rule_version: u32,
    pub rule_source: RuleSource,
}

/// What a refund gave back of one line, and took back from the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefundLine {
    pub sku: Sku,
    /// What the customer got back for the line, tax included.
    pub amount: Money,
    pub tax: Money,
    /// `amount - tax`: taken from the store.
    pub net: Money,
    /// Commission and fee the marketplace gives back to the store.
    pub commission: Money,
    pub fee: Money,
    /// The line had been paid out: the store owes the net back (recovered from its next
    /// payout).
    pub clawback: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Sent to the provider, not yet answered.
    Requested,
    Paid,
    Failed,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "requested",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
        }
    }
}

/// A line sold by the store, with what has been refunded of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub sale: SaleLine,
    pub sold_at: DateTime<Utc>,
    /// Given back so far: to the customer (tax included), of tax, and to the store of
    /// commission and fee.
    pub refunded: i64,
    pub tax_refunded: i64,
    pub commission_back: i64,
    pub fee_back: i64,
    /// The payout that paid the line's sale to the store, while not failed.
    pub paid_by: Option<PayoutId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub payout_id: PayoutId,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: DateTime<Utc>,
    pub amount: Money,
    pub clawback: Money,
    pub status: PayoutStatus,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
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

/// `whole × part / of`, rounded half up; `whole` when `part == of`.
fn pro_rata(whole: i64, part: i64, of: i64) -> i64 {
    if of <= 0 || part >= of {
        return whole;
    }
    let scaled = i128::from(whole) * i128::from(part) * 2 + i128::from(of);
    (scaled / (2 * i128::from(of))) as i64
}

/// The entries of one line: each move a transfer of its kind, skipped when it is zero.
fn line_entries(
    currency: Currency,
    order_id: OrderId,
    sku: &Sku,
    moves: [(EntryKind, Account, Account, i64); 4],
) -> Vec<Entry> {
    moves
        .into_iter()
        .filter_map(|(kind, debit, credit, amount)| {
            Entry::transfer(kind, currency, debit, credit, amount)
        })
        .map(|e| e.on_line(order_id, sku))
        .collect()
}

fn sale(order_id: OrderId, s: &Sold) -> Result<(SaleLine, Vec<Entry>), LedgerError> {
    let invalid = |reason: &str| LedgerError::InvalidLine {
        sku: s.sku.to_string(),
        reason: reason.into(),
    };
    if s.gross.currency != s.tax.currency {
        return Err(invalid("gross and tax are in different currencies"));
    }
    if s.gross.amount < 0 || s.gross.amount > MAX_TOTAL {
        return Err(invalid("gross out of range"));
    }
    if s.tax.amount < 0 || s.tax.amount > s.gross.amount {
        return Err(invalid("tax is negative or more than the line"));
    }
    let rule = s
        .rule
        .check()
        .map_err(|e| invalid(&format!("commission rule: {e}")))?;
    let currency = s.gross.currency;
    let net = s.gross.amount - s.tax.amount;
    let charge = rule.charge(net);
    let line = SaleLine {
        product_id: s.product_id,
        variant_id: s.variant_id,
        sku: s.sku.clone(),
        quantity: s.quantity,
        gross: s.gross,
        tax: s.tax,
        net: Money::new(net, currency),
        commission: Money::new(charge.commission, currency),
        fee: Money::new(charge.fee, currency),
        rule,
        rule_version: s.rule_version,
        rule_source: s.rule_source,
    };
    use Account as A;
    use EntryKind as K;
    let entries = line_entries(
        currency,
        order_id,
        &s.sku,
        [
            (K::Sale, A::Cash, A::VendorPayable, net),
            (K::Tax, A::Cash, A::TaxPayable, s.tax.amount),
            (
                K::Commission,
                A::VendorPayable,
                A::CommissionIncome,
                charge.commission,
            ),
            (K::Fee, A::VendorPayable, A::FeeIncome, charge.fee),
        ],
    );
    Ok((line, entries))
}

/// What refunding `requested` (all that is left when `None`) of `line` gives back, and
/// its entries; `None` when nothing is left to refund.
fn refund(
    order_id: OrderId,
    line: &LedgerLine,
    requested: Option<i64>,
) -> Option<(RefundLine, Vec<Entry>)> {
    let s = &line.sale;
    let currency = s.gross.currency;
    let left = s.gross.amount - line.refunded;
    let amount = requested.map_or(left, |r| r.min(left));
    if amount <= 0 {
        return None;
    }
    let after = line.refunded + amount;
    let of = s.gross.amount;
    let tax = pro_rata(s.tax.amount, after, of) - line.tax_refunded;
    let commission = pro_rata(s.commission.amount, after, of) - line.commission_back;
    let fee = pro_rata(s.fee.amount, after, of) - line.fee_back;
    let net = amount - tax;
    let clawback = line.paid_by.is_some();
    use Account as A;
    use EntryKind as K;
    let (kind, store) = if clawback {
        (K::Clawback, A::ClawbackReceivable)
    } else {
        (K::Refund, A::VendorPayable)
    };
    let entries = line_entries(
        currency,
        order_id,
        &s.sku,
        [
            (kind, store, A::Cash, net),
            (K::Tax, A::TaxPayable, A::Cash, tax),
            (K::Commission, A::CommissionIncome, store, commission),
            (K::Fee, A::FeeIncome, store, fee),
        ],
    );
    let refunded = RefundLine {
        sku: s.sku.clone(),
        amount: Money::new(amount, currency),
        tax: Money::new(tax, currency),
        net: Money::new(net, currency),
        commission: Money::new(commission, currency),
        fee: Money::new(fee, currency),
        clawback,
    };
    Some((refunded, entries))
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
