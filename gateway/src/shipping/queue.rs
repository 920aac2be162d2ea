//! `GET /fulfilment/queue` (staff): the orders paid and not fully shipped, oldest payment
//! first, from the `shipping` read model.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new().route("/fulfilment/queue", get(fulfilment_queue))
}

/// An order waiting for its shipments.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct QueueEntry {
    pub order_id: Uuid,
    pub paid_at: DateTime<Utc>,
    pub placed_at: DateTime<Utc>,
    /// Shipments that have left.
    pub shipments: i32,
    pub units_ordered: i64,
    pub units_shipped: i64,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct QueueQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The fulfilment queue (staff): orders paid and not fully shipped, the oldest payment
/// first. An order leaves it when its last line ships, or when it is cancelled or refunded
/// in full.
#[utoipa::path(
    get,
    path = "/api/v1/fulfilment/queue",
    tag = "shipping",
    security(("bearer" = [])),
    params(QueueQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the shipping read model covers this command position")),
    responses(
        (status = 200, description = "A page of the queue", body = Page<QueueEntry>),
        (status = 400, description = "An unknown or malformed query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub(super) async fn fulfilment_queue(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Page<QueueEntry>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    caught_up(&state, &headers, "shipping").await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from shipping.fulfilment_queue where paid_at is not null",
    )
    .fetch_one(&state.pool)
    .await?;
    let items: Vec<QueueEntry> = sqlx::query_as(
        "select order_id, paid_at, placed_at, shipments, units_ordered, units_shipped
           from shipping.fulfilment_queue
          where paid_at is not null
          order by paid_at, order_id
          limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page {
        items,
        limit,
        offset,
        total,
    }))
}
