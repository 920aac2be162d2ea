//! Asking for a return, and reading an order's returns.

use chrono::{DateTime, Utc};
use domain::configuration::{known, ConfigValue};
use domain::id::{OrderId, ReturnId};
use domain::money::Money;
use domain::order::PlacedLine;
use domain::returns::{OrderReturns, RequestReturn, Returnable, ReturnsCommand, ReturnsState};
use domain::shipping::{CreatedShipment, ShipmentStatus};
use domain::value::Sku;
use uuid::Uuid;

use super::error::ReturnsUseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::Caller;
use crate::shipping::{shipments_of_order, ShippingUseError};
use crate::store::Position;

/// The window when the store has not set `returns.window_days`.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;

/// What the customer asks to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRequest {
    /// SKUs of the order's lines, and how many of each.
    pub lines: Vec<(String, u32)>,
    pub reason: String,
}

/// The order's returns after a use case, the return it acted on, and where its events sit
/// in `$all` (`None` when it appended nothing).
#[derive(Debug, Clone)]
pub struct ReturnsOutcome {
    pub returns: ReturnsState,
    pub return_id: ReturnId,
    pub position: Option<Position>,
}

/// The id of an order's returns stream: `returns-<order id>`.
pub fn returns_stream(order_id: Uuid) -> String {
    CommandHandler::<OrderReturns>::stream_id(order_id)
}

fn shipping_error(e: ShippingUseError) -> ReturnsUseError {
    match e {
        ShippingUseError::OrderNotFound => ReturnsUseError::OrderNotFound,
        ShippingUseError::Store(e) => ReturnsUseError::Store(e),
        other => ReturnsUseError::Failed(other.to_string()),
    }
}

/// The order's returns, for its customer or staff.
pub async fn returns_of_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
) -> Result<ReturnsState, ReturnsUseError> {
    crate::orders::caller::visible_order(handlers, caller, order_id)
        .await
        .map_err(|_| ReturnsUseError::OrderNotFound)?;
    let (state, _) = handlers
        .returns
        .load(&returns_stream(order_id))
        .await
        .map_err(|e| ReturnsUseError::Failed(e.to_string()))?;
    Ok(state)
}

/// The store's return window, in days.
async fn window_days(handlers: &Handlers) -> Result<u32, ReturnsUseError> {
    let config = crate::configuration::configuration(handlers)
        .await
        .map_err(|e| ReturnsUseError::Failed(e.to_string()))?;
    Ok(known("returns.window_days")
        .map(|k| config.value(k))
        .and_then(|v| match v {
            ConfigValue::Int(days) => u32::try_from(days).ok(),
            _ => None,
        })
        .unwrap_or(DEFAULT_WINDOW_DAYS))
}

/// When the shipment was delivered: its step to `delivered` (the carrier's event, or
/// staff's).
fn delivered_at(s: &CreatedShipment) -> Option<DateTime<Utc>> {
    s.history
        .iter()
        .find(|h| h.status == ShipmentStatus::Delivered)
        .map(|h| h.at)
}

/// What the customer paid for the whole line: its price after rules, less its share of
/// the discount, with the tax added when prices excluded it.
fn paid_for(l: &PlacedLine) -> Money {
    let price = l.price().unwrap_or(l.line_total);
    price
        .checked_sub(l.discount)
        .and_then(|m| m.checked_add(l.tax.added()))
        .unwrap_or(price)
}

/// The order's lines as a return sees them: each with the deliveries of its units.
fn returnable(lines: &[PlacedLine], shipments: &[CreatedShipment]) -> Vec<Returnable> {
    lines
        .iter()
        .map(|l| Returnable {
            product_id: l.product_id,
            variant_id: l.variant_id,
            sku: l.sku.clone(),
            ordered: l.quantity,
            paid: paid_for(l),
            deliveries: shipments
                .iter()
                .filter_map(|s| delivered_at(s).map(|at| (s, at)))
                .flat_map(|(s, at)| {
                    s.lines
                        .iter()
                        .filter(|sl| sl.sku == l.sku)
                        .map(move |sl| (sl.quantity, at))
                })
                .collect(),
        })
        .collect()
}

/// The order's customer asks to return some delivered lines, with a reason. Each line is
/// checked against what was delivered within the store's window less what earlier returns
/// hold; nothing is appended unless every line passes.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn request_return(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
    request: ReturnRequest,
    meta: CommandMeta,
) -> Result<ReturnsOutcome, ReturnsUseError> {
    let order = crate::orders::caller::visible_order(handlers, caller, order_id)
        .await
        .map_err(|_| ReturnsUseError::OrderNotFound)?;
    if order.user_id.as_uuid() != caller.user_id {
        return Err(ReturnsUseError::NotCustomer);
    }
    let mut requested = Vec::with_capacity(request.lines.len());
    for (i, (sku, quantity)) in request.lines.iter().enumerate() {
        let sku = Sku::parse(sku).map_err(|e| ReturnsUseError::Invalid {
            field: format!("lines[{i}].sku"),
            message: e.message,
        })?;
        requested.push((sku, *quantity));
    }
    let shipments = shipments_of_order(handlers, caller, order_id)
        .await
        .map_err(shipping_error)?;
    // From the command's id: a request decided again names the same return.
    let return_id = ReturnId::new(Uuid::new_v5(&meta.command_id, b"return"));
    let command = ReturnsCommand::Request(Box::new(RequestReturn {
        return_id,
        order_id: OrderId::new(order_id),
        customer: order.user_id,
        requested,
        reason: request.reason,
        lines: returnable(&order.lines, &shipments),
        window_days: window_days(handlers).await?,
        at: meta.occurred_at,
    }));
    let stream = returns_stream(order_id);
    let handled = handlers.returns.handle(&stream, command, meta).await?;
    let (returns, _) = handlers
        .returns
        .load(&stream)
        .await
        .map_err(|e| ReturnsUseError::Failed(e.to_string()))?;
    Ok(ReturnsOutcome {
        returns,
        return_id,
        position: handled.position,
    })
}
