//! Putting a product on sale and taking it off. Who asks decides what publishing means
//! (`Seller::publish`): staff put a product on sale at once, approving a vendor's
//! submission; a vendor's publish submits their draft for staff's review, unless its store
//! is trusted (issue 23), and a suspended store publishes nothing. Staff send a
//! submission back with a reason. Unpublishing takes a product off sale (or out of
//! review) back to a draft.

use domain::catalog::{ProductCommand, Seller};
use domain::id::ProductId;

use super::products::{decided, owned, product_stream, ChangeProductError, ProductDecided};
use super::sellers::publish_command;
use crate::handler::CommandMeta;
use crate::handlers::Handlers;

/// Publishes a product as `seller` (staff, or the vendor who sells it); publishing again
/// changes nothing.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn publish_product(
    h: &Handlers,
    id: ProductId,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    owned(h, id, seller).await?;
    let command = publish_command(h, seller, meta.occurred_at)
        .await
        .map_err(ChangeProductError::Seller)?;
    status(h, id, command, meta).await
}

/// Sends a vendor's submission back to a draft, with the reason (staff; the caller
/// checks). Only a product waiting for review can be sent back.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn reject_submission(
    h: &Handlers,
    id: ProductId,
    reason: String,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    owned(h, id, Seller::Staff).await?;
    let command = ProductCommand::RejectSubmission {
        reason,
        at: meta.occurred_at,
    };
    status(h, id, command, meta).await
}

/// Takes a product off sale, back to a draft, as `seller`; a draft stays as it is.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn unpublish_product(
    h: &Handlers,
    id: ProductId,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    owned(h, id, seller).await?;
    let command = ProductCommand::Unpublish {
        at: meta.occurred_at,
    };
    status(h, id, command, meta).await
}

async fn status(
    h: &Handlers,
    id: ProductId,
    command: ProductCommand,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    let handled = h
        .products
        .handle(&product_stream(id), command, meta.clone())
        .await?;
    decided(
        h,
        id,
        handled.events.len() as u64,
        handled.position,
        ChangeProductError::NotFound,
    )
    .await
}
