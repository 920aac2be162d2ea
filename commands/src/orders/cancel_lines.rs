//! Cancelling some units of a paid order's lines that no shipment holds (staff): the
//! order records them and what they give back (`OrderLinesCancelled`), the checkout saga
//! releases their stock, and the payment provider refunds the money.
//!
//! The order decides first, so a shipment created at the same moment cannot take the same
//! units; the provider is asked after, keyed by the cancellation, whose id is the
//! command's (a retry with the same `Idempotency-Key` carries it). When the provider
//! fails the cancellation stands and the request answers so: its retry records nothing
//! twice and asks the provider again, which refunds once per key.

use domain::order::{Order, OrderCommand, ShippedLine};
use domain::value::Sku;
use uuid::Uuid;

use super::caller::{visible_order, Caller, OrderOutcome};
use super::error::OrdersError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::payment::PaymentProvider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelLinesRequest {
    /// SKU and quantity, each SKU once.
    pub lines: Vec<(String, u32)>,
    /// Required: the customer and the audit trail read it.
    pub reason: String,
}

/// Cancels units of `order_id`'s unshipped lines and refunds them (staff).
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn cancel_lines(
    handlers: &Handlers,
    provider: &dyn PaymentProvider,
    caller: &Caller,
    order_id: Uuid,
    request: CancelLinesRequest,
    meta: CommandMeta,
) -> Result<OrderOutcome, OrdersError> {
    let reason = domain::value::paragraphs("reason", &request.reason, domain::value::MAX_REASON)?;
    if reason.is_empty() {
        return Err(OrdersError::invalid(
            "reason",
            "a cancellation needs a reason",
        ));
    }
    let lines = request
        .lines
        .iter()
        .enumerate()
        .map(|(i, (sku, quantity))| {
            Sku::parse(sku)
                .map(|sku| ShippedLine {
                    sku,
                    quantity: *quantity,
                })
                .map_err(|e| OrdersError::invalid(format!("lines[{i}].sku"), e.message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    visible_order(handlers, caller, order_id).await?;
    if !caller.is_staff() {
        return Err(OrdersError::PaidOrderNeedsStaff);
    }
    let cancellation_id = meta.command_id;
    let command = OrderCommand::CancelLines {
        cancellation_id,
        lines,
        reason,
        by: caller.changed_by(),
        at: meta.occurred_at,
    };
    let stream = CommandHandler::<Order>::stream_id(order_id);
    let handled = handlers.orders.handle(&stream, command, meta).await?;
    let (state, _) = handlers.orders.load(&stream).await?;
    let order = state.placed.ok_or(OrdersError::NotFound)?;
    let refund = state
        .cancellations
        .get(&cancellation_id)
        .copied()
        .ok_or_else(|| OrdersError::Failed("the cancellation was not recorded".into()))?;
    if refund.amount > 0 {
        provider
            .refund(order.order_id, refund, &format!("cancel:{cancellation_id}"))
            .await
            .map_err(|e| OrdersError::RefundFailed(e.to_string()))?;
    }
    Ok(OrderOutcome {
        order,
        position: handled.position,
    })
}
