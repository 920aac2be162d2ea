//! Refunding a paid order, wholly or in part (staff).

use domain::money::Money;
use domain::order::{Order, OrderCommand};
use uuid::Uuid;

use super::caller::{visible_order, Caller, OrderOutcome};
use super::error::OrdersError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// Part of what was paid; all that is left when `None`.
    pub amount: Option<Money>,
    /// Required: the customer and the audit trail read it.
    pub reason: String,
}

/// Refunds `order_id`. The caller's role is the gateway's to check.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn refund_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
    request: RefundRequest,
    meta: CommandMeta,
) -> Result<OrderOutcome, OrdersError> {
    let reason = domain::value::paragraphs("reason", &request.reason, domain::value::MAX_REASON)?;
    if reason.is_empty() {
        return Err(OrdersError::invalid("reason", "a refund needs a reason"));
    }
    visible_order(handlers, caller, order_id).await?;
    let command = OrderCommand::Refund {
        amount: request.amount,
        reason,
        by: caller.changed_by(),
        at: meta.occurred_at,
    };
    let handled = handlers
        .orders
        .handle(&CommandHandler::<Order>::stream_id(order_id), command, meta)
        .await?;
    Ok(OrderOutcome {
        order: visible_order(handlers, caller, order_id).await?,
        position: handled.position,
    })
}
