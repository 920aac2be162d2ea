//! `GET /products/{id}/reviews`: a product's published reviews, sorted and filtered, with
//! its rating, from the `reviews` read model.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::views::{RatingRow, RatingSummary, ReviewPage, ReviewRow, ReviewView};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use domain::reviews::VERIFICATION;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReviewsQuery {
    /// `newest` (default), `oldest`, `rating` (highest first), `-rating` (lowest first)
    /// or `helpful` (most helpful first).
    sort: Option<String>,
    /// Only reviews of this rating, 1 to 5.
    rating: Option<i16>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// A product's published reviews, a page at a time, with its rating (average, count and a
/// 1–5 histogram, from the published reviews only) and how reviews are verified.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/reviews",
    tag = "reviews",
    params(
        ("id" = Uuid, Path, description = "The product"),
        ReviewsQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the reviews read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of reviews and the product's rating", body = ReviewPage),
        (status = 400, description = "A bad id, an unknown or malformed query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `sort`, `rating`, `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<ReviewsQuery>,
) -> Result<Json<ReviewPage>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let order = match q.sort.as_deref().map(str::trim).unwrap_or("newest") {
        "newest" => "created_at desc, review_id",
        "oldest" => "created_at, review_id",
        "rating" => "rating desc, created_at desc, review_id",
        "-rating" => "rating, created_at desc, review_id",
        "helpful" => "helpful_count desc, created_at desc, review_id",
        other => {
            return Err(ApiError::invalid_field(
                "sort",
                format!("{other:?}: use newest, oldest, rating, -rating or helpful"),
            ))
        }
    };
    if let Some(r) = q.rating {
        if !(1..=5).contains(&r) {
            return Err(ApiError::invalid_field("rating", "must be 1 to 5"));
        }
    }
    caught_up(&state, &headers, "reviews").await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from reviews.reviews
          where product_id = $1 and status = 'published'
            and ($2::smallint is null or rating = $2)",
    )
    .bind(id)
    .bind(q.rating)
    .fetch_one(&state.pool)
    .await?;
    // `order` is one of the constants above, never the client's text.
    let rows: Vec<ReviewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select review_id, product_id, author_id, rating, title, body, images, status,
                helpful_count, proof_event_ids, reply, replied_at, created_at, updated_at
           from reviews.reviews
          where product_id = $1 and status = 'published'
            and ($2::smallint is null or rating = $2)
          order by {order}
          limit $3 offset $4"
    )))
    .bind(id)
    .bind(q.rating)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let rating = ratings_of(&state.pool, &[id]).await?.remove(&id);
    Ok(Json(ReviewPage {
        items: rows.into_iter().map(ReviewView::from).collect(),
        total,
        limit,
        offset,
        rating: rating.unwrap_or_default(),
        verification: VERIFICATION,
    }))
}

/// The rating of each of `products` that has reviews, in one query; a product missing
/// from the answer has none (count 0).
pub async fn ratings_of(
    pool: &sqlx::PgPool,
    products: &[Uuid],
) -> Result<HashMap<Uuid, RatingSummary>, sqlx::Error> {
    let rows: Vec<RatingRow> = sqlx::query_as(
        "select product_id, review_count, average::float8 as average, stars_1, stars_2,
                stars_3, stars_4, stars_5
           from reviews.product_ratings where product_id = any($1)",
    )
    .bind(products)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, RatingSummary::from(r)))
        .collect())
}
