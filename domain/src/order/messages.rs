//! What an order is asked ([`OrderCommand`]) and what it records ([`OrderEvent`]), with
//! who changed it ([`ChangedBy`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::cancelled::CancelledLine;
use super::legacy;
use super::shipments::ShippedLine;
use super::status::CancellationReason;
use super::totals::{OrderLine, OrderTotals, PlacedLine, TaxTerms};
use crate::aggregate::{EventDecodeError, Upcast};
use crate::id::{OrderId, ProductId, ShipmentId, UserId};
use crate::money::Money;
use crate::value::Address;

/// Who changed the order, for its status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangedBy {
    /// `None` when the engine itself acted (stock, expiry, payment).
    pub user_id: Option<UserId>,
    pub role: String,
}

impl ChangedBy {
    pub fn system() -> Self {
        ChangedBy {
            user_id: None,
            role: "system".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<OrderLine>,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    pub payment_method: String,
    pub notes: Option<String>,
    pub coupon_code: Option<String>,
    pub discount: Money,
    /// The products whose lines share the discount (a coupon's scope); `None`: every line.
    pub discount_over: Option<Vec<ProductId>>,
    /// The rate of the shipping address and whether prices include tax.
    pub tax: TaxTerms,
    pub shipping: Money,
    /// The shipping method the fee was quoted for (`None`: a store without rates).
    pub shipping_method: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    Place(Box<PlaceOrder>),
    /// Every line's stock is reserved; the order can be paid.
    MarkStockReserved {
        at: DateTime<Utc>,
    },
    RecordPaymentFailed {
        code: String,
        message: String,
        at: DateTime<Utc>,
    },
    MarkPaid {
        amount: Money,
        payment_reference: String,
        at: DateTime<Utc>,
    },
    Ship {
        tracking_number: Option<String>,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    Deliver {
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    Cancel {
        reason: CancellationReason,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    Refund {
        /// `None` refunds everything not yet refunded.
        amount: Option<Money>,
        reason: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// A shipment of these lines is created: at most what is left to ship of each.
    AllocateShipment {
        shipment_id: ShipmentId,
        lines: Vec<ShippedLine>,
        at: DateTime<Utc>,
    },
    /// The shipment left the warehouse.
    ShipLines {
        shipment_id: ShipmentId,
        tracking_number: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// The shipment arrived.
    RecordShipmentDelivered {
        shipment_id: ShipmentId,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// Units of lines no shipment holds are cancelled and their price given back
    /// (`cancelled`); once per `cancellation_id`.
    CancelLines {
        cancellation_id: Uuid,
        lines: Vec<ShippedLine>,
        reason: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
}

// An event is built once, stored and folded; the size of the rare `OrderPlaced` costs
// nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum OrderEvent {
    /// v2: each line records its variant, discount share and tax (ADR 0006).
    OrderPlaced {
        order_id: OrderId,
        user_id: UserId,
        lines: Vec<PlacedLine>,
        totals: OrderTotals,
        #[schemars(extend("x-personal" = crate::privacy::declaration::address("/user_id")))]
        shipping_address: Address,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
        billing_address: Option<Address>,
        payment_method: String,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
        notes: Option<String>,
        coupon_code: Option<String>,
        /// The shipping method `totals.shipping` was quoted for; absent before there were
        /// shipping rates (a compatible addition: older events read as `None`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipping_method: Option<String>,
        placed_at: DateTime<Utc>,
    },
    OrderStockReserved {
        at: DateTime<Utc>,
    },
    OrderPaymentFailed {
        code: String,
        message: String,
        at: DateTime<Utc>,
    },
    OrderPaid {
        amount: Money,
        payment_reference: String,
        at: DateTime<Utc>,
    },
    OrderShipped {
        tracking_number: Option<String>,
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    OrderDelivered {
        note: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    OrderCancelled {
        reason: CancellationReason,
        note: Option<String>,
        by: ChangedBy,
        /// Whether money had been taken: a cancelled paid order is refunded in full.
        was_paid: bool,
        at: DateTime<Utc>,
    },
    OrderRefunded {
        amount: Money,
        reason: String,
        /// Everything taken has now been given back.
        full: bool,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// A shipment holds these lines; what is left to ship shrinks by them.
    OrderShipmentCreated {
        shipment_id: ShipmentId,
        lines: Vec<ShippedLine>,
        at: DateTime<Utc>,
    },
    /// A shipment left: the order is `partially_shipped` (and `OrderShipped` follows in
    /// the same append once every line has left).
    OrderLinesShipped {
        shipment_id: ShipmentId,
        lines: Vec<ShippedLine>,
        tracking_number: Option<String>,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// A shipment arrived (and `OrderDelivered` follows once every one has).
    OrderShipmentDelivered {
        shipment_id: ShipmentId,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
    /// Units of lines that had not shipped are cancelled; `refund` (the sum of the lines')
    /// goes back to the customer and their stock is released. The status stays, unless
    /// every other unit has shipped (`OrderShipped` follows in the same append).
    OrderLinesCancelled {
        cancellation_id: Uuid,
        lines: Vec<CancelledLine>,
        refund: Money,
        reason: String,
        by: ChangedBy,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(OrderEvent {
    OrderPlaced,
    OrderStockReserved,
    OrderPaymentFailed,
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    OrderRefunded,
    OrderShipmentCreated,
    OrderLinesShipped,
    OrderShipmentDelivered,
    OrderLinesCancelled,
});

/// `OrderPlaced` v1 is read as v2 (`legacy`).
impl Upcast for OrderEvent {
    fn current_version(event_type: &str) -> u32 {
        legacy::current_version(event_type)
    }

    fn upcast(
        event_type: &str,
        version: u32,
        data: serde_json::Value,
    ) -> Result<serde_json::Value, EventDecodeError> {
        legacy::upcast(event_type, version, data)
    }
}
