//! `POST /inventory/{sku}/transfer` (staff): stock moved from one warehouse to another,
//! as two events of the SKU's stream appended together.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use commands::inventory::{self as use_case, StockDecided, StockError, StockTransfer};
use domain::inventory::InventoryError;
use domain::value::Sku;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, FieldError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::WarehouseStock;

pub fn router() -> Router<AppState> {
    Router::new().route("/inventory/{sku}/transfer", post(transfer))
}

#[derive(OpenApi)]
#[openapi(
    paths(transfer),
    components(schemas(TransferBody, StockByWarehouse, WarehouseStock))
)]
pub struct TransferApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    /// The warehouse the units leave: at most what it has available go.
    from: String,
    /// The warehouse they arrive in; active, and not `from`.
    to: String,
    /// Above 0.
    quantity: u32,
}

/// A SKU's stock as a command left it, in total and per warehouse.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockByWarehouse {
    pub available: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub sku: String,
    /// By code.
    pub warehouses: Vec<WarehouseStock>,
}

impl From<&StockDecided> for StockByWarehouse {
    fn from(d: &StockDecided) -> Self {
        StockByWarehouse {
            available: d.state.available(),
            on_hand: d.state.on_hand_total(),
            reserved: d.state.reserved(),
            sku: d.sku.as_str().to_owned(),
            warehouses: WarehouseStock::of(&d.state),
        }
    }
}

/// How a transfer's refusals answer, naming `from` or `to` where one is at fault; the
/// rest as every stock command's.
fn refused(e: StockError, from: &str) -> ApiError {
    let field = |code: &str| if code == from { "from" } else { "to" };
    match e {
        StockError::UnknownWarehouse(ref code) | StockError::InactiveWarehouse(ref code) => {
            ApiError::UnprocessableEntity {
                code: "invalid_stock_change",
                detail: e.to_string(),
                errors: vec![FieldError::new(field(code), e.to_string())],
            }
        }
        StockError::Rejected(e @ InventoryError::SameWarehouse) => ApiError::UnprocessableEntity {
            code: "invalid_stock_change",
            detail: e.to_string(),
            errors: vec![FieldError::new("to", e.to_string())],
        },
        StockError::Rejected(e @ InventoryError::InsufficientStockIn { .. }) => {
            ApiError::conflict("insufficient_stock", e.to_string())
        }
        e => e.into(),
    }
}

/// Moves units of a SKU from one warehouse to another (staff): both movements or neither.
#[utoipa::path(
    post,
    path = "/api/v1/inventory/{sku}/transfer",
    tag = "inventory",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU (case-insensitive)")),
    request_body = TransferBody,
    responses(
        (status = 200, description = "The SKU's stock after it, per warehouse", body = StockByWarehouse, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No stock ever moved under this SKU", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient_stock`: more than `from` has available", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_stock_change`: a zero quantity, the same warehouse twice (`to`), an unknown `from` or an unknown or inactive `to`; or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn transfer(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(raw): Path<String>,
    AppJson(body): AppJson<TransferBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&raw).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let from = body.from.clone();
    let transfer = StockTransfer {
        sku,
        from: body.from,
        to: body.to,
        quantity: body.quantity,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let decided = use_case::transfer_stock(&state.handlers, transfer, &meta)
        .await
        .map_err(|e| refused(e, &from))?;
    Ok((
        consistency::headers(decided.position),
        Json(StockByWarehouse::from(&decided)),
    ))
}
