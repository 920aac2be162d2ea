//! The whole build into the caller's cart, through the cart's own use cases.
//!
//! The cart and the build are separate aggregates and the cart has no command that adds
//! several products at once, so "all or nothing" is kept in two steps. First everything
//! the cart would refuse is checked before any line is added: every part on sale at a
//! price without variants, one currency with the cart's lines, room for the new lines.
//! Then the parts are added one by one; if one is still refused (the catalog or the cart
//! changed in between), the lines added so far are taken back (a new line removed, a line
//! that existed before set back to its quantity) and the cart's refusal is answered. Only
//! when a take-back itself fails (the store is down) is a part left behind; that answer
//! is a failure naming the parts left, and the log says so too.

use std::collections::BTreeMap;

use domain::cart::{Cart, MAX_LINES};
use domain::id::{ProductId, UserId};
use domain::pc_builder::PcBuild;
use uuid::Uuid;

use super::error::PcBuilderError;
use crate::cart::shopper::step;
use crate::cart::{add_item, change_quantity, remove_item, CartOutcome, CartUseCaseError, Shopper};
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::orders::pricing::product_on_sale;

/// Puts every part of `user`'s build `build_id` in their cart, each in its quantity; a
/// product already in the cart adds to its line. Answers the cart after it.
#[tracing::instrument(skip_all, fields(%build_id), err)]
pub async fn add_to_cart(
    handlers: &Handlers,
    user: Uuid,
    build_id: Uuid,
    meta: CommandMeta,
) -> Result<CartOutcome, PcBuilderError> {
    let (state, _) = handlers
        .pc_builds
        .load(&CommandHandler::<PcBuild>::stream_id(build_id))
        .await?;
    let build = state
        .build
        .filter(|b| b.owner == Some(UserId::new(user)))
        .ok_or(PcBuilderError::NotFound)?;
    if build.components.is_empty() {
        return Err(PcBuilderError::invalid(
            "components",
            "the build has no parts yet",
        ));
    }
    let shopper = Shopper::Customer(user);
    let (cart, _) = handlers
        .carts
        .load(&CommandHandler::<Cart>::stream_id(user))
        .await
        .map_err(|e| PcBuilderError::Cart(e.into()))?;
    // What the cart would refuse, before anything is added.
    let mut currency = cart.lines.values().next().map(|l| l.unit_price.currency);
    let mut new_lines = 0;
    for (i, c) in build.components.iter().enumerate() {
        let p = product_on_sale(handlers, c.product_id.as_uuid())
            .await
            .map_err(|e| PcBuilderError::Failed(e.to_string()))?
            .ok_or_else(|| {
                PcBuilderError::invalid(
                    format!("components[{i}].product_id"),
                    "the part is no longer on sale; replace it",
                )
            })?;
        let offer = p.offer(None).map_err(|refusal| {
            PcBuilderError::invalid(format!("components[{i}].product_id"), refusal)
        })?;
        if *currency.get_or_insert(offer.price.currency) != offer.price.currency {
            return Err(PcBuilderError::invalid(
                format!("components[{i}].product_id"),
                "the part is priced in another currency than the cart",
            ));
        }
        if !cart
            .lines
            .values()
            .any(|l| l.product_id == c.product_id && l.variant_id.is_none())
        {
            new_lines += 1;
        }
    }
    if cart.lines.len() + new_lines > MAX_LINES {
        return Err(PcBuilderError::invalid(
            "components",
            format!("the cart holds at most {MAX_LINES} lines; make room for {new_lines}"),
        ));
    }
    // The quantity each product had in the cart before, to put back on a failure.
    let before: BTreeMap<ProductId, (Uuid, u32)> = cart
        .lines
        .values()
        .filter(|l| l.variant_id.is_none())
        .map(|l| (l.product_id, (l.item_id.as_uuid(), l.quantity.get())))
        .collect();
    let mut added: Vec<(ProductId, Option<Uuid>)> = Vec::new();
    let mut last = None;
    for c in &build.components {
        let purpose = format!("add-{}", c.product_id);
        match add_item(
            handlers,
            &shopper,
            c.product_id.as_uuid(),
            None,
            c.quantity,
            step(&meta, &purpose),
        )
        .await
        {
            Ok(done) => {
                added.push((c.product_id, done.item_id));
                last = Some(done.cart);
            }
            Err(e) => {
                take_back(handlers, &shopper, &added, &before, &meta).await?;
                return Err(PcBuilderError::Cart(e));
            }
        }
    }
    last.ok_or_else(|| PcBuilderError::Failed("a build with parts added none".into()))
}

/// Takes back the lines `added` put in the cart: a line that is new is removed, one that
/// was there before gets its quantity back.
async fn take_back(
    handlers: &Handlers,
    shopper: &Shopper,
    added: &[(ProductId, Option<Uuid>)],
    before: &BTreeMap<ProductId, (Uuid, u32)>,
    meta: &CommandMeta,
) -> Result<(), PcBuilderError> {
    let mut left = Vec::new();
    for (product_id, item_id) in added {
        let purpose = format!("take-back-{product_id}");
        let undone: Result<CartOutcome, CartUseCaseError> = match (before.get(product_id), item_id)
        {
            (Some((item, quantity)), _) => {
                change_quantity(handlers, shopper, *item, *quantity, step(meta, &purpose)).await
            }
            (None, Some(item)) => remove_item(handlers, shopper, *item, step(meta, &purpose)).await,
            (None, None) => continue,
        };
        if let Err(e) = undone {
            tracing::error!(error = %e, %product_id, "a build's part was left in the cart");
            left.push(product_id.to_string());
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(PcBuilderError::Failed(format!(
            "the cart refused a part, and these parts could not be taken back out of it: {}",
            left.join(", ")
        )))
    }
}
