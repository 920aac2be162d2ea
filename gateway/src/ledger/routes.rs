//! A store's ledger and payouts: `GET /vendors/me/ledger` and `/vendors/me/payouts` (the
//! caller's own store), `GET /vendors/{id}/ledger` and `/vendors/{id}/payouts` (staff, or
//! the store itself; another vendor is refused), `POST /vendors/{id}/payouts` and
//! `POST /vendors/{id}/adjustments` (staff).
//! The lists read the `ledger` read model, a page of JSON at a time, or whole as CSV when
//! asked (`Accept: text/csv` or `?format=csv`); the payout calls its use case.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::ledger::{self as use_case, PayoutRequest};
use domain::ledger::EntryKind;
use domain::money::Currency;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::views::{
    csv, entry_fields, payout_fields, EntryRow, EntryView, LedgerPage, LedgerSummary, PayoutPage,
    PayoutRow, PayoutView, PostingView, SummaryRow, ENTRY_CSV, PAYOUT_CSV,
};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::vendors::{may_read_store, own_store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors/me/ledger", get(my_ledger))
        .route("/vendors/me/payouts", get(my_payouts))
        .route("/vendors/{id}/ledger", get(vendor_ledger))
        .route(
            "/vendors/{id}/payouts",
            get(vendor_payouts).post(create_payout),
        )
        .route("/vendors/{id}/adjustments", post(adjust))
}

#[derive(OpenApi)]
#[openapi(
    paths(my_ledger, vendor_ledger, my_payouts, vendor_payouts, create_payout, adjust),
    components(schemas(
        LedgerPage,
        LedgerSummary,
        EntryView,
        PostingView,
        PayoutPage,
        PayoutView,
        PayoutBody,
        AdjustmentBody,
        AdjustmentView
    )),
    tags((name = "ledger", description = "Each store's double-entry ledger of sales, commission, refunds, clawbacks and payouts"))
)]
pub struct LedgerApi;

/// What a store keeps to itself here, as a refusal names it.
const LEDGER: &str = "ledger and payouts";

/// Whether the caller asked for CSV: `?format=csv`, or `Accept: text/csv` without a format.
fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, ApiError> {
    match format.map(str::trim) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::invalid_query(
            "format",
            format!("{other:?}: use csv or json"),
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("text/csv")))),
    }
}

fn csv_answer(body: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// One snapshot for the statements of an answer: its count, its rows and its totals read
/// the same batches of the read model, never a batch committed between two of them.
async fn snapshot(
    state: &AppState,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, ApiError> {
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The most rows a CSV export holds.
const CSV_ROWS: i64 = 100_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    /// Only entries of this kind: `sale`, `tax`, `commission`, `fee`, `refund`,
    /// `clawback`, `adjustment`, `payout`.
    kind: Option<String>,
    /// Only entries in this currency.
    currency: Option<String>,
    /// `at` (oldest first, the default) or `-at` (newest first).
    sort: Option<String>,
    /// 1 to 100, default 20 (JSON only; CSV holds every entry).
    limit: Option<i64>,
    /// Default 0 (JSON only).
    offset: Option<i64>,
    /// `csv` or `json`; without it, `Accept: text/csv` asks for CSV.
    format: Option<String>,
}

const KINDS: [EntryKind; 8] = [
    EntryKind::Sale,
    EntryKind::Tax,
    EntryKind::Commission,
    EntryKind::Fee,
    EntryKind::Refund,
    EntryKind::Clawback,
    EntryKind::Adjustment,
    EntryKind::Payout,
];

async fn ledger(
    state: &AppState,
    headers: &HeaderMap,
    vendor_id: Uuid,
    q: LedgerQuery,
) -> Result<Response, ApiError> {
    let csv_wanted = wants_csv(q.format.as_deref(), headers)?;
    let (limit, offset) = if csv_wanted {
        (CSV_ROWS, 0)
    } else {
        ApiError::page(q.limit, q.offset)?
    };
    let kind = q.kind.as_deref().map(str::trim);
    if let Some(k) = kind {
        if !KINDS.iter().any(|x| x.as_str() == k) {
            return Err(ApiError::invalid_field(
                "kind",
                format!(
                    "{k:?}: use sale, tax, commission, fee, refund, clawback, adjustment or payout"
                ),
            ));
        }
    }
    let currency = q
        .currency
        .as_deref()
        .map(|c| {
            Currency::parse(c.trim())
                .map_err(|e| ApiError::invalid_field("currency", e.to_string()))
        })
        .transpose()?;
    let order = match q.sort.as_deref().map(str::trim).unwrap_or("at") {
        "at" => "revision, entry_no",
        "-at" => "revision desc, entry_no desc",
        other => {
            return Err(ApiError::invalid_field(
                "sort",
                format!("{other:?}: use at or -at"),
            ))
        }
    };
    caught_up(state, headers, "ledger").await?;
    let mut tx = snapshot(state).await?;
    // The balance after each entry is the running sum of effects in its currency, over
    // every entry of the store, before the filter cuts the list.
    let filtered = "with running as (
             select *, sum(effect) over (partition by currency order by revision, entry_no)
                       as balance_after
               from ledger.entries where vendor_id = $1)
         select * from running
          where ($2::text is null or kind = $2) and ($3::text is null or currency = $3)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from ({filtered}) f"
    )))
    .bind(vendor_id)
    .bind(kind)
    .bind(currency.map(|c| c.as_str().to_owned()))
    .fetch_one(&mut *tx)
    .await?;
    // `order` is one of the constants above, never the client's text.
    let rows: Vec<EntryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select revision, entry_no, event_type, kind, currency, amount, effect,
                balance_after::int8 as balance_after, order_id, sku, payout_id, postings, at
           from ({filtered}) f
          order by {order}
          limit $4 offset $5"
    )))
    .bind(vendor_id)
    .bind(kind)
    .bind(currency.map(|c| c.as_str().to_owned()))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    if csv_wanted {
        let body = csv(ENTRY_CSV, &rows, entry_fields)?;
        return Ok(csv_answer(body, &format!("ledger-{vendor_id}.csv")));
    }
    let summary: Vec<SummaryRow> = sqlx::query_as(
        "select currency, gross, tax, commission, fees, refunds, clawbacks, adjustments,
                paid_out, net, balance, clawback_outstanding, entry_count, updated_at
           from ledger.balances where vendor_id = $1 order by currency",
    )
    .bind(vendor_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Json(LedgerPage {
        items: rows.into_iter().map(EntryView::from).collect(),
        limit,
        offset,
        summary: summary.into_iter().map(LedgerSummary::from).collect(),
        total,
        vendor_id,
    })
    .into_response())
}

/// The caller's own store's ledger: its totals per currency (gross, commission, fees,
/// refunds, clawbacks, adjustments, net, paid out, balance) and its entries, each with
/// its balanced postings and the balance after it; a page of JSON, or every entry as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/me/ledger",
    tag = "ledger",
    security(("bearer" = [])),
    params(
        LedgerQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the ledger read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of entries with the totals (`application/json`), or every entry (`text/csv`)", body = LedgerPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not a vendor (or staff)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `kind`, `currency`, `sort`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn my_ledger(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, ApiError> {
    let vendor_id = own_store(&user)?;
    ledger(&state, &headers, vendor_id, q).await
}

/// A store's ledger (staff; a store reads its own): as `GET /vendors/me/ledger`.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/{id}/ledger",
    tag = "ledger",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The store"),
        LedgerQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the ledger read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of entries with the totals (`application/json`), or every entry (`text/csv`)", body = LedgerPage),
        (status = 400, description = "A bad id, or an unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another store's ledger", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `kind`, `currency`, `sort`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn vendor_ledger(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, ApiError> {
    may_read_store(&user, id, LEDGER)?;
    ledger(&state, &headers, id, q).await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PayoutsQuery {
    /// Only payouts in this status: `requested`, `paid`, `failed`.
    status: Option<String>,
    /// 1 to 100, default 20 (JSON only; CSV holds every payout).
    limit: Option<i64>,
    /// Default 0 (JSON only).
    offset: Option<i64>,
    /// `csv` or `json`; without it, `Accept: text/csv` asks for CSV.
    format: Option<String>,
}

async fn payouts(
    state: &AppState,
    headers: &HeaderMap,
    vendor_id: Uuid,
    q: PayoutsQuery,
) -> Result<Response, ApiError> {
    let csv_wanted = wants_csv(q.format.as_deref(), headers)?;
    let (limit, offset) = if csv_wanted {
        (CSV_ROWS, 0)
    } else {
        ApiError::page(q.limit, q.offset)?
    };
    let status = q.status.as_deref().map(str::trim);
    if let Some(s) = status {
        if !["requested", "paid", "failed"].contains(&s) {
            return Err(ApiError::invalid_field(
                "status",
                format!("{s:?}: use requested, paid or failed"),
            ));
        }
    }
    caught_up(state, headers, "ledger").await?;
    let mut tx = snapshot(state).await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from ledger.payouts
          where vendor_id = $1 and ($2::text is null or status = $2)",
    )
    .bind(vendor_id)
    .bind(status)
    .fetch_one(&mut *tx)
    .await?;
    let rows: Vec<PayoutRow> = sqlx::query_as(
        "select payout_id, vendor_id, currency, period_start, period_end, amount, clawback,
                status, provider_reference, failure_reason, requested_at, settled_at
           from ledger.payouts
          where vendor_id = $1 and ($2::text is null or status = $2)
          order by requested_at desc, payout_id
          limit $3 offset $4",
    )
    .bind(vendor_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    if csv_wanted {
        let body = csv(PAYOUT_CSV, &rows, payout_fields)?;
        return Ok(csv_answer(body, &format!("payouts-{vendor_id}.csv")));
    }
    Ok(Json(PayoutPage {
        items: rows.into_iter().map(PayoutView::from).collect(),
        limit,
        offset,
        total,
    })
    .into_response())
}

/// The caller's own store's payouts, newest first: a page of JSON, or all of them as CSV.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/me/payouts",
    tag = "ledger",
    security(("bearer" = [])),
    params(
        PayoutsQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the ledger read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of payouts (`application/json`), or every payout (`text/csv`)", body = PayoutPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not a vendor (or staff)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `status`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn my_payouts(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<PayoutsQuery>,
) -> Result<Response, ApiError> {
    let vendor_id = own_store(&user)?;
    payouts(&state, &headers, vendor_id, q).await
}

/// A store's payouts (staff; a store reads its own): as `GET /vendors/me/payouts`.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/{id}/payouts",
    tag = "ledger",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The store"),
        PayoutsQuery,
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the ledger read model covers this command position"),
    ),
    responses(
        (status = 200, description = "A page of payouts (`application/json`), or every payout (`text/csv`)", body = PayoutPage),
        (status = 400, description = "A bad id, or an unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Another store's payouts", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `status`, `limit` or `offset`", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn vendor_payouts(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<PayoutsQuery>,
) -> Result<Response, ApiError> {
    may_read_store(&user, id, LEDGER)?;
    payouts(&state, &headers, id, q).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayoutBody)]
pub struct PayoutBody {
    /// The period's end: what the store earned before it and has not been paid is paid,
    /// never more than its balance now. Default: now.
    period_end: Option<DateTime<Utc>>,
    /// Recorded with the payout; before `period_end`.
    period_start: Option<DateTime<Utc>>,
    /// Required when the store's ledger holds several currencies.
    currency: Option<String>,
}

/// Pays a store (staff) what it earned before the period's end and is owed now, less any
/// clawback outstanding (refunds of lines already paid out), through the payout provider.
/// The payout is recorded, then the provider's answer: `paid`, or `failed` (the entries
/// reversed, the store owed again). The built-in `test` provider refuses a store without
/// payout details and an account starting with `FAIL`.
#[utoipa::path(
    post,
    path = "/api/v1/vendors/{id}/payouts",
    tag = "ledger",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The store")),
    request_body = PayoutBody,
    responses(
        (status = 201, description = "The payout, `paid` or `failed`", body = PayoutView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`payout_in_flight`: the store's previous payout still waits for the provider", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`nothing_to_pay`: nothing owed for the period; or a bad period or currency (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_payout(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<PayoutBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let currency = body
        .currency
        .as_deref()
        .map(|c| {
            Currency::parse(c.trim())
                .map_err(|e| ApiError::invalid_field("currency", e.to_string()))
        })
        .transpose()?;
    let outcome = use_case::create_payout(
        &state.handlers,
        &*state.payouts,
        id,
        PayoutRequest {
            currency,
            period_start: body.period_start,
            period_end: body.period_end,
        },
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(outcome.position),
        Json(PayoutView::of(id, outcome.payout)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentAmount {
    /// Minor units: positive in the store's favour, negative against it; not zero.
    amount: i64,
    currency: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LedgerAdjustmentBody)]
pub struct AdjustmentBody {
    amount: AdjustmentAmount,
    /// Why: the store reads it in its ledger's history.
    reason: String,
}

/// What an adjustment answers: where it sits in the log (read the ledger with the token).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentView {
    pub amount: crate::views::Money,
    pub reason: String,
    pub vendor_id: Uuid,
}

/// Corrects a store's ledger (staff): an `adjustment` entry in its favour (positive) or
/// against it (negative), with a reason.
#[utoipa::path(
    post,
    path = "/api/v1/vendors/{id}/adjustments",
    tag = "ledger",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The store")),
    request_body = AdjustmentBody,
    responses(
        (status = 201, description = "The adjustment, recorded", body = AdjustmentView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A zero or out-of-range amount, a bad currency, no reason (`errors` names it)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn adjust(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<AdjustmentBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let currency = Currency::parse(body.amount.currency.trim())
        .map_err(|e| ApiError::invalid_field("amount.currency", e.to_string()))?;
    let amount = domain::money::Money::new(body.amount.amount, currency);
    let position = use_case::adjust(
        &state.handlers,
        id,
        amount,
        body.reason.clone(),
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(position),
        Json(AdjustmentView {
            amount: amount.into(),
            reason: body.reason.trim().to_owned(),
            vendor_id: id,
        }),
    ))
}
