//! The cart: read it, add, change and remove lines, apply or remove a coupon, empty it,
//! check it out into an order, and merge a guest's cart into the customer's on sign-in.
//!
//! A signed-in customer's cart is the stream `cart-<user id>`, so a user reaches their own
//! cart and no other. A guest (no `Authorization`) is given a random token in the
//! `X-Guest-Cart` answer header when adding a first line and sends it back on later calls;
//! the cart's id is a UUIDv5 of that token, so no token names a customer's cart. After
//! signing in, `POST /cart/merge` with the token moves the guest's lines into the user's
//! cart.
//!
//! Prices always come from the product as the catalog's write side holds it now, never from
//! the client. Commands answer the cart as the write side sees it, with
//! `X-Consistency-Token`; `GET /cart` reads the `carts` read model, waiting for that token
//! when sent. Checkout prices every line afresh, redeems the coupon (its limits and window
//! are checked then), places the order and empties the cart; the order's answer and status
//! code are those of `POST /orders`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::handler::{Actor, CommandError, CommandHandler, CommandMeta, Handled};
use commands::store::Position;
use domain::cart::{Cart, CartCommand, CartError, CartLine, CartState};
use domain::catalog::{Product, ProductStatus};
use domain::coupon::{discount_for, Coupon, CouponCommand, CouponError, CouponEvent, CouponState};
use domain::id::{CartId, CartItemId, OrderId, ProductId};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::{Address, Quantity};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::{ApiError, AppJson, FieldError};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cart", get(get_cart).delete(clear))
        .route("/cart/items", post(add_item))
        .route(
            "/cart/items/{item_id}",
            put(update_item).delete(remove_item),
        )
        .route("/cart/coupon", post(apply_coupon).delete(remove_coupon))
        .route("/cart/checkout", post(checkout))
        .route("/cart/merge", post(merge))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_cart, add_item, update_item, remove_item, apply_coupon, remove_coupon, clear, checkout, merge),
    components(schemas(AddItemBody, QuantityBody, CouponBody, CheckoutBody, MergeBody)),
    tags((name = "cart", description = "The customer's (or a guest's) shopping cart"))
)]
pub struct CartApi;

/// The header that carries a guest's cart token.
pub const GUEST_HEADER: &str = "x-guest-cart";
/// Whose `unique` streams map a coupon code to its coupon (`commands::unique`).
pub const COUPON_CODE_KIND: &str = "coupon_code";
const MAX_NOTES: usize = 2_000;

/// Ids of guest carts: a UUIDv5 of the token in this namespace, so a guest cannot pick the
/// id of a customer's cart.
const GUEST_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_5a43_9f3e_4b0a_8a2c_1e57_c0a7_7e11);

/// Whose cart a request acts on.
#[derive(Debug, Clone)]
pub enum CartOwner {
    User(AuthUser),
    /// A guest, by the token of `X-Guest-Cart`; `None` when they sent none yet.
    Guest(Option<Uuid>),
}

impl CartOwner {
    /// The cart's id, if it has one yet.
    pub fn cart_id(&self) -> Option<Uuid> {
        match self {
            CartOwner::User(u) => Some(u.user_id),
            CartOwner::Guest(token) => token.map(guest_cart_id),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            CartOwner::User(u) => Actor {
                user_id: Some(u.user_id),
                role: u.role.as_str().into(),
            },
            CartOwner::Guest(_) => Actor {
                user_id: None,
                role: "guest".into(),
            },
        }
    }
}

pub fn guest_cart_id(token: Uuid) -> Uuid {
    Uuid::new_v5(&GUEST_NAMESPACE, token.as_bytes())
}

fn guest_token(headers: &HeaderMap) -> Result<Option<Uuid>, ApiError> {
    headers
        .get(GUEST_HEADER)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|t| Uuid::parse_str(t.trim()).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_guest_cart",
                        "X-Guest-Cart must be the token a cart answer gave",
                    )
                })
        })
        .transpose()
}

impl FromRequestParts<AppState> for CartOwner {
    type Rejection = ApiError;

    /// A bearer token decides (and must be valid); without one the caller is a guest.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return AuthUser::from_request_parts(parts, state)
                .await
                .map(CartOwner::User);
        }
        guest_token(&parts.headers).map(CartOwner::Guest)
    }
}

/// The cart handler. `router::Handlers` has no cart or coupon handler yet, so one is made
/// per request: correct (the store's version check and the handler's retries still order
/// concurrent writers), only without the shared batching and state cache.
fn carts(state: &AppState) -> CommandHandler<Cart> {
    state.handlers.carts.clone()
}

fn coupons(state: &AppState) -> CommandHandler<Coupon> {
    state.handlers.coupons.clone()
}

fn meta(owner: &CartOwner, request: &RequestId, ip: &ClientIp) -> CommandMeta {
    request.command_meta(owner.actor(), ip)
}

fn cart_error(e: CommandError<CartError>) -> ApiError {
    match e {
        CommandError::Rejected(CartError::UnknownItem(_)) => {
            ApiError::NotFound("no such item in the cart".into())
        }
        CommandError::Rejected(e @ CartError::Empty) => ApiError::UnprocessableEntity {
            code: "cart_empty",
            detail: e.to_string(),
            errors: vec![],
        },
        CommandError::Rejected(e @ CartError::MixedCurrencies) => ApiError::UnprocessableEntity {
            code: "mixed_currencies",
            detail: e.to_string(),
            errors: vec![FieldError::new("product_id", e.to_string())],
        },
        CommandError::Rejected(e @ CartError::TooManyLines) => ApiError::UnprocessableEntity {
            code: "cart_full",
            detail: e.to_string(),
            errors: vec![],
        },
        CommandError::Rejected(CartError::Invalid(message)) => {
            ApiError::invalid_field("code", message)
        }
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn quantity(field: &str, n: u32) -> Result<Quantity, ApiError> {
    Quantity::new(n)
        .map_err(|_| ApiError::invalid_field(field, format!("must be 1 to {}", Quantity::MAX)))
}

/// The token header of an answer, and for a new guest cart its token.
fn answer_headers(positions: &[Option<Position>], guest: Option<Uuid>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(v) = positions
        .iter()
        .flatten()
        .max()
        .and_then(|p| HeaderValue::from_str(&p.to_string()).ok())
    {
        h.insert(crate::consistency::HEADER, v);
    }
    if let Some(v) = guest.and_then(|g| HeaderValue::from_str(&g.to_string()).ok()) {
        h.insert(HeaderName::from_static(GUEST_HEADER), v);
    }
    h
}

/// The coupon a code names, with its id, as the write side holds it.
async fn coupon_by_code(
    state: &AppState,
    code: &str,
) -> Result<Option<(Uuid, CouponState)>, ApiError> {
    let Some(id) = commands::unique::owner_of(&*state.store, COUPON_CODE_KIND, code).await? else {
        return Ok(None);
    };
    let (s, _) = coupons(state)
        .load(&CommandHandler::<Coupon>::stream_id(id))
        .await
        .map_err(ApiError::internal)?;
    Ok(s.terms.is_some().then_some((id, s)))
}

/// What the coupon would take off `subtotal`: the read model's preview rule (kind, amount,
/// minimum order, active), so a command's answer and `GET /cart` agree.
fn preview_discount(coupon: Option<&CouponState>, subtotal: Money) -> Money {
    let zero = Money::zero(subtotal.currency);
    let Some(terms) = coupon.filter(|c| c.active).and_then(|c| c.terms.as_ref()) else {
        return zero;
    };
    if let Some(min) = terms.min_order {
        if min.currency != subtotal.currency || subtotal.amount < min.amount {
            return zero;
        }
    }
    discount_for(&terms.discount, subtotal).unwrap_or(zero)
}

fn money(amount: i64, currency: Currency) -> Value {
    json!({ "amount": amount, "currency": currency.as_str() })
}

/// The cart as the write side holds it, in the shape `GET /cart` answers.
async fn cart_json(state: &AppState, cart_id: Uuid, owner: &CartOwner, s: &CartState) -> Value {
    let currency = s
        .lines
        .values()
        .next()
        .map_or(Currency::USD, |l| l.unit_price.currency);
    let subtotal = s.subtotal().unwrap_or(Money::zero(currency));
    let coupon = match &s.coupon {
        Some(code) => coupon_by_code(state, code)
            .await
            .ok()
            .flatten()
            .map(|c| c.1),
        None => None,
    };
    let discount = preview_discount(coupon.as_ref(), subtotal);
    let items: Vec<Value> = s
        .lines
        .values()
        .map(|l| {
            json!({
                "id": l.item_id,
                "product_id": l.product_id,
                "sku": l.sku,
                "quantity": l.quantity.get(),
                "price": l.unit_price,
                "subtotal": money(l.unit_price.amount * i64::from(l.quantity.get()), currency),
            })
        })
        .collect();
    json!({
        "id": cart_id,
        "user_id": match owner { CartOwner::User(u) => Some(u.user_id), CartOwner::Guest(_) => None },
        "items": items,
        "coupon": s.coupon,
        "item_count": s.lines.values().map(|l| l.quantity.get()).sum::<u32>(),
        "subtotal": subtotal,
        "discount": discount,
        "total": money(subtotal.amount - discount.amount, currency),
    })
}

/// Runs `command` on the owner's cart and answers the cart after it.
async fn command(
    state: &AppState,
    owner: &CartOwner,
    cart_id: Uuid,
    command: CartCommand,
    meta: CommandMeta,
) -> Result<(Handled<domain::cart::CartEvent>, Value), ApiError> {
    let handler = carts(state);
    let stream = CommandHandler::<Cart>::stream_id(cart_id);
    let handled = handler
        .handle(&stream, command, meta)
        .await
        .map_err(cart_error)?;
    let (s, _) = handler.load(&stream).await.map_err(cart_error)?;
    Ok((handled, cart_json(state, cart_id, owner, &s).await))
}

/// The owner's cart id, or 401 for a guest who has no cart yet.
fn existing_cart(owner: &CartOwner) -> Result<Uuid, ApiError> {
    owner.cart_id().ok_or_else(|| {
        ApiError::Unauthorized("sign in, or send the X-Guest-Cart token of your guest cart".into())
    })
}

/// A product on sale now, or a 422 naming `field`.
async fn product_on_sale(
    state: &AppState,
    id: Uuid,
    field: &str,
) -> Result<domain::catalog::ProductRecord, ApiError> {
    let (p, _) = state
        .handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(id))
        .await
        .map_err(ApiError::internal)?;
    match p.created {
        Some(p) if p.status == ProductStatus::Active => Ok(p),
        _ => Err(ApiError::invalid_field(field, "no such product on sale")),
    }
}

// ----------------------------------------------------------------------------- queries

#[derive(sqlx::FromRow)]
struct CartRow {
    user_id: Option<Uuid>,
    currency: Option<String>,
    coupon_code: Option<String>,
    subtotal: i64,
    discount: i64,
    total: i64,
    item_count: i32,
    updated_at: DateTime<Utc>,
}

/// The caller's cart from the `carts` read model; an empty cart when there is none yet.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    params(("X-Consistency-Token" = Option<String>, Header, description = "Wait until the cart shows this command"),
           ("X-Guest-Cart" = Option<String>, Header, description = "A guest's cart token")),
    responses((status = 200, description = "The cart: items, coupon, subtotal, discount, total", content_type = "application/json"))
)]
async fn get_cart(
    State(state): State<AppState>,
    owner: CartOwner,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    caught_up(&state, &headers, "carts").await?;
    let Some(cart_id) = owner.cart_id() else {
        return Ok(Json(
            cart_json(&state, Uuid::nil(), &owner, &CartState::default()).await,
        ));
    };
    let row: Option<CartRow> = sqlx::query_as(
        "select user_id, currency, coupon_code, subtotal, discount, total, item_count, updated_at
           from carts.carts where cart_id = $1",
    )
    .bind(cart_id)
    .fetch_optional(&state.pool)
    .await?;
    let user_id = match &owner {
        CartOwner::User(u) => Some(u.user_id),
        CartOwner::Guest(_) => None,
    };
    let Some(row) = row else {
        return Ok(Json(json!({
            "id": cart_id, "user_id": user_id, "items": [], "coupon": null, "item_count": 0,
            "subtotal": money(0, Currency::USD), "discount": money(0, Currency::USD),
            "total": money(0, Currency::USD), "updated_at": null,
        })));
    };
    let currency = row
        .currency
        .as_deref()
        .and_then(|c| Currency::parse(c.trim()).ok())
        .unwrap_or(Currency::USD);
    let items: Vec<(Uuid, Uuid, String, i32, i64, i64)> = sqlx::query_as(
        "select item_id, product_id, sku, quantity, price, subtotal from carts.cart_items
          where cart_id = $1 order by added_at, item_id",
    )
    .bind(cart_id)
    .fetch_all(&state.pool)
    .await?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| {
            json!({
                "id": i.0, "product_id": i.1, "sku": i.2, "quantity": i.3,
                "price": money(i.4, currency), "subtotal": money(i.5, currency),
            })
        })
        .collect();
    Ok(Json(json!({
        "id": cart_id,
        "user_id": row.user_id.or(user_id),
        "items": items,
        "coupon": row.coupon_code,
        "item_count": row.item_count,
        "subtotal": money(row.subtotal, currency),
        "discount": money(row.discount, currency),
        "total": money(row.total, currency),
        "updated_at": row.updated_at,
    })))
}

// ---------------------------------------------------------------------------- commands

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddItemBody {
    product_id: Uuid,
    /// 1 to 10,000.
    quantity: u32,
}

/// Adds a product at its current price; a product already in the cart adds to its line.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    tag = "cart",
    security(("bearer" = [])),
    request_body = AddItemBody,
    responses(
        (status = 201, description = "The cart; `Location` names the line, `X-Guest-Cart` a new guest cart's token", content_type = "application/json"),
        (status = 422, description = "Unknown product, bad quantity, another currency or a full cart", body = crate::error::Problem),
    )
)]
async fn add_item(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<AddItemBody>,
) -> Result<impl IntoResponse, ApiError> {
    let quantity = quantity("quantity", body.quantity)?;
    let product = product_on_sale(&state, body.product_id, "product_id").await?;
    // A guest's first line starts their cart: the token is theirs to send back.
    let (owner, new_token) = match owner {
        CartOwner::Guest(None) => {
            let token = Uuid::new_v4();
            (CartOwner::Guest(Some(token)), Some(token))
        }
        other => (other, None),
    };
    let cart_id = existing_cart(&owner)?;
    let line = CartLine {
        item_id: CartItemId::new(Uuid::new_v4()),
        product_id: product.product_id,
        sku: product.sku,
        quantity,
        unit_price: product.price,
    };
    let meta = meta(&owner, &request, &ip);
    let at = meta.occurred_at;
    let (handled, cart) = command(
        &state,
        &owner,
        cart_id,
        CartCommand::AddItem { line, at },
        meta,
    )
    .await?;
    let mut headers = answer_headers(&[handled.position], new_token);
    // The line the product sits on: the new one, or the one its quantity was added to.
    let item = cart["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["product_id"] == json!(body.product_id))
        })
        .and_then(|i| i["id"].as_str().map(str::to_owned));
    if let Some(v) =
        item.and_then(|i| HeaderValue::from_str(&format!("/api/v1/cart/items/{i}")).ok())
    {
        headers.insert(header::LOCATION, v);
    }
    Ok((StatusCode::CREATED, headers, Json(cart)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct QuantityBody {
    /// 1 to 10,000.
    quantity: u32,
}

/// Sets a line's quantity.
#[utoipa::path(
    put,
    path = "/api/v1/cart/items/{item_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The line")),
    request_body = QuantityBody,
    responses(
        (status = 200, description = "The cart", content_type = "application/json"),
        (status = 404, description = "No such line in the caller's cart", body = crate::error::Problem),
    )
)]
async fn update_item(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
    AppJson(body): AppJson<QuantityBody>,
) -> Result<impl IntoResponse, ApiError> {
    let quantity = quantity("quantity", body.quantity)?;
    let cart_id = existing_cart(&owner)?;
    let command_ = CartCommand::UpdateItem {
        item_id: CartItemId::new(item_id),
        quantity,
    };
    let (handled, cart) = command(
        &state,
        &owner,
        cart_id,
        command_,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok((answer_headers(&[handled.position], None), Json(cart)))
}

/// Removes a line.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/items/{item_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The line")),
    responses(
        (status = 200, description = "The cart", content_type = "application/json"),
        (status = 404, description = "No such line in the caller's cart", body = crate::error::Problem),
    )
)]
async fn remove_item(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let cart_id = existing_cart(&owner)?;
    let command_ = CartCommand::RemoveItem {
        item_id: CartItemId::new(item_id),
    };
    let (handled, cart) = command(
        &state,
        &owner,
        cart_id,
        command_,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok((answer_headers(&[handled.position], None), Json(cart)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CouponBody {
    code: String,
}

/// Applies a coupon that exists, is active and valid now; its usage limits and minimum
/// order are checked at checkout.
#[utoipa::path(
    post,
    path = "/api/v1/cart/coupon",
    tag = "cart",
    security(("bearer" = [])),
    request_body = CouponBody,
    responses(
        (status = 200, description = "The cart with the coupon's discount", content_type = "application/json"),
        (status = 422, description = "No such coupon, or not valid now (`invalid_coupon`)", body = crate::error::Problem),
    )
)]
async fn apply_coupon(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CouponBody>,
) -> Result<impl IntoResponse, ApiError> {
    let cart_id = existing_cart(&owner)?;
    let code = body.code.trim().to_uppercase();
    if code.is_empty() || code.chars().count() > 64 {
        return Err(ApiError::invalid_field(
            "code",
            "a coupon code is 1 to 64 characters",
        ));
    }
    let invalid = |detail: String| ApiError::UnprocessableEntity {
        code: "invalid_coupon",
        detail: detail.clone(),
        errors: vec![FieldError::new("code", detail)],
    };
    let Some((_, coupon)) = coupon_by_code(&state, &code).await? else {
        return Err(invalid("no such coupon".into()));
    };
    let now = Utc::now();
    let terms = coupon.terms.as_ref();
    if !coupon.active {
        return Err(invalid(CouponError::Inactive.to_string()));
    }
    if let Some(from) = terms.and_then(|t| t.valid_from).filter(|f| now < *f) {
        return Err(invalid(CouponError::NotYetValid(from).to_string()));
    }
    if let Some(until) = terms.and_then(|t| t.valid_until).filter(|u| now >= *u) {
        return Err(invalid(CouponError::Expired(until).to_string()));
    }
    let (handled, cart) = command(
        &state,
        &owner,
        cart_id,
        CartCommand::ApplyCoupon { code },
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok((answer_headers(&[handled.position], None), Json(cart)))
}

/// Removes the cart's coupon.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/coupon",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, description = "The cart", content_type = "application/json"))
)]
async fn remove_coupon(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let cart_id = existing_cart(&owner)?;
    let (handled, cart) = command(
        &state,
        &owner,
        cart_id,
        CartCommand::RemoveCoupon,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok((answer_headers(&[handled.position], None), Json(cart)))
}

/// Empties the cart: every line and the coupon.
#[utoipa::path(
    delete,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, description = "The empty cart", content_type = "application/json"))
)]
async fn clear(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let cart_id = existing_cart(&owner)?;
    let handler = carts(&state);
    let stream = CommandHandler::<Cart>::stream_id(cart_id);
    let (s, _) = handler.load(&stream).await.map_err(cart_error)?;
    let mut positions = Vec::new();
    // One removal per line: the domain has no "clear" command, and each removal is valid on
    // its own, so an interrupted clear leaves a smaller cart, never a broken one.
    let mut commands: Vec<CartCommand> = s
        .lines
        .keys()
        .map(|item_id| CartCommand::RemoveItem { item_id: *item_id })
        .collect();
    commands.push(CartCommand::RemoveCoupon);
    for c in commands {
        match handler
            .handle(&stream, c, meta(&owner, &request, &ip))
            .await
        {
            Ok(h) => positions.push(h.position),
            // Removed meanwhile by another request: that is what we wanted.
            Err(CommandError::Rejected(CartError::UnknownItem(_))) => {}
            Err(e) => return Err(cart_error(e)),
        }
    }
    let (s, _) = handler.load(&stream).await.map_err(cart_error)?;
    Ok((
        answer_headers(&positions, None),
        Json(cart_json(&state, cart_id, &owner, &s).await),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckoutBody {
    #[schema(value_type = Object)]
    shipping_address: Address,
    #[schema(value_type = Option<Object>)]
    billing_address: Option<Address>,
    /// `card`.
    payment_method: String,
    notes: Option<String>,
}

fn order_error(e: CommandError<domain::order::OrderError>) -> ApiError {
    match e {
        CommandError::Rejected(e) => ApiError::UnprocessableEntity {
            code: "order_rule",
            detail: e.to_string(),
            errors: vec![],
        },
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

/// Turns the cart into an order: lines priced afresh, the coupon redeemed, the order placed
/// (202, as `POST /orders`: the checkout saga reserves the stock) and the cart emptied.
#[utoipa::path(
    post,
    path = "/api/v1/cart/checkout",
    tag = "cart",
    security(("bearer" = [])),
    request_body = CheckoutBody,
    responses(
        (status = 202, description = "The order, as `GET /orders/{id}` answers it; `Location` names it", content_type = "application/json"),
        (status = 422, description = "An empty cart (`cart_empty`), a product no longer on sale, or a coupon refused (`invalid_coupon`)", body = crate::error::Problem),
    )
)]
async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CheckoutBody>,
) -> Result<impl IntoResponse, ApiError> {
    if body.payment_method != "card" {
        return Err(ApiError::invalid_field(
            "payment_method",
            "the only method is \"card\"",
        ));
    }
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTES)
    {
        return Err(ApiError::invalid_field(
            "notes",
            format!("must be at most {MAX_NOTES} characters"),
        ));
    }
    let owner = CartOwner::User(user.clone());
    let cart_handler = carts(&state);
    let cart_stream = CommandHandler::<Cart>::stream_id(user.user_id);
    let (cart, _) = cart_handler.load(&cart_stream).await.map_err(cart_error)?;
    if cart.lines.is_empty() {
        return Err(cart_error(CommandError::Rejected(CartError::Empty)));
    }

    // The cart's prices were a snapshot; the order takes the catalog's prices now.
    let mut lines = Vec::with_capacity(cart.lines.len());
    for (i, l) in cart.lines.values().enumerate() {
        let p = product_on_sale(
            &state,
            l.product_id.as_uuid(),
            &format!("items[{i}].product_id"),
        )
        .await?;
        lines.push(OrderLine {
            product_id: ProductId::new(p.product_id.as_uuid()),
            sku: p.sku,
            quantity: l.quantity.get(),
            unit_price: p.price,
        });
    }
    let currency = lines[0].unit_price.currency;
    if lines.iter().any(|l| l.unit_price.currency != currency) {
        return Err(cart_error(CommandError::Rejected(
            CartError::MixedCurrencies,
        )));
    }
    let mut subtotal = Money::zero(currency);
    for l in &lines {
        subtotal = l
            .unit_price
            .checked_mul(l.quantity)
            .and_then(|m| subtotal.checked_add(m))
            .map_err(ApiError::internal)?;
    }

    let order_id = Uuid::new_v4();
    let mut positions = Vec::new();
    let mut discount = Money::zero(currency);
    let mut redeemed = None;
    if let Some(code) = &cart.coupon {
        let refused = |detail: String| ApiError::UnprocessableEntity {
            code: "invalid_coupon",
            detail: detail.clone(),
            errors: vec![FieldError::new("coupon", detail)],
        };
        let Some((coupon_id, _)) = coupon_by_code(&state, code).await? else {
            return Err(refused(
                "the cart's coupon no longer exists; remove it".into(),
            ));
        };
        let stream = CommandHandler::<Coupon>::stream_id(coupon_id);
        let command_ = CouponCommand::Redeem {
            customer: user.user_id.into(),
            order_id: OrderId::new(order_id),
            subtotal,
            at: Utc::now(),
        };
        let handled = coupons(&state)
            .handle(&stream, command_, meta(&owner, &request, &ip))
            .await
            .map_err(|e| match e {
                CommandError::Rejected(e) => refused(e.to_string()),
                CommandError::Store(e) => e.into(),
                other => ApiError::internal(other),
            })?;
        if let Some(CouponEvent::CouponRedeemed { discount: d, .. }) = handled.events.first() {
            discount = *d;
        }
        positions.push(handled.position);
        redeemed = Some(stream);
    }

    let meta_ = meta(&owner, &request, &ip);
    let place = OrderCommand::Place(Box::new(PlaceOrder {
        order_id: OrderId::new(order_id),
        user_id: user.user_id.into(),
        lines,
        shipping_address: body.shipping_address,
        billing_address: body.billing_address,
        payment_method: body.payment_method,
        notes: body.notes,
        coupon_code: cart.coupon.clone(),
        discount,
        tax_rate_bp: 0,
        shipping: Money::zero(currency),
        at: meta_.occurred_at,
    }));
    let order_stream = CommandHandler::<Order>::stream_id(order_id);
    let placed = state
        .handlers
        .orders
        .handle(&order_stream, place, meta_)
        .await;
    let placed = match placed {
        Ok(h) => h,
        Err(e) => {
            // The order does not exist, so its use of the coupon must not count.
            if let Some(stream) = redeemed {
                let release = CouponCommand::ReleaseRedemption {
                    order_id: OrderId::new(order_id),
                };
                if let Err(e) = coupons(&state)
                    .handle(&stream, release, meta(&owner, &request, &ip))
                    .await
                {
                    tracing::error!(error = %e, %order_id, "could not release a coupon redemption");
                }
            }
            return Err(order_error(e));
        }
    };
    positions.push(placed.position);

    let check_out = CartCommand::CheckOut {
        order_id: OrderId::new(order_id),
        at: Utc::now(),
    };
    match cart_handler
        .handle(&cart_stream, check_out, meta(&owner, &request, &ip))
        .await
    {
        Ok(h) => positions.push(h.position),
        // The order stands; the cart keeps its lines and the customer can empty it.
        Err(e) => {
            tracing::error!(error = %e, %order_id, "order placed but the cart was not emptied")
        }
    }

    let (o, _) = state
        .handlers
        .orders
        .load(&order_stream)
        .await
        .map_err(order_error)?;
    let o = o
        .placed
        .ok_or_else(|| ApiError::internal("a placed order has no state"))?;
    let mut headers = answer_headers(&positions, None);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/orders/{order_id}")) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(crate::orders::order_json(&o)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    /// The `X-Guest-Cart` token of the cart used before signing in.
    guest_cart: Uuid,
}

/// Moves a guest's lines into the signed-in customer's cart (a product in both adds up)
/// and empties the guest's cart. Merging the same guest cart again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/cart/merge",
    tag = "cart",
    security(("bearer" = [])),
    request_body = MergeBody,
    responses((status = 200, description = "The customer's cart after the merge", content_type = "application/json"))
)]
async fn merge(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<MergeBody>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = CartOwner::User(user.clone());
    let guest_id = guest_cart_id(body.guest_cart);
    let handler = carts(&state);
    let guest_stream = CommandHandler::<Cart>::stream_id(guest_id);
    let (guest, _) = handler.load(&guest_stream).await.map_err(cart_error)?;
    let lines: Vec<CartLine> = guest.lines.into_values().collect();
    let mut positions = Vec::new();
    let merge = CartCommand::MergeGuestCart {
        guest_cart_id: CartId::new(guest_id),
        lines,
    };
    let (handled, cart) = command(
        &state,
        &owner,
        user.user_id,
        merge,
        meta(&owner, &request, &ip),
    )
    .await?;
    positions.push(handled.position);
    // The lines live on in the customer's cart; the guest's copy ends as an expired cart.
    let expire = CartCommand::Expire { at: Utc::now() };
    let ended = handler
        .handle(&guest_stream, expire, meta(&owner, &request, &ip))
        .await
        .map_err(cart_error)?;
    positions.push(ended.position);
    Ok((answer_headers(&positions, None), Json(cart)))
}
