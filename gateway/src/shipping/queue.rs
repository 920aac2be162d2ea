//! What staff read of the `shipping` read model: `GET /fulfilment/queue`, the orders paid
//! and not fully shipped, oldest payment first; `GET /shipping/carriers/performance`, how
//! long each carrier takes from shipped to delivered.

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
    Router::new()
        .route("/fulfilment/queue", get(fulfilment_queue))
        .route("/shipping/carriers/performance", get(carrier_performance))
}

/// One carrier's deliveries: from each shipment's `shipped` step to its `delivered` one,
/// by the events' times.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CarrierPerformance {
    /// The mean, in seconds (rounded down).
    pub average_seconds: i64,
    pub carrier: String,
    /// Shipments delivered.
    pub delivered: i64,
    pub fastest_seconds: i64,
    pub slowest_seconds: i64,
}

/// Every carrier that has delivered, with its delivery times (staff), fastest average
/// first. A carrier answers here once one of its shipments has arrived.
#[utoipa::path(
    get,
    path = "/api/v1/shipping/carriers/performance",
    tag = "shipping",
    security(("bearer" = [])),
    params(("X-Consistency-Token" = Option<String>, Header, description = "Answer once the shipping read model covers this command position")),
    responses(
        (status = 200, description = "The carriers", body = CarrierPerformanceList),
        (status = 400, description = "A malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub(super) async fn carrier_performance(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<CarrierPerformanceList>, ApiError> {
    user.require(STAFF)?;
    caught_up(&state, &headers, "shipping").await?;
    // Carriers are configured, not created by users: a handful of rows, never paged.
    let items: Vec<CarrierPerformance> = sqlx::query_as(
        "select carrier, delivered, fastest_seconds, slowest_seconds,
                total_seconds / greatest(delivered, 1) as average_seconds
           from shipping.carrier_performance
          where delivered > 0
          order by average_seconds, carrier",
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(CarrierPerformanceList { items }))
}

/// The carriers' delivery times.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarrierPerformanceList {
    pub items: Vec<CarrierPerformance>,
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
