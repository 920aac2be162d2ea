//! Cancelling an order: its customer while it is unpaid, staff at any time before it ships.

use domain::order::{CancellationReason, Order, OrderCommand, OrderStatus};
use uuid::Uuid;

use super::caller::{visible_order, Caller, OrderOutcome};
use super::error::OrdersError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

/// Cancels `order_id` for `caller`; the reason records who did (`customer` or `staff`).
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn cancel_order(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
    meta: CommandMeta,
) -> Result<OrderOutcome, OrdersError> {
    let order = visible_order(handlers, caller, order_id).await?;
    let staff = caller.is_staff();
    // Money has been taken: giving it back is staff's decision, not the customer's.
    if !staff
        && !matches!(
            order.status,
            OrderStatus::Pending | OrderStatus::AwaitingPayment
        )
    {
        return Err(OrdersError::PaidOrderNeedsStaff);
    }
    let command = OrderCommand::Cancel {
        reason: if staff {
            CancellationReason::Staff
        } else {
            CancellationReason::Customer
        },
        note: None,
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
