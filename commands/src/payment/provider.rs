//! The [`PaymentProvider`] port: a card network behind one interface.

use async_trait::async_trait;
use domain::id::OrderId;
use domain::money::Money;
use domain::payment::ChargeOutcome;

#[derive(Debug, thiserror::Error)]
#[error("payment provider {provider}: {message}")]
pub struct ProviderError {
    pub provider: String,
    pub message: String,
}

/// The key a provider deduplicates a charge by: the order and the attempt. Attempt `n + 1`
/// follows a recorded decline of attempt `n`; until an answer is recorded, every request
/// to pay the order asks with the same key, so a retry after a crash, or two requests that
/// race, take the money once.
pub fn idempotency_key(order_id: OrderId, attempt: u32) -> String {
    format!("{}:{attempt}", order_id.as_uuid())
}

/// A card network behind one interface.
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// The `PAYMENT_PROVIDER` name, recorded on the payment's events.
    fn name(&self) -> &'static str;

    /// Charges `amount` with the card `token`. A second call with the same
    /// `idempotency_key` answers the first call's outcome and charges nothing.
    async fn charge(
        &self,
        order_id: OrderId,
        amount: Money,
        token: &str,
        attempt: u32,
        idempotency_key: &str,
    ) -> Result<ChargeOutcome, ProviderError>;

    /// Gives `amount` of what the order was charged back to the card, answering the
    /// provider's reference of the refund. A second call with the same `idempotency_key`
    /// answers the first refund's reference and gives nothing back twice.
    async fn refund(
        &self,
        order_id: OrderId,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError>;
}
