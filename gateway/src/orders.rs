//! Order and payment commands: place, pay, cancel, change status (staff), refund (staff).
//!
//! Placing prices each line from the product as the catalog holds it now (a fact handed to
//! the order inside its command) and answers 202: the checkout saga reserves the stock and
//! moves the order on; `X-Consistency-Token` lets the client read its own write.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use commands::handler::{CommandError, CommandHandler, CommandMeta, Handled};
use commands::payment::{pay_order, PayError, PayOutcome, TestProvider};
use domain::catalog::{Product, ProductStatus};
use domain::id::{OrderId, ProductId};
use domain::money::{Currency, Money};
use domain::order::{
    CancellationReason, ChangedBy, Order, OrderCommand, OrderError, OrderLine, OrderStatus,
    PlaceOrder, PlacedOrder,
};
use domain::user::Role;
use domain::value::Address;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::{ApiError, AppJson, FieldError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Money as MoneySchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(place).get(list))
        .route("/orders/{id}", delete(cancel).get(get_one))
        .route("/orders/user/{user_id}", get(list_for_user))
        .route("/orders/history/{user_id}", get(history_for_user))
        .route("/orders/{id}/payment", post(pay))
        .route("/orders/{id}/status", put(change_status))
        .route("/orders/{id}/refund", post(refund))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        place,
        list,
        get_one,
        cancel,
        list_for_user,
        history_for_user,
        pay,
        change_status,
        refund
    ),
    components(schemas(
        PlaceBody,
        Item,
        AddressSchema,
        PayBody,
        StatusBody,
        RefundBody,
        OrderView,
        OrderItemView,
        OrderPage,
        PaymentAnswer,
        HistoryEntry,
        HistoryPage
    )),
    tags((name = "orders", description = "Placing, paying, cancelling and following orders; staff fulfilment and refunds"))
)]
pub struct OrdersApi;

/// A postal address, as orders take and answer it.
#[derive(ToSchema)]
#[schema(as = Address)]
#[allow(dead_code)]
struct AddressSchema {
    name: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    /// ISO 3166-1 alpha-2, uppercase.
    country: String,
}

/// An order as `API.md` shapes it (see [`order_json`]).
#[derive(ToSchema)]
#[schema(as = Order)]
#[allow(dead_code)]
struct OrderView {
    id: Uuid,
    user_id: Uuid,
    /// `pending`, `awaiting_payment`, `paid`, `shipped`, `delivered`, `cancelled`,
    /// `refunded` or `partially_refunded`.
    status: String,
    /// `pending`, `authorized`, `captured`, `failed`, `refunded` or `partially_refunded`.
    payment_status: String,
    items: Vec<OrderItemView>,
    subtotal: MoneySchema,
    tax: MoneySchema,
    shipping: MoneySchema,
    discount: MoneySchema,
    total: MoneySchema,
    shipping_address: AddressSchema,
    billing_address: Option<AddressSchema>,
    payment_method: String,
    notes: Option<String>,
    tracking_number: Option<String>,
    /// `out_of_stock`, `payment_failed`, `expired`, `customer` or `staff`.
    cancellation_reason: Option<String>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

#[derive(ToSchema)]
#[schema(as = OrderItem)]
#[allow(dead_code)]
struct OrderItemView {
    product_id: Uuid,
    sku: String,
    quantity: u32,
    /// The unit price when the order was placed.
    price: MoneySchema,
    subtotal: MoneySchema,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct OrderPage {
    items: Vec<OrderView>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// A captured payment.
#[derive(ToSchema)]
#[allow(dead_code)]
struct PaymentAnswer {
    order_id: Uuid,
    /// `captured`.
    payment_status: String,
    /// The provider's reference.
    reference: String,
    amount: MoneySchema,
}

/// One status change of one order.
#[derive(ToSchema)]
#[allow(dead_code)]
struct HistoryEntry {
    order_id: Uuid,
    status: String,
    notes: Option<String>,
    /// Who changed it; none for the engine's own moves (stock, payment, expiry).
    updated_by: Option<Uuid>,
    role: String,
    created_at: chrono::DateTime<Utc>,
}

/// Oldest first, at most 1000.
#[derive(ToSchema)]
#[allow(dead_code)]
struct HistoryPage {
    items: Vec<HistoryEntry>,
}

const STAFF: &[Role] = &[Role::Staff, Role::Admin];
const MAX_ITEMS: usize = 100;

fn meta(user: &AuthUser, request: &RequestId, ip: &ClientIp) -> CommandMeta {
    request.command_meta(user.actor(), ip)
}

fn by(user: &AuthUser) -> ChangedBy {
    ChangedBy {
        user_id: Some(user.user_id.into()),
        role: user.role.as_str().into(),
    }
}

fn consistency<E>(handled: &Handled<E>) -> HeaderMap {
    crate::consistency::headers(handled.position)
}

fn order_error(e: CommandError<OrderError>) -> ApiError {
    match e {
        CommandError::Rejected(OrderError::NotPlaced) => ApiError::NotFound("no such order".into()),
        CommandError::Rejected(e @ OrderError::InvalidTransition { .. }) => {
            ApiError::conflict("invalid_status", e.to_string())
        }
        CommandError::Rejected(e @ OrderError::AlreadyCancelled) => {
            ApiError::conflict("invalid_status", e.to_string())
        }
        CommandError::Rejected(e @ OrderError::RefundExceedsPaid { .. }) => {
            ApiError::UnprocessableEntity {
                code: "refund_exceeds_paid",
                detail: e.to_string(),
                errors: vec![FieldError::new("amount", e.to_string())],
            }
        }
        CommandError::Rejected(e) => ApiError::UnprocessableEntity {
            code: "order_rule",
            detail: e.to_string(),
            errors: vec![],
        },
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

/// The order as API.md shapes it.
pub fn order_json(o: &PlacedOrder) -> Value {
    let items: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "product_id": l.product_id,
                "sku": l.sku,
                "quantity": l.quantity,
                "price": l.unit_price,
                "subtotal": l.unit_price.checked_mul(l.quantity).ok(),
            })
        })
        .collect();
    json!({
        "id": o.order_id,
        "user_id": o.user_id,
        "status": o.status,
        "payment_status": o.payment_status,
        "items": items,
        "subtotal": o.totals.subtotal,
        "tax": o.totals.tax,
        "shipping": o.totals.shipping,
        "discount": o.totals.discount,
        "total": o.totals.total,
        "shipping_address": o.shipping_address,
        "billing_address": o.billing_address,
        "payment_method": o.payment_method,
        "notes": o.notes,
        "tracking_number": o.tracking_number,
        "cancellation_reason": o.cancellation_reason,
        "created_at": o.placed_at,
        "updated_at": o.updated_at,
    })
}

/// The order, if the caller may act on it: its owner or staff. Others learn nothing, not
/// even that it exists.
async fn visible_order(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> Result<PlacedOrder, ApiError> {
    let (s, _) = state
        .handlers
        .orders
        .load(&CommandHandler::<Order>::stream_id(id))
        .await
        .map_err(order_error)?;
    let o = s
        .placed
        .ok_or_else(|| ApiError::NotFound("no such order".into()))?;
    if o.user_id.as_uuid() != user.user_id && !STAFF.contains(&user.role) {
        return Err(ApiError::NotFound("no such order".into()));
    }
    Ok(o)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PlaceOrderItem)]
struct Item {
    /// A product on sale; its current price is taken.
    product_id: Uuid,
    /// 1 to 10,000; the same product twice adds up.
    quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
    /// 1 to 100 lines.
    items: Vec<Item>,
    #[schema(value_type = AddressSchema)]
    shipping_address: Address,
    #[schema(value_type = Option<AddressSchema>)]
    billing_address: Option<Address>,
    /// `card`.
    payment_method: String,
    /// At most 2000 characters.
    notes: Option<String>,
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No or too many items, a bad quantity, a product not on sale, a method other than `card`, notes too long (`validation_failed`, `errors` names the field), `order_rule`, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn place(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<PlaceBody>,
) -> Result<impl IntoResponse, ApiError> {
    if body.items.is_empty() || body.items.len() > MAX_ITEMS {
        return Err(ApiError::invalid_field(
            "items",
            format!("must hold 1 to {MAX_ITEMS} items"),
        ));
    }
    if body.payment_method != "card" {
        return Err(ApiError::invalid_field(
            "payment_method",
            "the only method is \"card\"",
        ));
    }
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 2_000)
    {
        return Err(ApiError::invalid_field(
            "notes",
            "must be at most 2000 characters",
        ));
    }
    let mut lines: Vec<OrderLine> = Vec::with_capacity(body.items.len());
    for (i, item) in body.items.iter().enumerate() {
        if item.quantity == 0 || item.quantity > domain::value::Quantity::MAX {
            return Err(ApiError::invalid_field(
                format!("items[{i}].quantity"),
                "must be 1 to 10000",
            ));
        }
        let (p, _) = state
            .handlers
            .products
            .load(&CommandHandler::<Product>::stream_id(item.product_id))
            .await
            .map_err(ApiError::internal)?;
        let p = match p.created {
            Some(p) if p.status == ProductStatus::Active => p,
            _ => {
                return Err(ApiError::invalid_field(
                    format!("items[{i}].product_id"),
                    "no such product on sale",
                ))
            }
        };
        match lines
            .iter_mut()
            .find(|l| l.product_id == ProductId::new(item.product_id))
        {
            Some(line) => line.quantity += item.quantity,
            None => lines.push(OrderLine {
                product_id: p.product_id,
                sku: p.sku,
                quantity: item.quantity,
                unit_price: p.price,
            }),
        }
    }
    let currency = lines
        .first()
        .map_or(Currency::USD, |l| l.unit_price.currency);
    let order_id = Uuid::new_v4();
    let meta = meta(&user, &request, &ip);
    let command = OrderCommand::Place(Box::new(PlaceOrder {
        order_id: OrderId::new(order_id),
        user_id: user.user_id.into(),
        lines,
        shipping_address: body.shipping_address,
        billing_address: body.billing_address,
        payment_method: body.payment_method,
        notes: body.notes,
        coupon_code: None,
        discount: Money::zero(currency),
        tax_rate_bp: 0,
        shipping: Money::zero(currency),
        at: meta.occurred_at,
    }));
    let stream = CommandHandler::<Order>::stream_id(order_id);
    let handled = state
        .handlers
        .orders
        .handle(&stream, command, meta)
        .await
        .map_err(order_error)?;
    let o = visible_order(&state, &user, order_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        consistency(&handled),
        Json(order_json(&o)),
    ))
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

/// Pays an order awaiting payment (its customer only).
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/payment",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = PayBody,
    responses(
        (status = 200, description = "Captured", body = PaymentAnswer),
        (status = 400, description = "Not a JSON body, or `id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    if body.method != "card" {
        return Err(ApiError::invalid_field(
            "method",
            "the only method is \"card\"",
        ));
    }
    let order = visible_order(&state, &user, id).await?;
    if order.user_id.as_uuid() != user.user_id {
        return Err(ApiError::Forbidden(
            "only the customer pays an order".into(),
        ));
    }
    let outcome = pay_order(
        &state.handlers.orders,
        &state.handlers.payments,
        &TestProvider,
        OrderId::new(id),
        &body.method,
        &body.token,
        meta(&user, &request, &ip),
    )
    .await;
    match outcome {
        Ok(PayOutcome::Captured {
            reference,
            position,
        }) => Ok((
            crate::consistency::headers(position),
            Json(json!({
                "order_id": id,
                "payment_status": "captured",
                "reference": reference,
                "amount": order.totals.total,
            })),
        )),
        Ok(PayOutcome::Declined { code, message }) => Err(ApiError::PaymentRequired {
            code,
            detail: message,
        }),
        Err(PayError::NotPayable(status)) => Err(ApiError::conflict(
            "not_payable",
            format!("the order is {status} and cannot be paid"),
        )),
        Err(PayError::UnknownOrder) => Err(ApiError::NotFound("no such order".into())),
        Err(e) => Err(ApiError::internal(e)),
    }
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
        (status = 400, description = "`id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    let order = visible_order(&state, &user, id).await?;
    let staff = STAFF.contains(&user.role);
    if !staff
        && !matches!(
            order.status,
            OrderStatus::Pending | OrderStatus::AwaitingPayment
        )
    {
        return Err(ApiError::conflict(
            "invalid_status",
            "a paid order is cancelled by staff",
        ));
    }
    let command = OrderCommand::Cancel {
        reason: if staff {
            CancellationReason::Staff
        } else {
            CancellationReason::Customer
        },
        note: None,
        by: by(&user),
        at: Utc::now(),
    };
    let handled = state
        .handlers
        .orders
        .handle(
            &CommandHandler::<Order>::stream_id(id),
            command,
            meta(&user, &request, &ip),
        )
        .await
        .map_err(order_error)?;
    let o = visible_order(&state, &user, id).await?;
    Ok((consistency(&handled), Json(order_json(&o))))
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
        (status = 400, description = "Not a JSON body, or `id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
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
    visible_order(&state, &user, id).await?;
    let at = Utc::now();
    let command = match body.status {
        OrderStatus::Shipped => OrderCommand::Ship {
            tracking_number: body.tracking_number,
            note: body.notes,
            by: by(&user),
            at,
        },
        OrderStatus::Delivered => OrderCommand::Deliver {
            note: body.notes,
            by: by(&user),
            at,
        },
        OrderStatus::Cancelled => OrderCommand::Cancel {
            reason: CancellationReason::Staff,
            note: body.notes,
            by: by(&user),
            at,
        },
        other => {
            return Err(ApiError::invalid_field(
                "status",
                format!(
                    "staff set shipped, delivered or cancelled; {} follows from stock and payment",
                    other.as_str()
                ),
            ))
        }
    };
    let handled = state
        .handlers
        .orders
        .handle(
            &CommandHandler::<Order>::stream_id(id),
            command,
            meta(&user, &request, &ip),
        )
        .await
        .map_err(order_error)?;
    let o = visible_order(&state, &user, id).await?;
    Ok((consistency(&handled), Json(order_json(&o))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    /// Part of what was paid; all of it when absent.
    #[schema(value_type = Option<MoneySchema>)]
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
        (status = 400, description = "Not a JSON body, or `id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
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
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid_field("reason", "a refund needs a reason"));
    }
    visible_order(&state, &user, id).await?;
    let command = OrderCommand::Refund {
        amount: body.amount,
        reason: body.reason,
        by: by(&user),
        at: Utc::now(),
    };
    let handled = state
        .handlers
        .orders
        .handle(
            &CommandHandler::<Order>::stream_id(id),
            command,
            meta(&user, &request, &ip),
        )
        .await
        .map_err(order_error)?;
    let o = visible_order(&state, &user, id).await?;
    Ok((consistency(&handled), Json(order_json(&o))))
}

// ------------------------------------------------------------------------------ queries
//
// Queries read the `orders` read model, never the event store. A client that sends back
// the `X-Consistency-Token` of its command is answered once the read model has caught up
// with it (within CONSISTENCY_WAIT_MS; then 503 projection_lag).

#[derive(sqlx::FromRow)]
struct OrderRow {
    order_id: Uuid,
    user_id: Uuid,
    status: String,
    payment_status: String,
    currency: String,
    subtotal: i64,
    tax: i64,
    shipping: i64,
    discount: i64,
    total: i64,
    shipping_address: Value,
    billing_address: Option<Value>,
    payment_method: String,
    notes: Option<String>,
    tracking_number: Option<String>,
    cancellation_reason: Option<String>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

const ORDER_COLUMNS: &str =
    "order_id, user_id, status, payment_status, currency, subtotal, tax, shipping, \
     discount, total, shipping_address, billing_address, payment_method, notes, tracking_number, \
     cancellation_reason, created_at, updated_at";

async fn rows_json(state: &AppState, rows: Vec<OrderRow>) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.order_id).collect();
    let items: Vec<(Uuid, Uuid, String, i32, i64, i64)> = sqlx::query_as(
        "select order_id, product_id, sku, quantity, price, subtotal from orders.order_items
          where order_id = any($1) order by order_id, line",
    )
    .bind(&ids)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let money = |amount: i64| json!({ "amount": amount, "currency": r.currency });
            let lines: Vec<Value> = items
                .iter()
                .filter(|i| i.0 == r.order_id)
                .map(|i| json!({ "product_id": i.1, "sku": i.2, "quantity": i.3, "price": money(i.4), "subtotal": money(i.5) }))
                .collect();
            json!({
                "id": r.order_id, "user_id": r.user_id, "status": r.status, "payment_status": r.payment_status,
                "items": lines, "subtotal": money(r.subtotal), "tax": money(r.tax), "shipping": money(r.shipping),
                "discount": money(r.discount), "total": money(r.total), "shipping_address": r.shipping_address,
                "billing_address": r.billing_address, "payment_method": r.payment_method, "notes": r.notes,
                "tracking_number": r.tracking_number, "cancellation_reason": r.cancellation_reason,
                "created_at": r.created_at, "updated_at": r.updated_at,
            })
        })
        .collect())
}

/// One order, from the orders read model: the caller's own, or any for staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 400, description = "`id` not a UUID, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`: the read model has not caught up with the token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    caught_up(&state, &headers, "orders").await?;
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "select {ORDER_COLUMNS} from orders.orders where order_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let row = match row {
        Some(r) if r.user_id == user.user_id || STAFF.contains(&user.role) => r,
        _ => return Err(ApiError::NotFound("no such order".into())),
    };
    let mut all = rows_json(&state, vec![row]).await?;
    Ok(Json(all.remove(0)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
    /// `created_at`, `total` or `updated_at`, with `-` for descending (default
    /// `-created_at`).
    sort: Option<String>,
    /// Only orders in this status.
    status: Option<String>,
}

async fn list_where(
    state: &AppState,
    user_filter: Option<Uuid>,
    q: ListQuery,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let order_by = match q.sort.as_deref().unwrap_or("-created_at") {
        "created_at" => "created_at asc",
        "-created_at" => "created_at desc",
        "total" => "total asc",
        "-total" => "total desc",
        "updated_at" => "updated_at asc",
        "-updated_at" => "updated_at desc",
        _ => {
            return Err(ApiError::invalid_field(
                "sort",
                "one of created_at, total, updated_at, with - for descending",
            ))
        }
    };
    let filter = "($1::uuid is null or user_id = $1) and ($2::text is null or status = $2)";
    let total: i64 = sqlx::query_scalar(&format!(
        "select count(*) from orders.orders where {filter}"
    ))
    .bind(user_filter)
    .bind(&q.status)
    .fetch_one(&state.pool)
    .await?;
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "select {ORDER_COLUMNS} from orders.orders where {filter} order by {order_by}, order_id limit $3 offset $4"
    ))
    .bind(user_filter)
    .bind(&q.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let items = rows_json(state, rows).await?;
    Ok(Json(
        json!({ "items": items, "total": total, "limit": limit, "offset": offset }),
    ))
}

/// Own orders; staff see everyone's.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    security(("bearer" = [])),
    params(ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "An unknown query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit`, `offset` or `sort`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`: the read model has not caught up with the token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caught_up(&state, &headers, "orders").await?;
    let filter = (!STAFF.contains(&user.role)).then_some(user.user_id);
    list_where(&state, filter, q).await
}

fn same_user_or_staff(user: &AuthUser, of: Uuid) -> Result<(), ApiError> {
    if user.user_id == of || STAFF.contains(&user.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the user or staff may see these orders".into(),
        ))
    }
}

/// One user's orders: the user themselves, or staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/user/{user_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user"), ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "A page of the user's orders", body = OrderPage),
        (status = 400, description = "`user_id` not a UUID, an unknown query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another user's orders, asked by a non-staff caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit`, `offset` or `sort`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`: the read model has not caught up with the token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_for_user(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(of): Path<Uuid>,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    same_user_or_staff(&user, of)?;
    caught_up(&state, &headers, "orders").await?;
    list_where(&state, Some(of), q).await
}

/// order id, status, notes, updated by, role, at.
type HistoryRow = (
    Uuid,
    String,
    Option<String>,
    Option<Uuid>,
    String,
    chrono::DateTime<Utc>,
);

/// The status timeline of every order of a user: the user themselves, or staff.
#[utoipa::path(
    get,
    path = "/api/v1/orders/history/{user_id}",
    tag = "orders",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The user"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the orders read model covers this command position")),
    responses(
        (status = 200, description = "Every status change of the user's orders, oldest first", body = HistoryPage),
        (status = 400, description = "`user_id` not a UUID, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another user's history, asked by a non-staff caller", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`: the read model has not caught up with the token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn history_for_user(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(of): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    same_user_or_staff(&user, of)?;
    caught_up(&state, &headers, "orders").await?;
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "select h.order_id, h.status, h.notes, h.updated_by, h.role, h.created_at
           from orders.order_history h join orders.orders o using (order_id)
          where o.user_id = $1 order by h.created_at, h.event_id limit 1000",
    )
    .bind(of)
    .fetch_all(&state.pool)
    .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({ "order_id": r.0, "status": r.1, "notes": r.2, "updated_by": r.3, "role": r.4, "created_at": r.5 }))
        .collect();
    Ok(Json(json!({ "items": items })))
}
