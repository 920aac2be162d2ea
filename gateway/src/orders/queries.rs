//! The orders' queries: one order, a page of orders, a user's status timeline. Each reads
//! the `orders` read model, never the event store. A client that sends back the
//! `X-Consistency-Token` of its command is answered once the read model has caught up
//! with it (within CONSISTENCY_WAIT_MS; then 503 projection_lag).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::read_model;
use super::views::{HistoryEntry, HistoryPage, OrderPage, OrderView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// One order, from the orders read model: the caller's own, or any for staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 400, description = "`id` not a UUID, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, ApiError> {
    caught_up(&state, &headers, "orders").await?;
    let row = match read_model::order(&state.pool, id).await? {
        Some(r) if r.user_id == user.user_id || STAFF.contains(&user.role) => r,
        _ => return Err(ApiError::NotFound("no such order".into())),
    };
    let order = read_model::stored(&state.pool, row).await?;
    Ok(Json(order.into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
    /// `created_at`, `total` or `updated_at`, with `-` for descending (default
    /// `-created_at`).
    sort: Option<String>,
    /// Only orders in this status.
    status: Option<String>,
}

async fn list_where(
    state: &AppState,
    user_filter: Option<Uuid>,
    q: ListQuery,
) -> Result<Json<OrderPage>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let order_by =
        read_model::order_by(q.sort.as_deref().unwrap_or("-created_at")).ok_or_else(|| {
            ApiError::invalid_field(
                "sort",
                "one of created_at, total, updated_at, with - for descending",
            )
        })?;
    let (total, orders) = read_model::page(
        &state.pool,
        user_filter,
        q.status.as_deref(),
        order_by,
        limit,
        offset,
    )
    .await?;
    Ok(Json(OrderPage {
        items: orders.into_iter().map(OrderView::from).collect(),
        limit,
        offset,
        total,
    }))
}

/// Own orders; staff see everyone's.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "An unknown query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 422, description = "A bad `limit`, `offset` or `sort`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    caught_up(&state, &headers, "orders").await?;
    let filter = (!STAFF.contains(&user.role)).then_some(user.user_id);
    list_where(&state, filter, q).await
}

fn same_user_or_staff(user: &AuthUser, of: Uuid) -> Result<(), ApiError> {
    if user.user_id == of || STAFF.contains(&user.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the user or staff may see these orders".into(),
        ))
    }
}

/// One user's orders: the user themselves, or staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/user/{user_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user"), ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "A page of the user's orders", body = OrderPage),
        (status = 400, description = "`user_id` not a UUID, an unknown query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another user's orders, asked by a non-staff caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit`, `offset` or `sort`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn list_for_user(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(of): Path<Uuid>,
    Query(q): Query<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    same_user_or_staff(&user, of)?;
    caught_up(&state, &headers, "orders").await?;
    list_where(&state, Some(of), q).await
}

/// The status timeline of every order of a user: the user themselves, or staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/history/{user_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "Every status change of the user's orders, oldest first", body = HistoryPage),
        (status = 400, description = "`user_id` not a UUID, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another user's history, asked by a non-staff caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn history_for_user(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(of): Path<Uuid>,
) -> Result<Json<HistoryPage>, ApiError> {
    same_user_or_staff(&user, of)?;
    caught_up(&state, &headers, "orders").await?;
    let rows = read_model::history(&state.pool, of).await?;
    Ok(Json(HistoryPage {
        items: rows.into_iter().map(HistoryEntry::from).collect(),
    }))
}
