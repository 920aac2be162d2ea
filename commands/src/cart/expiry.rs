//! The expiry of an idle cart, sent by the cart expiry process (`projections`).

use chrono::{DateTime, Utc};
use domain::cart::{Cart, CartCommand};
use uuid::Uuid;

use super::error::CartUseCaseError;
use crate::handler::{Actor, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// Expires the cart `cart_id` if it still is as the sweeper found it idle: `revision` is
/// the stream revision of its last event then. The command id is derived from the cart
/// and that revision, so two sweepers, or one repeating itself, expire it once; a cart
/// changed since is left alone. Answers where the expiry sits in `$all`, if it happened.
#[tracing::instrument(skip_all, fields(%cart_id, revision), err)]
pub async fn expire_idle_cart(
    handlers: &Handlers,
    cart_id: Uuid,
    revision: u64,
    now: DateTime<Utc>,
) -> Result<Option<Position>, CartUseCaseError> {
    let command_id = Uuid::new_v5(&cart_id, format!("expire-idle:{revision}").as_bytes());
    let meta = CommandMeta::new(command_id, command_id, Actor::system(), now);
    let command = CartCommand::ExpireIdle {
        at: now,
        seen_changes: revision + 1,
    };
    let handled = handlers
        .carts
        .handle(&CommandHandler::<Cart>::stream_id(cart_id), command, meta)
        .await?;
    Ok(handled.position)
}
