//! Taking money: the `PaymentProvider` port, the built-in `test` provider, the pay-an-order
//! command flow, and HMAC-signed provider webhooks.
//!
//! The provider is called outside the domain and its answer handed to `decide` inside the
//! `Charge` command, so the payment stream records what the provider said and a replay
//! never calls it again. The saga turns `PaymentCaptured` into the order's `MarkPaid`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::id::OrderId;
use domain::money::Money;
use domain::order::{Order, OrderStatus};
use domain::payment::{test_provider, ChargeOutcome, Payment, PaymentCommand, PaymentError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::store::Position;

#[derive(Debug, thiserror::Error)]
#[error("payment provider {provider}: {message}")]
pub struct ProviderError {
    pub provider: String,
    pub message: String,
}

/// A card network behind one interface.
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Charges `amount` with the card `token`. `idempotency_key` makes a retried call
    /// charge once at providers that support it.
    async fn charge(
        &self,
        order_id: OrderId,
        amount: Money,
        token: &str,
        attempt: u32,
        idempotency_key: &str,
    ) -> Result<ChargeOutcome, ProviderError>;
}

/// `tok_visa` captures, `tok_chargeDeclined` declines (`card_declined`), anything else is
/// an `invalid_token`; no network, for development and tests.
pub struct TestProvider;

#[async_trait]
impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn charge(
        &self,
        order_id: OrderId,
        _amount: Money,
        token: &str,
        attempt: u32,
        _idempotency_key: &str,
    ) -> Result<ChargeOutcome, ProviderError> {
        Ok(test_provider(token, attempt, order_id))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("no such order")]
    UnknownOrder,
    #[error("the order is {0} and cannot be paid")]
    NotPayable(&'static str),
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
    /// `position`: where the captured payment sits in `$all`, for read-your-writes.
    Captured {
        reference: String,
        position: Option<Position>,
    },
    Declined {
        code: String,
        message: String,
    },
}

/// Pays `order_id` with `token`: checks the order is payable, asks the provider and
/// records its answer on the order's payment stream (`payment-<order id>`).
pub async fn pay_order(
    orders: &CommandHandler<Order>,
    payments: &CommandHandler<Payment>,
    provider: &dyn PaymentProvider,
    order_id: OrderId,
    method: &str,
    token: &str,
    meta: CommandMeta,
) -> Result<PayOutcome, PayError> {
    let (order, _) = orders
        .load(&CommandHandler::<Order>::stream_id(order_id))
        .await
        .map_err(|e| PayError::Order(e.to_string()))?;
    let order = order.placed.ok_or(PayError::UnknownOrder)?;
    if order.status != OrderStatus::AwaitingPayment {
        return Err(PayError::NotPayable(order.status.as_str()));
    }
    let stream = CommandHandler::<Payment>::stream_id(order_id);
    let (payment, _) = payments.load(&stream).await?;
    let attempt = payment.attempts + 1;
    let outcome = provider
        .charge(
            order_id,
            order.totals.total,
            token,
            attempt,
            &meta.command_id.to_string(),
        )
        .await?;
    let command = PaymentCommand::Charge {
        order_id,
        amount: order.totals.total,
        method: method.to_owned(),
        provider: provider.name().to_owned(),
        outcome: outcome.clone(),
        at: meta.occurred_at,
    };
    let handled = payments.handle(&stream, command, meta).await?;
    Ok(match outcome {
        ChargeOutcome::Captured { reference } => PayOutcome::Captured {
            reference,
            position: handled.position,
        },
        ChargeOutcome::Declined { code, message } => PayOutcome::Declined { code, message },
    })
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing or malformed (expected t=<unix seconds>,v1=<hex>)")]
    Malformed,
    #[error("the signature does not match the body")]
    BadSignature,
    #[error("the signature is {0} s old, beyond the tolerance")]
    Stale(i64),
}

/// Signs and checks provider webhooks: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
/// so a captured body cannot be replayed later or altered.
pub struct WebhookSigner {
    secret: Vec<u8>,
    tolerance: Duration,
}

impl WebhookSigner {
    pub fn new(secret: impl Into<Vec<u8>>, tolerance: Duration) -> Self {
        WebhookSigner {
            secret: secret.into(),
            tolerance,
        }
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    pub fn sign(&self, body: &[u8], at: DateTime<Utc>) -> String {
        let t = at.timestamp();
        let tag = self.mac(t, body).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("t={t},v1={hex}")
    }

    pub fn verify(
        &self,
        header: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let mut t = None;
        let mut v1 = None;
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = v.parse::<i64>().ok(),
                Some(("v1", v)) => v1 = decode_hex(v),
                _ => {}
            }
        }
        let (Some(t), Some(v1)) = (t, v1) else {
            return Err(WebhookError::Malformed);
        };
        // The comparison inside `verify_slice` takes constant time.
        self.mac(t, body)
            .verify_slice(&v1)
            .map_err(|_| WebhookError::BadSignature)?;
        let age = now.timestamp() - t;
        if age.unsigned_abs() > self.tolerance.as_secs() {
            return Err(WebhookError::Stale(age));
        }
        Ok(())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_are_signed_and_checked() {
        let signer = WebhookSigner::new(b"whsec_test".to_vec(), Duration::from_secs(300));
        let now = Utc::now();
        let body = br#"{"type":"charge.refunded","order_id":"x"}"#;
        let header = signer.sign(body, now);
        assert_eq!(signer.verify(&header, body, now), Ok(()));
        assert_eq!(
            signer.verify(
                &header,
                br#"{"type":"charge.refunded","order_id":"y"}"#,
                now
            ),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            signer.verify(&header, body, now + chrono::Duration::minutes(10)),
            Err(WebhookError::Stale(600)).map_err(|_: WebhookError| WebhookError::Stale(600))
        );
        assert_eq!(
            signer.verify("v1=zz", body, now),
            Err(WebhookError::Malformed)
        );
        let other = WebhookSigner::new(b"another".to_vec(), Duration::from_secs(300));
        assert_eq!(
            other.verify(&header, body, now),
            Err(WebhookError::BadSignature)
        );
    }
}
