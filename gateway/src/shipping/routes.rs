//! `/orders/{id}/shipments`, `/shipments/{id}/status`, `/shipments/{id}/tracking`: staff
//! create and move shipments; an order's customer and staff read them. Each handler calls
//! one use case of `commands::shipping` and answers a [`ShipmentView`] (or a
//! [`TrackingView`]), read whole from the write side, so a change reads back at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use commands::orders::Caller;
use commands::shipping::{self as use_case, NewShipment};
use domain::shipping::ShipmentStatus;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::views::{
    carriers, ShipmentLineView, ShipmentList, ShipmentStepView, ShipmentView, TrackingEventView,
    TrackingView,
};
use crate::auth::{AuthUser, STAFF};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Money as MoneyView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{id}/shipments",
            post(create_shipment).get(list_shipments),
        )
        .route("/shipments/{id}/status", put(change_status))
        .route("/shipments/{id}/tracking", get(tracking))
        .merge(super::webhook::router())
        .merge(super::queue::router())
        .merge(super::rates::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(
        create_shipment,
        list_shipments,
        change_status,
        tracking,
        super::webhook::webhook,
        super::queue::fulfilment_queue,
        super::queue::carrier_performance,
        super::rates::list_zones,
        super::rates::get_zone,
        super::rates::put_zone,
        super::rates::delete_zone,
        super::rates::quote
    ),
    components(schemas(
        CreateBody,
        LineBody,
        StatusBody,
        ShipmentView,
        ShipmentLineView,
        ShipmentStepView,
        ShipmentList,
        TrackingView,
        TrackingEventView,
        MoneyView,
        super::webhook::WebhookAnswer,
        super::queue::QueueEntry,
        super::queue::CarrierPerformance,
        super::queue::CarrierPerformanceList,
        super::rates_views::ZoneBody,
        super::rates_views::ZoneView,
        super::rates_views::MethodBody,
        super::rates_views::BracketBody,
        super::rates_views::QuoteView,
        super::rates_views::QuoteList
    )),
    tags((name = "shipping", description = "Shipments of an order's lines, their steps and tracking, carriers' webhooks, the fulfilment queue"))
)]
pub struct ShippingApi;

fn caller(user: &AuthUser) -> Caller {
    Caller {
        user_id: user.user_id,
        role: user.role,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShipmentLineBody)]
struct LineBody {
    /// The SKU of one of the order's lines.
    sku: String,
    /// At most what the order has left to ship of it.
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateShipmentBody)]
struct CreateBody {
    /// 1 to 100 lines, each SKU once.
    lines: Vec<LineBody>,
    /// The warehouse it leaves from; `main` when absent.
    warehouse: Option<String>,
    /// `test`.
    carrier: String,
    /// The carrier's service level: `standard` or `express` for `test`.
    service_level: String,
    /// The parcel's weight, which the carrier prices; 1000 when absent.
    weight_grams: Option<u32>,
}

/// Creates a shipment of some of a paid order's lines (staff). The carrier quotes and
/// labels the parcel; the shipment starts `pending`. Each line may take at most what the
/// order has left to ship of it: what was ordered less what earlier shipments took.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/shipments",
    tag = "shipping",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The shipment, `pending`, with its label and tracking number", body = ShipmentView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`order_not_shippable`: the order is not paid, or is cancelled, shipped by hand or refunded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`exceeds_ordered` (more than the order has left to ship, `errors` naming `lines[i].quantity`), `not_ordered` (a SKU the order does not have), an unknown carrier or service level, a weight the carrier does not take, a line twice (`validation_failed`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`carrier_unavailable`: the carrier did not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_shipment(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let input = NewShipment {
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.sku, l.quantity))
            .collect(),
        warehouse: body.warehouse,
        carrier: body.carrier,
        service_level: body.service_level,
        weight_grams: body.weight_grams,
    };
    let outcome = use_case::create_shipment(
        &state.handlers,
        &carriers(&state),
        &caller(&user),
        id,
        input,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(outcome.position),
        Json(ShipmentView::from(&outcome.shipment)),
    ))
}

/// An order's shipments, oldest first: its customer's, or any order's for staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/shipments",
    tag = "shipping",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order's shipments", body = ShipmentList),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_shipments(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<ShipmentList>, ApiError> {
    let all = use_case::shipments_of_order(&state.handlers, &caller(&user), id).await?;
    Ok(Json(ShipmentList {
        total: all.len(),
        items: all.iter().map(ShipmentView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShipmentStatusBody)]
struct StatusBody {
    /// The next step: `packed`, `shipped`, `in_transit`, `delivered`; or `returned` /
    /// `lost` once it has left.
    status: String,
    notes: Option<String>,
}

/// Moves a shipment one step (staff). `shipped` commits its lines' stock and moves the
/// order to `partially_shipped`, or `shipped` with its last lines; `delivered` of the last
/// shipment moves the order to `delivered`. Asking for the status it has changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/shipments/{id}/status",
    tag = "shipping",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The shipment")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The shipment after the step", body = ShipmentView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such shipment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`status_backwards`, `status_skipped` (the next step comes first), `shipment_finished` (delivered, returned or lost), `order_not_shippable` (shipping for an order cancelled meanwhile) or `stock_not_reserved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status, notes too long, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<StatusBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let to: ShipmentStatus = body
        .status
        .trim()
        .parse()
        .map_err(|m: String| ApiError::invalid_field("status", m))?;
    let outcome = use_case::change_shipment_status(
        &state.handlers,
        &caller(&user),
        id,
        to,
        body.notes,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(ShipmentView::from(&outcome.shipment)),
    ))
}

/// A shipment's tracking timeline: every carrier event, oldest first, and its status (its
/// order's customer, or staff).
#[utoipa::path(
    get,
    path = "/api/v1/shipments/{id}/tracking",
    tag = "shipping",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The shipment")),
    responses(
        (status = 200, description = "The timeline", body = TrackingView),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such shipment, or not the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn tracking(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TrackingView>, ApiError> {
    let shipment = use_case::shipment(&state.handlers, &caller(&user), id).await?;
    Ok(Json(TrackingView::from(&shipment)))
}
