//! The v1 shape of `OrderPlaced`, whose lines had no variant, discount share or tax, and
//! its upcaster to v2 ([ADR 0006]).
//!
//! Only `lines` change; every other field is carried over as stored, so a field sealed
//! for its owner (the addresses, the notes) passes through unread. An upcast order's
//! discount is shared over its lines by the rule `decide` uses now (largest remainder in
//! proportion to the line totals), and its lines record no rate: no order was taxed before
//! v2. Should a v1 order carry a tax all the same, its amount is shared over the lines the
//! same way, so the fold of every upcast order equals the totals it recorded.
//!
//! Sums saturate instead of failing: an event written before the bounds of money is still
//! history, and a reader that refused it would stop at it for good.
//!
//! [ADR 0006]: ../../../docs/adr/0006-tax-and-discounts-per-line.md

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::totals::{OrderTotals, PlacedLine};
use crate::aggregate::EventDecodeError;
use crate::id::{OrderId, ProductId, UserId};
use crate::money::Money;
use crate::tax::{share, LineTax, Rounding};
use crate::value::{Address, Sku};

/// A line of `OrderPlaced` v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderLineV1 {
    pub product_id: ProductId,
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Money,
}

/// `OrderPlaced` v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderPlacedV1 {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub lines: Vec<OrderLineV1>,
    pub totals: OrderTotals,
    #[schemars(extend("x-personal" = crate::privacy::declaration::address("/user_id")))]
    pub shipping_address: Address,
    #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
    pub billing_address: Option<Address>,
    pub payment_method: String,
    #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
    pub notes: Option<String>,
    pub coupon_code: Option<String>,
    pub placed_at: DateTime<Utc>,
}

/// The v2 lines of v1 `lines` with v1 `totals`.
pub fn upcast_lines(lines: &[OrderLineV1], totals: &OrderTotals) -> Vec<PlacedLine> {
    let currency = totals.total.currency;
    let line_totals: Vec<i64> = lines
        .iter()
        .map(|l| {
            l.unit_price
                .amount
                .saturating_mul(i64::from(l.quantity))
                .max(0)
        })
        .collect();
    let shared = |amount: i64, weights: &[i64]| {
        share(amount, weights).unwrap_or_else(|| {
            // Nothing to share by (every line free): the first line takes it all.
            let mut all = vec![0; weights.len()];
            if let Some(first) = all.first_mut() {
                *first = amount;
            }
            all
        })
    };
    let discounts = shared(totals.discount.amount.max(0), &line_totals);
    let taxables: Vec<i64> = line_totals
        .iter()
        .zip(&discounts)
        .map(|(t, d)| t.saturating_sub(*d))
        .collect();
    let taxes = shared(
        totals.tax.amount.max(0),
        &taxables.iter().map(|t| (*t).max(0)).collect::<Vec<_>>(),
    );
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| PlacedLine {
            product_id: l.product_id,
            variant_id: None,
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            line_total: Money::new(line_totals[i], currency),
            discount: Money::new(discounts[i], currency),
            tax: LineTax {
                rate_ppm: 0,
                inclusive: false,
                rounding: Rounding::HalfUp,
                taxable: Money::new(taxables[i], currency),
                amount: Money::new(taxes[i], currency),
            },
            price_rules: Vec::new(),
            vendor_id: None,
        })
        .collect()
}

/// The current schema version of the order's `event_type`: 2 for `OrderPlaced`.
pub fn current_version(event_type: &str) -> u32 {
    match event_type {
        "OrderPlaced" => 2,
        _ => 1,
    }
}

/// `data` of `event_type` at an older `version` in its current shape.
pub fn upcast(event_type: &str, version: u32, data: Value) -> Result<Value, EventDecodeError> {
    let bad = |reason: String| EventDecodeError::BadShape {
        event_type: event_type.to_owned(),
        version,
        reason,
    };
    match (event_type, version) {
        ("OrderPlaced", 1) => {
            let Value::Object(mut data) = data else {
                return Err(bad("not an object".into()));
            };
            let lines: Vec<OrderLineV1> =
                serde_json::from_value(data.get("lines").cloned().unwrap_or(Value::Null))
                    .map_err(|e| bad(format!("lines: {e}")))?;
            let totals: OrderTotals =
                serde_json::from_value(data.get("totals").cloned().unwrap_or(Value::Null))
                    .map_err(|e| bad(format!("totals: {e}")))?;
            let v2 = serde_json::to_value(upcast_lines(&lines, &totals))
                .map_err(|e| bad(e.to_string()))?;
            data.insert("lines".into(), v2);
            Ok(Value::Object(data))
        }
        _ => Err(EventDecodeError::UnknownVersion {
            event_type: event_type.to_owned(),
            version,
            current: current_version(event_type),
        }),
    }
}
