//! The shipping methods a cart could leave by, and what each costs, for a destination:
//! the cart's lines weighed from the catalog and valued at the prices they show.

use domain::cart::{Cart, CartError};
use domain::shipping::{Destination, Quote};

use super::error::CartUseCaseError;
use super::shopper::Shopper;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::shipping::rates::{self, RatesUseError};

/// What the cart weighs and is worth, and every method that ships it to `to`, cheapest
/// first (none when no zone serves `to`).
#[derive(Debug, Clone)]
pub struct CartQuote {
    pub weight_grams: i64,
    pub value: domain::money::Money,
    pub quotes: Vec<Quote>,
}

/// The quotes for `shopper`'s cart to `to`. An empty cart (or a guest without one) has
/// nothing to ship: [`CartError::Empty`].
pub async fn quote_cart(
    handlers: &Handlers,
    shopper: &Shopper,
    to: &Destination,
) -> Result<CartQuote, CartUseCaseError> {
    let failed = |e: RatesUseError| CartUseCaseError::Failed(e.to_string());
    let Some(cart_id) = shopper.cart_id() else {
        return Err(CartUseCaseError::Rejected(CartError::Empty));
    };
    let (cart, _) = handlers
        .carts
        .load(&CommandHandler::<Cart>::stream_id(cart_id))
        .await?;
    let Some(value) = cart.subtotal() else {
        return Err(CartUseCaseError::Rejected(CartError::Empty));
    };
    let weight_grams = rates::weight_of(
        handlers,
        cart.lines
            .values()
            .map(|l| (l.product_id, l.variant_id, l.quantity.get()))
            .collect(),
    )
    .await
    .map_err(failed)?;
    let quotes = rates::quote(handlers, to, weight_grams, value)
        .await
        .map_err(failed)?;
    Ok(CartQuote {
        weight_grams,
        value,
        quotes,
    })
}
