//! Moving an order on by hand (staff): ship it, mark it delivered, or cancel it. The other
//! statuses follow from stock and payment, never from a person.

use domain::order::{CancellationReason, Order, OrderCommand, OrderStatus};
use domain::value::{optional_line, optional_paragraphs, MAX_CODE, MAX_NOTE};
use uuid::Uuid;

use super::caller::{visible_order, Caller, OrderOutcome};
use super::error::OrdersError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

/// The status staff set, with what goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    pub status: OrderStatus,
    /// For `shipped`.
    pub tracking_number: Option<String>,
    pub notes: Option<String>,
}

/// Moves `order_id` to the status staff asked for. The caller's role is the gateway's to
/// check; this records them as who changed it.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn change_order_status(
    handlers: &Handlers,
    caller: &Caller,
    order_id: Uuid,
    request: StatusRequest,
    meta: CommandMeta,
) -> Result<OrderOutcome, OrdersError> {
    // The customer reads both in their order and in e-mails: one line for the tracking
    // number, and no control characters in either.
    let tracking_number = optional_line(
        "tracking_number",
        request.tracking_number.as_deref(),
        MAX_CODE,
    )?;
    let note = optional_paragraphs("notes", request.notes.as_deref(), MAX_NOTE)?;
    visible_order(handlers, caller, order_id).await?;
    let (by, at) = (caller.changed_by(), meta.occurred_at);
    let command = match request.status {
        OrderStatus::Shipped => OrderCommand::Ship {
            tracking_number,
            note,
            by,
            at,
        },
        OrderStatus::Delivered => OrderCommand::Deliver { note, by, at },
        OrderStatus::Cancelled => OrderCommand::Cancel {
            reason: CancellationReason::Staff,
            note,
            by,
            at,
        },
        other => {
            return Err(OrdersError::invalid(
                "status",
                format!(
                    "staff set shipped, delivered or cancelled; {} follows from stock and payment",
                    other.as_str()
                ),
            ))
        }
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
