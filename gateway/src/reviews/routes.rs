//! The review commands: each handler calls one use case of `commands::reviews` and
//! answers the review as the write side has it, so a change reads back at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use commands::reviews as use_case;
use domain::reviews::ReviewText;
use domain::user::Role;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::admin::{list_all_reviews, AdminReviewView};
use super::list::list_reviews;
use super::views::{Histogram, RatingSummary, ReplyView, ReviewPage, ReviewView};
use crate::auth::{AuthUser, STAFF};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/products/{id}/reviews",
            post(write_review).get(list_reviews),
        )
        .route("/reviews/{id}", put(edit_review).delete(withdraw_review))
        .route("/reviews/{id}/helpful", post(mark_helpful))
        .route("/reviews/{id}/status", put(moderate))
        .route("/reviews/{id}/reply", put(reply))
        .route("/admin/reviews", get(list_all_reviews))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        write_review,
        super::list::list_reviews,
        edit_review,
        withdraw_review,
        mark_helpful,
        moderate,
        reply,
        super::admin::list_all_reviews
    ),
    components(schemas(
        WriteBody,
        EditBody,
        ModerateBody,
        ReplyBody,
        ReviewView,
        ReplyView,
        ReviewPage,
        RatingSummary,
        Histogram,
        AdminReviewView
    )),
    tags((name = "reviews", description = "Verified buyers' reviews of products, their moderation and the vendors' replies"))
)]
pub struct ReviewsApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewWriteBody)]
struct WriteBody {
    /// 1 to 5.
    rating: u8,
    /// One line, 1 to 150 characters.
    title: String,
    /// 1 to 5000 characters.
    body: String,
    /// Up to 6 http(s) image links.
    #[serde(default)]
    images: Vec<String>,
    /// The order that proves the purchase; when absent the caller's orders with the
    /// product are looked through.
    order_id: Option<Uuid>,
}

/// Reviews a product (a signed-in buyer). Only a buyer with a delivered line of the
/// product, in an order neither cancelled nor refunded in full, may review it, once: the
/// review keeps the ids of the order's events that prove it and says
/// `verified_purchase: true` with how it was verified. Of two reviews sent at once by
/// one buyer for one product, one is written.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/reviews",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    request_body = WriteBody,
    responses(
        (status = 201, description = "The review, published", body = ReviewView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`not_verified_buyer`: none of the caller's orders shows the product delivered to them", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_reviewed`: the caller reviewed this product already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rating outside 1 to 5, a title or body missing or too long, a bad image link (`errors` names it), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn write_review(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<WriteBody>,
) -> Result<impl IntoResponse, ApiError> {
    // The orders that may prove it: the one named, then the caller's orders with the
    // product, newest first, as the orders read model has them. The use case checks each
    // against the order's own events.
    let mut orders: Vec<Uuid> = body.order_id.into_iter().collect();
    let found: Vec<Uuid> = sqlx::query_scalar(
        "select o.order_id from orders.orders o
          where o.user_id = $1
            and exists (select 1 from orders.order_items i
                         where i.order_id = o.order_id and i.product_id = $2)
          order by o.created_at desc
          limit 50",
    )
    .bind(user.user_id)
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    orders.extend(found);
    let text = ReviewText {
        rating: body.rating,
        title: body.title,
        body: body.body,
        images: body.images,
    };
    let outcome = use_case::write_review(
        &state.handlers,
        user.user_id,
        id,
        orders,
        text,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(outcome.position),
        Json(ReviewView::from(&outcome.review)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewEditBody)]
struct EditBody {
    rating: u8,
    title: String,
    body: String,
    #[serde(default)]
    images: Vec<String>,
}

/// Changes a review's text (its author). The product's rating follows.
#[utoipa::path(
    put,
    path = "/api/v1/reviews/{id}",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The review")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The review after the edit", body = ReviewView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not the review's author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review, or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field the rules refuse (`errors` names it), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn edit_review(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<EditBody>,
) -> Result<impl IntoResponse, ApiError> {
    let text = ReviewText {
        rating: body.rating,
        title: body.title,
        body: body.body,
        images: body.images,
    };
    let outcome = use_case::edit_review(
        &state.handlers,
        user.user_id,
        id,
        text,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(ReviewView::from(&outcome.review)),
    ))
}

/// Withdraws a review (its author): it no longer shows or counts, and the author may
/// review the product again.
#[utoipa::path(
    delete,
    path = "/api/v1/reviews/{id}",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The review")),
    responses(
        (status = 204, description = "Withdrawn", headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not the review's author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn withdraw_review(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let outcome = use_case::withdraw_review(
        &state.handlers,
        user.user_id,
        id,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(outcome.position),
    ))
}

/// Marks a review helpful (a signed-in shopper other than its author); once per shopper,
/// a second time changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/reviews/{id}/helpful",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The review")),
    responses(
        (status = 200, description = "The review with its helpful count", body = ReviewView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "The review's own author", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn mark_helpful(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let outcome = use_case::mark_helpful(
        &state.handlers,
        user.user_id,
        id,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(ReviewView::from(&outcome.review)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewStatusBody)]
struct ModerateBody {
    /// `hidden` or `published` (restore).
    status: String,
    /// Why; required.
    reason: String,
}

/// Hides or restores a review (staff), with a reason. A hidden review leaves the
/// product's rating, which is folded again from the reviews that show.
#[utoipa::path(
    put,
    path = "/api/v1/reviews/{id}/status",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The review")),
    request_body = ModerateBody,
    responses(
        (status = 200, description = "The review after moderation", body = ReviewView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status, no reason, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn moderate(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ModerateBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let visible = match body.status.trim() {
        "hidden" => false,
        "published" => true,
        other => {
            return Err(ApiError::invalid_field(
                "status",
                format!("{other:?} is not a status; use hidden or published"),
            ))
        }
    };
    let outcome = use_case::moderate_review(
        &state.handlers,
        id,
        visible,
        body.reason,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(ReviewView::from(&outcome.review)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewReplyBody)]
struct ReplyBody {
    /// 1 to 2000 characters; replaces an earlier reply.
    reply: String,
}

/// The product's vendor answers a review in public.
#[utoipa::path(
    put,
    path = "/api/v1/reviews/{id}/reply",
    tag = "reviews",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The review")),
    request_body = ReplyBody,
    responses(
        (status = 200, description = "The review with the reply", body = ReviewView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not a vendor, or not the vendor of the product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or too long reply, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reply(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ReplyBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(&[Role::Vendor])?;
    let outcome = use_case::reply_to_review(
        &state.handlers,
        user.user_id,
        id,
        body.reply,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(ReviewView::from(&outcome.review)),
    ))
}
