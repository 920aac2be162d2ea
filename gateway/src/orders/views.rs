//! The orders' answers: [`OrderView`] (and its [`OrderItemView`] lines), [`OrderPage`],
//! [`PaymentAnswer`], [`HistoryEntry`] and [`HistoryPage`]. A command answers the order as
//! the write side holds it, a query as the read model does; both are the same view.
//!
//! Fields are declared in alphabetical order, as `crate::views` explains.

use chrono::{DateTime, Utc};
use commands::orders::PaymentTaken;
use domain::order::{PlacedLine, PlacedOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::read_model::{HistoryRow, OrderItemRow, StoredOrder};
use crate::views::{Address, Money};

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
    pub billing_address: Option<Address>,
    /// `out_of_stock`, `payment_failed`, `expired`, `customer` or `staff`.
    pub cancellation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub discount: Money,
    pub id: Uuid,
    pub items: Vec<OrderItemView>,
    pub notes: Option<String>,
    pub payment_method: String,
    /// `pending`, `authorized`, `captured`, `failed`, `refunded` or `partially_refunded`.
    pub payment_status: String,
    /// Given back so far: refunds, cancelled lines, returns.
    pub refunded: Money,
    pub shipping: Money,
    pub shipping_address: Address,
    /// The shipping method `shipping` was quoted for (`standard`, say); null for orders
    /// placed before the store had shipping rates.
    pub shipping_method: Option<String>,
    /// `pending`, `awaiting_payment`, `paid`, `shipped`, `delivered`, `cancelled`,
    /// `refunded` or `partially_refunded`.
    pub status: String,
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
    pub tracking_number: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub user_id: Uuid,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = OrderItem)]
pub struct OrderItemView {
    /// Units cancelled before they shipped (`quantity` stays as ordered).
    pub cancelled: i64,
    /// The line's share of the order's discount (ADR 0006).
    pub discount: Money,
    /// What the line cost after its price rules, before the discount:
    /// `subtotal − Σ price_rules.amount_off`.
    pub final_price: Money,
    /// The unit list price when the order was placed.
    pub price: Money,
    /// The price rules that took something off the line, each at the version the order
    /// was priced by (ADR 0008); empty when none did.
    pub price_rules: Vec<PriceRuleApplied>,
    pub product_id: Uuid,
    pub quantity: i64,
    /// The variant's SKU when the line names a variant.
    pub sku: String,
    /// `price × quantity`, at list price.
    pub subtotal: Money,
    /// The line's tax, as the order recorded it.
    pub tax: LineTaxView,
    /// The line's rate as a percentage, exactly (`"8.875"`; `"0"` untaxed).
    pub tax_rate: String,
    /// The variant bought; null for a product without variants.
    pub variant_id: Option<Uuid>,
    /// The store that sold the line; null for the marketplace's own products.
    pub vendor_id: Option<Uuid>,
}

/// A price rule's part in an order line's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceRuleApplied {
    pub rule_id: Uuid,
    pub rule_version: u32,
    /// Minor units off the line.
    pub amount_off: i64,
}

/// An order line's tax: integers in minor units, rounded once per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = OrderItemTax)]
pub struct LineTaxView {
    /// The tax.
    pub amount: Money,
    /// Whether the price included the tax (then `amount` is part of `taxable`, and adds
    /// nothing to the order's total).
    pub inclusive: bool,
    /// Parts per million (88,750 = 8.875%).
    pub rate_ppm: u32,
    /// How the amount was rounded: `half_up`.
    pub rounding: String,
    /// What the rate applied to: the line's subtotal less its discount.
    pub taxable: Money,
}

/// A page of orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

/// A captured payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentAnswer {
    pub amount: Money,
    pub order_id: Uuid,
    /// `captured`.
    pub payment_status: String,
    /// The provider's reference.
    pub reference: String,
}

/// One status change of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub created_at: DateTime<Utc>,
    pub notes: Option<String>,
    pub order_id: Uuid,
    pub role: String,
    pub status: String,
    /// Who changed it; none for the engine's own moves (stock, payment, expiry).
    pub updated_by: Option<Uuid>,
}

/// Oldest first, at most 1000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryEntry>,
}

impl OrderItemView {
    /// A line of `order` as the write side holds it.
    fn of(order: &PlacedOrder, l: &PlacedLine) -> Self {
        OrderItemView {
            cancelled: i64::from(order.cancelled.get(&l.sku).copied().unwrap_or(0)),
            discount: l.discount.into(),
            price: l.unit_price.into(),
            price_rules: l
                .price_rules
                .iter()
                .map(|r| PriceRuleApplied {
                    rule_id: r.rule_id.as_uuid(),
                    rule_version: r.rule_version,
                    amount_off: r.amount_off,
                })
                .collect(),
            final_price: Money::from(domain::money::Money::new(
                l.line_total.amount - l.price_off(),
                l.line_total.currency,
            )),
            product_id: l.product_id.as_uuid(),
            quantity: i64::from(l.quantity),
            sku: l.sku.as_str().to_owned(),
            subtotal: l.line_total.into(),
            tax: LineTaxView {
                amount: l.tax.amount.into(),
                inclusive: l.tax.inclusive,
                rate_ppm: l.tax.rate_ppm,
                rounding: l.tax.rounding.as_str().to_owned(),
                taxable: l.tax.taxable.into(),
            },
            tax_rate: domain::tax::percent(l.tax.rate_ppm),
            variant_id: l.variant_id.map(|v| v.as_uuid()),
            vendor_id: l.vendor_id.map(|v| v.as_uuid()),
        }
    }
}

/// The order as the write side holds it: what a command answers.
impl From<&PlacedOrder> for OrderView {
    fn from(o: &PlacedOrder) -> Self {
        OrderView {
            billing_address: o.billing_address.clone().map(Address::from),
            cancellation_reason: o.cancellation_reason.map(|r| r.as_str().to_owned()),
            created_at: o.placed_at,
            discount: o.totals.discount.into(),
            id: o.order_id.as_uuid(),
            items: o.lines.iter().map(|l| OrderItemView::of(o, l)).collect(),
            notes: o.notes.clone(),
            payment_method: o.payment_method.clone(),
            payment_status: o.payment_status.as_str().to_owned(),
            refunded: o.refunded.into(),
            shipping: o.totals.shipping.into(),
            shipping_address: o.shipping_address.clone().into(),
            shipping_method: o.shipping_method.clone(),
            status: o.status.as_str().to_owned(),
            subtotal: o.totals.subtotal.into(),
            tax: o.totals.tax.into(),
            total: o.totals.total.into(),
            tracking_number: o.tracking_number.clone(),
            updated_at: o.updated_at,
            user_id: o.user_id.as_uuid(),
        }
    }
}

/// The order as the read model holds it: what a query answers.
impl From<StoredOrder> for OrderView {
    fn from(StoredOrder { row: r, items }: StoredOrder) -> Self {
        let money = |amount: i64| Money::of(amount, &r.currency);
        OrderView {
            items: items
                .into_iter()
                .map(|i: OrderItemRow| OrderItemView {
                    cancelled: i64::from(i.cancelled),
                    discount: money(i.discount),
                    price: money(i.price),
                    price_rules: serde_json::from_value(i.price_rules.0).unwrap_or_default(),
                    final_price: money(i.subtotal - i.price_off),
                    product_id: i.product_id,
                    quantity: i64::from(i.quantity),
                    sku: i.sku,
                    subtotal: money(i.subtotal),
                    tax: LineTaxView {
                        amount: money(i.tax),
                        inclusive: i.tax_inclusive,
                        rate_ppm: u32::try_from(i.tax_rate_ppm).unwrap_or(0),
                        rounding: i.tax_rounding,
                        taxable: money(i.taxable),
                    },
                    tax_rate: domain::tax::percent(u32::try_from(i.tax_rate_ppm).unwrap_or(0)),
                    variant_id: i.variant_id,
                    vendor_id: i.vendor_id,
                })
                .collect(),
            billing_address: r.billing_address.map(|a| a.0),
            cancellation_reason: r.cancellation_reason,
            created_at: r.created_at,
            discount: money(r.discount),
            id: r.order_id,
            notes: r.notes,
            payment_method: r.payment_method,
            payment_status: r.payment_status,
            refunded: money(r.refunded),
            shipping: money(r.shipping),
            shipping_address: r.shipping_address.0,
            shipping_method: r.shipping_method,
            status: r.status,
            subtotal: money(r.subtotal),
            tax: money(r.tax),
            total: money(r.total),
            tracking_number: r.tracking_number,
            updated_at: r.updated_at,
            user_id: r.user_id,
        }
    }
}

impl From<PaymentTaken> for PaymentAnswer {
    fn from(p: PaymentTaken) -> Self {
        PaymentAnswer {
            amount: p.amount.into(),
            order_id: p.order_id,
            payment_status: "captured".into(),
            reference: p.reference,
        }
    }
}

impl From<HistoryRow> for HistoryEntry {
    fn from(r: HistoryRow) -> Self {
        HistoryEntry {
            created_at: r.created_at,
            notes: r.notes,
            order_id: r.order_id,
            role: r.role,
            status: r.status,
            updated_by: r.updated_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys_sorted;
    use domain::id::{OrderId, ProductId, UserId};
    use domain::money::Currency;
    use domain::order::{CancellationReason, OrderStatus, OrderTotals, PaymentStatus};
    use domain::value::Sku;
    use serde_json::{json, Value};

    fn usd(amount: i64) -> domain::money::Money {
        domain::money::Money::new(amount, Currency::USD)
    }

    fn placed() -> PlacedOrder {
        let address = domain::value::Address {
            name: None,
            line1: "1 Main St".into(),
            line2: Some("Apt 2".into()),
            city: "Springfield".into(),
            region: None,
            postal_code: "12345".into(),
            country: "US".into(),
        };
        PlacedOrder {
            order_id: OrderId::new(Uuid::new_v4()),
            user_id: UserId::new(Uuid::new_v4()),
            lines: domain::order::place_lines(
                &[domain::order::OrderLine {
                    product_id: ProductId::new(Uuid::new_v4()),
                    variant_id: Some(domain::id::VariantId::new(Uuid::new_v4())),
                    sku: Sku::parse("SKU-1").unwrap(),
                    quantity: 3,
                    unit_price: usd(1999),
                    price_rules: Vec::new(),
                    vendor_id: None,
                }],
                usd(597),
                None,
                domain::order::TaxTerms {
                    rate_ppm: 88_750,
                    inclusive: false,
                },
            )
            .unwrap(),
            totals: OrderTotals {
                subtotal: usd(5997),
                discount: usd(597),
                tax: usd(479),
                shipping: usd(0),
                total: usd(5879),
            },
            status: OrderStatus::Cancelled,
            payment_status: PaymentStatus::Pending,
            paid: usd(0),
            refunded: usd(0),
            tracking_number: None,
            cancellation_reason: Some(CancellationReason::OutOfStock),
            shipping_address: address.clone(),
            billing_address: Some(address),
            payment_method: "card".into(),
            notes: Some("leave at the door".into()),
            shipping_method: Some("standard".into()),
            placed_at: Utc::now(),
            updated_at: Utc::now(),
            fulfilment: OrderStatus::Cancelled,
            cancelled: [(Sku::parse("SKU-1").unwrap(), 1)].into(),
        }
    }

    /// The answer as `order_json` built it before the typed view: the reference the view
    /// must match byte for byte. Items gained `discount`, `tax`, `tax_rate` and
    /// `variant_id` (ADR 0006), then `final_price` and `price_rules` (ADR 0008), then
    /// `cancelled` (issue 22), then `vendor_id` (issue 23); the order gained `refunded` and
    /// `shipping_method` (issue 22); every field they had keeps its value.
    fn order_json(o: &PlacedOrder) -> Value {
        let items: Vec<Value> = o
            .lines
            .iter()
            .map(|l| {
                json!({
                    "cancelled": o.cancelled.get(&l.sku).copied().unwrap_or(0),
                    "product_id": l.product_id,
                    "sku": l.sku,
                    "quantity": l.quantity,
                    "price": l.unit_price,
                    "subtotal": l.unit_price.checked_mul(l.quantity).ok(),
                    "discount": l.discount,
                    "final_price": l.unit_price.checked_mul(l.quantity).ok(),
                    "price_rules": [],
                    "tax": {
                        "amount": l.tax.amount,
                        "inclusive": l.tax.inclusive,
                        "rate_ppm": l.tax.rate_ppm,
                        "rounding": "half_up",
                        "taxable": l.tax.taxable,
                    },
                    "tax_rate": "8.875",
                    "variant_id": l.variant_id,
                    "vendor_id": l.vendor_id,
                })
            })
            .collect();
        json!({
            "id": o.order_id,
            "user_id": o.user_id,
            "status": o.status,
            "payment_status": o.payment_status,
            "items": items,
            "subtotal": o.totals.subtotal,
            "tax": o.totals.tax,
            "shipping": o.totals.shipping,
            "discount": o.totals.discount,
            "total": o.totals.total,
            "shipping_address": o.shipping_address,
            "billing_address": o.billing_address,
            "payment_method": o.payment_method,
            "refunded": o.refunded,
            "shipping_method": o.shipping_method,
            "notes": o.notes,
            "tracking_number": o.tracking_number,
            "cancellation_reason": o.cancellation_reason,
            "created_at": o.placed_at,
            "updated_at": o.updated_at,
        })
    }

    #[test]
    fn the_write_side_order_answers_as_it_always_did() {
        let o = placed();
        let view = OrderView::from(&o);
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            order_json(&o).to_string()
        );
        let unset = PlacedOrder {
            billing_address: None,
            cancellation_reason: None,
            notes: None,
            ..o
        };
        assert_eq!(
            serde_json::to_string(&OrderView::from(&unset)).unwrap(),
            order_json(&unset).to_string()
        );
    }

    #[test]
    fn every_answer_lists_its_keys_sorted() {
        let view = OrderView::from(&placed());
        assert!(keys_sorted(&view));
        assert!(keys_sorted(&OrderPage {
            items: vec![view.clone()],
            limit: 20,
            offset: 0,
            total: 1,
        }));
        assert!(keys_sorted(&PaymentAnswer {
            amount: usd(5400).into(),
            order_id: view.id,
            payment_status: "captured".into(),
            reference: "ch_1".into(),
        }));
        assert!(keys_sorted(&HistoryPage {
            items: vec![HistoryEntry {
                created_at: Utc::now(),
                notes: None,
                order_id: view.id,
                role: "system".into(),
                status: "pending".into(),
                updated_by: None,
            }],
        }));
    }
}
