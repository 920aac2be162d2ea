//! Lines saved for later: out of the cart into a list of their own (outside the totals and
//! checkout), back into the cart, or off the list.

use domain::cart::{Cart, CartCommand};
use domain::id::CartItemId;
use uuid::Uuid;

use super::error::CartUseCaseError;
use super::shopper::{cart_now, CartOutcome, Shopper};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

async fn run(
    handlers: &Handlers,
    shopper: &Shopper,
    command: CartCommand,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let handled = handlers
        .carts
        .handle(&CommandHandler::<Cart>::stream_id(cart_id), command, meta)
        .await?;
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}

/// Moves the cart's line `item_id` to the saved-for-later list (onto the saved line of the
/// same product, if there is one).
#[tracing::instrument(skip_all, fields(%item_id), err)]
pub async fn save_for_later(
    handlers: &Handlers,
    shopper: &Shopper,
    item_id: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let item_id = CartItemId::new(item_id);
    run(
        handlers,
        shopper,
        CartCommand::SaveForLater { item_id },
        meta,
    )
    .await
}

/// Moves the saved line `item_id` back into the cart, at the price it was added at, within
/// the cart's limits.
#[tracing::instrument(skip_all, fields(%item_id), err)]
pub async fn move_to_cart(
    handlers: &Handlers,
    shopper: &Shopper,
    item_id: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let item_id = CartItemId::new(item_id);
    run(handlers, shopper, CartCommand::MoveToCart { item_id }, meta).await
}

/// Takes the saved line `item_id` off the list.
#[tracing::instrument(skip_all, fields(%item_id), err)]
pub async fn remove_saved(
    handlers: &Handlers,
    shopper: &Shopper,
    item_id: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let item_id = CartItemId::new(item_id);
    run(
        handlers,
        shopper,
        CartCommand::RemoveSaved { item_id },
        meta,
    )
    .await
}
