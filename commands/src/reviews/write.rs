//! Writing a review: only a verified buyer, once per product.

use domain::aggregate::{Aggregate, DomainEvent};
use domain::catalog::Product;
use domain::id::{OrderId, ProductId, ReviewId, UserId, VendorId};
use domain::order::{Order, OrderEvent};
use domain::reviews::{
    proof_of_kept_purchase, NewReview, Proof, Review, ReviewCommand, ReviewState, ReviewText,
};
use uuid::Uuid;

use super::error::ReviewUseError;
use super::stored::{load, pair, stream, ReviewOutcome, REVIEW_KEY};
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Direction, ReadFrom};
use crate::unique;
/// The most orders looked through for a proof.
const MAX_CANDIDATES: usize = 50;
/// Events read per page of an order's stream.
const PAGE: usize = 500;

/// `author` reviews `product_id`. `orders` are the author's orders that may prove the
/// purchase (the caller finds them in the orders read model, or the client names one);
/// each is read from its own stream, and the first whose events show the product
/// delivered to the author, and the order neither cancelled nor refunded in full, is the
/// proof. In order, so nothing is half-written: the text is checked by the review's
/// rules, the product must exist, the proof is found, the (product, author) pair is
/// claimed for the review (of two requests at once, one wins and the other is told the
/// product is reviewed already), then the review is recorded, or the claim given back.
#[tracing::instrument(skip_all, fields(%author, %product_id), err)]
pub async fn write_review(
    handlers: &Handlers,
    author: Uuid,
    product_id: Uuid,
    orders: Vec<Uuid>,
    text: ReviewText,
    meta: CommandMeta,
) -> Result<ReviewOutcome, ReviewUseError> {
    let review_id = Uuid::new_v5(&meta.command_id, b"review");
    let mut new = NewReview {
        review_id: ReviewId::new(review_id),
        product_id: ProductId::new(product_id),
        vendor_id: None,
        author_id: UserId::new(author),
        text,
        order_id: OrderId::new(Uuid::nil()),
        proof: vec![],
        at: meta.occurred_at,
    };
    Review::decide(
        &ReviewState::default(),
        &ReviewCommand::Write(Box::new(new.clone())),
    )
    .map_err(|e| ReviewUseError::from(CommandError::Rejected(e)))?;
    let (product, _) = handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(product_id))
        .await
        .map_err(|e| ReviewUseError::Failed(e.to_string()))?;
    let product = product.created.ok_or(ReviewUseError::ProductNotFound)?;
    new.vendor_id = product.vendor_id.map(VendorId::from);
    let proof = find_proof(handlers, author, product_id, &orders)
        .await?
        .ok_or(ReviewUseError::NotVerified)?;
    new.order_id = proof.order_id;
    new.proof = proof.event_ids;

    let pair = pair(product_id, author);
    if let Some(holder) = unique::owner_of(handlers, REVIEW_KEY, &pair).await? {
        if holder != review_id {
            return Err(ReviewUseError::AlreadyReviewed);
        }
    }
    unique::claim(
        handlers,
        REVIEW_KEY,
        &pair,
        review_id,
        &crate::cart::shopper::step(&meta, "claim-review"),
    )
    .await?;
    match handlers
        .reviews
        .handle(
            &stream(review_id),
            ReviewCommand::Write(Box::new(new)),
            meta.clone(),
        )
        .await
    {
        Ok(h) => Ok(ReviewOutcome {
            review: load(handlers, review_id).await?,
            position: h.position,
        }),
        // The retry of the request that wrote it: the review as it is.
        Err(CommandError::Rejected(domain::reviews::ReviewError::AlreadyWritten)) => {
            Ok(ReviewOutcome {
                review: load(handlers, review_id).await?,
                position: None,
            })
        }
        Err(e) => {
            let release = crate::cart::shopper::step(&meta, "release-review");
            if let Err(r) = unique::release(handlers, REVIEW_KEY, &pair, review_id, &release).await
            {
                tracing::warn!(error = %r, "a review's claim was not given back");
            }
            Err(e.into())
        }
    }
}

/// The first of `orders` whose own events prove the purchase.
async fn find_proof(
    handlers: &Handlers,
    author: Uuid,
    product_id: Uuid,
    orders: &[Uuid],
) -> Result<Option<Proof>, ReviewUseError> {
    let mut seen = Vec::new();
    for order_id in orders.iter().take(MAX_CANDIDATES) {
        if seen.contains(order_id) {
            continue;
        }
        seen.push(*order_id);
        let events = order_events(handlers, *order_id).await?;
        // What its returns took back (`returns-<order id>`, beside the order) is not kept.
        let (returns, _) = handlers
            .returns
            .load(&crate::returns::returns_stream(*order_id))
            .await
            .map_err(|e| ReviewUseError::Failed(e.to_string()))?;
        let returned = |sku: &domain::value::Sku| returns.returned(sku);
        let buyer = UserId::new(author);
        if let Some(p) =
            proof_of_kept_purchase(&events, buyer, ProductId::new(product_id), returned)
        {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// An order's events with their ids, in order.
async fn order_events(
    handlers: &Handlers,
    order_id: Uuid,
) -> Result<Vec<(Uuid, OrderEvent)>, ReviewUseError> {
    let stream = CommandHandler::<Order>::stream_id(order_id);
    let mut out = Vec::new();
    let mut from = ReadFrom::End;
    loop {
        let page = handlers
            .store
            .read_stream(&stream, from, Direction::Forwards, PAGE)
            .await?;
        for e in &page {
            let event = OrderEvent::from_data(&e.event_type, e.schema_version, e.data.clone())
                .map_err(|err| ReviewUseError::Failed(err.to_string()))?;
            out.push((e.id, event));
        }
        match page.last() {
            Some(last) if page.len() == PAGE => from = ReadFrom::Revision(last.revision + 1),
            _ => return Ok(out),
        }
    }
}
