//! A review after it is written: its author edits or withdraws it, shoppers mark it
//! helpful, staff hide or restore it, the product's vendor replies.

use domain::id::{UserId, VendorId};
use domain::reviews::{ReviewCommand, ReviewText};
use uuid::Uuid;

use super::error::ReviewUseError;
use super::stored::{load, pair, stream, ReviewOutcome, REVIEW_KEY};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::unique;

async fn run(
    handlers: &Handlers,
    review_id: Uuid,
    command: ReviewCommand,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    load(handlers, review_id).await?;
    let handled = handlers
        .reviews
        .handle(&stream(review_id), command, meta)
        .await?;
    Ok(ReviewOutcome {
        review: load(handlers, review_id).await?,
        position: handled.position,
    })
}

/// The author changes the review's text (rating, title, body, images).
#[tracing::instrument(skip_all, fields(%review_id), err)]
pub async fn edit_review(
    handlers: &Handlers,
    by: Uuid,
    review_id: Uuid,
    text: ReviewText,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let at = meta.occurred_at;
    let command = ReviewCommand::Edit {
        by: UserId::new(by),
        text,
        at,
    };
    run(handlers, review_id, command, meta).await
}

/// The author withdraws the review; the (product, author) pair is given back, so they may
/// write another.
#[tracing::instrument(skip_all, fields(%review_id), err)]
pub async fn withdraw_review(
    handlers: &Handlers,
    by: Uuid,
    review_id: Uuid,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let command = ReviewCommand::Withdraw {
        by: UserId::new(by),
        at: meta.occurred_at,
    };
    let outcome = run(handlers, review_id, command, meta.clone()).await?;
    let r = &outcome.review;
    let pair = pair(r.product_id.as_uuid(), r.author_id.as_uuid());
    if unique::owner_of(handlers, REVIEW_KEY, &pair).await? == Some(review_id) {
        unique::release(
            handlers,
            REVIEW_KEY,
            &pair,
            review_id,
            &crate::cart::shopper::step(&meta, "release-review"),
        )
        .await?;
    }
    Ok(outcome)
}

/// A signed-in shopper (not the author) finds the review helpful; once each.
#[tracing::instrument(skip_all, fields(%review_id), err)]
pub async fn mark_helpful(
    handlers: &Handlers,
    by: Uuid,
    review_id: Uuid,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let command = ReviewCommand::MarkHelpful {
        by: UserId::new(by),
        at: meta.occurred_at,
    };
    run(handlers, review_id, command, meta).await
}

/// Staff hide (`visible: false`) or restore a review, with a reason (the caller checks
/// that staff ask).
#[tracing::instrument(skip_all, fields(%review_id, visible), err)]
pub async fn moderate_review(
    handlers: &Handlers,
    review_id: Uuid,
    visible: bool,
    reason: String,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let command = ReviewCommand::Moderate {
        visible,
        reason,
        at: meta.occurred_at,
    };
    run(handlers, review_id, command, meta).await
}

/// The product's vendor answers the review in public.
#[tracing::instrument(skip_all, fields(%review_id), err)]
pub async fn reply_to_review(
    handlers: &Handlers,
    vendor: Uuid,
    review_id: Uuid,
    reply: String,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let command = ReviewCommand::Reply {
        by: VendorId::new(vendor),
        reply,
        at: meta.occurred_at,
    };
    run(handlers, review_id, command, meta).await
}
