//! Paying an order awaiting payment: its customer only, through a
//! [`PaymentProvider`]. The provider's call and the payment stream live in
//! [`crate::payment`]; this adds who may pay and what a decline means to the caller.

use domain::id::OrderId;
use domain::money::Money;
use domain::order::check_payment_method;
use uuid::Uuid;

use super::caller::{visible_order, Caller};
use super::error::OrdersError;
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::payment::{pay_order, PayError, PayOutcome, PaymentProvider};
use crate::store::{Position, StoreError};

/// A captured payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentTaken {
    pub order_id: Uuid,
    /// The provider's reference.
    pub reference: String,
    pub amount: Money,
    /// Where the captured payment sits in `$all`, for read-your-writes.
    pub position: Option<Position>,
}

/// Why an order was not paid. The provider's decline is a refusal like the others: the
/// order stays payable until it expires.
#[derive(Debug, thiserror::Error)]
pub enum PayOrderError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No such order, or not the caller's.
    #[error("no such order")]
    NotFound,
    /// Staff may see the order, but only its customer pays it.
    #[error("only the customer pays an order")]
    NotTheCustomer,
    #[error("the order is {0} and cannot be paid")]
    NotPayable(&'static str),
    #[error("declined ({code}): {message}")]
    Declined { code: String, message: String },
    #[error(transparent)]
    Store(StoreError),
    /// The provider, the payment stream or the command handler failed.
    #[error("{0}")]
    Failed(String),
}

impl From<OrdersError> for PayOrderError {
    fn from(e: OrdersError) -> Self {
        match e {
            OrdersError::Invalid { field, message } => PayOrderError::Invalid { field, message },
            OrdersError::NotFound => PayOrderError::NotFound,
            OrdersError::Store(e) => PayOrderError::Store(e),
            other => PayOrderError::Failed(other.to_string()),
        }
    }
}

/// Pays `order_id` with the card `token` for its customer.
#[tracing::instrument(skip_all, fields(%order_id), err)]
pub async fn pay_for_order(
    handlers: &Handlers,
    provider: &dyn PaymentProvider,
    caller: &Caller,
    order_id: Uuid,
    method: &str,
    token: &str,
    meta: CommandMeta,
) -> Result<PaymentTaken, PayOrderError> {
    check_payment_method(method).map_err(|e| OrdersError::input("method", e))?;
    let order = visible_order(handlers, caller, order_id).await?;
    if order.user_id.as_uuid() != caller.user_id {
        return Err(PayOrderError::NotTheCustomer);
    }
    let outcome = pay_order(
        &handlers.orders,
        &handlers.payments,
        provider,
        OrderId::new(order_id),
        method,
        token,
        meta,
    )
    .await;
    match outcome {
        Ok(PayOutcome::Captured {
            reference,
            position,
        }) => Ok(PaymentTaken {
            order_id,
            reference,
            amount: order.totals.total,
            position,
        }),
        Ok(PayOutcome::Declined { code, message }) => {
            Err(PayOrderError::Declined { code, message })
        }
        Err(PayError::NotPayable(status)) => Err(PayOrderError::NotPayable(status)),
        Err(PayError::UnknownOrder) => Err(PayOrderError::NotFound),
        Err(e) => Err(PayOrderError::Failed(e.to_string())),
    }
}
