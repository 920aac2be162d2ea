//! `GET /admin/reviews` (staff): every product's reviews, the hidden ones too, newest
//! first, paged, filtered by status and product, each with its product's name and the
//! reason staff gave when they last hid or restored it. The storefront's listing
//! (`GET /products/{id}/reviews`) shows one product's published reviews only; moderation
//! needs them all. The console's reviews page (`/admin/reviews`) renders [`page`].

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{ReviewRow, ReviewView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Page;

/// The statuses a review has in the read model (a withdrawn one has no row).
pub const STATUSES: &[&str] = &["published", "hidden"];

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminReviewsQuery {
    /// `published`, `hidden`, or `all` (the default).
    pub status: Option<String>,
    /// Only the reviews of this product.
    #[param(value_type = Option<Uuid>)]
    pub product_id: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// Default 0.
    pub offset: Option<i64>,
}

/// A query, checked: what [`page`] reads.
#[derive(Debug, Clone)]
pub struct ReviewFilter {
    /// `None`: every status.
    pub status: Option<&'static str>,
    pub product_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

impl AdminReviewsQuery {
    /// The filter it asks for; a blank value is no filter, as a form sends it. An unknown
    /// status or a product id that is not one is a 400 naming the parameter.
    pub fn filter(&self) -> Result<ReviewFilter, ApiError> {
        let (limit, offset) = ApiError::page(self.limit, self.offset)?;
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let status = match given(&self.status).as_deref() {
            None | Some("all") => None,
            Some(s) => Some(*STATUSES.iter().find(|known| **known == s).ok_or_else(|| {
                ApiError::invalid_query(
                    "status",
                    format!("{s:?} is not a status; use published, hidden or all"),
                )
            })?),
        };
        let product_id = given(&self.product_id)
            .map(|p| {
                Uuid::parse_str(&p)
                    .map_err(|_| ApiError::invalid_query("product_id", "a product's id (a UUID)"))
            })
            .transpose()?;
        Ok(ReviewFilter {
            status,
            product_id,
            limit,
            offset,
        })
    }
}

/// One review as staff moderate it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminReviewView {
    #[serde(flatten)]
    pub review: ReviewView,
    /// The product's name in the catalog; `null` when the catalog has it no more.
    pub product_name: Option<String>,
    /// Why staff last hid or restored it; `null` when they never did.
    pub moderation_reason: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct AdminReviewRow {
    #[sqlx(flatten)]
    review: ReviewRow,
    product_name: Option<String>,
    moderation_reason: Option<String>,
}

/// Reviews of every product, the hidden ones too, newest first (staff).
#[utoipa::path(
    get,
    path = "/api/v1/admin/reviews",
    tag = "reviews",
    security(("bearer" = [])),
    params(
        AdminReviewsQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the reviews read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of reviews, newest first", body = Page<AdminReviewView>),
        (status = 400, description = "An unknown `status`, a `product_id` that is not a UUID, an unknown or malformed query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn list_all_reviews(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<AdminReviewsQuery>, QueryRejection>,
) -> Result<Json<Page<AdminReviewView>>, ApiError> {
    user.require(STAFF)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let filter = q.filter()?;
    caught_up(&state, &headers, "reviews").await?;
    Ok(Json(page(&state.pool, &filter).await?))
}

/// The reviews `filter` asks for, from the `reviews` read model and the catalog's names.
pub async fn page(
    pool: &sqlx::PgPool,
    filter: &ReviewFilter,
) -> Result<Page<AdminReviewView>, ApiError> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from reviews.reviews
          where ($1::text is null or status = $1) and ($2::uuid is null or product_id = $2)",
    )
    .bind(filter.status)
    .bind(filter.product_id)
    .fetch_one(pool)
    .await?;
    let rows: Vec<AdminReviewRow> = sqlx::query_as(
        "select r.review_id, r.product_id, r.author_id, r.rating, r.title, r.body, r.images,
                r.status, r.helpful_count, r.proof_event_ids, r.reply, r.replied_at,
                r.created_at, r.updated_at, r.moderation_reason, p.name as product_name
           from reviews.reviews r
           left join catalog.products p on p.product_id = r.product_id
          where ($1::text is null or r.status = $1) and ($2::uuid is null or r.product_id = $2)
          order by r.created_at desc, r.review_id
          limit $3 offset $4",
    )
    .bind(filter.status)
    .bind(filter.product_id)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|r| AdminReviewView {
                review: ReviewView::from(r.review),
                product_name: r.product_name,
                moderation_reason: r.moderation_reason,
            })
            .collect(),
        limit: filter.limit,
        offset: filter.offset,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(status: Option<&str>, product: Option<&str>) -> AdminReviewsQuery {
        AdminReviewsQuery {
            status: status.map(str::to_owned),
            product_id: product.map(str::to_owned),
            ..AdminReviewsQuery::default()
        }
    }

    #[test]
    fn a_filter_reads_blanks_as_none_and_refuses_what_is_not_a_status_or_an_id() {
        let f = query(Some(" "), Some("")).filter().unwrap();
        assert_eq!(
            (f.status, f.product_id, f.limit, f.offset),
            (None, None, 20, 0)
        );
        assert_eq!(query(Some("all"), None).filter().unwrap().status, None);
        assert_eq!(
            query(Some("hidden"), None).filter().unwrap().status,
            Some("hidden")
        );
        let id = Uuid::new_v4();
        assert_eq!(
            query(None, Some(&id.to_string()))
                .filter()
                .unwrap()
                .product_id,
            Some(id)
        );
        for bad in [query(Some("pending"), None), query(None, Some("lamp"))] {
            let e = bad.filter().unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{e}");
        }
    }
}
