//! Staff's steps of a return: approve or reject it, receive the goods (restocked to a
//! warehouse, or written off), refund it through the payment provider.

use domain::id::ReturnId;
use domain::inventory::{Inventory, InventoryCommand};
use domain::order::{Order, OrderCommand};
use domain::returns::{Disposition, OrderReturn, ReturnError, ReturnStatus, ReturnsCommand};
use uuid::Uuid;

use super::error::ReturnsUseError;
use super::request::{returns_stream, ReturnsOutcome};
use crate::cart::shopper::step;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::Caller;
use crate::payment::PaymentProvider;

/// What staff do to a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnStep {
    Approve {
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    Receive {
        warehouse: String,
        disposition: Disposition,
    },
    Refund,
}

async fn the_return(
    handlers: &Handlers,
    order_id: Uuid,
    return_id: ReturnId,
) -> Result<OrderReturn, ReturnsUseError> {
    let (state, _) = handlers
        .returns
        .load(&returns_stream(order_id))
        .await
        .map_err(|e| ReturnsUseError::Failed(e.to_string()))?;
    state
        .returns
        .get(&return_id)
        .cloned()
        .ok_or(ReturnsUseError::NotFound)
}

/// Restocks the return's lines to `warehouse`: each line's units go back on the shelf of
/// the order's sale (at most what the order took of the SKU).
async fn restock(
    handlers: &Handlers,
    r: &OrderReturn,
    warehouse: &str,
    meta: &CommandMeta,
) -> Result<(), ReturnsUseError> {
    for l in &r.lines {
        let command = InventoryCommand::Restock {
            order_id: r.order_id,
            quantity: l.quantity,
            warehouse: warehouse.to_owned(),
        };
        handlers
            .inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(&l.sku),
                command,
                step(meta, &format!("restock:{}", l.sku)),
            )
            .await?;
    }
    Ok(())
}

/// Refunds the return through the provider (keyed by the return, so a retry refunds
/// once), then records the refund on the order; answers the provider's reference.
async fn refund(
    handlers: &Handlers,
    provider: &dyn PaymentProvider,
    r: &OrderReturn,
    by: &domain::order::ChangedBy,
    meta: &CommandMeta,
) -> Result<String, ReturnsUseError> {
    let reference = provider
        .refund(r.order_id, r.refund, &format!("return:{}", r.return_id))
        .await
        .map_err(|e| ReturnsUseError::ProviderFailed(e.to_string()))?;
    let command = OrderCommand::Refund {
        amount: Some(r.refund),
        reason: format!("return {}", r.return_id),
        by: by.clone(),
        at: meta.occurred_at,
    };
    handlers
        .orders
        .handle(
            &CommandHandler::<Order>::stream_id(r.order_id.as_uuid()),
            command,
            step(meta, "refund-order"),
        )
        .await?;
    Ok(reference)
}

/// Moves the return `return_id` of `order_id` one step (staff). Receiving restocks the
/// lines first (a write-off touches no stock); refunding asks the provider for the
/// return's amount (keyed by the return, so a retry refunds once), records the refund on
/// the order (`OrderRefunded`, partial) and then on the return.
#[tracing::instrument(skip_all, fields(%order_id, %return_id), err)]
pub async fn change_return_status(
    handlers: &Handlers,
    provider: &dyn PaymentProvider,
    caller: &Caller,
    order_id: Uuid,
    return_id: ReturnId,
    what: ReturnStep,
    meta: CommandMeta,
) -> Result<ReturnsOutcome, ReturnsUseError> {
    if !caller.is_staff() {
        return Err(ReturnsUseError::NotStaff);
    }
    let r = the_return(handlers, order_id, return_id).await?;
    let by = caller.changed_by();
    let at = meta.occurred_at;
    let command = match what {
        ReturnStep::Approve { note } => ReturnsCommand::Approve {
            return_id,
            note,
            by,
            at,
        },
        ReturnStep::Reject { reason } => ReturnsCommand::Reject {
            return_id,
            reason,
            by,
            at,
        },
        ReturnStep::Receive {
            warehouse,
            disposition,
        } => {
            match r.status {
                ReturnStatus::Approved => {
                    if disposition == Disposition::Restock {
                        restock(handlers, &r, &warehouse, &meta).await?;
                    }
                }
                // Received already: the rules answer that nothing changes.
                ReturnStatus::Received | ReturnStatus::Refunded => {}
                status => {
                    return Err(ReturnsUseError::Rejected(ReturnError::InvalidTransition {
                        status,
                        action: "received",
                    }))
                }
            }
            ReturnsCommand::Receive {
                return_id,
                warehouse,
                disposition,
                by,
                at,
            }
        }
        ReturnStep::Refund => {
            let reference = match r.status {
                ReturnStatus::Received => refund(handlers, provider, &r, &by, &meta).await?,
                // Refunded already: the rules answer that nothing changes.
                ReturnStatus::Refunded => r.payment_reference.clone().unwrap_or_default(),
                status => {
                    return Err(ReturnsUseError::Rejected(ReturnError::InvalidTransition {
                        status,
                        action: "refunded",
                    }))
                }
            };
            ReturnsCommand::RecordRefund {
                return_id,
                amount: r.refund,
                payment_reference: reference,
                by,
                at,
            }
        }
    };
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
