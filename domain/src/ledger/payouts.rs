//! A store's payouts: where one stands, and how the provider answered it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::PayoutId;
use crate::money::Money;

/// How the provider answered a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Paid { provider_reference: String },
    Failed { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Sent to the provider, not yet answered.
    Requested,
    Paid,
    Failed,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Requested => "requested",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub payout_id: PayoutId,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: DateTime<Utc>,
    pub amount: Money,
    pub clawback: Money,
    pub status: PayoutStatus,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}
