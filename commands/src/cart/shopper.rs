//! Whose cart a use case acts on ([`Shopper`]), what it answers ([`CartOutcome`]), and the
//! command id of each step of a flow that sends several commands.

use domain::cart::{Cart, CartState};
use domain::id::ProductId;
use domain::money::{Currency, Money};
use uuid::Uuid;

use super::coupon::coupon_by_code;
use super::error::CartUseCaseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// Ids of guest carts: a UUIDv5 of the token in this namespace, so a guest cannot pick the
/// id of a customer's cart.
const GUEST_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_5a43_9f3e_4b0a_8a2c_1e57_c0a7_7e11);

/// The cart of the guest who holds `token`.
pub fn guest_cart_id(token: Uuid) -> Uuid {
    Uuid::new_v5(&GUEST_NAMESPACE, token.as_bytes())
}

/// Whose cart: a signed-in customer's, whose cart id is their user id, or a guest's, by
/// the token their first line gave them (`None` before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shopper {
    Customer(Uuid),
    Guest(Option<Uuid>),
}

impl Shopper {
    /// The cart's id, if it has one yet.
    pub fn cart_id(&self) -> Option<Uuid> {
        match self {
            Shopper::Customer(user_id) => Some(*user_id),
            Shopper::Guest(token) => token.map(guest_cart_id),
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Shopper::Customer(user_id) => Some(*user_id),
            Shopper::Guest(_) => None,
        }
    }

    /// The cart's id, or [`CartUseCaseError::NoCart`] for a guest who has none yet.
    pub fn existing_cart(&self) -> Result<Uuid, CartUseCaseError> {
        self.cart_id().ok_or(CartUseCaseError::NoCart)
    }
}

/// The cart after a use case, as the write side holds it, with the discount its coupon
/// would take off now, and where the use case's last event sits in `$all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartOutcome {
    pub cart_id: Uuid,
    pub user_id: Option<Uuid>,
    pub cart: CartState,
    pub discount: Money,
    pub position: Option<Position>,
}

impl CartOutcome {
    /// The currency of the cart's lines; US dollars for an empty cart.
    pub fn currency(&self) -> Currency {
        self.cart
            .lines
            .values()
            .next()
            .map_or(Currency::USD, |l| l.unit_price.currency)
    }

    /// The cart of a guest who has none yet: nothing in it.
    pub fn empty(user_id: Option<Uuid>) -> Self {
        CartOutcome {
            cart_id: Uuid::nil(),
            user_id,
            cart: CartState::default(),
            discount: Money::zero(Currency::USD),
            position: None,
        }
    }
}

/// The cart `cart_id` now, previewing its coupon's discount by the rule the `carts` read
/// model follows, so a command's answer and `GET /cart` agree.
pub async fn cart_now(
    handlers: &Handlers,
    shopper: &Shopper,
    cart_id: Uuid,
    positions: &[Option<Position>],
) -> Result<CartOutcome, CartUseCaseError> {
    let (cart, _) = handlers
        .carts
        .load(&CommandHandler::<Cart>::stream_id(cart_id))
        .await?;
    let mut outcome = CartOutcome {
        cart_id,
        user_id: shopper.user_id(),
        cart,
        discount: Money::zero(Currency::USD),
        position: positions.iter().flatten().max().copied(),
    };
    let currency = outcome.currency();
    // A coupon that cannot be read now shows no discount; checkout asks again anyway.
    let coupon = match &outcome.cart.coupon {
        Some(code) => coupon_by_code(handlers, code).await.ok().flatten(),
        None => None,
    };
    outcome.discount = Money::zero(currency);
    if let Some((_, c)) = coupon {
        let scope = c
            .terms
            .as_ref()
            .map(|t| t.scope.clone())
            .unwrap_or_default();
        if let Ok(lines) =
            crate::coupons::coupon_lines(handlers, &scope, &cart_lines(&outcome.cart)).await
        {
            outcome.discount = c.preview(&lines, currency);
        }
    }
    Ok(outcome)
}

/// Each line's product and subtotal (saturating: the cart's bounds keep it far below).
pub fn cart_lines(cart: &CartState) -> Vec<(ProductId, Money)> {
    cart.lines
        .values()
        .map(|l| {
            let amount = l
                .unit_price
                .amount
                .saturating_mul(i64::from(l.quantity.get()));
            (l.product_id, Money::new(amount, l.unit_price.currency))
        })
        .collect()
}

/// The metadata of one step of a flow of several commands: its own command id, derived
/// from the request's, so the steps' events never share an id and a retried request
/// repeats the same ids.
pub fn step(meta: &CommandMeta, purpose: &str) -> CommandMeta {
    let command_id = Uuid::new_v5(&meta.command_id, purpose.as_bytes());
    CommandMeta {
        command_id,
        causation_id: command_id,
        ..meta.clone()
    }
}
