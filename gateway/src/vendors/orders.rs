//! `GET /vendors/me/orders` and `GET /vendors/{id}/orders`: a store's sub-orders, its part
//! of each customer's order with its lines and how far they have shipped, newest first,
//! from the `vendor_orders` read model. A store reads its own, staff any.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Money;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors/me/orders", get(my_orders))
        .route("/vendors/{id}/orders", get(vendor_orders))
}

#[derive(OpenApi)]
#[openapi(
    paths(my_orders, vendor_orders),
    components(schemas(SubOrderView, SubOrderLineView, SubOrderPage)),
    tags((name = "vendors", description = "The stores of the marketplace: applications, their pages, staff's decisions and terms"))
)]
pub struct VendorOrdersApi;

/// One line of a store's sub-order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubOrderLineView {
    /// Units cancelled before they shipped: they never leave.
    #[serde(default)]
    pub cancelled: i32,
    /// Units that arrived.
    pub delivered: i32,
    /// The line at its price after price rules (before the order's coupon).
    pub price: i64,
    pub product_id: Uuid,
    pub quantity: i32,
    /// Units that left in a shipment.
    pub shipped: i32,
    pub sku: String,
    pub variant_id: Option<Uuid>,
}

/// A store's part of a customer's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubOrderView {
    /// `unfulfilled` (nothing left yet), `partially_shipped`, `shipped` (every unit left)
    /// or `delivered` (every unit arrived): the store's own lines only.
    pub fulfilment: String,
    pub lines: Vec<SubOrderLineView>,
    pub order_id: Uuid,
    /// The customer's order's status.
    pub order_status: String,
    pub placed_at: DateTime<Utc>,
    pub subtotal: Money,
    pub units: i32,
    pub updated_at: DateTime<Utc>,
    pub vendor_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubOrderPage {
    pub items: Vec<SubOrderView>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct SubOrderRow {
    vendor_id: Uuid,
    order_id: Uuid,
    order_status: String,
    currency: String,
    subtotal: i64,
    units: i32,
    placed_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    lines: sqlx::types::Json<Vec<SubOrderLineView>>,
}

impl From<SubOrderRow> for SubOrderView {
    fn from(r: SubOrderRow) -> Self {
        let lines = r.lines.0;
        let total: i32 = lines.iter().map(|l| l.quantity - l.cancelled).sum();
        let shipped: i32 = lines.iter().map(|l| l.shipped).sum();
        let delivered: i32 = lines.iter().map(|l| l.delivered).sum();
        let fulfilment = if delivered >= total {
            "delivered"
        } else if shipped >= total {
            "shipped"
        } else if shipped > 0 {
            "partially_shipped"
        } else {
            "unfulfilled"
        };
        SubOrderView {
            fulfilment: fulfilment.to_owned(),
            lines,
            order_id: r.order_id,
            order_status: r.order_status,
            placed_at: r.placed_at,
            subtotal: Money::of(r.subtotal, r.currency.trim()),
            units: r.units,
            updated_at: r.updated_at,
            vendor_id: r.vendor_id,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubOrdersQuery {
    /// Only sub-orders of orders in this status (`paid`, `shipped`, ...).
    status: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

async fn sub_orders(
    state: &AppState,
    headers: &HeaderMap,
    vendor_id: Uuid,
    q: SubOrdersQuery,
) -> Result<Json<SubOrderPage>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let status = q.status.as_deref().map(str::trim);
    caught_up(state, headers, "vendor_orders").await?;
    // The count and the page from one snapshot of the read model.
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from vendor_orders.sub_orders
          where vendor_id = $1 and ($2::text is null or order_status = $2)",
    )
    .bind(vendor_id)
    .bind(status)
    .fetch_one(&mut *tx)
    .await?;
    let rows: Vec<SubOrderRow> = sqlx::query_as(
        "select o.vendor_id, o.order_id, o.order_status, o.currency, o.subtotal, o.units,
                o.placed_at, o.updated_at,
                (select coalesce(jsonb_agg(jsonb_build_object(
                            'sku', l.sku, 'product_id', l.product_id,
                            'variant_id', l.variant_id, 'quantity', l.quantity,
                            'price', l.price, 'shipped', l.shipped,
                            'delivered', l.delivered, 'cancelled', l.cancelled)
                            order by l.sku), '[]')
                   from vendor_orders.sub_order_lines l
                  where l.vendor_id = o.vendor_id and l.order_id = o.order_id) as lines
           from vendor_orders.sub_orders o
          where o.vendor_id = $1 and ($2::text is null or o.order_status = $2)
          order by o.placed_at desc, o.order_id
          limit $3 offset $4",
    )
    .bind(vendor_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Json(SubOrderPage {
        items: rows.into_iter().map(SubOrderView::from).collect(),
        limit,
        offset,
        total,
    }))
}

/// The caller's own store's sub-orders: its part of each order (its lines only, their
/// subtotal, the order's status) and how far its lines have shipped; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/me/orders",
    tag = "vendors",
    security(("bearer" = [])),
    params(
        SubOrdersQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendor_orders read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of sub-orders", body = SubOrderPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not a vendor (or staff)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn my_orders(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<SubOrdersQuery>,
) -> Result<Json<SubOrderPage>, ApiError> {
    let vendor_id = super::own_store(&user)?;
    sub_orders(&state, &headers, vendor_id, q).await
}

/// A store's sub-orders (staff; a store reads its own): as `GET /vendors/me/orders`.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/{id}/orders",
    tag = "vendors",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The store"),
        SubOrdersQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendor_orders read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of sub-orders", body = SubOrderPage),
        (status = 400, description = "A bad id, or an unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another store's orders", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn vendor_orders(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<SubOrdersQuery>,
) -> Result<Json<SubOrderPage>, ApiError> {
    super::may_read_store(&user, id, "orders")?;
    sub_orders(&state, &headers, id, q).await
}
