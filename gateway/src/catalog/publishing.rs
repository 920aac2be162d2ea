//! `/products/{id}/publish` and `/products/{id}/unpublish`: staff put a product on sale
//! at once (approving a vendor's submission); a vendor's publish submits their draft for
//! review (`pending_review`), or puts it on sale when its store is trusted; staff send a
//! submission back with a reason (`/products/{id}/reject`). Unpublishing takes a product
//! off sale, back to a draft.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use commands::catalog as use_case;
use domain::id::ProductId;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::products::{seller, SELLERS};
use super::views::ProductView;
use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/publish", post(publish_product))
        .route("/products/{id}/unpublish", post(unpublish_product))
        .route("/products/{id}/reject", post(reject_submission))
}

#[derive(OpenApi)]
#[openapi(
    paths(publish_product, unpublish_product, reject_submission),
    components(schemas(RejectBody))
)]
pub struct PublishingApi;

/// Publishes a product: staff put it on sale (`active`); a vendor submits their own draft
/// for staff's review (`pending_review`), or puts it on sale when its store is trusted.
/// A suspended or rejected store publishes nothing. Publishing again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/publish",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    responses(
        (status = 200, description = "The product after the change", body = ProductView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, another vendor's product, or `vendor_not_selling`: the vendor's store is suspended or rejected", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`catalog_rule`: the product is archived", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn publish_product(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let decided =
        use_case::publish_product(&state.handlers, ProductId::new(id), seller(&user), &meta)
            .await?;
    Ok((
        consistency::headers(decided.position),
        Json(ProductView::from(&decided)),
    ))
}

/// Takes a product off sale (or out of review), back to `draft`; a draft stays as it is.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/unpublish",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    responses(
        (status = 200, description = "The product after the change", body = ProductView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`catalog_rule`: the product is archived", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn unpublish_product(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let decided =
        use_case::unpublish_product(&state.handlers, ProductId::new(id), seller(&user), &meta)
            .await?;
    Ok((
        consistency::headers(decided.position),
        Json(ProductView::from(&decided)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    /// Why the submission goes back; the vendor reads it. Required.
    reason: String,
}

/// Sends a vendor's submission back to `draft`, with a reason (staff).
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/reject",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "The product, a draft again", body = ProductView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_pending_review`: the product is not waiting for review", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reject_submission(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<RejectBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let decided =
        use_case::reject_submission(&state.handlers, ProductId::new(id), body.reason, &meta)
            .await?;
    Ok((
        consistency::headers(decided.position),
        Json(ProductView::from(&decided)),
    ))
}
