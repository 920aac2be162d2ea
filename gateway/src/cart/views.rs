//! [`CartView`]: the cart as every cart route answers it, from the write side's state
//! after a command, or from the `carts` read model for `GET /cart`.
//!
//! Fields are declared in alphabetical order, as `crate::views` explains.

use chrono::{DateTime, Utc};
use commands::cart::CartOutcome;
use domain::money::Currency;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::read_model::{SharedCart, StoredCart};
use crate::views::Money;

/// A cart: its lines, coupon, subtotal, discount and total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Cart)]
pub struct CartView {
    /// The applied coupon's code.
    pub coupon: Option<String>,
    /// What the coupon would take off now; checkout redeems it for real.
    pub discount: Money,
    pub id: Uuid,
    /// How many units, all lines together.
    pub item_count: i64,
    pub items: Vec<CartItemView>,
    /// Lines saved for later: outside `item_count`, the totals and checkout.
    pub saved_items: Vec<CartItemView>,
    pub subtotal: Money,
    pub total: Money,
    /// Only in `GET /cart`'s answer, which reads the read model: when it last changed,
    /// `null` before its first line. A command's answer, from the write side, has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub updated_at: Option<Option<DateTime<Utc>>>,
    /// The customer's id; `null` for a guest's cart.
    pub user_id: Option<Uuid>,
}

/// One line of a cart, at the price when it was added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CartItem)]
pub struct CartItemView {
    pub id: Uuid,
    pub price: Money,
    pub product_id: Uuid,
    pub quantity: i64,
    /// The variant's SKU when the line names a variant.
    pub sku: String,
    pub subtotal: Money,
    /// The variant the line buys; null for a product without variants.
    pub variant_id: Option<Uuid>,
}

/// A line as the write side holds it (a saved line's price in its own currency).
impl From<&domain::cart::CartLine> for CartItemView {
    fn from(l: &domain::cart::CartLine) -> Self {
        CartItemView {
            id: l.item_id.as_uuid(),
            price: l.unit_price.into(),
            product_id: l.product_id.as_uuid(),
            quantity: i64::from(l.quantity.get()),
            sku: l.sku.as_str().to_owned(),
            // Saturating: a line priced before the bounds of money may be huge.
            subtotal: Money::of(
                l.unit_price
                    .amount
                    .saturating_mul(i64::from(l.quantity.get())),
                l.unit_price.currency.as_str(),
            ),
            variant_id: l.variant_id.map(|v| v.as_uuid()),
        }
    }
}

/// A shared cart, as anyone holding its link sees it: lines, quantities and prices, and
/// nothing of its owner or its coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = SharedCart)]
pub struct SharedCartView {
    /// How many units, all lines together.
    pub item_count: i64,
    pub items: Vec<SharedCartItemView>,
    /// When the owner shared it.
    pub shared_at: DateTime<Utc>,
    /// The lines' sum, at the prices when they were added.
    pub subtotal: Money,
}

/// One line of a shared cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = SharedCartItem)]
pub struct SharedCartItemView {
    pub price: Money,
    pub product_id: Uuid,
    pub quantity: i64,
    pub sku: String,
    pub subtotal: Money,
    /// The variant the line buys; null for a product without variants.
    pub variant_id: Option<Uuid>,
}

impl From<SharedCart> for SharedCartView {
    fn from(c: SharedCart) -> Self {
        let currency = c
            .row
            .currency
            .as_deref()
            .and_then(|code| Currency::parse(code.trim()).ok())
            .unwrap_or(Currency::USD);
        let money = |amount: i64| Money::of(amount, currency.as_str());
        SharedCartView {
            item_count: i64::from(c.row.item_count),
            items: c
                .items
                .into_iter()
                .map(|i| SharedCartItemView {
                    price: money(i.price),
                    product_id: i.product_id,
                    quantity: i64::from(i.quantity),
                    sku: i.sku,
                    subtotal: money(i.subtotal),
                    variant_id: i.variant_id,
                })
                .collect(),
            shared_at: c.row.shared_at,
            subtotal: money(c.row.subtotal),
        }
    }
}

/// A share link just made: the token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CartShare)]
pub struct ShareView {
    /// Always `null`: a link lasts until revoked, shared again, or the cart expires.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Read the cart at `GET /api/v1/carts/shared/{token}`.
    pub token: String,
}

/// The cart as the write side holds it after a command.
impl From<&CartOutcome> for CartView {
    fn from(o: &CartOutcome) -> Self {
        let currency = o.currency();
        let money = |amount: i64| Money::of(amount, currency.as_str());
        let subtotal = o
            .cart
            .subtotal()
            .unwrap_or(domain::money::Money::zero(currency));
        CartView {
            coupon: o.cart.coupon.clone(),
            discount: o.discount.into(),
            id: o.cart_id,
            item_count: o
                .cart
                .lines
                .values()
                .map(|l| i64::from(l.quantity.get()))
                .sum(),
            items: o
                .cart
                .lines
                .values()
                .map(|l| CartItemView {
                    id: l.item_id.as_uuid(),
                    price: l.unit_price.into(),
                    product_id: l.product_id.as_uuid(),
                    quantity: i64::from(l.quantity.get()),
                    sku: l.sku.as_str().to_owned(),
                    // Saturating: a line priced before the bounds of money may be huge.
                    subtotal: money(
                        l.unit_price
                            .amount
                            .saturating_mul(i64::from(l.quantity.get())),
                    ),
                    variant_id: l.variant_id.map(|v| v.as_uuid()),
                })
                .collect(),
            saved_items: o.cart.saved.values().map(CartItemView::from).collect(),
            subtotal: subtotal.into(),
            total: money(subtotal.amount.saturating_sub(o.discount.amount)),
            updated_at: None,
            user_id: o.user_id,
        }
    }
}

impl CartView {
    /// A cart the read model has no row for yet: empty, in US dollars, never updated.
    pub fn not_started(cart_id: Uuid, user_id: Option<Uuid>) -> Self {
        let zero = Money::of(0, Currency::USD.as_str());
        CartView {
            coupon: None,
            discount: zero.clone(),
            id: cart_id,
            item_count: 0,
            items: vec![],
            saved_items: vec![],
            subtotal: zero.clone(),
            total: zero,
            updated_at: Some(None),
            user_id,
        }
    }
}

/// The cart as the `carts` read model holds it.
impl From<StoredCart> for CartView {
    fn from(c: StoredCart) -> Self {
        let currency = c
            .row
            .currency
            .as_deref()
            .and_then(|code| Currency::parse(code.trim()).ok())
            .unwrap_or(Currency::USD);
        let money = |amount: i64| Money::of(amount, currency.as_str());
        CartView {
            coupon: c.row.coupon_code,
            discount: money(c.row.discount),
            id: c.cart_id,
            item_count: i64::from(c.row.item_count),
            items: c
                .items
                .into_iter()
                .map(|i| CartItemView {
                    id: i.item_id,
                    price: money(i.price),
                    product_id: i.product_id,
                    quantity: i64::from(i.quantity),
                    sku: i.sku,
                    subtotal: money(i.subtotal),
                    variant_id: i.variant_id,
                })
                .collect(),
            saved_items: c
                .saved
                .into_iter()
                .map(|i| {
                    let currency = i.currency.trim().to_owned();
                    let money = |amount: i64| Money::of(amount, &currency);
                    CartItemView {
                        id: i.item_id,
                        price: money(i.price),
                        product_id: i.product_id,
                        quantity: i64::from(i.quantity),
                        sku: i.sku,
                        subtotal: money(i.price.saturating_mul(i64::from(i.quantity))),
                        variant_id: i.variant_id,
                    }
                })
                .collect(),
            subtotal: money(c.row.subtotal),
            total: money(c.row.total),
            updated_at: Some(Some(c.row.updated_at)),
            user_id: c.row.user_id.or(c.owner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys_sorted;
    use domain::cart::{CartLine, CartState};
    use domain::id::{CartItemId, ProductId};
    use domain::value::{Quantity, Sku};
    use serde_json::{json, Value};

    fn usd(amount: i64) -> domain::money::Money {
        domain::money::Money::new(amount, Currency::USD)
    }

    fn outcome(lines: usize, coupon: Option<&str>, discount: i64) -> CartOutcome {
        let mut cart = CartState {
            coupon: coupon.map(str::to_owned),
            ..CartState::default()
        };
        for n in 0..lines {
            let line = CartLine {
                item_id: CartItemId::new(Uuid::new_v4()),
                product_id: ProductId::new(Uuid::new_v4()),
                variant_id: None,
                sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
                quantity: Quantity::new(n as u32 + 2).unwrap(),
                unit_price: usd(1999),
            };
            cart.lines.insert(line.item_id, line);
        }
        CartOutcome {
            cart_id: Uuid::new_v4(),
            user_id: Some(Uuid::new_v4()),
            cart,
            discount: usd(discount),
            position: None,
        }
    }

    /// The answer as `cart_json` built it before the typed view: the reference the view
    /// must match byte for byte.
    fn cart_json(o: &CartOutcome) -> Value {
        let s = &o.cart;
        let currency = o.currency();
        let money = |amount: i64| json!({ "amount": amount, "currency": currency.as_str() });
        let subtotal = s.subtotal().unwrap_or(domain::money::Money::zero(currency));
        let items: Vec<Value> = s
            .lines
            .values()
            .map(|l| {
                json!({
                    "id": l.item_id,
                    "product_id": l.product_id,
                    "sku": l.sku,
                    "quantity": l.quantity.get(),
                    "price": l.unit_price,
                    "subtotal": money(l.unit_price.amount * i64::from(l.quantity.get())),
                    "variant_id": l.variant_id,
                })
            })
            .collect();
        json!({
            "id": o.cart_id,
            "user_id": o.user_id,
            "items": items,
            "coupon": s.coupon,
            "item_count": s.lines.values().map(|l| l.quantity.get()).sum::<u32>(),
            "saved_items": [],
            "subtotal": subtotal,
            "discount": o.discount,
            "total": money(subtotal.amount - o.discount.amount),
        })
    }

    #[test]
    fn a_commands_cart_answers_as_it_always_did() {
        for o in [
            outcome(3, Some("SAVE10"), 1399),
            outcome(0, None, 0),
            CartOutcome::empty(None),
        ] {
            let view = CartView::from(&o);
            assert_eq!(
                serde_json::to_string(&view).unwrap(),
                cart_json(&o).to_string()
            );
            assert!(keys_sorted(&view));
        }
    }

    #[test]
    fn a_cart_not_started_says_so_with_a_null_time() {
        let id = Uuid::new_v4();
        let view = CartView::not_started(id, None);
        assert!(keys_sorted(&view));
        let answer = serde_json::to_value(&view).unwrap();
        assert_eq!(answer["updated_at"], Value::Null);
        assert!(answer.as_object().unwrap().contains_key("updated_at"));
        assert_eq!(answer["total"], json!({ "amount": 0, "currency": "USD" }));
    }
}
