//! A SKU's low-stock threshold, and the alerts it raises: `PUT /inventory/{sku}/threshold`
//! sets it through `commands::inventory`, and `GET /inventory/alerts` lists the SKUs whose
//! available stock is below theirs now, with when they crossed it.
//!
//! The inventory aggregate records `LowStockDetected` once per crossing (a fall below, or a
//! threshold raised above what is available); the catalog read model keeps per SKU whether
//! it is below its threshold and when the last crossing was recorded, which is the
//! current one while the SKU stays below.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::inventory::{self as use_case, StockDecided};
use domain::inventory::MAX_LOW_STOCK_THRESHOLD;
use domain::value::Sku;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::query::{page, PageQuery};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inventory/alerts", get(alerts))
        .route("/inventory/{sku}/threshold", put(set_threshold))
}

#[derive(OpenApi)]
#[openapi(
    paths(set_threshold, alerts),
    components(schemas(ThresholdBody, ThresholdView, AlertView, Page<AlertView>)),
    tags((name = "inventory", description = "Stock thresholds, alerts and warehouses (staff)"))
)]
pub struct ThresholdsApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ThresholdBody {
    /// Available units below which the SKU is low on stock: 0 (never low) to 1,000,000.
    threshold: i64,
}

/// A SKU's stock and threshold as the command left them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdView {
    /// On hand minus reserved, over every warehouse.
    pub available: i64,
    /// Whether `available` is below the threshold now.
    pub low_stock: bool,
    pub low_stock_threshold: u32,
    pub on_hand: i64,
    pub reserved: i64,
    pub sku: String,
}

impl From<&StockDecided> for ThresholdView {
    fn from(d: &StockDecided) -> Self {
        let threshold = d.state.low_stock_threshold.unwrap_or_default();
        ThresholdView {
            available: d.state.available(),
            low_stock: d.state.available() < i64::from(threshold),
            low_stock_threshold: threshold,
            on_hand: d.state.on_hand_total(),
            reserved: d.state.reserved(),
            sku: d.sku.as_str().to_owned(),
        }
    }
}

/// Sets the available count below which a SKU is low on stock (staff). Setting it above
/// what is available raises the alert at once.
#[utoipa::path(
    put,
    path = "/api/v1/inventory/{sku}/threshold",
    tag = "inventory",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU (case-insensitive)")),
    request_body = ThresholdBody,
    responses(
        (status = 200, description = "The SKU's stock and its threshold", body = ThresholdView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No product, variant or stock has this SKU", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, a threshold below 0 or above 1,000,000 (`validation_failed` naming `threshold`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_threshold(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(raw): Path<String>,
    AppJson(body): AppJson<ThresholdBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&raw).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let threshold = u32::try_from(body.threshold).map_err(|_| {
        ApiError::invalid_field(
            "threshold",
            format!("must be 0 to {MAX_LOW_STOCK_THRESHOLD}"),
        )
    })?;
    let meta = request.command_meta(user.actor(), &ip);
    let decided = use_case::set_low_stock_threshold(&state.handlers, sku, threshold, &meta).await?;
    Ok((
        consistency::headers(decided.position),
        Json(ThresholdView::from(&decided)),
    ))
}

/// A SKU below its low-stock threshold.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub available: i64,
    /// When the SKU last fell below its threshold (the current crossing); `null` for a fall
    /// recorded before alerts were.
    pub crossed_at: Option<DateTime<Utc>>,
    pub low_stock_threshold: i32,
    pub on_hand: i64,
    /// The product that sells the SKU, once the catalog knows it.
    pub product_id: Option<Uuid>,
    pub reserved: i64,
    pub sku: String,
    /// The variant, when the SKU is a variant's.
    pub variant_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    low_stock_threshold: i32,
    last_low_stock_at: Option<DateTime<Utc>>,
    product_id: Option<Uuid>,
    variant_id: Option<Uuid>,
}

impl From<AlertRow> for AlertView {
    fn from(r: AlertRow) -> Self {
        AlertView {
            available: r.available,
            crossed_at: r.last_low_stock_at,
            low_stock_threshold: r.low_stock_threshold,
            on_hand: r.on_hand,
            product_id: r.product_id,
            reserved: r.reserved,
            sku: r.sku,
            variant_id: r.variant_id,
        }
    }
}

/// The SKUs below their low-stock threshold now (staff), those that crossed most recently
/// first.
#[utoipa::path(
    get,
    path = "/api/v1/inventory/alerts",
    tag = "inventory",
    params(PageQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the catalog read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of SKUs below their threshold", body = Page<AlertView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn alerts(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = page(query)?;
    caught_up(&state, &headers, "catalog").await?;
    let total: i64 = sqlx::query_scalar("select count(*) from catalog.stock where low_stock")
        .fetch_one(&state.pool)
        .await?;
    let rows: Vec<AlertRow> = sqlx::query_as(
        "select sku, on_hand, reserved, available, low_stock_threshold, last_low_stock_at,
                product_id, variant_id
           from catalog.stock where low_stock
          order by last_low_stock_at desc nulls last, sku
          limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page {
        items: rows.into_iter().map(AlertView::from).collect(),
        total,
        limit,
        offset,
    }))
}
