//! `GET /api/v1/orders/export?format=csv|ndjson` (staff): every order of the `orders` read
//! model, streamed row by row so an export of any size holds one row in memory.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/orders/export", get(export))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(export))]
pub struct OrdersExportApi;

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Format {
    Csv,
    Ndjson,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `csv` (RFC 4180, a header line first) or `ndjson` (one JSON object per line).
    format: Format,
    /// Only orders in this status.
    status: Option<String>,
}

/// One exported order; money in minor units of `currency`.
#[derive(sqlx::FromRow, Serialize)]
struct Row {
    order_id: Uuid,
    user_id: Uuid,
    status: String,
    payment_status: String,
    currency: String,
    subtotal: i64,
    discount: i64,
    tax: i64,
    shipping: i64,
    total: i64,
    refunded: i64,
    payment_method: String,
    tracking_number: Option<String>,
    cancellation_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Every order, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders/export",
    tag = "orders",
    params(ExportQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The orders, as `text/csv` or `application/x-ndjson`", body = String),
        (status = 400, description = "`invalid_query`: `format` missing or not csv/ndjson, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff or admin", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    user.require(STAFF)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    caught_up(&state, &headers, "orders").await?;
    let pool = state.pool.clone();
    let status = q.status;
    let format = q.format;
    // The query runs inside the body's stream, which owns the pool handle it needs.
    let lines = async_stream(pool, status).map(move |row| match row {
        Ok(row) => line(&row, format),
        Err(e) => {
            // Headers are gone by now: the cut-off body is the only signal left.
            tracing::error!(error = %e, "orders export failed mid-stream");
            Err(std::io::Error::other(e))
        }
    });
    let header_line = match format {
        Format::Csv => Some(Ok::<_, std::io::Error>(csv_header())),
        Format::Ndjson => None,
    };
    let body = Body::from_stream(futures::stream::iter(header_line).chain(lines));
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "orders.csv"),
        Format::Ndjson => ("application/x-ndjson", "orders.ndjson"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .expect("a plain file name"),
            ),
        ],
        body,
    )
        .into_response())
}

/// Rows a page: the export reads the table in pages by `(created_at, order_id)`, so it
/// never holds more than one page.
const PAGE: i64 = 1_000;

fn async_stream(
    pool: sqlx::PgPool,
    status: Option<String>,
) -> impl futures::Stream<Item = Result<Row, sqlx::Error>> + Send {
    type Cursor = Option<(DateTime<Utc>, Uuid)>;
    futures::stream::unfold(
        Some(None::<(DateTime<Utc>, Uuid)>),
        move |cursor: Option<Cursor>| {
            let (pool, status) = (pool.clone(), status.clone());
            async move {
                let after = cursor?;
                let page = sqlx::query_as::<_, Row>(
                    "select order_id, user_id, status, payment_status, currency::text as currency,
                        subtotal, discount, tax, shipping, total, refunded, payment_method,
                        tracking_number, cancellation_reason, created_at, updated_at
                   from orders.orders
                  where ($1::text is null or status = $1)
                    and ($2::timestamptz is null or (created_at, order_id) > ($2, $3))
                  order by created_at, order_id
                  limit $4",
                )
                .bind(&status)
                .bind(after.map(|a| a.0))
                .bind(after.map(|a| a.1))
                .bind(PAGE)
                .fetch_all(&pool)
                .await;
                match page {
                    Err(e) => Some((vec![Err(e)], None)),
                    Ok(rows) => {
                        let next = match rows.last() {
                            Some(last) if rows.len() as i64 == PAGE => {
                                Some(Some((last.created_at, last.order_id)))
                            }
                            _ => None,
                        };
                        Some((rows.into_iter().map(Ok).collect(), next))
                    }
                }
            }
        },
    )
    .flat_map(futures::stream::iter)
}

const COLUMNS: [&str; 16] = [
    "order_id",
    "user_id",
    "status",
    "payment_status",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "shipping",
    "total",
    "refunded",
    "payment_method",
    "tracking_number",
    "cancellation_reason",
    "created_at",
    "updated_at",
];

fn csv_header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

fn line(row: &Row, format: Format) -> Result<Vec<u8>, std::io::Error> {
    match format {
        Format::Ndjson => {
            let mut out = serde_json::to_vec(row).map_err(std::io::Error::other)?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            w.serialize(row).map_err(std::io::Error::other)?;
            w.into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
    }
}
