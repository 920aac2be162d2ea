//! `/tax-rates` (staff) and `/tax-settings`: each handler checks the caller, calls one use
//! case of `commands::tax`, and answers a view of the table.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use commands::tax::{self as use_case, TaxUseError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::views::{parse_zone, TaxRateBody, TaxRateView, TaxSettingsView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tax-rates", get(list_rates))
        .route(
            "/tax-rates/{zone}",
            get(get_rate).put(set_rate).delete(remove_rate),
        )
        .route("/tax-settings", get(get_settings).put(put_settings))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_rates, get_rate, set_rate, remove_rate, get_settings, put_settings),
    components(schemas(TaxRateView, TaxRateBody, TaxSettingsView, Page<TaxRateView>)),
    tags((name = "tax", description = "The store's tax rates by country and region, and whether prices include tax"))
)]
pub struct TaxApi;

impl From<TaxUseError> for ApiError {
    fn from(e: TaxUseError) -> Self {
        match e {
            TaxUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ TaxUseError::UnknownZone => ApiError::NotFound(e.to_string()),
            TaxUseError::Full(message) => ApiError::invalid_field("zone", message),
            TaxUseError::Store(e) => e.into(),
            TaxUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn unknown_zone() -> ApiError {
    ApiError::NotFound("no rate is set for this zone".into())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this country's rates (ISO 3166-1 alpha-2, any case).
    country: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The tax rates by zone (staff), countries before their regions.
#[utoipa::path(
    get,
    path = "/api/v1/tax-rates",
    tag = "tax",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of rates", body = Page<TaxRateView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_rates(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<TaxRateView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let table = use_case::tax_table(&state.handlers).await?;
    let country = q.country.map(|c| c.trim().to_ascii_uppercase());
    let rates: Vec<_> = table
        .rates
        .values()
        .filter(|r| country.as_ref().is_none_or(|c| r.zone.country == *c))
        .collect();
    let total = rates.len() as i64;
    let items = rates
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(TaxRateView::from)
        .collect();
    Ok(Json(Page {
        items,
        limit,
        offset,
        total,
    }))
}

/// One zone's rate (staff).
#[utoipa::path(
    get,
    path = "/api/v1/tax-rates/{zone}",
    tag = "tax",
    security(("bearer" = [])),
    params(("zone" = String, Path, description = "`US`, or a region: `US-NY` (ISO 3166-2)")),
    responses(
        (status = 200, description = "The rate", body = TaxRateView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No rate is set for the zone", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_rate(
    State(state): State<AppState>,
    user: AuthUser,
    Path(zone): Path<String>,
) -> Result<Json<TaxRateView>, ApiError> {
    user.require(STAFF)?;
    let zone = parse_zone(&zone).map_err(|_| unknown_zone())?;
    let table = use_case::tax_table(&state.handlers).await?;
    table
        .rates
        .get(&zone)
        .map(|r| Json(TaxRateView::from(r)))
        .ok_or_else(unknown_zone)
}

/// Sets a zone's rate (staff), replacing the one it had. Orders already placed keep the
/// rate each of their lines recorded.
#[utoipa::path(
    put,
    path = "/api/v1/tax-rates/{zone}",
    tag = "tax",
    security(("bearer" = [])),
    params(("zone" = String, Path, description = "`US`, or a region: `US-NY` (ISO 3166-2)")),
    request_body = TaxRateBody,
    responses(
        (status = 200, description = "The rate", body = TaxRateView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad zone, a rate above 100%, a bad name, a full table, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_rate(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(zone): Path<String>,
    AppJson(body): AppJson<TaxRateBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let zone = parse_zone(&zone).map_err(|e| ApiError::invalid_field("zone", e.to_string()))?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::set_rate(
        &state.handlers,
        zone.clone(),
        body.rate_ppm,
        body.name,
        &meta,
    )
    .await?;
    let rate = done.table.rates.get(&zone).ok_or_else(unknown_zone)?;
    Ok((
        consistency::headers(done.position),
        Json(TaxRateView::from(rate)),
    ))
}

/// Removes a zone's rate (staff): its addresses fall back to their country's rate, or
/// none.
#[utoipa::path(
    delete,
    path = "/api/v1/tax-rates/{zone}",
    tag = "tax",
    security(("bearer" = [])),
    params(("zone" = String, Path, description = "`US`, or a region: `US-NY` (ISO 3166-2)")),
    responses(
        (status = 204, description = "Removed", headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No rate is set for the zone", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_rate(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(zone): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let zone = parse_zone(&zone).map_err(|_| unknown_zone())?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::remove_rate(&state.handlers, zone, &meta).await?;
    Ok((StatusCode::NO_CONTENT, consistency::headers(done.position)))
}

/// Whether the store's prices include tax; anyone may read it.
#[utoipa::path(
    get,
    path = "/api/v1/tax-settings",
    tag = "tax",
    responses((status = 200, description = "The setting", body = TaxSettingsView))
)]
async fn get_settings(State(state): State<AppState>) -> Result<Json<TaxSettingsView>, ApiError> {
    let table = use_case::tax_table(&state.handlers).await?;
    Ok(Json(TaxSettingsView::from(&table)))
}

/// Says whether the store's prices include tax (staff). Orders already placed keep the way
/// each of their lines was taxed.
#[utoipa::path(
    put,
    path = "/api/v1/tax-settings",
    tag = "tax",
    security(("bearer" = [])),
    request_body = TaxSettingsView,
    responses(
        (status = 200, description = "The setting", body = TaxSettingsView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_settings(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<TaxSettingsView>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done =
        use_case::set_prices_include_tax(&state.handlers, body.prices_include_tax, &meta).await?;
    Ok((
        consistency::headers(done.position),
        Json(TaxSettingsView::from(&done.table)),
    ))
}
