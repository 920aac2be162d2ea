//! A guest's cart merged into the customer's on sign-in.

use domain::cart::{Cart, CartCommand, CartLine};
use domain::id::CartId;
use uuid::Uuid;

use super::error::CartUseCaseError;
use super::shopper::{cart_now, guest_cart_id, step, CartOutcome, Shopper};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

/// Moves the lines of the guest cart `guest_token` names into `user_id`'s cart (a product
/// in both adds up) and ends the guest's cart. Merging the same guest cart again changes
/// nothing. Answers the customer's cart after the merge.
#[tracing::instrument(skip_all, fields(%user_id), err)]
pub async fn merge_guest_cart(
    handlers: &Handlers,
    user_id: Uuid,
    guest_token: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let shopper = Shopper::Customer(user_id);
    let guest_id = guest_cart_id(guest_token);
    let guest_stream = CommandHandler::<Cart>::stream_id(guest_id);
    let (guest, _) = handlers.carts.load(&guest_stream).await?;
    let lines: Vec<CartLine> = guest.lines.into_values().collect();
    let merge = CartCommand::MergeGuestCart {
        guest_cart_id: CartId::new(guest_id),
        lines,
    };
    let merged = handlers
        .carts
        .handle(
            &CommandHandler::<Cart>::stream_id(user_id),
            merge,
            step(&meta, "merge"),
        )
        .await?;
    let mut cart = cart_now(handlers, &shopper, user_id, &[merged.position]).await?;
    // The lines live on in the customer's cart; the guest's copy ends as an expired cart.
    let expire = CartCommand::Expire {
        at: meta.occurred_at,
    };
    let ended = handlers
        .carts
        .handle(&guest_stream, expire, step(&meta, "expire-guest-cart"))
        .await?;
    cart.position = cart.position.max(ended.position);
    Ok(cart)
}
