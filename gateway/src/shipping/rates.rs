//! `/shipping/zones` (staff set the zones, their methods and rates) and `/shipping/quote`
//! (a shopper's cart quoted to a destination). The rates are read whole from the write
//! side through the followed-stream cache, forgotten when a change is appended.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use commands::shipping::{self as use_case};
use domain::shipping::{Destination, RatesState};
use serde::Deserialize;
use utoipa::IntoParams;

use super::rates_views::{QuoteList, ZoneBody, ZoneView};
use crate::auth::{AuthUser, STAFF};
use crate::cart::owner::CartOwner;
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/shipping/zones", get(list_zones))
        .route(
            "/shipping/zones/{code}",
            get(get_zone).put(put_zone).delete(delete_zone),
        )
        .route("/shipping/quote", get(quote))
}

/// The rates, from the cache when it may.
async fn rates(state: &AppState, headers: &HeaderMap) -> Result<RatesState, ApiError> {
    let handlers = state.handlers.clone();
    state
        .followed
        .get(
            &use_case::rates_stream(),
            consistency::token(headers)?,
            || async move { Ok::<_, ApiError>(use_case::shipping_rates(&handlers).await?) },
        )
        .await
}

fn unknown_zone() -> ApiError {
    ApiError::NotFound("no such shipping zone".into())
}

/// Every shipping zone with its methods and rates (staff), by code.
#[utoipa::path(
    get,
    path = "/api/v1/shipping/zones",
    tag = "shipping",
    security(("bearer" = [])),
    params(("X-Consistency-Token" = Option<String>, Header, description = "Answer with at least this command's change")),
    responses(
        (status = 200, description = "Every zone", body = Vec<ZoneView>),
        (status = 400, description = "A malformed `X-Consistency-Token` (`invalid_consistency_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
    )
)]
pub(super) async fn list_zones(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<Vec<ZoneView>>, ApiError> {
    user.require(STAFF)?;
    let rates = rates(&state, &headers).await?;
    Ok(Json(rates.zones.values().map(ZoneView::from).collect()))
}

/// One shipping zone (staff).
#[utoipa::path(
    get,
    path = "/api/v1/shipping/zones/{code}",
    tag = "shipping",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "The zone's code (`eu`)"),
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer with at least this command's change"),
    ),
    responses(
        (status = 200, description = "The zone", body = ZoneView),
        (status = 400, description = "A malformed `X-Consistency-Token` (`invalid_consistency_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such zone", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn get_zone(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<ZoneView>, ApiError> {
    user.require(STAFF)?;
    let rates = rates(&state, &headers).await?;
    rates
        .zones
        .get(&code)
        .map(|z| Json(ZoneView::from(z)))
        .ok_or_else(unknown_zone)
}

/// Sets a shipping zone whole (staff): its areas, its methods and their rates, replacing
/// the zone of that code. Orders already placed keep the fee they were charged.
#[utoipa::path(
    put,
    path = "/api/v1/shipping/zones/{code}",
    tag = "shipping",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "1 to 32 of `a-z`, `0-9`, `-`, `_`")),
    request_body = ZoneBody,
    responses(
        (status = 200, description = "The zone", body = ZoneView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A field the rules refuse (`validation_failed`, `errors[].field` its path: `areas[1]` already in another zone, `methods[0].rates[1].up_to` not ascending, a bad currency or basis, a duplicate method code), or a body of the wrong shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn put_zone(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
    AppJson(body): AppJson<ZoneBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let zone = body.zone(code.clone())?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::set_zone(&state.handlers, zone, &meta).await?;
    if done.position.is_some() {
        state.followed.forget(&use_case::rates_stream());
    }
    let zone = done.rates.zones.get(&code).ok_or_else(unknown_zone)?;
    Ok((
        consistency::headers(done.position),
        Json(ZoneView::from(zone)),
    ))
}

/// Removes a shipping zone (staff): its areas are no longer served.
#[utoipa::path(
    delete,
    path = "/api/v1/shipping/zones/{code}",
    tag = "shipping",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The zone's code")),
    responses(
        (status = 204, description = "Removed", headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such zone", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn delete_zone(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::remove_zone(&state.handlers, code, &meta).await?;
    state.followed.forget(&use_case::rates_stream());
    Ok((StatusCode::NO_CONTENT, consistency::headers(done.position)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct QuoteQuery {
    /// ISO 3166-1 alpha-2 (any case).
    country: String,
    /// The subdivision part of ISO 3166-2 (`CA` of `US-CA`).
    region: Option<String>,
}

/// The shipping methods the caller's cart (signed in, or `X-Guest-Cart`) can leave by to
/// a destination, and each one's fee, cheapest first; the fee is what checkout charges
/// with that `shipping_method` while the cart and the rates stay as they are.
#[utoipa::path(
    get,
    path = "/api/v1/shipping/quote",
    tag = "shipping",
    params(
        QuoteQuery,
        ("X-Guest-Cart" = Option<String>, Header, description = "A guest's cart token, when not signed in"),
    ),
    responses(
        (status = 200, description = "The methods (empty: no zone serves the destination)", body = QuoteList),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 422, description = "An empty cart (`cart_empty`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn quote(
    State(state): State<AppState>,
    owner: CartOwner,
    Query(q): Query<QuoteQuery>,
) -> Result<Json<QuoteList>, ApiError> {
    let area = crate::tax::views::parse_zone(&match &q.region {
        Some(r) if !r.trim().is_empty() => format!("{}-{}", q.country.trim(), r.trim()),
        _ => q.country.trim().to_owned(),
    })
    .map_err(|e| match e {
        domain::tax::TaxError::Invalid { field, message } => {
            ApiError::invalid_query(field, message)
        }
        other => ApiError::invalid_query("country", other.to_string()),
    })?;
    let to = Destination {
        country: area.country,
        region: area.region,
    };
    let quoted = commands::cart::quote_cart(&state.handlers, &owner.shopper(), &to).await?;
    Ok(Json(QuoteList::from(&quoted)))
}
