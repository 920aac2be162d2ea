//! A paid order's vendor lines go to their stores' ledgers; refunds of them follow.
//!
//! The process manager (`projections::ledger_process`) calls these on `OrderPaid`, a
//! paid order's `OrderCancelled`, a full `OrderRefunded` and `ReturnRefunded`. Each store
//! records a sale once per order and a refund once per key, and every command's id comes
//! from the event that caused it, so the manager may repeat itself after a restart.
//!
//! A line's commission is charged by the rule its store had when the order was paid: the
//! store's stream folded up to the payment's instant, so a rule changed while the manager
//! lagged behind does not reach back to earlier sales, and a replay decides the same.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::aggregate::{Aggregate, DomainEvent};
use domain::id::{OrderId, ReturnId, VendorId};
use domain::ledger::{LedgerCommand, Sold, VendorLedger};
use domain::order::{Order, PlacedLine};
use domain::value::Sku;
use domain::vendors::{CommissionRule, RuleSource, Vendor, VendorEvent, VendorState};
use uuid::Uuid;

use super::error::LedgerUseError;
use crate::cart::shopper::step;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Direction, Position, ReadFrom};

/// The most events of a store's stream read to find its rule.
const VENDOR_EVENTS: usize = 100_000;

/// What a refund gives back of an order's vendor lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refunded {
    /// Every line, in full (what is left of each): a paid order cancelled, a full refund.
    Everything,
    /// Per SKU, what the customer got back for the line (a return).
    Lines(Vec<(Sku, i64)>),
}

pub(crate) fn ledger_stream(vendor_id: Uuid) -> String {
    CommandHandler::<VendorLedger>::stream_id(vendor_id)
}

/// The order's lines, by the store that sold them (the marketplace's own left out).
async fn vendor_lines(
    handlers: &Handlers,
    order_id: Uuid,
) -> Result<BTreeMap<VendorId, Vec<PlacedLine>>, LedgerUseError> {
    let (state, _) = handlers
        .orders
        .load(&CommandHandler::<Order>::stream_id(order_id))
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?;
    let order = state.placed.ok_or(LedgerUseError::OrderNotFound)?;
    let mut by_vendor: BTreeMap<VendorId, Vec<PlacedLine>> = BTreeMap::new();
    for line in order.lines {
        if let Some(v) = line.vendor_id {
            by_vendor.entry(v).or_default().push(line);
        }
    }
    Ok(by_vendor)
}

/// The rule `vendor_id` was charged by at `at`: its stream folded up to that instant.
/// A vendor account without a store (made a vendor before stores existed) pays the
/// default.
pub async fn rule_at(
    handlers: &Handlers,
    vendor_id: VendorId,
    at: DateTime<Utc>,
) -> Result<(CommissionRule, u32, RuleSource), LedgerUseError> {
    let events = handlers
        .store
        .read_stream(
            &CommandHandler::<Vendor>::stream_id(vendor_id),
            ReadFrom::Revision(0),
            Direction::Forwards,
            VENDOR_EVENTS,
        )
        .await?;
    let mut state = VendorState::default();
    for e in events.iter().filter(|e| e.recorded_at <= at) {
        let event = VendorEvent::from_data(&e.event_type, e.schema_version, e.data.clone())
            .map_err(|err| LedgerUseError::Failed(err.to_string()))?;
        state = Vendor::evolve(state, &event);
    }
    let default_bp = crate::vendors::default_commission_bp(handlers)
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?;
    Ok(match state.vendor {
        Some(v) => v.commission_rule(default_bp),
        None => (CommissionRule::percent(default_bp), 0, RuleSource::Default),
    })
}

/// Records the sale of `order_id`'s vendor lines, paid at `paid_at`, in each store's
/// ledger. Answers the position of the last event appended.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn record_sales(
    handlers: &Handlers,
    order_id: Uuid,
    paid_at: DateTime<Utc>,
    meta: &CommandMeta,
) -> Result<Option<Position>, LedgerUseError> {
    let mut last = None;
    for (vendor_id, lines) in vendor_lines(handlers, order_id).await? {
        let (rule, rule_version, rule_source) = rule_at(handlers, vendor_id, paid_at).await?;
        let mut sold = Vec::with_capacity(lines.len());
        for l in lines {
            let gross = l
                .charged()
                .map_err(|e| LedgerUseError::Failed(format!("order {order_id}: {e}")))?;
            sold.push(Sold {
                product_id: l.product_id,
                variant_id: l.variant_id,
                sku: l.sku,
                quantity: l.quantity,
                gross,
                tax: l.tax.amount,
                rule,
                rule_version,
                rule_source,
            });
        }
        let command = LedgerCommand::RecordSale {
            vendor_id,
            order_id: OrderId::new(order_id),
            lines: sold,
            at: paid_at,
        };
        let handled = handlers
            .ledgers
            .handle(
                &ledger_stream(vendor_id.as_uuid()),
                command,
                step(meta, &format!("sale:{vendor_id}")),
            )
            .await?;
        last = handled.position.or(last);
    }
    Ok(last)
}

/// Records a refund of `order_id`'s vendor lines in each store's ledger, once per `key`.
#[tracing::instrument(skip_all, fields(%order_id, %key), err)]
pub async fn record_refund(
    handlers: &Handlers,
    order_id: Uuid,
    key: &str,
    refunded: &Refunded,
    meta: &CommandMeta,
) -> Result<Option<Position>, LedgerUseError> {
    let mut last = None;
    for (vendor_id, lines) in vendor_lines(handlers, order_id).await? {
        let lines: Vec<(Sku, Option<i64>)> = match refunded {
            Refunded::Everything => lines.into_iter().map(|l| (l.sku, None)).collect(),
            Refunded::Lines(given) => given
                .iter()
                .filter(|(sku, _)| lines.iter().any(|l| &l.sku == sku))
                .map(|(sku, amount)| (sku.clone(), Some(*amount)))
                .collect(),
        };
        if lines.is_empty() {
            continue;
        }
        let command = LedgerCommand::RecordRefund {
            vendor_id,
            order_id: OrderId::new(order_id),
            key: key.to_owned(),
            lines,
            at: meta.occurred_at,
        };
        let handled = handlers
            .ledgers
            .handle(
                &ledger_stream(vendor_id.as_uuid()),
                command,
                step(meta, &format!("refund:{key}:{vendor_id}")),
            )
            .await?;
        last = handled.position.or(last);
    }
    Ok(last)
}

/// Records the refund of the return `return_id` of `order_id`: each returned line's
/// refund, in its store's ledger.
pub async fn record_return_refund(
    handlers: &Handlers,
    order_id: Uuid,
    return_id: ReturnId,
    meta: &CommandMeta,
) -> Result<Option<Position>, LedgerUseError> {
    let (returns, _) = handlers
        .returns
        .load(&crate::returns::request::returns_stream(order_id))
        .await
        .map_err(|e| LedgerUseError::Failed(e.to_string()))?;
    let Some(r) = returns.returns.get(&return_id) else {
        return Ok(None);
    };
    let lines = r
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.refund.amount))
        .collect();
    record_refund(
        handlers,
        order_id,
        &format!("return:{return_id}"),
        &Refunded::Lines(lines),
        meta,
    )
    .await
}
