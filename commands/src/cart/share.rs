//! A cart shared read-only by a link token, and copied into another cart.
//!
//! The token is a capability: whoever holds it reads the cart and copies its lines. It is
//! handed to the owner once and never stored: the cart's `CartShared` event holds its
//! SHA-256 (invariant 11), and a `unique` stream keyed by that hash names the cart, so a
//! presented token is found by hashing it. A new share or a revocation changes the hash
//! the cart holds, and a token whose hash the cart no longer holds is unknown.

use base64::Engine;
use domain::cart::{Cart, CartCommand, CartLine};
use domain::id::{CartId, CartItemId};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::CartUseCaseError;
use super::shopper::{cart_now, step, CartOutcome, Shopper};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::pricing::product_on_sale;
use crate::pricing::ToPrice;
use crate::unique::{Kind, UniqueError};

/// Whose `unique` streams map a share token's hash to its cart. Personal: the hash stays
/// out of those streams' events, so they do not list the live tokens' hashes.
pub const CART_SHARE_KIND: Kind = Kind::personal("cart_share");

/// The hash under which the log knows a share token: SHA-256, lowercase hex.
pub fn share_token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A cart shared: the token to hand out (shown this once) and the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub token: String,
    pub cart: CartOutcome,
}

fn unique_failed(e: UniqueError) -> CartUseCaseError {
    match e {
        UniqueError::Store(e) => CartUseCaseError::Store(e),
        other => CartUseCaseError::Failed(other.to_string()),
    }
}

/// Shares the caller's cart under a new random token; a token shared before stops
/// working. An empty cart has nothing to share (`CartError::Empty`).
#[tracing::instrument(skip_all, err)]
pub async fn share_cart(
    handlers: &Handlers,
    shopper: &Shopper,
    meta: CommandMeta,
) -> Result<Shared, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let stream = CommandHandler::<Cart>::stream_id(cart_id);
    let (cart, _) = handlers.carts.load(&stream).await?;
    if cart.lines.is_empty() {
        return Err(CartUseCaseError::Rejected(domain::cart::CartError::Empty));
    }
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let token_hash = share_token_hash(&token);
    // The key first: a cart holding a hash no stream names would share a dead link.
    crate::unique::claim(
        handlers,
        CART_SHARE_KIND,
        &token_hash,
        cart_id,
        &step(&meta, "claim-share"),
    )
    .await
    .map_err(unique_failed)?;
    let command = CartCommand::Share {
        token_hash,
        at: meta.occurred_at,
    };
    let handled = handlers
        .carts
        .handle(&stream, command, step(&meta, "share"))
        .await?;
    let cart = cart_now(handlers, shopper, cart_id, &[handled.position]).await?;
    Ok(Shared { token, cart })
}

/// Ends the caller's share link, if there is one.
#[tracing::instrument(skip_all, err)]
pub async fn revoke_share(
    handlers: &Handlers,
    shopper: &Shopper,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let stream = CommandHandler::<Cart>::stream_id(cart_id);
    let handled = handlers
        .carts
        .handle(
            &stream,
            CartCommand::RevokeShare,
            step(&meta, "revoke-share"),
        )
        .await?;
    for event in &handled.events {
        if let domain::cart::CartEvent::CartShareRevoked { token_hash } = event {
            // The cart no longer holds the hash, which is what makes the token unknown;
            // releasing the key only tidies the lookup.
            match crate::unique::release(
                handlers,
                CART_SHARE_KIND,
                token_hash,
                cart_id,
                &step(&meta, "release-share"),
            )
            .await
            {
                Ok(()) | Err(UniqueError::NotHeld { .. }) => {}
                Err(e) => return Err(unique_failed(e)),
            }
        }
    }
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}

/// The cart `token` shares now, if it is live: its id and state.
pub async fn shared_cart(
    handlers: &Handlers,
    token: &str,
) -> Result<Option<(Uuid, domain::cart::CartState)>, CartUseCaseError> {
    let token_hash = share_token_hash(token);
    let Some(cart_id) = crate::unique::owner_of(handlers, CART_SHARE_KIND, &token_hash)
        .await
        .map_err(CartUseCaseError::Store)?
    else {
        return Ok(None);
    };
    let (cart, _) = handlers
        .carts
        .load(&CommandHandler::<Cart>::stream_id(cart_id))
        .await?;
    Ok((cart.share.as_deref() == Some(token_hash.as_str())).then_some((cart_id, cart)))
}

/// Copies the lines of the cart `token` shares into the caller's cart, each priced as the
/// product sells now (a product no longer on sale is left out); a product already in the
/// caller's cart adds to its line. The cart's limits hold: a copy that would fill it past
/// them is refused whole. An unknown or revoked token is [`CartUseCaseError::UnknownShare`].
#[tracing::instrument(skip_all, err)]
pub async fn copy_shared_cart(
    handlers: &Handlers,
    shopper: &Shopper,
    token: &str,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let (source_id, source) = shared_cart(handlers, token)
        .await?
        .ok_or(CartUseCaseError::UnknownShare)?;
    let cart_id = shopper.existing_cart()?;
    if source_id == cart_id {
        return Err(CartUseCaseError::invalid(
            "token",
            "this link shares your own cart",
        ));
    }
    let mut lines = Vec::with_capacity(source.lines.len());
    let pricer = handlers
        .pricer(shopper.user_id())
        .await
        .map_err(CartUseCaseError::Failed)?;
    for line in source.lines.values() {
        let product = product_on_sale(handlers, line.product_id.as_uuid())
            .await
            .map_err(|e| CartUseCaseError::Failed(e.to_string()))?;
        let Some(product) = product else { continue };
        // A variant no longer offered (or a product that gained or lost its variants)
        // is left out, like a product no longer on sale.
        let Ok(offer) = product.offer(line.variant_id) else {
            continue;
        };
        // Priced for this shopper now, as adding the line here would be.
        let unit_price = pricer.unit_price(
            meta.occurred_at,
            &ToPrice::of(&product, &offer, line.quantity.get()),
        );
        lines.push(CartLine {
            // From the request and the source line, so a retried request copies the same.
            item_id: CartItemId::new(Uuid::new_v5(
                &meta.command_id,
                line.item_id.as_uuid().as_bytes(),
            )),
            product_id: product.product_id,
            variant_id: offer.variant_id,
            sku: offer.sku,
            quantity: line.quantity,
            unit_price,
        });
    }
    let command = CartCommand::CopyLines {
        source_cart_id: CartId::new(source_id),
        lines,
    };
    let handled = handlers
        .carts
        .handle(&CommandHandler::<Cart>::stream_id(cart_id), command, meta)
        .await?;
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}
