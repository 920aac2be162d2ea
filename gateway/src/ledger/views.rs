//! What the ledger routes answer, built `From` the `ledger` read model's rows and the
//! write side's payout; their CSV lines; and the mapping of the use cases' errors.

use chrono::{DateTime, Utc};
use commands::ledger::LedgerUseError;
use domain::ledger::{LedgerError, Payout};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::views::Money;

/// A store's ledger summed by kind, in one currency. `net = gross - commission - fees -
/// refunds - clawbacks + adjustments`; `balance = net - paid_out`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerSummary {
    pub adjustments: Money,
    /// What the marketplace owes the store now.
    pub balance: Money,
    /// What the store owes back from refunds of lines already paid out, still to be
    /// recovered from its next payout.
    pub clawback_outstanding: Money,
    /// Refunds of lines already paid out.
    pub clawbacks: Money,
    /// The percent part of the commission, less what refunds gave back.
    pub commission: Money,
    pub currency: String,
    /// How many entries.
    pub entries: i64,
    /// The fixed part of the commission, less what refunds gave back.
    pub fees: Money,
    /// Sales without tax.
    pub gross: Money,
    pub net: Money,
    /// Payouts sent, less those that failed.
    pub paid_out: Money,
    /// Refunds of lines not yet paid out.
    pub refunds: Money,
    /// Tax collected on the store's lines (for the tax authority, not the store).
    pub tax: Money,
    pub updated_at: DateTime<Utc>,
}

/// One side of an entry.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct PostingView {
    /// `cash`, `vendor_payable`, `clawback_receivable`, `commission_income`, `fee_income`,
    /// `tax_payable`, `adjustments`, `payouts_in_transit`.
    pub account: String,
    /// Minor units, never negative.
    pub amount: i64,
    /// `debit` or `credit`.
    pub side: String,
}

/// One balanced entry: its debits equal its credits (`amount`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub amount: Money,
    pub at: DateTime<Utc>,
    /// The store's balance in this currency after the entry.
    pub balance_after: Money,
    /// What the entry moved the store's balance by (signed).
    pub effect: Money,
    pub entry_no: i32,
    /// The ledger event that posted it.
    pub event_type: String,
    /// `sale`, `tax`, `commission`, `fee`, `refund`, `clawback`, `adjustment`, `payout`.
    pub kind: String,
    pub order_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    pub postings: Vec<PostingView>,
    /// The event's revision in the store's ledger stream.
    pub revision: i64,
    pub sku: Option<String>,
}

/// A page of a store's entries, oldest first, with its totals per currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    pub items: Vec<EntryView>,
    pub limit: i64,
    pub offset: i64,
    /// Per currency the store has entries in.
    pub summary: Vec<LedgerSummary>,
    pub total: i64,
    pub vendor_id: Uuid,
}

/// A payout of a store's earnings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    /// What went (or was to go) to the store.
    pub amount: Money,
    /// What the payout kept back to recover earlier clawbacks.
    pub clawback: Money,
    /// Why the provider refused it, when it did (`no_payout_account: …`,
    /// `account_closed: …`).
    pub failure_reason: Option<String>,
    pub id: Uuid,
    pub period_end: DateTime<Utc>,
    pub period_start: Option<DateTime<Utc>>,
    pub provider_reference: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    /// `requested` (sent, not answered), `paid` or `failed` (its entries reversed).
    pub status: String,
    pub vendor_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutPage {
    pub items: Vec<PayoutView>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct SummaryRow {
    pub currency: String,
    pub gross: i64,
    pub tax: i64,
    pub commission: i64,
    pub fees: i64,
    pub refunds: i64,
    pub clawbacks: i64,
    pub adjustments: i64,
    pub paid_out: i64,
    pub net: i64,
    pub balance: i64,
    pub clawback_outstanding: i64,
    pub entry_count: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<SummaryRow> for LedgerSummary {
    fn from(r: SummaryRow) -> Self {
        let m = |amount| Money::of(amount, r.currency.trim());
        LedgerSummary {
            adjustments: m(r.adjustments),
            balance: m(r.balance),
            clawback_outstanding: m(r.clawback_outstanding),
            clawbacks: m(r.clawbacks),
            commission: m(r.commission),
            currency: r.currency.trim().to_owned(),
            entries: r.entry_count,
            fees: m(r.fees),
            gross: m(r.gross),
            net: m(r.net),
            paid_out: m(r.paid_out),
            refunds: m(r.refunds),
            tax: m(r.tax),
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct EntryRow {
    pub revision: i64,
    pub entry_no: i32,
    pub event_type: String,
    pub kind: String,
    pub currency: String,
    pub amount: i64,
    pub effect: i64,
    pub balance_after: i64,
    pub order_id: Option<Uuid>,
    pub sku: Option<String>,
    pub payout_id: Option<Uuid>,
    pub postings: sqlx::types::Json<Vec<PostingView>>,
    pub at: DateTime<Utc>,
}

impl From<EntryRow> for EntryView {
    fn from(r: EntryRow) -> Self {
        let currency = r.currency.trim();
        EntryView {
            amount: Money::of(r.amount, currency),
            at: r.at,
            balance_after: Money::of(r.balance_after, currency),
            effect: Money::of(r.effect, currency),
            entry_no: r.entry_no,
            event_type: r.event_type,
            kind: r.kind,
            order_id: r.order_id,
            payout_id: r.payout_id,
            postings: r.postings.0,
            revision: r.revision,
            sku: r.sku,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct PayoutRow {
    pub payout_id: Uuid,
    pub vendor_id: Uuid,
    pub currency: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: DateTime<Utc>,
    pub amount: i64,
    pub clawback: i64,
    pub status: String,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<PayoutRow> for PayoutView {
    fn from(r: PayoutRow) -> Self {
        let currency = r.currency.trim();
        PayoutView {
            amount: Money::of(r.amount, currency),
            clawback: Money::of(r.clawback, currency),
            failure_reason: r.failure_reason,
            id: r.payout_id,
            period_end: r.period_end,
            period_start: r.period_start,
            provider_reference: r.provider_reference,
            requested_at: r.requested_at,
            settled_at: r.settled_at,
            status: r.status,
            vendor_id: r.vendor_id,
        }
    }
}

impl PayoutView {
    /// A payout as the write side has it, right after the command.
    pub fn of(vendor_id: Uuid, p: Payout) -> Self {
        PayoutView {
            amount: p.amount.into(),
            clawback: p.clawback.into(),
            failure_reason: p.failure_reason,
            id: p.payout_id.as_uuid(),
            period_end: p.period_end,
            period_start: p.period_start,
            provider_reference: p.provider_reference,
            requested_at: p.requested_at,
            settled_at: p.settled_at,
            status: p.status.as_str().to_owned(),
            vendor_id,
        }
    }
}

/// RFC 4180 CSV of `rows` under `header`, each row's fields as `fields` gives them.
pub fn csv<T>(
    header: &[&str],
    rows: &[T],
    fields: impl Fn(&T) -> Vec<String>,
) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(fields(r)).map_err(ApiError::internal)?;
    }
    w.into_inner().map_err(ApiError::internal)
}

pub const ENTRY_CSV: &[&str] = &[
    "at",
    "revision",
    "entry_no",
    "kind",
    "currency",
    "amount",
    "effect",
    "balance_after",
    "order_id",
    "sku",
    "payout_id",
    "postings",
];

pub fn entry_fields(r: &EntryRow) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        r.at.to_rfc3339(),
        r.revision.to_string(),
        r.entry_no.to_string(),
        r.kind.clone(),
        r.currency.trim().to_owned(),
        r.amount.to_string(),
        r.effect.to_string(),
        r.balance_after.to_string(),
        opt(r.order_id.map(|o| o.to_string())),
        opt(r.sku.clone()),
        opt(r.payout_id.map(|p| p.to_string())),
        // "debit cash 1000; credit vendor_payable 1000"
        r.postings
            .0
            .iter()
            .map(|p| format!("{} {} {}", p.side, p.account, p.amount))
            .collect::<Vec<_>>()
            .join("; "),
    ]
}

pub const PAYOUT_CSV: &[&str] = &[
    "payout_id",
    "status",
    "currency",
    "amount",
    "clawback",
    "period_start",
    "period_end",
    "provider_reference",
    "failure_reason",
    "requested_at",
    "settled_at",
];

pub fn payout_fields(r: &PayoutRow) -> Vec<String> {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    vec![
        r.payout_id.to_string(),
        r.status.clone(),
        r.currency.trim().to_owned(),
        r.amount.to_string(),
        r.clawback.to_string(),
        time(r.period_start),
        r.period_end.to_rfc3339(),
        r.provider_reference.clone().unwrap_or_default(),
        r.failure_reason.clone().unwrap_or_default(),
        r.requested_at.to_rfc3339(),
        time(r.settled_at),
    ]
}

impl From<LedgerUseError> for ApiError {
    fn from(e: LedgerUseError) -> Self {
        let detail = e.to_string();
        match e {
            LedgerUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            LedgerUseError::VendorNotFound | LedgerUseError::OrderNotFound => {
                ApiError::NotFound(detail)
            }
            LedgerUseError::Rejected(LedgerError::NothingToPay { .. }) => {
                ApiError::UnprocessableEntity {
                    code: "nothing_to_pay",
                    detail,
                    errors: Vec::new(),
                }
            }
            LedgerUseError::Rejected(LedgerError::PayoutInFlight(_)) => {
                ApiError::conflict("payout_in_flight", detail)
            }
            LedgerUseError::Rejected(_) => ApiError::conflict("ledger_refused", detail),
            LedgerUseError::Store(e) => e.into(),
            LedgerUseError::Provider(cause) | LedgerUseError::Failed(cause) => {
                ApiError::internal(cause)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys_sorted;

    #[test]
    fn ledger_answers_keep_their_keys_sorted() {
        let at = chrono::DateTime::<Utc>::from_timestamp(1_764_000_000, 0).unwrap();
        let entry = EntryView::from(EntryRow {
            revision: 0,
            entry_no: 1,
            event_type: "VendorSaleRecorded".into(),
            kind: "commission".into(),
            currency: "USD".into(),
            amount: 250,
            effect: -250,
            balance_after: 2_250,
            order_id: Some(Uuid::nil()),
            sku: Some("VERA-1".into()),
            payout_id: None,
            postings: sqlx::types::Json(vec![PostingView {
                account: "vendor_payable".into(),
                amount: 250,
                side: "debit".into(),
            }]),
            at,
        });
        assert!(keys_sorted(&entry));
        let summary = LedgerSummary::from(SummaryRow {
            currency: "USD".into(),
            gross: 2_500,
            tax: 0,
            commission: 250,
            fees: 30,
            refunds: 0,
            clawbacks: 0,
            adjustments: 0,
            paid_out: 0,
            net: 2_220,
            balance: 2_220,
            clawback_outstanding: 0,
            entry_count: 3,
            updated_at: at,
        });
        assert!(keys_sorted(&summary));
        let payout = PayoutView::from(PayoutRow {
            payout_id: Uuid::nil(),
            vendor_id: Uuid::nil(),
            currency: "USD".into(),
            period_start: None,
            period_end: at,
            amount: 2_220,
            clawback: 0,
            status: "paid".into(),
            provider_reference: Some("po_test_1".into()),
            failure_reason: None,
            requested_at: at,
            settled_at: Some(at),
        });
        assert!(keys_sorted(&payout));
        assert_eq!(
            entry_fields(&EntryRow {
                revision: 0,
                entry_no: 0,
                event_type: "VendorSaleRecorded".into(),
                kind: "sale".into(),
                currency: "USD".into(),
                amount: 2_500,
                effect: 2_500,
                balance_after: 2_500,
                order_id: None,
                sku: None,
                payout_id: None,
                postings: sqlx::types::Json(vec![]),
                at,
            })[3..8],
            ["sale", "USD", "2500", "2500", "2500"]
        );
    }
}
