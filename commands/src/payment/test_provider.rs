//! The `test` provider: `tok_visa` captures, `tok_chargeDeclined` declines
//! (`card_declined`), anything else is an `invalid_token` (the pure rule is
//! [`domain::payment::test_provider`]). No network and no money, for development and tests;
//! but like a real provider it keeps a ledger of its charges (`payment.test_charges`), one
//! per idempotency key, so what a real provider would charge twice shows here.

use async_trait::async_trait;
use domain::id::OrderId;
use domain::money::Money;
use domain::payment::{test_provider, ChargeOutcome};
use sqlx::PgPool;

use super::provider::{PaymentProvider, ProviderError};

pub struct TestProvider {
    pool: PgPool,
}

impl TestProvider {
    pub fn new(pool: PgPool) -> Self {
        TestProvider { pool }
    }

    fn failed(e: impl ToString) -> ProviderError {
        ProviderError {
            provider: "test".into(),
            message: e.to_string(),
        }
    }
}

#[async_trait]
impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    #[tracing::instrument(skip_all, fields(%idempotency_key), err)]
    async fn charge(
        &self,
        order_id: OrderId,
        amount: Money,
        token: &str,
        attempt: u32,
        idempotency_key: &str,
    ) -> Result<ChargeOutcome, ProviderError> {
        let answer = test_provider(token, attempt, order_id);
        let json = serde_json::to_value(&answer).map_err(Self::failed)?;
        let inserted: Option<serde_json::Value> = sqlx::query_scalar(
            "insert into payment.test_charges (idempotency_key, order_id, amount, currency, outcome)
             values ($1, $2, $3, $4, $5)
             on conflict (idempotency_key) do nothing
             returning outcome",
        )
        .bind(idempotency_key)
        .bind(order_id.as_uuid())
        .bind(amount.amount)
        .bind(amount.currency.as_str())
        .bind(&json)
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::failed)?;
        let recorded = match inserted {
            Some(outcome) => outcome,
            // The key was charged already: its first answer stands. A second statement,
            // because the insert's snapshot predates the row it waited for.
            None => sqlx::query_scalar(
                "select outcome from payment.test_charges where idempotency_key = $1",
            )
            .bind(idempotency_key)
            .fetch_one(&self.pool)
            .await
            .map_err(Self::failed)?,
        };
        serde_json::from_value(recorded).map_err(Self::failed)
    }

    #[tracing::instrument(skip_all, fields(%idempotency_key), err)]
    async fn refund(
        &self,
        order_id: OrderId,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let reference = format!(
            "re_{}",
            &uuid::Uuid::new_v5(&order_id.as_uuid(), idempotency_key.as_bytes())
                .simple()
                .to_string()[..16]
        );
        let inserted: Option<String> = sqlx::query_scalar(
            "insert into payment.test_refunds (idempotency_key, order_id, amount, currency, reference)
             values ($1, $2, $3, $4, $5)
             on conflict (idempotency_key) do nothing
             returning reference",
        )
        .bind(idempotency_key)
        .bind(order_id.as_uuid())
        .bind(amount.amount)
        .bind(amount.currency.as_str())
        .bind(&reference)
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::failed)?;
        match inserted {
            Some(r) => Ok(r),
            // Refunded already under this key: the first refund stands.
            None => sqlx::query_scalar(
                "select reference from payment.test_refunds where idempotency_key = $1",
            )
            .bind(idempotency_key)
            .fetch_one(&self.pool)
            .await
            .map_err(Self::failed),
        }
    }
}
