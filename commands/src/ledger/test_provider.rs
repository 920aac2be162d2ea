//! The `test` payout provider: pays any account except one whose reference starts with
//! `FAIL` (declined: `account_closed`) and a store without payout details (declined:
//! `no_payout_account`). No money moves; like a real provider it keeps a book of what it
//! was asked (`payout.test_payouts`), one row per payout, so a retry pays once.

use async_trait::async_trait;
use domain::id::{PayoutId, VendorId};
use domain::money::Money;
use domain::vendors::Payout as PayoutAccount;
use sqlx::PgPool;

use super::provider::{PayoutAnswer, PayoutProvider, PayoutProviderError};

pub struct TestPayoutProvider {
    pool: PgPool,
}

impl TestPayoutProvider {
    pub fn new(pool: PgPool) -> Self {
        TestPayoutProvider { pool }
    }

    fn failed(e: impl ToString) -> PayoutProviderError {
        PayoutProviderError {
            provider: "test".into(),
            message: e.to_string(),
        }
    }

    /// The test provider's rule: what it answers for `account`.
    pub fn answer(payout_id: PayoutId, account: Option<&PayoutAccount>) -> PayoutAnswer {
        match account {
            None => PayoutAnswer::Declined {
                reason: "no_payout_account: the store has no payout details".into(),
            },
            Some(a) if a.account.trim().to_ascii_uppercase().starts_with("FAIL") => {
                PayoutAnswer::Declined {
                    reason: "account_closed: the payout account refuses transfers".into(),
                }
            }
            Some(_) => PayoutAnswer::Paid {
                reference: format!(
                    "po_test_{}",
                    &payout_id.as_uuid().simple().to_string()[..16]
                ),
            },
        }
    }
}

#[async_trait]
impl PayoutProvider for TestPayoutProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    #[tracing::instrument(skip_all, fields(%vendor_id, %payout_id), err)]
    async fn pay(
        &self,
        vendor_id: VendorId,
        payout_id: PayoutId,
        amount: Money,
        account: Option<&PayoutAccount>,
    ) -> Result<PayoutAnswer, PayoutProviderError> {
        let answer = Self::answer(payout_id, account);
        let json = serde_json::to_value(&answer).map_err(Self::failed)?;
        let key = payout_id.to_string();
        let inserted: Option<serde_json::Value> = sqlx::query_scalar(
            "insert into payout.test_payouts (idempotency_key, vendor_id, amount, currency, outcome)
             values ($1, $2, $3, $4, $5)
             on conflict (idempotency_key) do nothing
             returning outcome",
        )
        .bind(&key)
        .bind(vendor_id.as_uuid())
        .bind(amount.amount)
        .bind(amount.currency.as_str())
        .bind(&json)
        .fetch_optional(&self.pool)
        .await
        .map_err(Self::failed)?;
        let recorded = match inserted {
            Some(outcome) => outcome,
            // Asked before: the first answer stands.
            None => sqlx::query_scalar(
                "select outcome from payout.test_payouts where idempotency_key = $1",
            )
            .bind(&key)
            .fetch_one(&self.pool)
            .await
            .map_err(Self::failed)?,
        };
        serde_json::from_value(recorded).map_err(Self::failed)
    }
}
