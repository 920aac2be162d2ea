//! The `reviews` read model (issue 23): every review not withdrawn, and each product's
//! rating (count, sum, average, a 1–5 histogram) with the vendors' view over them.
//!
//! A product's rating is folded again from its published reviews after every batch that
//! touched one of them, never nudged up and down: a review hidden, restored, edited or
//! withdrawn can then never count twice or linger (what Sylius #16120 describes). Every
//! value comes from the events, so a rebuild equals the live build.

use async_trait::async_trait;
use commands::store::RecordedEvent;
use domain::reviews::{Review, ReviewEvent};
use domain::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, Projection, ProjectionError};

pub struct ReviewsProjection;

#[async_trait]
impl Projection for ReviewsProjection {
    fn name(&self) -> &'static str {
        "reviews"
    }

    fn schema(&self) -> &'static str {
        "reviews"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == Review::CATEGORY
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/reviews.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, &[event]).await
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut touched: Vec<Uuid> = Vec::new();
        for event in events {
            if let Some(product) = apply_one(tx, event).await? {
                if !touched.contains(&product) {
                    touched.push(product);
                }
            }
        }
        refold(tx, &touched).await?;
        Ok(())
    }
}

/// Applies one event; answers the product whose rating it may change.
async fn apply_one(
    tx: &mut PgConnection,
    event: &RecordedEvent,
) -> Result<Option<Uuid>, ProjectionError> {
    let Some(id) = event.stream_uuid() else {
        return Ok(None);
    };
    let product: Option<Uuid> = match decode::<ReviewEvent>(event)? {
        ReviewEvent::ReviewWritten {
            product_id,
            vendor_id,
            author_id,
            rating,
            title,
            body,
            images,
            order_id,
            proof_event_ids,
            at,
            ..
        } => {
            sqlx::query(
                "insert into reviews (review_id, product_id, vendor_id, author_id, rating, title,
                     body, images, order_id, proof_event_ids, status, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'published', $11, $11)
                 on conflict (review_id) do nothing",
            )
            .bind(id)
            .bind(product_id.as_uuid())
            .bind(vendor_id.map(|v| v.as_uuid()))
            .bind(author_id.as_uuid())
            .bind(i16::from(rating))
            .bind(&title)
            .bind(&body)
            .bind(serde_json::json!(images))
            .bind(order_id.as_uuid())
            .bind(&proof_event_ids)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            Some(product_id.as_uuid())
        }
        ReviewEvent::ReviewEdited {
            rating,
            title,
            body,
            images,
            at,
        } => {
            sqlx::query_scalar(
                "update reviews set rating = $2, title = $3, body = $4, images = $5,
                     updated_at = $6
                  where review_id = $1 returning product_id",
            )
            .bind(id)
            .bind(i16::from(rating))
            .bind(&title)
            .bind(&body)
            .bind(serde_json::json!(images))
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?
        }
        ReviewEvent::ReviewWithdrawn { .. } => {
            sqlx::query_scalar("delete from reviews where review_id = $1 returning product_id")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
        }
        ReviewEvent::ReviewMarkedHelpful { .. } => {
            sqlx::query(
                "update reviews set helpful_count = helpful_count + 1 where review_id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            None
        }
        ReviewEvent::ReviewHidden { reason, at } => {
            moderated(tx, id, "hidden", &reason, at).await?
        }
        ReviewEvent::ReviewRestored { reason, at } => {
            moderated(tx, id, "published", &reason, at).await?
        }
        ReviewEvent::ReviewReplied { reply, at, .. } => {
            sqlx::query("update reviews set reply = $2, replied_at = $3 where review_id = $1")
                .bind(id)
                .bind(&reply)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            None
        }
    };
    Ok(product)
}

async fn moderated(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    reason: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "update reviews set status = $2, moderation_reason = $3, updated_at = $4
          where review_id = $1 returning product_id",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(at)
    .fetch_optional(&mut *tx)
    .await
}

/// Folds the ratings of `products` again from their published reviews.
async fn refold(tx: &mut PgConnection, products: &[Uuid]) -> Result<(), sqlx::Error> {
    if products.is_empty() {
        return Ok(());
    }
    sqlx::query("delete from product_ratings where product_id = any($1)")
        .bind(products)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into product_ratings (product_id, vendor_id, review_count, rating_sum, average,
             stars_1, stars_2, stars_3, stars_4, stars_5)
         select product_id, (array_agg(vendor_id))[1], count(*), sum(rating),
                round(avg(rating), 2),
                count(*) filter (where rating = 1), count(*) filter (where rating = 2),
                count(*) filter (where rating = 3), count(*) filter (where rating = 4),
                count(*) filter (where rating = 5)
           from reviews
          where product_id = any($1) and status = 'published'
          group by product_id",
    )
    .bind(products)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
