//! A shopping cart: lines with a price snapshot, a coupon code, expiry, checkout, and the
//! merge of a guest's cart into the user's when the guest logs in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CartId, CartItemId, OrderId, ProductId};
use crate::money::{Money, MoneyError, MAX_TOTAL};
use crate::value::{Quantity, Sku};

pub struct Cart;

pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartLine {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    pub sku: Sku,
    pub quantity: Quantity,
    /// The price when added; checkout prices the order afresh.
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartCommand {
    AddItem {
        line: CartLine,
        at: DateTime<Utc>,
    },
    UpdateItem {
        item_id: CartItemId,
        quantity: Quantity,
    },
    RemoveItem {
        item_id: CartItemId,
    },
    ApplyCoupon {
        code: String,
    },
    RemoveCoupon,
    CheckOut {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    Expire {
        at: DateTime<Utc>,
    },
    MergeGuestCart {
        guest_cart_id: CartId,
        lines: Vec<CartLine>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CartEvent {
    CartItemAdded {
        line: CartLine,
        at: DateTime<Utc>,
    },
    CartItemQuantityChanged {
        item_id: CartItemId,
        quantity: Quantity,
    },
    CartItemRemoved {
        item_id: CartItemId,
    },
    CouponApplied {
        code: String,
    },
    CouponRemoved {
        code: String,
    },
    CartCheckedOut {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    CartExpired {
        at: DateTime<Utc>,
    },
    GuestCartMerged {
        guest_cart_id: CartId,
        lines: Vec<CartLine>,
    },
}

crate::domain_event!(CartEvent {
    CartItemAdded,
    CartItemQuantityChanged,
    CartItemRemoved,
    CouponApplied,
    CouponRemoved,
    CartCheckedOut,
    CartExpired,
    GuestCartMerged,
});
impl Upcast for CartEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CartState {
    pub lines: BTreeMap<CartItemId, CartLine>,
    pub coupon: Option<String>,
    pub merged: BTreeSet<CartId>,
}

impl CartState {
    pub fn subtotal(&self) -> Option<Money> {
        let mut lines = self.lines.values();
        let first = lines.next()?;
        let mut total = first.unit_price.checked_mul(first.quantity.get()).ok()?;
        for l in lines {
            total = total
                .checked_add(l.unit_price.checked_mul(l.quantity.get()).ok()?)
                .ok()?;
        }
        Some(total)
    }

    /// The lines' sum, refused past [`MAX_TOTAL`]; `None` for an empty cart.
    pub fn bounded_subtotal(&self) -> Result<Option<Money>, MoneyError> {
        let mut lines = self.lines.values();
        let Some(first) = lines.next() else {
            return Ok(None);
        };
        let mut total = first.unit_price.checked_mul(first.quantity.get())?;
        for l in lines {
            total = total.checked_add(l.unit_price.checked_mul(l.quantity.get())?)?;
        }
        total.at_most(MAX_TOTAL).map(Some)
    }

    fn line_of(&self, product: ProductId, sku: &Sku) -> Option<&CartLine> {
        self.lines
            .values()
            .find(|l| l.product_id == product && &l.sku == sku)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the cart holds at most {MAX_LINES} lines")]
    TooManyLines,
    #[error("no item {0} in the cart")]
    UnknownItem(CartItemId),
    #[error("the cart is empty")]
    Empty,
    #[error("all lines must share one currency")]
    MixedCurrencies,
    #[error("the cart's subtotal would exceed {MAX_TOTAL} minor units")]
    TotalTooLarge,
    #[error("{0}")]
    Invalid(String),
}

fn merged_quantity(a: Quantity, b: Quantity) -> Quantity {
    Quantity::new((a.get() + b.get()).min(Quantity::MAX)).unwrap_or(a)
}

impl Aggregate for Cart {
    const CATEGORY: &'static str = "cart";
    type State = CartState;
    type Command = CartCommand;
    type Event = CartEvent;
    type Error = CartError;

    /// Every command that adds to the cart is refused when the cart after it would be
    /// worth more than [`MAX_TOTAL`]: the bound holds for every cart the log can build.
    fn decide(s: &CartState, cmd: &CartCommand) -> Result<Vec<CartEvent>, CartError> {
        let events = decide_unbounded(s, cmd)?;
        if matches!(
            cmd,
            CartCommand::AddItem { .. }
                | CartCommand::UpdateItem { .. }
                | CartCommand::MergeGuestCart { .. }
        ) && !events.is_empty()
        {
            let after = events.iter().fold(s.clone(), Cart::evolve);
            after
                .bounded_subtotal()
                .map_err(|_| CartError::TotalTooLarge)?;
        }
        Ok(events)
    }

    fn evolve(s: CartState, event: &CartEvent) -> CartState {
        evolve(s, event)
    }
}

fn decide_unbounded(s: &CartState, cmd: &CartCommand) -> Result<Vec<CartEvent>, CartError> {
    use CartCommand as C;
    use CartEvent as E;
    Ok(match cmd {
        C::AddItem { line, at } => {
            if s.lines
                .values()
                .any(|l| l.unit_price.currency != line.unit_price.currency)
            {
                return Err(CartError::MixedCurrencies);
            }
            if let Some(existing) = s.line_of(line.product_id, &line.sku) {
                vec![E::CartItemQuantityChanged {
                    item_id: existing.item_id,
                    quantity: merged_quantity(existing.quantity, line.quantity),
                }]
            } else if s.lines.contains_key(&line.item_id) {
                vec![]
            } else {
                if s.lines.len() >= MAX_LINES {
                    return Err(CartError::TooManyLines);
                }
                vec![E::CartItemAdded {
                    line: line.clone(),
                    at: *at,
                }]
            }
        }
        C::UpdateItem { item_id, quantity } => {
            let line = s
                .lines
                .get(item_id)
                .ok_or(CartError::UnknownItem(*item_id))?;
            if line.quantity == *quantity {
                vec![]
            } else {
                vec![E::CartItemQuantityChanged {
                    item_id: *item_id,
                    quantity: *quantity,
                }]
            }
        }
        C::RemoveItem { item_id } => {
            s.lines
                .get(item_id)
                .ok_or(CartError::UnknownItem(*item_id))?;
            vec![E::CartItemRemoved { item_id: *item_id }]
        }
        C::ApplyCoupon { code } => {
            let code = code.trim().to_uppercase();
            if code.is_empty() || code.len() > 64 {
                return Err(CartError::Invalid(
                    "a coupon code is 1 to 64 characters".into(),
                ));
            }
            if s.coupon.as_deref() == Some(code.as_str()) {
                vec![]
            } else {
                vec![E::CouponApplied { code }]
            }
        }
        C::RemoveCoupon => match &s.coupon {
            Some(code) => vec![E::CouponRemoved { code: code.clone() }],
            None => vec![],
        },
        C::CheckOut { order_id, at } => {
            if s.lines.is_empty() {
                return Err(CartError::Empty);
            }
            vec![E::CartCheckedOut {
                order_id: *order_id,
                at: *at,
            }]
        }
        C::Expire { at } => {
            if s.lines.is_empty() && s.coupon.is_none() {
                vec![]
            } else {
                vec![E::CartExpired { at: *at }]
            }
        }
        C::MergeGuestCart {
            guest_cart_id,
            lines,
        } => {
            if s.merged.contains(guest_cart_id) || lines.is_empty() {
                return Ok(vec![]);
            }
            let currency = s.lines.values().next().map(|l| l.unit_price.currency);
            if lines
                .iter()
                .any(|l| Some(l.unit_price.currency) != currency && currency.is_some())
            {
                return Err(CartError::MixedCurrencies);
            }
            let new = lines
                .iter()
                .filter(|l| s.line_of(l.product_id, &l.sku).is_none())
                .count();
            if s.lines.len() + new > MAX_LINES {
                return Err(CartError::TooManyLines);
            }
            vec![E::GuestCartMerged {
                guest_cart_id: *guest_cart_id,
                lines: lines.clone(),
            }]
        }
    })
}

fn evolve(mut s: CartState, event: &CartEvent) -> CartState {
    use CartEvent as E;
    match event {
        E::CartItemAdded { line, .. } => {
            s.lines.insert(line.item_id, line.clone());
        }
        E::CartItemQuantityChanged { item_id, quantity } => {
            if let Some(l) = s.lines.get_mut(item_id) {
                l.quantity = *quantity;
            }
        }
        E::CartItemRemoved { item_id } => {
            s.lines.remove(item_id);
        }
        E::CouponApplied { code } => s.coupon = Some(code.clone()),
        E::CouponRemoved { .. } => s.coupon = None,
        E::CartCheckedOut { .. } | E::CartExpired { .. } => {
            s.lines.clear();
            s.coupon = None;
        }
        E::GuestCartMerged {
            guest_cart_id,
            lines,
        } => {
            s.merged.insert(*guest_cart_id);
            for line in lines {
                let existing = s
                    .lines
                    .values()
                    .find(|l| l.product_id == line.product_id && l.sku == line.sku)
                    .map(|l| l.item_id);
                match existing {
                    Some(id) => {
                        if let Some(l) = s.lines.get_mut(&id) {
                            l.quantity = merged_quantity(l.quantity, line.quantity);
                        }
                    }
                    None => {
                        s.lines.insert(line.item_id, line.clone());
                    }
                }
            }
        }
    }
    s
}
