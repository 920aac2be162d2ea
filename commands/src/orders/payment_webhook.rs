//! A payment provider's signed webhook: a charge confirmed (`payment.captured`) or failed
//! (`payment.failed`) after the pay request answered, as with 3-D Secure or a bank
//! transfer. The answer is recorded on the order's payment stream like a synchronous one,
//! and the checkout saga moves the order on from there (paid, or a failed attempt).
//!
//! The body is the provider's event:
//! `{"id": "evt_1", "type": "payment.captured", "order_id": "…", "attempt": 1,
//!   "amount": {"amount": 1250, "currency": "USD"}, "reference": "ch_1"}`;
//! `payment.failed` carries `code` and `message` instead of `reference`. Other types are
//! acknowledged and ignored, as providers send many.

use chrono::{DateTime, Utc};
use domain::id::OrderId;
use domain::money::Money;
use domain::payment::ChargeOutcome;
use serde::Deserialize;
use uuid::Uuid;

use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::payment::{
    record_answer, Answer, PayError, PayOutcome, ReplayError, WebhookError, WebhookReceiver,
};

/// What a webhook came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The order's payment now records the event (or had recorded it already).
    Recorded { order_id: Uuid, captured: bool },
    /// A type this engine does not act on.
    Ignored,
}

/// Why a webhook was refused.
#[derive(Debug, thiserror::Error)]
pub enum PaymentWebhookError {
    /// The signature is missing, wrong, outside the window or seen before.
    #[error(transparent)]
    Signature(WebhookError),
    /// A signed body that is not a provider event this engine understands.
    #[error("the body is not a payment event: {0}")]
    Malformed(String),
    #[error("no such order")]
    UnknownOrder,
    #[error("the order is {0}; its payment cannot change")]
    NotPayable(&'static str),
    #[error("the provider took {paid}, the order's total is {total}")]
    AmountMismatch { paid: Money, total: Money },
    /// The replay cache, the store or the command handler failed.
    #[error("{0}")]
    Failed(String),
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ProviderEvent {
    #[serde(rename = "payment.captured")]
    Captured {
        order_id: Uuid,
        attempt: u32,
        amount: Money,
        reference: String,
    },
    #[serde(rename = "payment.failed")]
    Failed {
        order_id: Uuid,
        attempt: u32,
        amount: Money,
        code: String,
        message: String,
    },
}

/// Checks the signature `header` of `body` at `now`, refuses a signature seen before,
/// and records the event's answer on the order's payment.
#[tracing::instrument(skip_all, err)]
pub async fn receive_payment_webhook(
    handlers: &Handlers,
    receiver: &WebhookReceiver,
    provider: &str,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    meta: CommandMeta,
) -> Result<WebhookOutcome, PaymentWebhookError> {
    let signature = receiver
        .signer
        .verify(header, body, now)
        .map_err(PaymentWebhookError::Signature)?;
    let malformed = |e: serde_json::Error| PaymentWebhookError::Malformed(e.to_string());
    let envelope: Envelope = serde_json::from_slice(body).map_err(malformed)?;
    receiver
        .replay
        .claim(&signature, &envelope.id)
        .await
        .map_err(|e| match e {
            ReplayError::Replayed => PaymentWebhookError::Signature(WebhookError::Replayed),
            ReplayError::Database(e) => PaymentWebhookError::Failed(e.to_string()),
        })?;
    if !matches!(
        envelope.kind.as_str(),
        "payment.captured" | "payment.failed"
    ) {
        tracing::info!(event_id = %envelope.id, kind = %envelope.kind, "payment webhook ignored");
        return Ok(WebhookOutcome::Ignored);
    }
    let (order_id, answer) = match serde_json::from_slice(body).map_err(malformed)? {
        ProviderEvent::Captured {
            order_id,
            attempt,
            amount,
            reference,
        } => (
            order_id,
            Answer {
                attempt,
                amount,
                outcome: ChargeOutcome::Captured { reference },
            },
        ),
        ProviderEvent::Failed {
            order_id,
            attempt,
            amount,
            code,
            message,
        } => (
            order_id,
            Answer {
                attempt,
                amount,
                outcome: ChargeOutcome::Declined { code, message },
            },
        ),
    };
    if answer.attempt == 0 {
        return Err(PaymentWebhookError::Malformed(
            "attempt: counts from 1".into(),
        ));
    }
    let outcome = record_answer(
        &handlers.orders,
        &handlers.payments,
        provider,
        OrderId::new(order_id),
        answer,
        meta,
    )
    .await
    .map_err(|e| match e {
        PayError::UnknownOrder => PaymentWebhookError::UnknownOrder,
        PayError::NotPayable(status) => PaymentWebhookError::NotPayable(status),
        PayError::AmountMismatch { paid, total } => {
            PaymentWebhookError::AmountMismatch { paid, total }
        }
        other => PaymentWebhookError::Failed(other.to_string()),
    })?;
    Ok(WebhookOutcome::Recorded {
        order_id,
        captured: matches!(outcome, PayOutcome::Captured { .. }),
    })
}
