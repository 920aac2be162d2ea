//! The statuses of an order and of its payment, and why an order was cancelled, with the
//! names the events and the API give them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    AwaitingPayment,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
    PartiallyRefunded,
    /// Some shipments have left, not every line yet (issue 22).
    PartiallyShipped,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::PartiallyShipped => "partially_shipped",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Authorized,
    Captured,
    Failed,
    Refunded,
    PartiallyRefunded,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    OutOfStock,
    PaymentFailed,
    Expired,
    Customer,
    Staff,
}

impl CancellationReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            CancellationReason::OutOfStock => "out_of_stock",
            CancellationReason::PaymentFailed => "payment_failed",
            CancellationReason::Expired => "expired",
            CancellationReason::Customer => "customer",
            CancellationReason::Staff => "staff",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Views show statuses with `as_str`; the events store them with serde. Both must agree.
    #[test]
    fn status_names_are_their_serialized_names() {
        let named = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for s in [
            OrderStatus::Pending,
            OrderStatus::AwaitingPayment,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
            OrderStatus::PartiallyRefunded,
            OrderStatus::PartiallyShipped,
        ] {
            assert_eq!(named(serde_json::to_value(s).unwrap()), s.as_str());
        }
        for s in [
            PaymentStatus::Pending,
            PaymentStatus::Authorized,
            PaymentStatus::Captured,
            PaymentStatus::Failed,
            PaymentStatus::Refunded,
            PaymentStatus::PartiallyRefunded,
        ] {
            assert_eq!(named(serde_json::to_value(s).unwrap()), s.as_str());
        }
        for r in [
            CancellationReason::OutOfStock,
            CancellationReason::PaymentFailed,
            CancellationReason::Expired,
            CancellationReason::Customer,
            CancellationReason::Staff,
        ] {
            assert_eq!(named(serde_json::to_value(r).unwrap()), r.as_str());
        }
    }
}
