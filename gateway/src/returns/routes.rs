//! `/orders/{id}/returns` and `/returns/{id}/status`: the order's customer asks for a
//! return; the customer and staff read an order's returns (from the write side, so a
//! request reads back at once); staff move a return, found by its id in the `returns`
//! read model.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use commands::orders::Caller;
use commands::returns::{self as use_case, ReturnRequest, ReturnStep, ReturnsOutcome};
use domain::id::ReturnId;
use domain::returns::Disposition;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::views::{ReturnLineView, ReturnList, ReturnStepView, ReturnView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/orders/{id}/returns",
            post(request_return).get(list_returns),
        )
        .route("/returns/{id}/status", put(change_status))
}

#[derive(OpenApi)]
#[openapi(
    paths(request_return, list_returns, change_status),
    components(schemas(
        RequestBody,
        ReturnLineBody,
        StatusBody,
        ReturnView,
        ReturnLineView,
        ReturnStepView,
        ReturnList
    )),
    tags((name = "returns", description = "Returns of delivered lines: asked by the customer within the window, approved, received and refunded by staff"))
)]
pub struct ReturnsApi;

fn caller(user: &AuthUser) -> Caller {
    Caller {
        user_id: user.user_id,
        role: user.role,
    }
}

fn the_return(outcome: &ReturnsOutcome) -> Result<ReturnView, ApiError> {
    outcome
        .returns
        .returns
        .get(&outcome.return_id)
        .map(ReturnView::from)
        .ok_or_else(|| ApiError::internal("a return just decided is not in its stream"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReturnLineBody {
    /// The SKU of one of the order's lines.
    sku: String,
    /// At most what was delivered of it within the window, less earlier returns.
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReturnRequestBody)]
struct RequestBody {
    /// Each SKU once.
    lines: Vec<ReturnLineBody>,
    /// Why: 1 to 500 characters.
    reason: String,
}

/// Asks for a return of some delivered lines of the caller's order, with a reason. Each
/// unit may be returned within the store's window (`returns.window_days`, 30 days unless
/// set) of its shipment's delivery.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/returns",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = RequestBody,
    responses(
        (status = 201, description = "The return, `requested`", body = ReturnView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Staff: a return is asked for by the order's customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`return_window_closed` (every delivered unit of the line arrived longer ago than the window, `errors` naming `lines[i].sku`), `exceeds_returnable` (more than delivered within the window less earlier returns, `lines[i].quantity`), `not_delivered`, `not_ordered`, `validation_failed` (no lines, a SKU twice, a zero quantity, no reason), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn request_return(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<RequestBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = ReturnRequest {
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.sku, l.quantity))
            .collect(),
        reason: body.reason,
    };
    let outcome = use_case::request_return(
        &state.handlers,
        &caller(&user),
        id,
        input,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(outcome.position),
        Json(the_return(&outcome)?),
    ))
}

/// An order's returns, oldest first: its customer's, or any order's for staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/returns",
    tag = "returns",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order's returns", body = ReturnList),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_returns(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<ReturnList>, ApiError> {
    let state = use_case::returns_of_order(&state.handlers, &caller(&user), id).await?;
    let mut all: Vec<_> = state.returns.values().collect();
    all.sort_by_key(|r| (r.requested_at, r.return_id));
    Ok(Json(ReturnList {
        total: all.len(),
        items: all.into_iter().map(ReturnView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReturnStatusBody)]
struct StatusBody {
    /// `approved`, `rejected`, `received` or `refunded`.
    status: String,
    /// Staff's note on an approval; the reason of a rejection (required then).
    note: Option<String>,
    /// Where the goods are received (`main` when absent).
    warehouse: Option<String>,
    /// On receipt: `restock` (back in the warehouse's stock, the default) or `write_off`.
    disposition: Option<String>,
}

impl StatusBody {
    fn step(self) -> Result<ReturnStep, ApiError> {
        let disposition = match self.disposition.as_deref() {
            None | Some("restock") => Disposition::Restock,
            Some("write_off") => Disposition::WriteOff,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "disposition",
                    "restock or write_off",
                ))
            }
        };
        match self.status.as_str() {
            "approved" => Ok(ReturnStep::Approve { note: self.note }),
            "rejected" => Ok(ReturnStep::Reject {
                reason: self.note.unwrap_or_default(),
            }),
            "received" => Ok(ReturnStep::Receive {
                warehouse: self
                    .warehouse
                    .unwrap_or_else(|| domain::inventory::DEFAULT_WAREHOUSE.into()),
                disposition,
            }),
            "refunded" => Ok(ReturnStep::Refund),
            _ => Err(ApiError::invalid_field(
                "status",
                "approved, rejected, received or refunded",
            )),
        }
    }
}

/// Moves a return one step (staff): `requested` → `approved` (or `rejected`, with a
/// reason in `note`) → `received` (restocked to `warehouse`, or written off) → `refunded`
/// (through the payment provider; the order records the refund). Asking for the status it
/// has changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/returns/{id}/status",
    tag = "returns",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The return"),
        ("X-Consistency-Token" = Option<String>, Header, description = "A token of the request, to find a return just asked for"),
    ),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The return", body = ReturnView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such return", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status`: a step out of order (receiving a return not approved, refunding one not received, approving a rejected one), or an order that can no longer be refunded; `stock_not_sold`: the restock exceeds what the order took of the SKU", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status or disposition, a rejection without a reason (`validation_failed`), `refund_exceeds_paid`, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payment_provider_unavailable`, or `projection_lag` (the return is not yet in the read model the token asks for)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<StatusBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let what = body.step()?;
    caught_up(&state, &headers, "returns").await?;
    let order_id: Option<Uuid> =
        sqlx::query_scalar("select order_id from returns.returns where return_id = $1")
            .bind(id)
            .fetch_optional(&state.pool)
            .await
            .map_err(|e| ApiError::unavailable("database_unavailable", e))?;
    let order_id = order_id.ok_or_else(|| ApiError::NotFound("no such return".into()))?;
    let outcome = use_case::change_return_status(
        &state.handlers,
        &*state.payments.provider,
        &caller(&user),
        order_id,
        ReturnId::new(id),
        what,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((
        consistency::headers(outcome.position),
        Json(the_return(&outcome)?),
    ))
}
