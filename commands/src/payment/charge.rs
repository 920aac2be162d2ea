//! Paying an order through a provider, and recording a provider's answer that arrives on
//! its own (a webhook), both on the order's payment stream (`payment-<order id>`).

use domain::id::OrderId;
use domain::money::Money;
use domain::order::{Order, OrderStatus, PlacedOrder};
use domain::payment::{ChargeOutcome, Payment, PaymentCommand, PaymentError, PaymentState};

use super::provider::{idempotency_key, PaymentProvider, ProviderError};
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::store::Position;

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("no such order")]
    UnknownOrder,
    #[error("the order is {0} and cannot be paid")]
    NotPayable(&'static str),
    /// A provider's answer for another amount than the order's total.
    #[error("the provider took {paid}, the order's total is {total}")]
    AmountMismatch { paid: Money, total: Money },
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    Order(String),
    #[error(transparent)]
    Payment(#[from] CommandError<PaymentError>),
}

/// What a payment attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayOutcome {
    /// `position`: where the captured payment sits in `$all`, for read-your-writes (`None`
    /// when another request recorded it).
    Captured {
        reference: String,
        position: Option<Position>,
    },
    Declined {
        code: String,
        message: String,
    },
}

/// The order `order_id`, awaiting payment.
async fn payable(
    orders: &CommandHandler<Order>,
    order_id: OrderId,
) -> Result<PlacedOrder, PayError> {
    let (order, _) = orders
        .load(&CommandHandler::<Order>::stream_id(order_id))
        .await
        .map_err(|e| PayError::Order(e.to_string()))?;
    let order = order.placed.ok_or(PayError::UnknownOrder)?;
    if order.status != OrderStatus::AwaitingPayment {
        return Err(PayError::NotPayable(order.status.as_str()));
    }
    Ok(order)
}

/// The capture already on the payment stream, if any.
fn captured(payment: &PaymentState) -> Option<PayOutcome> {
    payment.captured?;
    Some(PayOutcome::Captured {
        reference: payment.reference.clone()?,
        position: None,
    })
}

/// Pays `order_id` with `token`: checks the order is payable, asks the provider with the
/// key of the next attempt and records its answer.
///
/// Two requests that race to pay one order ask with the same key, so the provider charges
/// once and answers both with the one capture; both answer it. A request that comes after
/// the capture was recorded, while the saga has not yet marked the order paid, answers the
/// capture too, without asking the provider.
pub async fn pay_order(
    orders: &CommandHandler<Order>,
    payments: &CommandHandler<Payment>,
    provider: &dyn PaymentProvider,
    order_id: OrderId,
    method: &str,
    token: &str,
    meta: CommandMeta,
) -> Result<PayOutcome, PayError> {
    let order = payable(orders, order_id).await?;
    let stream = CommandHandler::<Payment>::stream_id(order_id);
    let (payment, _) = payments.load(&stream).await?;
    if let Some(done) = captured(&payment) {
        return Ok(done);
    }
    let attempt = payment.attempts + 1;
    let amount = order.totals.total;
    let outcome = provider
        .charge(
            order_id,
            amount,
            token,
            attempt,
            &idempotency_key(order_id, attempt),
        )
        .await?;
    let answer = Answer {
        attempt,
        amount,
        outcome,
    };
    record(payments, order_id, answer, method, provider.name(), meta).await
}

/// A provider's answer to the charge numbered `attempt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub attempt: u32,
    pub amount: Money,
    pub outcome: ChargeOutcome,
}

/// Records a provider's answer that arrived on its own (a webhook: the charge was
/// confirmed or failed after the pay request answered) for an order awaiting payment. An
/// answer already recorded (the provider delivering an event twice) changes nothing.
pub async fn record_answer(
    orders: &CommandHandler<Order>,
    payments: &CommandHandler<Payment>,
    provider: &str,
    order_id: OrderId,
    answer: Answer,
    meta: CommandMeta,
) -> Result<PayOutcome, PayError> {
    let stream = CommandHandler::<Payment>::stream_id(order_id);
    let (payment, _) = payments.load(&stream).await?;
    // The same capture again: its effect is on the stream already, whatever the order's
    // status is now.
    if let (Some(done), ChargeOutcome::Captured { reference }) =
        (captured(&payment), &answer.outcome)
    {
        if payment.reference.as_ref() == Some(reference) {
            return Ok(done);
        }
    }
    let order = payable(orders, order_id).await?;
    if answer.amount != order.totals.total {
        return Err(PayError::AmountMismatch {
            paid: answer.amount,
            total: order.totals.total,
        });
    }
    record(payments, order_id, answer, "card", provider, meta).await
}

async fn record(
    payments: &CommandHandler<Payment>,
    order_id: OrderId,
    answer: Answer,
    method: &str,
    provider: &str,
    meta: CommandMeta,
) -> Result<PayOutcome, PayError> {
    let stream = CommandHandler::<Payment>::stream_id(order_id);
    let command = PaymentCommand::Charge {
        order_id,
        attempt: answer.attempt,
        amount: answer.amount,
        method: method.to_owned(),
        provider: provider.to_owned(),
        outcome: answer.outcome.clone(),
        at: meta.occurred_at,
    };
    let handled = match payments.handle(&stream, command, meta).await {
        Ok(h) => h,
        // Another capture won the race (a different provider answer): this one is void.
        Err(CommandError::Rejected(PaymentError::AlreadyCaptured)) => {
            return Err(PayError::NotPayable("paid"))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(match answer.outcome {
        ChargeOutcome::Captured { reference } => PayOutcome::Captured {
            reference,
            position: handled.position,
        },
        ChargeOutcome::Declined { code, message } => PayOutcome::Declined { code, message },
    })
}
