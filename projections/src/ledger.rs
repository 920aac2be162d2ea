//! The `ledger` read model (issue 23 item 4): each store's entries and postings as the
//! ledger's events decided them, its totals by kind per currency (counted with the
//! domain's own `Totals`, so the read model and the aggregate cannot disagree), its
//! payouts and its sold lines with their commission rule and version. Every value comes
//! from the events, so a rebuild equals the live build.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::ledger::{Entry, LedgerEvent, Totals, VendorLedger};
use domain::money::Currency;
use domain::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, Projection, ProjectionError};

pub struct LedgerProjection;

#[async_trait]
impl Projection for LedgerProjection {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn schema(&self) -> &'static str {
        "ledger"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == VendorLedger::CATEGORY
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/ledger.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(vendor) = event.stream_uuid() else {
            return Ok(());
        };
        let e = decode::<LedgerEvent>(event)?;
        let at = e.at();
        for (n, entry) in e.entries().iter().enumerate() {
            post(tx, vendor, event, n as i32, entry, at).await?;
        }
        match e {
            LedgerEvent::VendorSaleRecorded {
                order_id, lines, ..
            } => {
                for l in lines {
                    sqlx::query(
                        "insert into sale_lines (vendor_id, order_id, sku, product_id, variant_id,
                             quantity, currency, gross, tax, net, commission, fee, rule,
                             rule_version, rule_source, sold_at)
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                             $15, $16)
                         on conflict do nothing",
                    )
                    .bind(vendor)
                    .bind(order_id.as_uuid())
                    .bind(l.sku.as_str())
                    .bind(l.product_id.as_uuid())
                    .bind(l.variant_id.map(|v| v.as_uuid()))
                    .bind(l.quantity as i32)
                    .bind(l.gross.currency.as_str())
                    .bind(l.gross.amount)
                    .bind(l.tax.amount)
                    .bind(l.net.amount)
                    .bind(l.commission.amount)
                    .bind(l.fee.amount)
                    .bind(sqlx::types::Json(l.rule))
                    .bind(l.rule_version as i32)
                    .bind(l.rule_source.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            LedgerEvent::VendorRefundRecorded {
                order_id, lines, ..
            } => {
                for l in lines {
                    sqlx::query(
                        "update sale_lines set refunded = refunded + $4,
                             clawed_back = clawed_back or $5
                          where vendor_id = $1 and order_id = $2 and sku = $3",
                    )
                    .bind(vendor)
                    .bind(order_id.as_uuid())
                    .bind(l.sku.as_str())
                    .bind(l.amount.amount)
                    .bind(l.clawback)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            LedgerEvent::VendorPayoutRequested {
                payout_id,
                period_start,
                period_end,
                amount,
                clawback,
                ..
            } => {
                sqlx::query(
                    "insert into payouts (payout_id, vendor_id, currency, period_start,
                         period_end, amount, clawback, status, requested_at)
                     values ($1, $2, $3, $4, $5, $6, $7, 'requested', $8)
                     on conflict do nothing",
                )
                .bind(payout_id.as_uuid())
                .bind(vendor)
                .bind(amount.currency.as_str())
                .bind(period_start)
                .bind(period_end)
                .bind(amount.amount)
                .bind(clawback.amount)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            LedgerEvent::VendorPayoutPaid {
                payout_id,
                provider_reference,
                ..
            } => {
                sqlx::query(
                    "update payouts set status = 'paid', provider_reference = $2, settled_at = $3
                      where payout_id = $1",
                )
                .bind(payout_id.as_uuid())
                .bind(provider_reference)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            LedgerEvent::VendorPayoutFailed {
                payout_id, reason, ..
            } => {
                sqlx::query(
                    "update payouts set status = 'failed', failure_reason = $2, settled_at = $3
                      where payout_id = $1",
                )
                .bind(payout_id.as_uuid())
                .bind(reason)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            LedgerEvent::VendorLedgerAdjusted { .. } => {}
        }
        Ok(())
    }
}

/// Writes one entry, its postings, and its counts into the store's totals.
async fn post(
    tx: &mut PgConnection,
    vendor: Uuid,
    event: &RecordedEvent,
    entry_no: i32,
    entry: &Entry,
    at: DateTime<Utc>,
) -> Result<(), ProjectionError> {
    let revision = event.revision as i64;
    let currency: Currency = entry.currency;
    let postings =
        serde_json::to_value(&entry.postings).map_err(|e| ProjectionError::event(event, e))?;
    sqlx::query(
        "insert into entries (vendor_id, revision, entry_no, event_type, kind, currency, amount,
             effect, order_id, sku, payout_id, postings, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict do nothing",
    )
    .bind(vendor)
    .bind(revision)
    .bind(entry_no)
    .bind(&event.event_type)
    .bind(entry.kind.as_str())
    .bind(currency.as_str())
    .bind(entry.debits())
    .bind(entry.effect())
    .bind(entry.order_id.map(|o| o.as_uuid()))
    .bind(entry.sku.as_ref().map(|s| s.as_str().to_owned()))
    .bind(entry.payout_id.map(|p| p.as_uuid()))
    .bind(postings)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    for (n, p) in entry.postings.iter().enumerate() {
        sqlx::query(
            "insert into postings (vendor_id, revision, entry_no, posting_no, account, side,
                 amount, currency, at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             on conflict do nothing",
        )
        .bind(vendor)
        .bind(revision)
        .bind(entry_no)
        .bind(n as i32)
        .bind(p.account.as_str())
        .bind(p.side.as_str())
        .bind(p.amount)
        .bind(currency.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    // The entry's counts, from the domain's own sum of one entry; added to the row.
    let d = Totals::of([entry]);
    sqlx::query(
        "insert into balances (vendor_id, currency, gross, tax, commission, fees, refunds,
             clawbacks, adjustments, paid_out, net, balance, clawback_outstanding, entry_count,
             updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14)
         on conflict (vendor_id, currency) do update set
             gross = balances.gross + excluded.gross,
             tax = balances.tax + excluded.tax,
             commission = balances.commission + excluded.commission,
             fees = balances.fees + excluded.fees,
             refunds = balances.refunds + excluded.refunds,
             clawbacks = balances.clawbacks + excluded.clawbacks,
             adjustments = balances.adjustments + excluded.adjustments,
             paid_out = balances.paid_out + excluded.paid_out,
             net = balances.net + excluded.net,
             balance = balances.balance + excluded.balance,
             clawback_outstanding = balances.clawback_outstanding + excluded.clawback_outstanding,
             entry_count = balances.entry_count + 1,
             updated_at = excluded.updated_at",
    )
    .bind(vendor)
    .bind(currency.as_str())
    .bind(d.gross)
    .bind(d.tax)
    .bind(d.commission)
    .bind(d.fees)
    .bind(d.refunds)
    .bind(d.clawbacks)
    .bind(d.adjustments)
    .bind(d.paid_out)
    .bind(d.net())
    .bind(d.balance())
    .bind(d.clawback_outstanding)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
