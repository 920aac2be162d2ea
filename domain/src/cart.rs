//! A shopping cart: lines with a price snapshot, a coupon code, expiry, checkout, and the
//! merge of a guest's cart into the user's when the guest logs in; lines saved for later
//! (kept apart, outside the totals and checkout); a read-only share link (known to the log
//! only by its token's hash) whose lines another cart can copy; and the expiry of an idle
//! cart, which only goes through if nothing changed since the sweeper looked.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CartId, CartItemId, OrderId, ProductId, VariantId};
use crate::money::{Money, MoneyError, MAX_TOTAL};
use crate::value::{Quantity, Sku};

pub struct Cart;

pub const MAX_LINES: usize = 100;
/// Lines the saved-for-later list holds at most.
pub const MAX_SAVED: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CartLine {
    pub item_id: CartItemId,
    pub product_id: ProductId,
    /// The variant, when the product has variants (`sku` is then the variant's). Absent
    /// from events of lines added before variants could be bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<VariantId>,
    pub sku: Sku,
    pub quantity: Quantity,
    /// The price when added; checkout prices the order afresh.
    pub unit_price: Money,
}

impl CartLine {
    /// Whether `other` is the same thing bought: the same product, variant and SKU. Only
    /// such lines merge; two variants of one product are two lines.
    pub fn same_item(&self, other: &CartLine) -> bool {
        self.product_id == other.product_id
            && self.variant_id == other.variant_id
            && self.sku == other.sku
    }
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
    /// Moves a line out of the cart into the saved-for-later list.
    SaveForLater {
        item_id: CartItemId,
    },
    /// Moves a saved line back into the cart.
    MoveToCart {
        item_id: CartItemId,
    },
    RemoveSaved {
        item_id: CartItemId,
    },
    /// Shares the cart read-only under a new token, known here only by its hash (SHA-256,
    /// lowercase hex); a previous token stops working.
    Share {
        token_hash: String,
        at: DateTime<Utc>,
    },
    RevokeShare,
    /// Copies another cart's lines (priced afresh by the caller) into this one.
    CopyLines {
        source_cart_id: CartId,
        lines: Vec<CartLine>,
    },
    /// Expires the cart if it is still as the sweeper saw it idle: `seen_changes` events
    /// long. A cart changed since is not idle, and the command appends nothing.
    ExpireIdle {
        at: DateTime<Utc>,
        seen_changes: u64,
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
    CartItemSavedForLater {
        item_id: CartItemId,
    },
    SavedItemMovedToCart {
        item_id: CartItemId,
    },
    SavedItemRemoved {
        item_id: CartItemId,
    },
    /// The token itself never enters the log (invariant 11): only its SHA-256.
    CartShared {
        token_hash: String,
        at: DateTime<Utc>,
    },
    CartShareRevoked {
        token_hash: String,
    },
    SharedCartCopied {
        source_cart_id: CartId,
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
    CartItemSavedForLater,
    SavedItemMovedToCart,
    SavedItemRemoved,
    CartShared,
    CartShareRevoked,
    SharedCartCopied,
});
impl Upcast for CartEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CartState {
    pub lines: BTreeMap<CartItemId, CartLine>,
    pub coupon: Option<String>,
    pub merged: BTreeSet<CartId>,
    /// Lines saved for later: outside the subtotal and checkout.
    pub saved: BTreeMap<CartItemId, CartLine>,
    /// The hash of the token the cart is shared under, if it is.
    pub share: Option<String>,
    /// How many events built this state (the stream's length), so an idle cart's expiry
    /// can tell whether the cart changed since it was found idle.
    pub changes: u64,
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

    fn line_of(&self, line: &CartLine) -> Option<&CartLine> {
        self.lines.values().find(|l| l.same_item(line))
    }

    /// Nothing in it: no line, saved line, coupon or share for an expiry to end.
    pub fn is_blank(&self) -> bool {
        self.lines.is_empty()
            && self.saved.is_empty()
            && self.coupon.is_none()
            && self.share.is_none()
    }
}

/// Whether `lines` can join the cart: one currency, and at most [`MAX_LINES`] lines after
/// those for a product and SKU already in the cart add to theirs.
fn check_joining(s: &CartState, lines: &[CartLine]) -> Result<(), CartError> {
    let currency = s.lines.values().next().map(|l| l.unit_price.currency);
    let first = lines.first().map(|l| l.unit_price.currency);
    let currency = currency.or(first);
    if lines
        .iter()
        .any(|l| Some(l.unit_price.currency) != currency)
    {
        return Err(CartError::MixedCurrencies);
    }
    let mut products: BTreeSet<(ProductId, Option<VariantId>, &Sku)> = BTreeSet::new();
    let new = lines
        .iter()
        .filter(|l| s.line_of(l).is_none() && products.insert((l.product_id, l.variant_id, &l.sku)))
        .count();
    if s.lines.len() + new > MAX_LINES {
        return Err(CartError::TooManyLines);
    }
    Ok(())
}

/// Adds `line` to `lines`: to the quantity of the line of the same product and SKU, if
/// there is one, else as a line of its own.
fn join(lines: &mut BTreeMap<CartItemId, CartLine>, line: &CartLine) {
    let existing = lines
        .values()
        .find(|l| l.same_item(line))
        .map(|l| l.item_id);
    match existing.and_then(|id| lines.get_mut(&id)) {
        Some(l) => l.quantity = merged_quantity(l.quantity, line.quantity),
        None => {
            lines.insert(line.item_id, line.clone());
        }
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
    #[error("no item {0} saved for later")]
    UnknownSavedItem(CartItemId),
    #[error("at most {MAX_SAVED} lines can be saved for later")]
    TooManySaved,
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
                | CartCommand::MoveToCart { .. }
                | CartCommand::CopyLines { .. }
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
            if let Some(existing) = s.line_of(line) {
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
            if s.is_blank() {
                vec![]
            } else {
                vec![E::CartExpired { at: *at }]
            }
        }
        C::ExpireIdle { at, seen_changes } => {
            if s.is_blank() || s.changes != *seen_changes {
                vec![]
            } else {
                vec![E::CartExpired { at: *at }]
            }
        }
        C::SaveForLater { item_id } => {
            let line = s
                .lines
                .get(item_id)
                .ok_or(CartError::UnknownItem(*item_id))?;
            let joins = s.saved.values().any(|l| l.same_item(line));
            if !joins && s.saved.len() >= MAX_SAVED {
                return Err(CartError::TooManySaved);
            }
            vec![E::CartItemSavedForLater { item_id: *item_id }]
        }
        C::MoveToCart { item_id } => {
            let line = s
                .saved
                .get(item_id)
                .ok_or(CartError::UnknownSavedItem(*item_id))?;
            check_joining(s, std::slice::from_ref(line))?;
            vec![E::SavedItemMovedToCart { item_id: *item_id }]
        }
        C::RemoveSaved { item_id } => {
            s.saved
                .get(item_id)
                .ok_or(CartError::UnknownSavedItem(*item_id))?;
            vec![E::SavedItemRemoved { item_id: *item_id }]
        }
        C::Share { token_hash, at } => {
            let well_formed = token_hash.len() == 64
                && token_hash
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !well_formed {
                return Err(CartError::Invalid(
                    "a share token's hash is 64 lowercase hex digits".into(),
                ));
            }
            if s.lines.is_empty() {
                return Err(CartError::Empty);
            }
            if s.share.as_deref() == Some(token_hash.as_str()) {
                vec![]
            } else {
                vec![E::CartShared {
                    token_hash: token_hash.clone(),
                    at: *at,
                }]
            }
        }
        C::RevokeShare => match &s.share {
            Some(token_hash) => vec![E::CartShareRevoked {
                token_hash: token_hash.clone(),
            }],
            None => vec![],
        },
        C::CopyLines {
            source_cart_id,
            lines,
        } => {
            if lines.is_empty() {
                return Ok(vec![]);
            }
            check_joining(s, lines)?;
            vec![E::SharedCartCopied {
                source_cart_id: *source_cart_id,
                lines: lines.clone(),
            }]
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
            let new = lines.iter().filter(|l| s.line_of(l).is_none()).count();
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
    s.changes += 1;
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
        // Saved lines stay for later, and a share link shows the (now empty) cart.
        E::CartCheckedOut { .. } => {
            s.lines.clear();
            s.coupon = None;
        }
        E::CartExpired { .. } => {
            s.lines.clear();
            s.coupon = None;
            s.saved.clear();
            s.share = None;
        }
        E::CartItemSavedForLater { item_id } => {
            if let Some(line) = s.lines.remove(item_id) {
                join(&mut s.saved, &line);
            }
        }
        E::SavedItemMovedToCart { item_id } => {
            if let Some(line) = s.saved.remove(item_id) {
                join(&mut s.lines, &line);
            }
        }
        E::SavedItemRemoved { item_id } => {
            s.saved.remove(item_id);
        }
        E::CartShared { token_hash, .. } => s.share = Some(token_hash.clone()),
        E::CartShareRevoked { .. } => s.share = None,
        E::SharedCartCopied { lines, .. } => {
            for line in lines {
                join(&mut s.lines, line);
            }
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
                    .find(|l| l.same_item(line))
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
