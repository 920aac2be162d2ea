//! Staff pay a store: a payout for a period, sent through the payout provider, recorded
//! as paid or, refused, reversed; and staff's adjustments of a store's ledger.

use chrono::{DateTime, Utc};
use domain::id::{PayoutId, VendorId};
use domain::ledger::{LedgerCommand, LedgerState, Payout, PayoutStatus, Settlement};
use domain::money::{Currency, Money};
use uuid::Uuid;

use super::error::LedgerUseError;
use super::provider::{PayoutAnswer, PayoutProvider};
use super::sales::ledger_stream;
use crate::cart::shopper::step;
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::store::Position;

/// A payout as staff ask for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutRequest {
    /// `None`: the ledger's only currency.
    pub currency: Option<Currency>,
    /// Recorded with the payout; what it pays is everything earned before the end and
    /// not yet paid.
    pub period_start: Option<DateTime<Utc>>,
    /// `None`: now.
    pub period_end: Option<DateTime<Utc>>,
}

/// A payout after a command, and where the command's last event sits in `$all`.
#[derive(Debug, Clone)]
pub struct PayoutOutcome {
    pub payout: Payout,
    pub position: Option<Position>,
}

/// A store's ledger as the write side has it.
pub async fn ledger_of(
    handlers: &Handlers,
    vendor_id: Uuid,
) -> Result<LedgerState, LedgerUseError> {
    let (state, _) = handlers
        .ledgers
        .load(&ledger_stream(vendor_id))
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?;
    Ok(state)
}

/// Pays `vendor_id` what it earned before the period's end and is owed now (staff; the
/// caller checks the role). In order: the payout is recorded (`requested`: the store's
/// balance is moved to payouts in transit, a clawback outstanding recovered first), the
/// provider is asked, and its answer recorded: `paid`, or `failed` with the entries
/// reversed so the store is owed again. A provider that does not answer at all fails the
/// payout too, since nothing may stay half-moved; the test provider, like a real one, is
/// asked by the payout's id, so asking again never pays twice. The payout's id comes from
/// the command's, so a retried request finds the payout it made.
#[tracing::instrument(skip_all, fields(%vendor_id), err)]
pub async fn create_payout(
    handlers: &Handlers,
    provider: &dyn PayoutProvider,
    vendor_id: Uuid,
    request: PayoutRequest,
    meta: CommandMeta,
) -> Result<PayoutOutcome, LedgerUseError> {
    let vendor = crate::vendors::find(handlers, vendor_id)
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?
        .ok_or(LedgerUseError::VendorNotFound)?;
    let payout_id = PayoutId::new(Uuid::new_v5(&meta.command_id, b"payout"));
    let stream = ledger_stream(vendor_id);
    let requested = handlers
        .ledgers
        .handle(
            &stream,
            LedgerCommand::RequestPayout {
                vendor_id: VendorId::new(vendor_id),
                payout_id,
                currency: request.currency,
                period_start: request.period_start,
                period_end: request.period_end.unwrap_or(meta.occurred_at),
                at: meta.occurred_at,
            },
            step(&meta, "request-payout"),
        )
        .await?;
    let mut position = requested.position;
    let state = ledger_of(handlers, vendor_id).await?;
    let payout = state
        .payouts
        .get(&payout_id)
        .cloned()
        .ok_or_else(|| LedgerUseError::Failed("the payout was not recorded".into()))?;
    if payout.status == PayoutStatus::Requested {
        let outcome = match provider
            .pay(
                VendorId::new(vendor_id),
                payout_id,
                payout.amount,
                vendor.payout.as_ref(),
            )
            .await
        {
            Ok(PayoutAnswer::Paid { reference }) => Settlement::Paid {
                provider_reference: reference,
            },
            Ok(PayoutAnswer::Declined { reason }) => Settlement::Failed { reason },
            Err(e) => {
                tracing::warn!(error = %e, %payout_id, "the payout provider did not answer; the payout fails");
                Settlement::Failed {
                    reason: format!("provider_unavailable: {}", e.message),
                }
            }
        };
        let settled = handlers
            .ledgers
            .handle(
                &stream,
                LedgerCommand::SettlePayout {
                    payout_id,
                    outcome,
                    at: meta.occurred_at,
                },
                step(&meta, "settle-payout"),
            )
            .await?;
        position = settled.position.or(position);
    }
    let payout = ledger_of(handlers, vendor_id)
        .await?
        .payouts
        .remove(&payout_id)
        .ok_or_else(|| LedgerUseError::Failed("the payout was not recorded".into()))?;
    Ok(PayoutOutcome { payout, position })
}

/// Staff correct a store's ledger by `amount` (in its favour when positive), saying why.
#[tracing::instrument(skip_all, fields(%vendor_id), err)]
pub async fn adjust(
    handlers: &Handlers,
    vendor_id: Uuid,
    amount: Money,
    reason: String,
    meta: CommandMeta,
) -> Result<Option<Position>, LedgerUseError> {
    crate::vendors::find(handlers, vendor_id)
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?
        .ok_or(LedgerUseError::VendorNotFound)?;
    let handled = handlers
        .ledgers
        .handle(
            &ledger_stream(vendor_id),
            LedgerCommand::Adjust {
                vendor_id: VendorId::new(vendor_id),
                adjustment_id: Uuid::new_v5(&meta.command_id, b"adjustment"),
                amount,
                reason,
                at: meta.occurred_at,
            },
            meta,
        )
        .await?;
    Ok(handled.position)
}
