//! `GET /api/v1/admin/dashboard` (issue 25 item 5): what the people running the shop look
//! at first. Today's orders and revenue (UTC day), orders and revenue per day over the last
//! 14 days, the SKUs running low, and how far the read models lag behind the log. Read
//! from the `orders` and `catalog` read models and from what `/admin/projections`
//! answers; the console's home page (`/admin`) renders the same answer and polls it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::user::Role;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Money;

/// Who reads the dashboard: the people who run the shop, and analysts.
pub const DASHBOARD_READERS: &[Role] = &[Role::Staff, Role::Admin, Role::Analyst];

/// Days the trend covers, today included.
pub const DAYS: i64 = 14;

/// SKUs running low that the dashboard lists (`low_stock.total` counts them all).
const LOW_STOCK_SHOWN: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/dashboard", get(dashboard))
}

#[derive(OpenApi)]
#[openapi(
    paths(dashboard),
    components(schemas(DashboardView, DayFigures, LowStock, LowStockSku, ProjectionLag))
)]
pub struct DashboardApi;

/// The dashboard's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardView {
    /// When this answer was made.
    pub generated_at: DateTime<Utc>,
    /// Since midnight UTC.
    pub today: DayFigures,
    /// The last 14 days, oldest first, today last; days without orders are there, at 0.
    pub days: Vec<DayFigures>,
    pub low_stock: LowStock,
    pub projections: ProjectionLag,
}

/// One UTC day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayFigures {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// Orders placed that day, whatever became of them.
    pub orders: i64,
    /// Of those, the ones paid for (their payment captured, refunded or not).
    pub paid_orders: i64,
    /// What the paid orders brought in, less their refunds, one amount per currency.
    pub revenue: Vec<Money>,
}

/// SKUs below their low-stock threshold, lowest availability first.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStock {
    pub total: i64,
    /// The first 10.
    pub items: Vec<LowStockSku>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LowStockSku {
    pub sku: String,
    pub available: i64,
    pub low_stock_threshold: Option<i32>,
    pub product_id: Option<Uuid>,
}

/// How far the read models are behind `$all`, summed up from `/admin/projections`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionLag {
    pub read_models: usize,
    /// Read models whose checkpoint is not at the head.
    pub behind: Vec<String>,
    /// The largest lag in events, and in seconds (the oldest waiting event's age).
    pub max_lag_events: i64,
    pub max_lag_seconds: f64,
    /// Read models stalled, and events parked over all of them.
    pub stalled: Vec<String>,
    pub parked: i64,
}

/// The dashboard (staff, admins, analysts).
#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard",
    tag = "operations (admin)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Today's orders and revenue, 14 days of them, low stock, read models' lag", body = DashboardView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, admin or analyst", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn dashboard(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<DashboardView>, ApiError> {
    user.require(DASHBOARD_READERS)?;
    Ok(Json(read(&state).await?))
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: NaiveDate,
    currency: String,
    orders: i64,
    paid_orders: i64,
    revenue: i64,
}

/// The dashboard as it stands now.
pub async fn read(state: &AppState) -> Result<DashboardView, ApiError> {
    let now = Utc::now();
    let first = now.date_naive() - Duration::days(DAYS - 1);
    let rows: Vec<DayRow> = sqlx::query_as(
        "select (created_at at time zone 'UTC')::date as day, currency, count(*) as orders,
                count(*) filter (where payment_status in ('captured', 'partially_refunded', 'refunded')) as paid_orders,
                coalesce(sum(total - refunded) filter (where payment_status in ('captured', 'partially_refunded', 'refunded')), 0)::bigint as revenue
           from orders.orders
          where created_at >= $1::date
          group by 1, 2 order by 1, 2",
    )
    .bind(first)
    .fetch_all(&state.pool)
    .await?;
    let days = per_day(first, &rows);
    let total: i64 = sqlx::query_scalar("select count(*) from catalog.stock where low_stock")
        .fetch_one(&state.pool)
        .await?;
    let items: Vec<LowStockSku> = sqlx::query_as(
        "select sku, available, low_stock_threshold, product_id from catalog.stock
          where low_stock order by available, sku limit $1",
    )
    .bind(LOW_STOCK_SHOWN)
    .fetch_all(&state.pool)
    .await?;
    let models = crate::operations::read_models(state).await?;
    let projections = ProjectionLag {
        read_models: models.items.len(),
        behind: models
            .items
            .iter()
            .filter(|p| !p.caught_up)
            .map(|p| p.name.clone())
            .collect(),
        max_lag_events: models
            .items
            .iter()
            .filter_map(|p| p.lag_events)
            .max()
            .unwrap_or(0),
        max_lag_seconds: models
            .items
            .iter()
            .filter_map(|p| p.lag_seconds)
            .fold(0.0, f64::max),
        stalled: models
            .items
            .iter()
            .filter(|p| p.stalled)
            .map(|p| p.name.clone())
            .collect(),
        parked: models.items.iter().map(|p| p.parked).sum(),
    };
    Ok(DashboardView {
        generated_at: now,
        today: days.last().cloned().expect("14 days"),
        days,
        low_stock: LowStock { total, items },
        projections,
    })
}

/// Every day from `first` to today, each currency's rows of a day folded into it.
fn per_day(first: NaiveDate, rows: &[DayRow]) -> Vec<DayFigures> {
    (0..DAYS)
        .map(|i| {
            let day = first + Duration::days(i);
            let of_day: Vec<&DayRow> = rows.iter().filter(|r| r.day == day).collect();
            DayFigures {
                day,
                orders: of_day.iter().map(|r| r.orders).sum(),
                paid_orders: of_day.iter().map(|r| r.paid_orders).sum(),
                revenue: of_day
                    .iter()
                    .map(|r| Money::of(r.revenue, &r.currency))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_there_and_currencies_stay_apart() {
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let row = |d: u32, currency: &str, orders: i64, revenue: i64| DayRow {
            day: NaiveDate::from_ymd_opt(2026, 1, d).unwrap(),
            currency: currency.into(),
            orders,
            paid_orders: orders,
            revenue,
        };
        let days = per_day(
            first,
            &[
                row(2, "USD", 3, 900),
                row(2, "EUR", 1, 100),
                row(14, "USD", 2, 50),
            ],
        );
        assert_eq!(days.len(), 14);
        assert_eq!(days[0].orders, 0);
        assert!(days[0].revenue.is_empty());
        assert_eq!(days[1].orders, 4);
        assert_eq!(days[1].revenue.len(), 2);
        assert_eq!(days[13].day, NaiveDate::from_ymd_opt(2026, 1, 14).unwrap());
        assert_eq!(days[13].revenue[0].amount, 50);
    }
}
