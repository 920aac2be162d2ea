//! Applying a coupon to the cart, and removing it. Applying checks what can be checked
//! now (the coupon exists, is active and in its window); its usage limits and minimum
//! order are checked when checkout redeems it.

use domain::cart::{Cart, CartCommand};
use domain::coupon::CouponError;

use super::coupon::coupon_by_code;
use super::error::CartUseCaseError;
use super::shopper::{cart_now, CartOutcome, Shopper};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;

/// The longest coupon code, in characters.
const MAX_CODE: usize = 64;

fn refused(message: impl ToString) -> CartUseCaseError {
    CartUseCaseError::CouponRefused {
        field: "code",
        message: message.to_string(),
    }
}

/// Applies the coupon `code` (any case, spaces around ignored) to the cart.
#[tracing::instrument(skip_all, err)]
pub async fn apply_coupon(
    handlers: &Handlers,
    shopper: &Shopper,
    code: &str,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let code = domain::value::line("code", code, MAX_CODE)
        .map_err(|e| CartUseCaseError::invalid(e.field, e.message))?
        .to_uppercase();
    if code.is_empty() {
        return Err(CartUseCaseError::invalid(
            "code",
            "a coupon code is 1 to 64 characters",
        ));
    }
    let Some((_, coupon)) = coupon_by_code(handlers, &code).await? else {
        return Err(refused("no such coupon"));
    };
    let now = meta.occurred_at;
    let terms = coupon.terms.as_ref();
    if !coupon.active {
        return Err(refused(CouponError::Inactive));
    }
    if let Some(from) = terms.and_then(|t| t.valid_from).filter(|f| now < *f) {
        return Err(refused(CouponError::NotYetValid(from)));
    }
    if let Some(until) = terms.and_then(|t| t.valid_until).filter(|u| now >= *u) {
        return Err(refused(CouponError::Expired(until)));
    }
    let handled = handlers
        .carts
        .handle(
            &CommandHandler::<Cart>::stream_id(cart_id),
            CartCommand::ApplyCoupon { code },
            meta,
        )
        .await?;
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}

/// Removes the cart's coupon.
#[tracing::instrument(skip_all, err)]
pub async fn remove_coupon(
    handlers: &Handlers,
    shopper: &Shopper,
    meta: CommandMeta,
) -> Result<CartOutcome, CartUseCaseError> {
    let cart_id = shopper.existing_cart()?;
    let handled = handlers
        .carts
        .handle(
            &CommandHandler::<Cart>::stream_id(cart_id),
            CartCommand::RemoveCoupon,
            meta,
        )
        .await?;
    cart_now(handlers, shopper, cart_id, &[handled.position]).await
}
