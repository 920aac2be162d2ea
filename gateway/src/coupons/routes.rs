//! `/coupons` (staff): create, list, read, change the terms, deactivate and reactivate.
//! Each handler checks the caller is staff, calls one use case of `commands::coupons` or
//! reads `carts.coupons`, and answers a [`CouponView`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use commands::coupons::{self as use_case, CouponsError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::read_model;
use super::views::{CouponBody, CouponView, DiscountBody, DiscountView, ScopeView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coupons", get(list_coupons).post(create_coupon))
        .route("/coupons/{code}", get(get_coupon).put(update_coupon))
        .route("/coupons/{code}/deactivate", post(deactivate_coupon))
        .route("/coupons/{code}/reactivate", post(reactivate_coupon))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_coupon, list_coupons, get_coupon, update_coupon, deactivate_coupon, reactivate_coupon),
    components(schemas(CouponBody, DiscountBody, ScopeView, CouponView, DiscountView, Page<CouponView>)),
    tags((name = "coupons", description = "Coupons and their use, for staff"))
)]
pub struct CouponsApi;

impl From<CouponsError> for ApiError {
    fn from(e: CouponsError) -> Self {
        match e {
            CouponsError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ CouponsError::CodeTaken(_) => ApiError::conflict("code_taken", e.to_string()),
            e @ CouponsError::NotFound => ApiError::NotFound(e.to_string()),
            CouponsError::Store(e) => e.into(),
            CouponsError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

/// Creates a coupon (staff).
#[utoipa::path(
    post,
    path = "/api/v1/coupons",
    tag = "coupons",
    security(("bearer" = [])),
    request_body = CouponBody,
    responses(
        (status = 201, description = "The coupon", body = CouponView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 409, description = "Another coupon has the code (`code_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad term (code, percentage, amount, window, limit, an unknown product or category of the scope) or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_coupon(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CouponBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let Some(code) = body.code.clone() else {
        return Err(ApiError::invalid_field("code", "a coupon needs a code"));
    };
    let meta = request.command_meta(user.actor(), &ip);
    let created = use_case::create_coupon(&state.handlers, body.into_terms(code), &meta).await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(created.position),
        Json(CouponView::from(&created)),
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only active (`true`) or deactivated (`false`) coupons.
    active: Option<bool>,
    /// Only codes starting with this (any case).
    q: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// Coupons by code, with their use (staff).
#[utoipa::path(
    get,
    path = "/api/v1/coupons",
    tag = "coupons",
    security(("bearer" = [])),
    params(ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the carts read model covers this command position")),
    responses(
        (status = 200, description = "A page of coupons", body = Page<CouponView>),
        (status = 400, description = "An unknown or malformed query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list_coupons(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<CouponView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    caught_up(&state, &headers, "carts").await?;
    let prefix = q.q.map(|p| p.trim().to_uppercase());
    let (total, rows) =
        read_model::page(&state.pool, q.active, prefix.as_deref(), limit, offset).await?;
    Ok(Json(Page {
        items: rows.into_iter().map(CouponView::from).collect(),
        limit,
        offset,
        total,
    }))
}

/// One coupon by its code (any case), with its use (staff).
#[utoipa::path(
    get,
    path = "/api/v1/coupons/{code}",
    tag = "coupons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The coupon's code, any case"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the carts read model covers this command position")),
    responses(
        (status = 200, description = "The coupon", body = CouponView),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such coupon", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn get_coupon(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<CouponView>, ApiError> {
    user.require(STAFF)?;
    caught_up(&state, &headers, "carts").await?;
    read_model::coupon(&state.pool, &code.trim().to_uppercase())
        .await?
        .map(|r| Json(r.into()))
        .ok_or_else(|| ApiError::NotFound("no such coupon".into()))
}

/// Replaces a coupon's terms (staff); the code stays. Orders that already used it keep
/// their discount; its uses so far count against a new `max_uses`.
#[utoipa::path(
    put,
    path = "/api/v1/coupons/{code}",
    tag = "coupons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The coupon's code, any case")),
    request_body = CouponBody,
    responses(
        (status = 200, description = "The coupon", body = CouponView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such coupon", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad term, a `code` other than the coupon's, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_coupon(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
    AppJson(body): AppJson<CouponBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let code = code.trim().to_uppercase();
    if body
        .code
        .as_deref()
        .is_some_and(|c| c.trim().to_uppercase() != code)
    {
        return Err(ApiError::invalid_field(
            "code",
            "a coupon's code cannot change; create another coupon",
        ));
    }
    let meta = request.command_meta(user.actor(), &ip);
    let terms = body.into_terms(code.clone());
    let updated = use_case::update_coupon(&state.handlers, &code, terms, &meta).await?;
    Ok((
        consistency::headers(updated.position),
        Json(CouponView::from(&updated)),
    ))
}

/// Deactivates a coupon (staff): it can no longer be applied or redeemed. Repeating it
/// changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/{code}/deactivate",
    tag = "coupons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The coupon's code, any case")),
    responses(
        (status = 200, description = "The coupon", body = CouponView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such coupon", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deactivate_coupon(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::deactivate_coupon(&state.handlers, &code, &meta).await?;
    Ok((
        consistency::headers(done.position),
        Json(CouponView::from(&done)),
    ))
}

/// Reactivates a deactivated coupon (staff), under its terms. Repeating it changes
/// nothing.
#[utoipa::path(
    post,
    path = "/api/v1/coupons/{code}/reactivate",
    tag = "coupons",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The coupon's code, any case")),
    responses(
        (status = 200, description = "The coupon", body = CouponView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such coupon", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reactivate_coupon(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::reactivate_coupon(&state.handlers, &code, &meta).await?;
    Ok((
        consistency::headers(done.position),
        Json(CouponView::from(&done)),
    ))
}
