//! `/inventory` (staff): receiving and adjusting a SKU's stock, and reading it, one SKU or
//! every SKU (those running low first when asked). A vendor receives and adjusts the stock
//! of its own products' SKUs (issue 23), and nobody else's.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::catalog as use_case_catalog;
use commands::inventory::{self as use_case, StockAdjustment, StockDecided, StockReceipt};
use domain::value::Sku;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::cache::cached;
use super::params::{params, raw_query, Check};
use super::problems::seller_refused;
use super::products::{seller, SELLERS};
use super::views::{StockLevels, StockView};
use crate::auth::AuthUser;
use crate::auth::STAFF;
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inventory", get(list_stock))
        .route("/inventory/{sku}", get(get_stock))
        .route("/inventory/{sku}/receive", post(receive_stock))
        .route("/inventory/{sku}/adjust", post(adjust_stock))
}

#[derive(OpenApi)]
#[openapi(
    paths(receive_stock, adjust_stock, get_stock, list_stock),
    components(schemas(ReceiveBody, AdjustBody, StockView, StockLevels, Page<StockView>)),
    tags((name = "catalog", description = "Browsing products and categories; stock for staff"))
)]
pub struct StockApi;

fn sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::invalid_field("sku", e.message))
}

/// The stock a command left, with its position.
fn answer(decided: StockDecided) -> impl IntoResponse {
    (
        consistency::headers(decided.position),
        Json(StockView::from(&decided)),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReceiveBody {
    /// Above 0.
    quantity: u32,
    /// The default warehouse when absent.
    warehouse: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AdjustBody {
    /// Units to add (positive) or take away (negative); not 0.
    delta: i64,
    /// Why (a count, damage, loss); required.
    reason: String,
    /// The default warehouse when absent.
    warehouse: Option<String>,
}

/// Books received units into a warehouse (staff; a vendor its own SKUs).
#[utoipa::path(
    post,
    path = "/api/v1/inventory/{sku}/receive",
    tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU")),
    request_body = ReceiveBody,
    responses(
        (status = 200, description = "The SKU's stock after it", body = StockView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, a SKU of another vendor's product, or `vendor_not_selling`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, a zero quantity or warehouse (`invalid_stock_change`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn receive_stock(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(raw): Path<String>,
    AppJson(body): AppJson<ReceiveBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let sku = sku(&raw)?;
    use_case_catalog::may_stock(&state.handlers, &sku, seller(&user))
        .await
        .map_err(seller_refused)?;
    let receipt = StockReceipt {
        sku,
        quantity: body.quantity,
        warehouse: body.warehouse,
    };
    let meta = request.command_meta(user.actor(), &ip);
    Ok(answer(
        use_case::receive_stock(&state.handlers, receipt, &meta).await?,
    ))
}

/// Corrects a warehouse's count by `delta`, with a reason (staff; a vendor its own SKUs).
#[utoipa::path(
    post,
    path = "/api/v1/inventory/{sku}/adjust",
    tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU")),
    request_body = AdjustBody,
    responses(
        (status = 200, description = "The SKU's stock after it", body = StockView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, a SKU of another vendor's product, or `vendor_not_selling`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient_stock`: on hand would drop below reserved or zero; or `inventory_rule`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, a zero delta, no reason or a bad warehouse (`invalid_stock_change`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn adjust_stock(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(raw): Path<String>,
    AppJson(body): AppJson<AdjustBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let sku = sku(&raw)?;
    use_case_catalog::may_stock(&state.handlers, &sku, seller(&user))
        .await
        .map_err(seller_refused)?;
    let adjustment = StockAdjustment {
        sku,
        delta: body.delta,
        reason: body.reason,
        warehouse: body.warehouse,
    };
    let meta = request.command_meta(user.actor(), &ip);
    Ok(answer(
        use_case::adjust_stock(&state.handlers, adjustment, &meta).await?,
    ))
}

#[derive(sqlx::FromRow)]
struct StockRow {
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    sold: i64,
    low_stock_threshold: Option<i32>,
    low_stock: bool,
    product_id: Option<Uuid>,
    variant_id: Option<Uuid>,
    updated_at: Option<DateTime<Utc>>,
    warehouses: sqlx::types::Json<Vec<crate::views::WarehouseStock>>,
    total: Option<i64>,
}

const STOCK_COLUMNS: &str = "sku, on_hand, reserved, available, sold, low_stock_threshold,
    low_stock, product_id, variant_id, updated_at,
    coalesce((select jsonb_agg(jsonb_build_object('warehouse', w.warehouse,
                  'on_hand', w.on_hand, 'reserved', w.reserved, 'available', w.available)
                  order by w.warehouse)
                from inventory.stock w where w.sku = catalog.stock.sku), '[]') as warehouses";

impl From<StockRow> for StockView {
    fn from(r: StockRow) -> Self {
        StockView {
            sku: r.sku,
            on_hand: r.on_hand,
            reserved: r.reserved,
            available: r.available,
            levels: Some(StockLevels {
                sold: r.sold,
                low_stock_threshold: r.low_stock_threshold,
                low_stock: r.low_stock,
                product_id: r.product_id,
                variant_id: r.variant_id,
                updated_at: r.updated_at,
                warehouses: r.warehouses.0,
            }),
        }
    }
}

/// Stock of one SKU, summed over warehouses (staff).
#[utoipa::path(
    get,
    path = "/api/v1/inventory/{sku}",
    tag = "catalog",
    params(("sku" = String, Path, description = "The SKU (case-insensitive)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "On hand, reserved, available", body = StockView),
        (status = 400, description = "Not a valid SKU", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No product, variant or stock has this SKU", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_stock(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::invalid_query("sku", e.message))?;
    // Per-warehouse stock comes from the inventory read model: the token covers it too.
    caught_up(&state, &headers, "inventory").await?;
    let key = format!("staff|stock/{}", sku.as_str());
    let pool = &state.pool;
    cached(&state, &headers, key, move || async move {
        stock_of(pool, &sku)
            .await?
            .ok_or_else(|| ApiError::NotFound("no such SKU".into()))
    })
    .await
}

/// The stock of one SKU, per warehouse too, as `GET /inventory/{sku}` answers it; `None`
/// when nothing has this SKU.
pub(crate) async fn stock_of(
    pool: &sqlx::PgPool,
    sku: &Sku,
) -> Result<Option<StockView>, ApiError> {
    let row: Option<StockRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {STOCK_COLUMNS}, null::bigint as total from catalog.stock where sku = $1"
    )))
    .bind(sku.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(StockView::from))
}

/// Stock of every SKU (staff), by SKU; `low_stock=true` lists those below their threshold,
/// lowest availability first.
#[utoipa::path(
    get,
    path = "/api/v1/inventory",
    tag = "catalog",
    params(
        ("low_stock" = Option<bool>, Query, description = "Only SKUs below their threshold"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<i64>, Query, description = "Default 0"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of stock rows", body = Page<StockView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 403, response = problem::NotStaff),
    )
)]
async fn list_stock(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    user.require(STAFF)?;
    let p = params(query, &["limit", "offset", "low_stock"])?;
    let mut c = Check::default();
    let (limit, offset) = c.page(&p);
    let low = c.bool(&p, "low_stock").unwrap_or(false);
    c.done()?;
    caught_up(&state, &headers, "inventory").await?;
    let key = format!("staff|stock?{}", raw_query(&raw));
    let pool = &state.pool;
    cached(&state, &headers, key, move || async move {
        let (filter, order) = if low {
            ("where low_stock", "available, sku")
        } else {
            ("", "sku")
        };
        let rows: Vec<StockRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {STOCK_COLUMNS}, count(*) over () as total from catalog.stock {filter}
              order by {order} limit $1 offset $2"
        )))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total = match rows.first() {
            Some(r) => r.total.unwrap_or(0),
            None => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select count(*) from catalog.stock {filter}"
                )))
                .fetch_one(pool)
                .await?
            }
        };
        Ok(Page {
            items: rows.into_iter().map(StockView::from).collect(),
            total,
            limit,
            offset,
        })
    })
    .await
}
