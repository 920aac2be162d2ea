//! The orders' routes and their commands: place, pay, cancel, change status (staff),
//! refund (staff). Each handler extracts, calls one use case of `commands::orders`, maps
//! its error here, and answers an [`OrderView`] (or a [`PaymentAnswer`]) with
//! `X-Consistency-Token`, so the client can read its own write.
//!
//! Placing answers 202: the checkout saga reserves the stock and moves the order on.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use commands::handler::CommandMeta;
use commands::orders::{
    Caller, Delivery, OrderOutcome, OrdersError, PayOrderError, PlaceOrderInput, RefundRequest,
    RequestedItem, StatusRequest,
};
use domain::money::Money;
use domain::order::{OrderError, OrderStatus};
use domain::value::Address;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::queries;
use super::views::{
    HistoryEntry, HistoryPage, LineTaxView, OrderItemView, OrderPage, OrderView, PaymentAnswer,
    PriceRuleApplied,
};
use crate::auth::{AuthUser, STAFF};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, FieldError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::{Address as AddressView, Money as MoneyView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(place).get(queries::list))
        .route("/orders/{id}", delete(cancel).get(queries::get_one))
        .route("/orders/user/{user_id}", get(queries::list_for_user))
        .route("/orders/history/{user_id}", get(queries::history_for_user))
        .route("/orders/{id}/payment", post(pay))
        .route("/orders/{id}/status", put(change_status))
        .route("/orders/{id}/refund", post(refund))
        .route("/orders/{id}/cancellations", post(cancel_lines))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        place,
        queries::list,
        queries::get_one,
        cancel,
        queries::list_for_user,
        queries::history_for_user,
        pay,
        change_status,
        refund,
        cancel_lines
    ),
    components(schemas(
        PlaceBody,
        Item,
        AddressView,
        PayBody,
        StatusBody,
        RefundBody,
        CancelLinesBody,
        CancelLineBody,
        OrderView,
        OrderItemView,
        PriceRuleApplied,
        LineTaxView,
        OrderPage,
        PaymentAnswer,
        HistoryEntry,
        HistoryPage
    )),
    tags((name = "orders", description = "Placing, paying, cancelling and following orders; staff fulfilment and refunds"))
)]
pub struct OrdersApi;

impl From<OrdersError> for ApiError {
    fn from(e: OrdersError) -> Self {
        match e {
            OrdersError::Invalid { field, message } => ApiError::invalid_field(field, message),
            OrdersError::Variant { field, refusal } => ApiError::variant_refused(field, refusal),
            OrdersError::NotFound | OrdersError::Rejected(OrderError::NotPlaced) => {
                ApiError::NotFound("no such order".into())
            }
            e @ OrdersError::PaidOrderNeedsStaff => {
                ApiError::conflict("invalid_status", e.to_string())
            }
            OrdersError::Rejected(
                e @ (OrderError::InvalidTransition { .. } | OrderError::AlreadyCancelled),
            ) => ApiError::conflict("invalid_status", e.to_string()),
            OrdersError::Shipping(e) => e.into(),
            OrdersError::Rejected(e @ OrderError::RefundExceedsPaid { .. }) => {
                ApiError::UnprocessableEntity {
                    code: "refund_exceeds_paid",
                    detail: e.to_string(),
                    errors: vec![FieldError::new("amount", e.to_string())],
                }
            }
            OrdersError::Rejected(e @ OrderError::CancelExceedsUnshipped { .. }) => {
                ApiError::UnprocessableEntity {
                    code: "exceeds_unshipped",
                    detail: e.to_string(),
                    errors: vec![FieldError::new("lines", e.to_string())],
                }
            }
            OrdersError::Rejected(e @ OrderError::CancelsEveryLine) => ApiError::conflict(
                "cancels_every_line",
                format!("{e}: DELETE the order instead"),
            ),
            OrdersError::RefundFailed(cause) => {
                ApiError::unavailable("payment_provider_unavailable", cause)
            }
            OrdersError::Rejected(e @ OrderError::TotalTooLarge) => ApiError::UnprocessableEntity {
                code: "total_too_large",
                detail: e.to_string(),
                errors: vec![FieldError::new("items", e.to_string())],
            },
            OrdersError::Rejected(e) => ApiError::UnprocessableEntity {
                code: "order_rule",
                detail: e.to_string(),
                errors: vec![],
            },
            OrdersError::Store(e) => e.into(),
            OrdersError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

impl From<PayOrderError> for ApiError {
    fn from(e: PayOrderError) -> Self {
        match e {
            PayOrderError::Invalid { field, message } => ApiError::invalid_field(field, message),
            PayOrderError::NotFound => ApiError::NotFound("no such order".into()),
            e @ PayOrderError::NotTheCustomer => ApiError::Forbidden(e.to_string()),
            e @ PayOrderError::NotPayable(_) => ApiError::conflict("not_payable", e.to_string()),
            PayOrderError::Declined { code, message } => ApiError::PaymentRequired {
                code,
                detail: message,
            },
            PayOrderError::Store(e) => e.into(),
            PayOrderError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn caller(user: &AuthUser) -> Caller {
    Caller {
        user_id: user.user_id,
        role: user.role,
    }
}

fn meta(user: &AuthUser, request: &RequestId, ip: &ClientIp) -> CommandMeta {
    request.command_meta(user.actor(), ip)
}

/// The order after a command, with the token that reads it back.
fn answer(outcome: OrderOutcome) -> impl IntoResponse {
    (
        crate::consistency::headers(outcome.position),
        Json(OrderView::from(&outcome.order)),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlaceOrderItem)]
struct Item {
    /// A product on sale; its current price is taken.
    product_id: Uuid,
    /// The variant to buy: required for a product with variants (its price and SKU are
    /// the line's), refused for one without.
    #[serde(default)]
    variant_id: Option<Uuid>,
    /// 1 to 10,000; the same product and variant twice adds up.
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
    /// 1 to 100 lines.
    items: Vec<Item>,
    #[schema(value_type = AddressView)]
    shipping_address: Address,
    #[schema(value_type = Option<AddressView>)]
    billing_address: Option<Address>,
    /// `card`.
    payment_method: String,
    /// At most 2000 characters.
    notes: Option<String>,
    /// A shipping method's code (`GET /shipping/quote` lists them); absent: the cheapest
    /// method serving the address (free shipping in a store without shipping zones).
    shipping_method: Option<String>,
}

/// Places an order at the products' current prices. The answer is 202: the checkout saga
/// reserves the stock and moves the order to `awaiting_payment`, or cancels it as
/// `out_of_stock`.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "orders",
    security(("bearer" = [])),
    request_body = PlaceBody,
    responses(
        (status = 202, description = "The order, `pending`", body = OrderView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 422, description = "No or too many items, a bad quantity, a product not on sale, a method other than `card`, notes too long (`validation_failed`, `errors` names the field), a line or a total past the bounds of money (`items[i].quantity`, `total_too_large`), `order_rule`, or a body of the wrong shape; a product with variants and no `variant_id` (`variant_required`), a variant the product does not have (`unknown_variant`), a `variant_id` for a product without variants (`product_has_no_variants`), `errors` naming `items[i].variant_id`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn place(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<PlaceBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = PlaceOrderInput {
        items: body
            .items
            .iter()
            .map(|i| RequestedItem {
                product_id: i.product_id,
                variant_id: i.variant_id,
                quantity: i.quantity,
            })
            .collect(),
        delivery: Delivery {
            shipping_address: body.shipping_address,
            billing_address: body.billing_address,
            payment_method: body.payment_method,
            notes: body.notes,
            shipping_method: body.shipping_method,
        },
    };
    let outcome = commands::orders::place_order(
        &state.handlers,
        &caller(&user),
        input,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, answer(outcome)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PayBody {
    /// `card`.
    method: String,
    /// The card token; the test provider captures `tok_visa` and declines
    /// `tok_chargeDeclined`.
    token: String,
}

/// Pays an order awaiting payment (its customer only). The provider is asked with the key
/// `<order id>:<attempt>`, so requests that race to pay one order charge it once: each
/// answers 200 with the one capture, or 409 `not_payable` once the order shows it paid.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/payment",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = PayBody,
    responses(
        (status = 200, description = "Captured (by this request, or by one that raced it: the same capture)", body = PaymentAnswer),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 402, description = "`card_declined` (or another decline code): the order stays payable until it expires", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff looking at another's order: only the customer pays", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_payable`: the order is not awaiting payment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A method other than `card`, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn pay(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<PayBody>,
) -> Result<impl IntoResponse, ApiError> {
    let taken = commands::orders::pay_for_order(
        &state.handlers,
        &*state.payments.provider,
        &caller(&user),
        id,
        &body.method,
        &body.token,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok((
        crate::consistency::headers(taken.position),
        Json(PaymentAnswer::from(taken)),
    ))
}

/// Cancels an order: its customer while it is unpaid, staff at any time before it ships.
#[utoipa::path(
    delete,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order, `cancelled`", body = OrderView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status`: paid (staff cancel those), shipped or already cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`order_rule`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let outcome = commands::orders::cancel_order(
        &state.handlers,
        &caller(&user),
        id,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok(answer(outcome))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    /// `shipped`, `delivered` or `cancelled`; the other statuses follow from stock and
    /// payment.
    #[schema(value_type = String)]
    status: OrderStatus,
    tracking_number: Option<String>,
    notes: Option<String>,
}

/// Moves an order on by hand (staff): ship it (with a tracking number), mark it delivered,
/// or cancel it.
#[utoipa::path(
    put,
    path = "/api/v1/orders/{id}/status",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The order after the change", body = OrderView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status`: the order cannot move there from its status", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A status staff do not set, `order_rule`, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
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
    let change = StatusRequest {
        status: body.status,
        tracking_number: body.tracking_number,
        notes: body.notes,
    };
    let outcome = commands::orders::change_order_status(
        &state.handlers,
        &caller(&user),
        id,
        change,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok(answer(outcome))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// Part of what was paid; all of it when absent.
    #[schema(value_type = Option<MoneyView>)]
    amount: Option<Money>,
    /// Required.
    reason: String,
}

/// Refunds a paid order, wholly or in part (staff).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/refund",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = RefundBody,
    responses(
        (status = 200, description = "The order, `refunded` or `partially_refunded`", body = OrderView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status`: nothing paid to refund", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, `refund_exceeds_paid`, `order_rule`, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn refund(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<RefundBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let refund = RefundRequest {
        amount: body.amount,
        reason: body.reason,
    };
    let outcome = commands::orders::refund_order(
        &state.handlers,
        &caller(&user),
        id,
        refund,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok(answer(outcome))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelLineBody {
    /// The SKU of one of the order's lines.
    sku: String,
    /// At most what no shipment holds of it and was not cancelled before.
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelLinesBody {
    /// Each SKU once.
    lines: Vec<CancelLineBody>,
    /// Required: the customer and the audit trail read it.
    reason: String,
}

/// Cancels units of a paid order's lines that no shipment holds (staff): their stock is
/// released and what they were charged (their price after rules and coupon, with their
/// tax) is refunded through the payment provider. The shipping fee stays; cancelling every
/// unit is cancelling the order (`DELETE /orders/{id}`). Send an `Idempotency-Key`: a
/// retry after a provider failure records nothing twice and refunds once.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancellations",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = CancelLinesBody,
    responses(
        (status = 200, description = "The order: the lines' `cancelled` units, `refunded`, `payment_status` `partially_refunded`; `shipped` when every unit left has shipped", body = OrderView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status` (not paid, or already shipped, cancelled or refunded in full), or `cancels_every_line`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`exceeds_unshipped` (more than is left unshipped of a line), a SKU the order does not have or twice (`order_rule`), no reason, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`payment_provider_unavailable`: the lines are cancelled, the refund is not; retry with the same `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel_lines(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<CancelLinesBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let cancel = commands::orders::CancelLinesRequest {
        lines: body
            .lines
            .into_iter()
            .map(|l| (l.sku, l.quantity))
            .collect(),
        reason: body.reason,
    };
    let outcome = commands::orders::cancel_lines(
        &state.handlers,
        &*state.payments.provider,
        &caller(&user),
        id,
        cancel,
        meta(&user, &request, &ip),
    )
    .await?;
    Ok(answer(outcome))
}
