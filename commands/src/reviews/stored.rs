//! What every review use case shares, at the bottom: the review's stream, the review as
//! the write side has it, and the uniqueness kind of a (product, buyer) pair.

use domain::reviews::{Review, ReviewRecord};
use uuid::Uuid;

use super::error::ReviewUseError;
use crate::handler::CommandHandler;
use crate::handlers::Handlers;
use crate::store::Position;
use crate::unique::Kind;

/// The uniqueness kind of a (product, buyer) pair: one review each.
pub const REVIEW_KEY: Kind = Kind::public("review");

/// The key of `author`'s review of `product_id`.
pub fn pair(product_id: Uuid, author: Uuid) -> String {
    format!("{product_id}:{author}")
}

/// A review after a command, and where the command's last event sits in `$all` (`None`
/// when it appended nothing).
#[derive(Debug, Clone)]
pub struct ReviewOutcome {
    pub review: ReviewRecord,
    pub position: Option<Position>,
}

pub(super) fn stream(review_id: Uuid) -> String {
    CommandHandler::<Review>::stream_id(review_id)
}

pub(super) async fn load(
    handlers: &Handlers,
    review_id: Uuid,
) -> Result<ReviewRecord, ReviewUseError> {
    let (state, _) = handlers
        .reviews
        .load(&stream(review_id))
        .await
        .map_err(|e| ReviewUseError::Failed(e.to_string()))?;
    state.review.ok_or(ReviewUseError::NotFound)
}

/// The review `review_id`, as the write side has it (withdrawn ones are `NotFound`).
pub async fn review(handlers: &Handlers, review_id: Uuid) -> Result<ReviewRecord, ReviewUseError> {
    let r = load(handlers, review_id).await?;
    if r.withdrawn {
        return Err(ReviewUseError::NotFound);
    }
    Ok(r)
}
