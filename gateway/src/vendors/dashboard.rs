//! `GET /vendors/me/dashboard` and `GET /vendors/{id}/dashboard` (issue 23 item 5): what a
//! store's front page shows its owner, and staff for any store. Paid sales per day and the
//! top products come from the `vendor_orders` read model; stock alerts from `catalog`
//! (the store's SKUs below their low-stock threshold); the rating from `reviews`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::reviews::views::{Histogram, RatingSummary};
use crate::state::AppState;
use crate::views::Money;

/// The longest period one answer covers, in days.
const MAX_DAYS: i64 = 366;
pub const DEFAULT_DAYS: i64 = 30;
const TOP_PRODUCTS: i64 = 10;
/// Stock alerts beyond this many are counted, not listed.
const MAX_ALERTS: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors/me/dashboard", get(my_dashboard))
        .route("/vendors/{id}/dashboard", get(vendor_dashboard))
}

#[derive(OpenApi)]
#[openapi(
    paths(my_dashboard, vendor_dashboard),
    components(schemas(DashboardView, SalesDay, TopProduct, StockAlert))
)]
pub struct VendorDashboardApi;

/// A store's sales on one UTC day, in one currency.
#[derive(Debug, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct SalesDay {
    pub day: NaiveDate,
    pub currency: String,
    /// Orders paid that day with a line of the store.
    pub orders: i32,
    /// Units those orders bought.
    pub units: i64,
    /// Their lines' prices after price rules, before the order's coupon (minor units).
    pub gross: i64,
    /// Units given back that day: cancelled before shipping, or the rest of an order
    /// refunded in full or cancelled once paid.
    pub cancelled_units: i64,
    /// What those units had been sold for (minor units).
    pub cancelled: i64,
    /// `gross - cancelled`.
    pub net: i64,
}

/// One of the store's best-selling products, over its whole history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopProduct {
    pub product_id: Uuid,
    /// `null` for a product the catalog no longer has.
    pub name: Option<String>,
    /// Units paid for, less those given back.
    pub units: i64,
    pub sales: Money,
}

/// A SKU of the store whose available stock is below its low-stock threshold.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct StockAlert {
    pub sku: String,
    pub product_id: Uuid,
    pub name: String,
    /// On hand less reserved, summed over warehouses.
    pub available: i64,
    pub threshold: i32,
    pub since: Option<chrono::DateTime<Utc>>,
}

/// What a store's dashboard shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardView {
    pub vendor_id: Uuid,
    /// The period `days` covers, both ends included (UTC days).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days with a sale or a cancellation, oldest first; a day without either is absent.
    pub days: Vec<SalesDay>,
    /// Up to 10, most units first.
    pub top_products: Vec<TopProduct>,
    /// Up to 100, fewest available first.
    pub stock_alerts: Vec<StockAlert>,
    /// Every SKU below its threshold, when there are more than listed.
    pub stock_alert_count: i64,
    /// The store's products' published reviews together.
    pub rating: RatingSummary,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First UTC day (`YYYY-MM-DD`); default 29 days before `to`.
    from: Option<NaiveDate>,
    /// Last UTC day; default today.
    to: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct TopRow {
    product_id: Uuid,
    name: Option<String>,
    currency: String,
    units: i64,
    gross: i64,
}

#[derive(sqlx::FromRow)]
struct RatingTotals {
    count: i64,
    average: Option<f64>,
    s1: i64,
    s2: i64,
    s3: i64,
    s4: i64,
    s5: i64,
}

fn period(q: &DashboardQuery) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let to = q.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = q
        .from
        .unwrap_or_else(|| to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(ApiError::invalid_field("from", "must not be after `to`"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid_field(
            "from",
            format!("a dashboard covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

async fn dashboard(
    state: &AppState,
    headers: &HeaderMap,
    vendor_id: Uuid,
    q: DashboardQuery,
) -> Result<Json<DashboardView>, ApiError> {
    let (from, to) = period(&q)?;
    for model in ["vendor_orders", "catalog", "reviews"] {
        caught_up(state, headers, model).await?;
    }
    figures(&state.pool, vendor_id, from, to).await.map(Json)
}

/// The dashboard of store `vendor_id` over the UTC days `from` to `to`: what the API
/// answers and the console shows.
pub async fn figures(
    pool: &sqlx::PgPool,
    vendor_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DashboardView, ApiError> {
    let days: Vec<SalesDay> = sqlx::query_as(
        "select day, trim(currency) as currency, sub_orders as orders, units, gross,
                cancelled_units, cancelled, gross - cancelled as net
           from vendor_orders.sales_days
          where vendor_id = $1 and day between $2 and $3
          order by day, currency",
    )
    .bind(vendor_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let top: Vec<TopRow> = sqlx::query_as(
        "select s.product_id, p.name, trim(s.currency) as currency, s.units, s.gross
           from vendor_orders.product_sales s
           left join catalog.products p using (product_id)
          where s.vendor_id = $1 and s.units > 0
          order by s.units desc, s.gross desc, s.product_id
          limit $2",
    )
    .bind(vendor_id)
    .bind(TOP_PRODUCTS)
    .fetch_all(pool)
    .await?;
    // The store's SKUs: its products' own and their variants'.
    let alerts: Vec<StockAlert> = sqlx::query_as(
        "select s.sku, s.product_id, p.name, s.available, s.low_stock_threshold as threshold,
                s.last_low_stock_at as since
           from catalog.stock s
           join catalog.products p using (product_id)
          where p.vendor_id = $1 and s.low_stock
          order by s.available, s.sku
          limit $2",
    )
    .bind(vendor_id)
    .bind(MAX_ALERTS)
    .fetch_all(pool)
    .await?;
    let stock_alert_count = if (alerts.len() as i64) < MAX_ALERTS {
        alerts.len() as i64
    } else {
        sqlx::query_scalar(
            "select count(*) from catalog.stock s join catalog.products p using (product_id)
              where p.vendor_id = $1 and s.low_stock",
        )
        .bind(vendor_id)
        .fetch_one(pool)
        .await?
    };
    let r: RatingTotals = sqlx::query_as(
        "select coalesce(sum(review_count), 0)::int8 as count,
                (round(sum(rating_sum)::numeric / nullif(sum(review_count), 0), 2))::float8
                    as average,
                coalesce(sum(stars_1), 0)::int8 as s1, coalesce(sum(stars_2), 0)::int8 as s2,
                coalesce(sum(stars_3), 0)::int8 as s3, coalesce(sum(stars_4), 0)::int8 as s4,
                coalesce(sum(stars_5), 0)::int8 as s5
           from reviews.product_ratings where vendor_id = $1",
    )
    .bind(vendor_id)
    .fetch_one(pool)
    .await?;
    Ok(DashboardView {
        vendor_id,
        from,
        to,
        days,
        top_products: top
            .into_iter()
            .map(|t| TopProduct {
                product_id: t.product_id,
                name: t.name,
                units: t.units,
                sales: Money::of(t.gross, &t.currency),
            })
            .collect(),
        stock_alerts: alerts,
        stock_alert_count,
        rating: RatingSummary {
            average: r.average,
            count: r.count,
            histogram: Histogram {
                one: r.s1,
                two: r.s2,
                three: r.s3,
                four: r.s4,
                five: r.s5,
            },
        },
    })
}

/// The caller's own store's dashboard: paid sales per day over a period (default the last
/// 30 days), its best-selling products, its SKUs low on stock, and its rating.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/me/dashboard",
    tag = "vendors",
    security(("bearer" = [])),
    params(
        DashboardQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendor_orders, catalog and reviews read models cover this command position"),
    ),
    responses(
        (status = 200, description = "The store's dashboard", body = DashboardView),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not a vendor (or staff)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a period over 366 days (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn my_dashboard(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Result<Json<DashboardView>, ApiError> {
    let vendor_id = super::own_store(&user)?;
    dashboard(&state, &headers, vendor_id, q).await
}

/// A store's dashboard (staff; a store reads its own): as `GET /vendors/me/dashboard`.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/{id}/dashboard",
    tag = "vendors",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The store"),
        DashboardQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendor_orders, catalog and reviews read models cover this command position"),
    ),
    responses(
        (status = 200, description = "The store's dashboard", body = DashboardView),
        (status = 400, description = "A bad id, or an unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another store's dashboard", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or a period over 366 days (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn vendor_dashboard(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<DashboardQuery>,
) -> Result<Json<DashboardView>, ApiError> {
    super::may_read_store(&user, id, "dashboard figures")?;
    dashboard(&state, &headers, id, q).await
}
