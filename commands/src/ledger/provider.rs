//! The [`PayoutProvider`] port: whatever sends a store its earnings (a bank transfer, a
//! payment platform's payouts), behind one interface, like the payment provider.

use async_trait::async_trait;
use domain::id::{PayoutId, VendorId};
use domain::money::Money;
use domain::vendors::Payout as PayoutAccount;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[error("payout provider {provider}: {message}")]
pub struct PayoutProviderError {
    pub provider: String,
    pub message: String,
}

/// What the provider answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutAnswer {
    /// Sent; the provider's reference of the transfer.
    Paid { reference: String },
    /// Refused: the account is missing, closed or refuses the transfer.
    Declined { reason: String },
}

/// Sends stores their payouts.
#[async_trait]
pub trait PayoutProvider: Send + Sync + 'static {
    /// The provider's name, for logs and answers.
    fn name(&self) -> &'static str;

    /// Sends `amount` of `vendor_id`'s earnings to `account` (`None`: the store gave no
    /// payout details). Asked again for the same `payout_id`, it answers the first outcome
    /// and sends nothing twice.
    async fn pay(
        &self,
        vendor_id: VendorId,
        payout_id: PayoutId,
        amount: Money,
        account: Option<&PayoutAccount>,
    ) -> Result<PayoutAnswer, PayoutProviderError>;
}
