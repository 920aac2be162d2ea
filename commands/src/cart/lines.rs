//! The cart's lines: add a product at its price now, change a quantity, remove a line,
//! empty the cart.

use domain::cart::{Cart, CartCommand, CartError, CartLine};
use domain::id::{CartItemId, VariantId};
use domain::value::Quantity;
use uuid::Uuid;

use super::error::CartUseCaseError;
use super::shopper::{cart_now, step, CartOutcome, Shopper};
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::pricing::product_on_sale;
use crate::pricing::ToPrice;

/// A line added: the cart after it, and the line the product sits on (a new one, or the
/// one its quantity was added to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAdded {
    pub cart: CartOutcome,
    pub item_id: Option<Uuid>,
}

fn quantity(n: u32) -> Result<Quantity, CartUseCaseError> {
    Quantity::new(n).map_err(|e| CartUseCaseError::invalid("quantity", e.message))
}

/// Runs `command` on the cart and answers the cart after it.
async fn run(
    handlers: &Handlers,
    shopper: &Shopper,
    cart_id: Uuid,
    command: CartCommand,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let handled = handlers
        .carts
        .handle(&CommandHandler::<Cart>::stream_id(cart_id), command, meta)
        .await?;
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}

/// Adds `quantity` of a product on sale at its price now, as the variant named when the
/// product has variants (at the variant's price, under its SKU); the same product and
/// variant already in the cart adds to its line. A guest's first line starts their cart:
/// the caller gives the shopper a token first.
#[tracing::instrument(skip_all, fields(%product_id), err)]
pub async fn add_item(
    handlers: &Handlers,
    shopper: &Shopper,
    product_id: Uuid,
    variant_id: Option<Uuid>,
    quantity_: u32,
    meta: CommandMeta,
) -> Result<ItemAdded, CartUseCaseError> {
    let quantity = quantity(quantity_)?;
    let product = product_on_sale(handlers, product_id)
        .await
        .map_err(|e| CartUseCaseError::Failed(e.to_string()))?
        .ok_or_else(|| CartUseCaseError::invalid("product_id", "no such product on sale"))?;
    let offer = product
        .offer(variant_id.map(VariantId::new))
        .map_err(|refusal| CartUseCaseError::Variant {
            field: "variant_id".into(),
            refusal,
        })?;
    let cart_id = shopper.existing_cart()?;
    // The price the shopper sees on the product's page now, its rules applied: checkout
    // compares it with the price then, and refuses a change the shopper has not seen.
    let pricer = handlers
        .pricer(shopper.user_id())
        .await
        .map_err(CartUseCaseError::Failed)?;
    let unit_price = pricer.unit_price(
        meta.occurred_at,
        &ToPrice::of(&product, &offer, quantity.get()),
    );
    let line = CartLine {
        item_id: CartItemId::new(Uuid::new_v4()),
        product_id: product.product_id,
        variant_id: offer.variant_id,
        sku: offer.sku,
        quantity,
        unit_price,
    };
    let offer_variant = line.variant_id;
    let at = meta.occurred_at;
    let cart = run(
        handlers,
        shopper,
        cart_id,
        CartCommand::AddItem { line, at },
        meta,
    )
    .await?;
    let item_id = cart
        .cart
        .lines
        .values()
        .find(|l| l.product_id.as_uuid() == product_id && l.variant_id == offer_variant)
        .map(|l| l.item_id.as_uuid());
    Ok(ItemAdded { cart, item_id })
}

/// Sets a line's quantity.
#[tracing::instrument(skip_all, fields(%item_id), err)]
pub async fn change_quantity(
    handlers: &Handlers,
    shopper: &Shopper,
    item_id: Uuid,
    quantity_: u32,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let quantity = quantity(quantity_)?;
    let cart_id = shopper.existing_cart()?;
    let command = CartCommand::UpdateItem {
        item_id: CartItemId::new(item_id),
        quantity,
    };
    run(handlers, shopper, cart_id, command, meta).await
}

/// Removes a line.
#[tracing::instrument(skip_all, fields(%item_id), err)]
pub async fn remove_item(
    handlers: &Handlers,
    shopper: &Shopper,
    item_id: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let command = CartCommand::RemoveItem {
        item_id: CartItemId::new(item_id),
    };
    run(handlers, shopper, cart_id, command, meta).await
}

/// Empties the cart: every line and the coupon.
#[tracing::instrument(skip_all, err)]
pub async fn empty_cart(
    handlers: &Handlers,
    shopper: &Shopper,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let stream = CommandHandler::<Cart>::stream_id(cart_id);
    let (s, _) = handlers.carts.load(&stream).await?;
    // One removal per line: the domain has no "clear" command, and each removal is valid on
    // its own, so an interrupted clear leaves a smaller cart, never a broken one.
    let mut commands: Vec<(String, CartCommand)> = s
        .lines
        .keys()
        .map(|item_id| {
            (
                format!("remove-item-{item_id}"),
                CartCommand::RemoveItem { item_id: *item_id },
            )
        })
        .collect();
    commands.push(("remove-coupon".into(), CartCommand::RemoveCoupon));
    let mut positions = Vec::new();
    for (purpose, c) in commands {
        match handlers
            .carts
            .handle(&stream, c, step(&meta, &purpose))
            .await
        {
            Ok(h) => positions.push(h.position),
            // Removed meanwhile by another request: that is what we wanted.
            Err(CommandError::Rejected(CartError::UnknownItem(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    cart_now(handlers, shopper, cart_id, &positions).await
}
