//! `GET /inventory/report` (staff): per SKU and warehouse, the stock and its days of
//! cover, from the `inventory` read model; a JSON page, or every row as CSV.
//!
//! Days of cover are what is available divided by the average units shipped per day over
//! the last 30 days (today, UTC, and the 29 days before), to one decimal; null when
//! nothing shipped from there in that time, since no rate of sale means no estimate.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use crate::views::Page;

/// The days the rate of sale is averaged over.
const WINDOW_DAYS: i64 = 30;

pub fn router() -> Router<AppState> {
    Router::new().route("/inventory/report", get(report))
}

#[derive(OpenApi)]
#[openapi(paths(report), components(schemas(ReportRow, Page<ReportRow>)))]
pub struct ReportApi;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// `json` (the default, paged) or `csv` (every row, a header line first).
    format: Option<String>,
    /// JSON only: 1 to 100, default 20.
    limit: Option<i64>,
    /// JSON only: 0 or more, default 0.
    offset: Option<i64>,
}

/// One SKU in one warehouse.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ReportRow {
    pub available: i64,
    /// `available` over the average units shipped per day in the last 30 days; null when
    /// none shipped.
    #[sqlx(skip)]
    pub days_of_cover: Option<f64>,
    pub on_hand: i64,
    pub reserved: i64,
    /// Units shipped from this warehouse in the last 30 days.
    pub sold_30_days: i64,
    pub sku: String,
    pub warehouse: String,
}

impl ReportRow {
    fn with_cover(mut self) -> Self {
        self.days_of_cover = (self.sold_30_days > 0).then(|| {
            let per_day = self.sold_30_days as f64 / WINDOW_DAYS as f64;
            (self.available as f64 / per_day * 10.0).round() / 10.0
        });
        self
    }
}

const ROWS: &str = "select s.sku, s.warehouse, s.on_hand, s.reserved, s.available,
            coalesce(d.sold, 0)::bigint as sold_30_days
       from inventory.stock s
       left join (select sku, warehouse, sum(quantity) as sold from inventory.sales
                   where day > (now() at time zone 'utc')::date - 30
                   group by sku, warehouse) d using (sku, warehouse)
      order by s.sku, s.warehouse";

/// Stock per SKU and warehouse with its days of cover (staff), by SKU then warehouse.
#[utoipa::path(
    get,
    path = "/api/v1/inventory/report",
    tag = "inventory",
    params(ReportQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the inventory read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of rows (JSON), or every row as `text/csv`", body = Page<ReportRow>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn report(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    user.require(STAFF)?;
    let Query(q) = query.map_err(|e| ApiError::invalid_query("query", e.body_text()))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid_query("format", "must be json or csv")),
    };
    let mut errors = Vec::new();
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            "must be a whole number from 1 to 100",
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        errors.push(FieldError::new("offset", "must not be negative"));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    caught_up(&state, &headers, "inventory").await?;
    if csv {
        let rows: Vec<ReportRow> = sqlx::query_as(ROWS).fetch_all(&state.pool).await?;
        return Ok(as_csv(rows));
    }
    let total: i64 = sqlx::query_scalar("select count(*) from inventory.stock")
        .fetch_one(&state.pool)
        .await?;
    let rows: Vec<ReportRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{ROWS} limit $1 offset $2")))
            .bind(limit)
            .bind(offset)
            .fetch_all(&state.pool)
            .await?;
    Ok(Json(Page {
        items: rows.into_iter().map(ReportRow::with_cover).collect(),
        total,
        limit,
        offset,
    })
    .into_response())
}

/// Every row as CSV, a header line first; an empty cell for no days of cover.
fn csv_body(rows: Vec<ReportRow>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "sku",
        "warehouse",
        "on_hand",
        "reserved",
        "available",
        "sold_30_days",
        "days_of_cover",
    ])?;
    for r in rows.into_iter().map(ReportRow::with_cover) {
        w.write_record([
            r.sku,
            r.warehouse,
            r.on_hand.to_string(),
            r.reserved.to_string(),
            r.available.to_string(),
            r.sold_30_days.to_string(),
            r.days_of_cover.map(|d| d.to_string()).unwrap_or_default(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

fn as_csv(rows: Vec<ReportRow>) -> Response {
    match csv_body(rows) {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"inventory-report.csv\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
