//! An order as its events leave it: [`OrderState`], the [`PlacedOrder`] and its status
//! history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::cancelled::Cancelled;
use super::messages::ChangedBy;
use super::shipments::Shipments;
use super::status::{CancellationReason, OrderStatus, PaymentStatus};
use super::totals::{OrderTotals, PlacedLine};
use crate::id::{OrderId, UserId};
use crate::money::Money;
use crate::value::Address;

/// One line of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub by: ChangedBy,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderState {
    pub placed: Option<PlacedOrder>,
    pub history: Vec<StatusChange>,
    /// The order's shipments, when it ships in them.
    pub shipments: Shipments,
    /// What each cancellation of lines gave back (`cancelled`).
    pub cancellations: BTreeMap<Uuid, Money>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<PlacedLine>,
    pub totals: OrderTotals,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub paid: Money,
    pub refunded: Money,
    pub tracking_number: Option<String>,
    pub cancellation_reason: Option<CancellationReason>,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub payment_method: String,
    pub notes: Option<String>,
    pub shipping_method: Option<String>,
    pub placed_at: DateTime<Utc>,
    /// When the order last changed.
    pub updated_at: DateTime<Utc>,
    /// The last status that was not a refund's ([`PlacedOrder::stage`]).
    pub fulfilment: OrderStatus,
    /// Units cancelled before they shipped, per SKU (`cancelled`).
    pub cancelled: Cancelled,
}

impl PlacedOrder {
    /// Where the order stands on its way to the customer: its status, except that a
    /// partial refund (a return's, say) leaves it where it was, so the next shipment
    /// still leaves and arrives.
    pub fn stage(&self) -> OrderStatus {
        if self.status == OrderStatus::PartiallyRefunded {
            self.fulfilment
        } else {
            self.status
        }
    }
}
