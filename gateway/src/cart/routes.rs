//! The cart's routes. Each handler extracts the owner and the body, calls one use case of
//! `commands::cart` (or reads the `carts` read model, for `GET /cart`), maps its error
//! here, and answers a [`CartView`] (checkout: the order's view) with
//! `X-Consistency-Token`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use commands::cart::{CartOutcome, CartUseCaseError, Shopper};
use commands::handler::CommandMeta;
use commands::orders::Delivery;
use commands::store::Position;
use domain::cart::CartError;
use domain::money::Money as DomainMoney;
use domain::value::Address;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::owner::{CartOwner, GUEST_HEADER};
use super::read_model::{self, StoredCart};
use super::views::{CartItemView, CartView, ShareView, SharedCartItemView, SharedCartView};
use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::{ApiError, AppJson, FieldError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::orders::views::OrderView;
use crate::state::AppState;
use crate::views::Money;

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
        .route("/cart/items/{item_id}/save-for-later", post(save_for_later))
        .route("/cart/saved/{item_id}/move-to-cart", post(move_to_cart))
        .route("/cart/saved/{item_id}", delete(remove_saved))
        .route("/cart/share", post(share).delete(revoke_share))
        .route("/carts/shared/{token}", get(shared_cart))
        .route("/cart/copy", post(copy))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_cart, add_item, update_item, remove_item, apply_coupon, remove_coupon, clear, checkout, merge,
          save_for_later, move_to_cart, remove_saved, share, revoke_share, shared_cart, copy),
    components(schemas(AddItemBody, QuantityBody, CouponBody, CheckoutBody, MergeBody, CartView, CartItemView,
                       CopyBody, ShareView, SharedCartView, SharedCartItemView, PriceChangeView)),
    tags((name = "cart", description = "The customer's (or a guest's) shopping cart"))
)]
pub struct CartApi;

impl From<CartUseCaseError> for ApiError {
    fn from(e: CartUseCaseError) -> Self {
        match e {
            e @ CartUseCaseError::NoCart => ApiError::Unauthorized(e.to_string()),
            CartUseCaseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            CartUseCaseError::Variant { field, refusal } => {
                ApiError::variant_refused(field, refusal)
            }
            CartUseCaseError::Rejected(CartError::UnknownItem(_)) => {
                ApiError::NotFound("no such item in the cart".into())
            }
            CartUseCaseError::Rejected(e @ CartError::Empty) => ApiError::UnprocessableEntity {
                code: "cart_empty",
                detail: e.to_string(),
                errors: vec![],
            },
            CartUseCaseError::Rejected(e @ CartError::MixedCurrencies) => {
                ApiError::UnprocessableEntity {
                    code: "mixed_currencies",
                    detail: e.to_string(),
                    errors: vec![FieldError::new("product_id", e.to_string())],
                }
            }
            CartUseCaseError::Rejected(e @ CartError::TooManyLines) => {
                ApiError::UnprocessableEntity {
                    code: "cart_full",
                    detail: e.to_string(),
                    errors: vec![],
                }
            }
            CartUseCaseError::Rejected(e @ CartError::TotalTooLarge) => {
                ApiError::UnprocessableEntity {
                    code: "total_too_large",
                    detail: e.to_string(),
                    errors: vec![FieldError::new("quantity", e.to_string())],
                }
            }
            CartUseCaseError::Rejected(CartError::Invalid(message)) => {
                ApiError::invalid_field("code", message)
            }
            CartUseCaseError::Rejected(CartError::UnknownSavedItem(_)) => {
                ApiError::NotFound("no such item saved for later".into())
            }
            CartUseCaseError::Rejected(e @ CartError::TooManySaved) => {
                ApiError::UnprocessableEntity {
                    code: "saved_full",
                    detail: e.to_string(),
                    errors: vec![],
                }
            }
            e @ CartUseCaseError::UnknownShare => ApiError::NotFound(e.to_string()),
            e @ CartUseCaseError::PricesChanged { .. } => {
                ApiError::conflict("price_changed", e.to_string())
            }
            CartUseCaseError::CouponRefused { field, message } => ApiError::UnprocessableEntity {
                code: "invalid_coupon",
                detail: message.clone(),
                errors: vec![FieldError::new(field, message)],
            },
            CartUseCaseError::CouponNotApplicable { message } => ApiError::UnprocessableEntity {
                code: "coupon_not_applicable",
                detail: message.clone(),
                errors: vec![FieldError::new("coupon", message)],
            },
            CartUseCaseError::Order(e) => e.into(),
            CartUseCaseError::Store(e) => e.into(),
            CartUseCaseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn meta(owner: &CartOwner, request: &RequestId, ip: &ClientIp) -> CommandMeta {
    request.command_meta(owner.actor(), ip)
}

/// The token header of an answer, and for a new guest cart its token.
fn answer_headers(position: Option<Position>, guest: Option<Uuid>) -> HeaderMap {
    let mut h = crate::consistency::headers(position);
    if let Some(v) = guest.and_then(|g| HeaderValue::from_str(&g.to_string()).ok()) {
        h.insert(HeaderName::from_static(GUEST_HEADER), v);
    }
    h
}

/// The cart after a command, with the token that reads it back.
fn answer(outcome: &CartOutcome) -> impl IntoResponse {
    (
        answer_headers(outcome.position, None),
        Json(CartView::from(outcome)),
    )
}

/// The caller's cart from the `carts` read model; an empty cart when there is none yet.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    params(("X-Consistency-Token" = Option<String>, Header, description = "Wait until the cart shows this command"),
           ("X-Guest-Cart" = Option<String>, Header, description = "A guest's cart token")),
    responses((status = 200, description = "The cart: items, coupon, subtotal, discount, total", body = CartView))
)]
async fn get_cart(
    State(state): State<AppState>,
    owner: CartOwner,
    headers: HeaderMap,
) -> Result<Json<CartView>, ApiError> {
    caught_up(&state, &headers, "carts").await?;
    let shopper = owner.shopper();
    let Some(cart_id) = shopper.cart_id() else {
        return Ok(Json(CartView::from(&CartOutcome::empty(shopper.user_id()))));
    };
    let Some(row) = read_model::cart(&state.pool, cart_id).await? else {
        return Ok(Json(CartView::not_started(cart_id, shopper.user_id())));
    };
    let items = read_model::items(&state.pool, cart_id).await?;
    let saved = read_model::saved_items(&state.pool, cart_id).await?;
    Ok(Json(CartView::from(StoredCart {
        cart_id,
        owner: shopper.user_id(),
        row,
        items,
        saved,
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddItemBody {
    product_id: Uuid,
    /// The variant to buy: required for a product with variants (its price and SKU are
    /// the line's), refused for one without.
    #[serde(default)]
    variant_id: Option<Uuid>,
    /// 1 to 10,000.
    quantity: u32,
}

/// Adds a product (as one of its variants, when it has variants) at its current price;
/// the same product and variant already in the cart adds to its line.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    tag = "cart",
    security(("bearer" = [])),
    request_body = AddItemBody,
    responses(
        (status = 201, description = "The cart; `Location` names the line, `X-Guest-Cart` a new guest cart's token", body = CartView),
        (status = 422, description = "Unknown product, bad quantity, another currency, a full cart or a subtotal past the bound (`total_too_large`); a product with variants and no `variant_id` (`variant_required`), a variant the product does not have (`unknown_variant`), a `variant_id` for a product without variants (`product_has_no_variants`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_item(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<AddItemBody>,
) -> Result<impl IntoResponse, ApiError> {
    // A guest's first line starts their cart: the token is theirs to send back.
    let (shopper, new_token) = match owner.shopper() {
        Shopper::Guest(None) => {
            let token = Uuid::new_v4();
            (Shopper::Guest(Some(token)), Some(token))
        }
        other => (other, None),
    };
    let added = commands::cart::add_item(
        &state.handlers,
        &shopper,
        body.product_id,
        body.variant_id,
        body.quantity,
        meta(&owner, &request, &ip),
    )
    .await?;
    let mut headers = answer_headers(added.cart.position, new_token);
    if let Some(v) = added
        .item_id
        .and_then(|i| HeaderValue::from_str(&format!("/api/v1/cart/items/{i}")).ok())
    {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Json(CartView::from(&added.cart)),
    ))
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
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such line in the caller's cart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad quantity, or a subtotal past the bound (`total_too_large`)", body = Problem, content_type = "application/problem+json"),
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
    let cart = commands::cart::change_quantity(
        &state.handlers,
        &owner.shopper(),
        item_id,
        body.quantity,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Removes a line.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/items/{item_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The line")),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such line in the caller's cart", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_item(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::remove_item(
        &state.handlers,
        &owner.shopper(),
        item_id,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
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
        (status = 200, description = "The cart with the coupon's discount", body = CartView),
        (status = 422, description = "No such coupon, or not valid now (`invalid_coupon`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn apply_coupon(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CouponBody>,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::apply_coupon(
        &state.handlers,
        &owner.shopper(),
        &body.code,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Removes the cart's coupon.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/coupon",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView))
)]
async fn remove_coupon(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::remove_coupon(
        &state.handlers,
        &owner.shopper(),
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Empties the cart: every line and the coupon.
#[utoipa::path(
    delete,
    path = "/api/v1/cart",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, description = "The empty cart", body = CartView))
)]
async fn clear(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::empty_cart(
        &state.handlers,
        &owner.shopper(),
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
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
    /// A shipping method's code (`GET /shipping/quote` lists them); absent: the cheapest
    /// method serving the address (free shipping in a store without shipping zones).
    shipping_method: Option<String>,
    /// Check out at the prices now even if a line's price moved since it was added
    /// (default false: such a checkout answers 409 `price_changed` with the new prices).
    #[serde(default)]
    accept_price_changes: bool,
}

/// A line whose unit price moved since it was added.
#[derive(Serialize, ToSchema)]
struct PriceChangeView {
    item_id: Uuid,
    product_id: Uuid,
    variant_id: Option<Uuid>,
    /// One unit's price when the line was added.
    was: Money,
    /// One unit's price now.
    now: Money,
}

/// The 409 `price_changed` problem, with the lines whose price moved and the cart's
/// subtotal at the prices now.
fn prices_changed(changes: Vec<commands::cart::PriceChange>, subtotal: DomainMoney) -> Response {
    let count = changes.len();
    let mut problem = serde_json::to_value(Problem::new(
        StatusCode::CONFLICT,
        "price_changed",
        format!(
            "{count} line(s) changed price since they were added; check out again with \
             accept_price_changes: true to buy at the prices now"
        ),
    ))
    .unwrap_or_default();
    let changes: Vec<PriceChangeView> = changes
        .into_iter()
        .map(|c| PriceChangeView {
            item_id: c.item_id,
            product_id: c.product_id,
            variant_id: c.variant_id,
            was: c.was.into(),
            now: c.now.into(),
        })
        .collect();
    problem["changes"] = serde_json::to_value(changes).unwrap_or_default();
    problem["subtotal"] = serde_json::to_value(Money::from(subtotal)).unwrap_or_default();
    let mut response = (StatusCode::CONFLICT, Json(problem)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
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
        (status = 202, description = "The order, as `GET /orders/{id}` answers it; `Location` names it", body = OrderView),
        (status = 409, description = "A line's price moved since it was added (`price_changed`): `changes` lists each line's unit price then and now, `subtotal` the cart at the prices now; nothing was placed. Send `accept_price_changes: true` to buy at those prices", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty cart (`cart_empty`), a product no longer on sale, a line past the bounds of money (`items[i].quantity`), or a coupon refused (`invalid_coupon`: inactive, outside its window, past its limits), or a coupon that would take nothing off (`coupon_not_applicable`: below its minimum, no line in its scope), which is then not used", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CheckoutBody>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = CartOwner::User(user.clone());
    let delivery = Delivery {
        shipping_address: body.shipping_address,
        billing_address: body.billing_address,
        payment_method: body.payment_method,
        notes: body.notes,
        shipping_method: body.shipping_method,
    };
    let done = match commands::cart::check_out_at_prices(
        &state.handlers,
        user.user_id,
        delivery,
        body.accept_price_changes,
        meta(&owner, &request, &ip),
    )
    .await
    {
        Ok(done) => done,
        Err(CartUseCaseError::PricesChanged { changes, subtotal }) => {
            return Ok(prices_changed(changes, subtotal));
        }
        Err(e) => return Err(e.into()),
    };
    let mut headers = answer_headers(done.position, None);
    let location = format!("/api/v1/orders/{}", done.order.order_id.as_uuid());
    if let Ok(v) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(OrderView::from(&done.order)),
    )
        .into_response())
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
    responses(
        (status = 200, description = "The customer's cart after the merge", body = CartView),
        (status = 422, description = "The merged cart would be full (`cart_full`) or past the bound (`total_too_large`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn merge(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<MergeBody>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = CartOwner::User(user.clone());
    let cart = commands::cart::merge_guest_cart(
        &state.handlers,
        user.user_id,
        body.guest_cart,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Moves a line out of the cart into the saved-for-later list (onto the saved line of the
/// same product, if there is one). Saved lines count in no total and are not checked out.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items/{item_id}/save-for-later",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The cart's line")),
    responses(
        (status = 200, description = "The cart, the line now in `saved_items`", body = CartView),
        (status = 404, description = "No such line in the caller's cart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The saved list is full (`saved_full`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn save_for_later(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::save_for_later(
        &state.handlers,
        &owner.shopper(),
        item_id,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Moves a saved line back into the cart, at the price it was added at; a product already
/// in the cart adds to its line.
#[utoipa::path(
    post,
    path = "/api/v1/cart/saved/{item_id}/move-to-cart",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The saved line")),
    responses(
        (status = 200, description = "The cart, the line back in `items`", body = CartView),
        (status = 404, description = "No such saved line", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A full cart (`cart_full`), another currency (`mixed_currencies`) or a subtotal past the bound (`total_too_large`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn move_to_cart(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::move_to_cart(
        &state.handlers,
        &owner.shopper(),
        item_id,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Takes a line off the saved-for-later list.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/saved/{item_id}",
    tag = "cart",
    security(("bearer" = [])),
    params(("item_id" = Uuid, Path, description = "The saved line")),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such saved line", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_saved(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    Path(item_id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::remove_saved(
        &state.handlers,
        &owner.shopper(),
        item_id,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// Shares the cart read-only: a new link token, shown this once (the server keeps only its
/// hash); a token shared before stops working.
#[utoipa::path(
    post,
    path = "/api/v1/cart/share",
    tag = "cart",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The token; `Location` names the shared cart", body = ShareView),
        (status = 422, description = "An empty cart (`cart_empty`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn share(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let shared = commands::cart::share_cart(
        &state.handlers,
        &owner.shopper(),
        meta(&owner, &request, &ip),
    )
    .await?;
    let mut headers = answer_headers(shared.cart.position, None);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/carts/shared/{}", shared.token)) {
        headers.insert(header::LOCATION, v);
    }
    let view = ShareView {
        expires_at: None,
        token: shared.token,
    };
    Ok((StatusCode::CREATED, headers, Json(view)))
}

/// Ends the cart's share link; without one, changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/share",
    tag = "cart",
    security(("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView))
)]
async fn revoke_share(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let cart = commands::cart::revoke_share(
        &state.handlers,
        &owner.shopper(),
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok(answer(&cart))
}

/// A shared cart, for anyone holding its link: lines, quantities and prices; nothing of its
/// owner or coupon.
#[utoipa::path(
    get,
    path = "/api/v1/carts/shared/{token}",
    tag = "cart",
    params(("token" = String, Path, description = "The token `POST /cart/share` gave"),
           ("X-Consistency-Token" = Option<String>, Header, description = "Wait until the read model shows this command")),
    responses(
        (status = 200, description = "The shared cart", body = SharedCartView),
        (status = 404, description = "No live link has this token (never given, revoked, or the cart expired)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn shared_cart(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SharedCartView>, ApiError> {
    caught_up(&state, &headers, "carts").await?;
    let hash = commands::cart::share_token_hash(&token);
    let cart = read_model::shared_cart(&state.pool, &hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("no shared cart has this token".into()))?;
    Ok(Json(SharedCartView::from(cart)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CopyBody {
    /// The token of a shared cart.
    token: String,
}

/// Copies a shared cart's lines into the caller's cart (a guest without one gets a new
/// cart and its `X-Guest-Cart`), each priced as the product sells now; a product already
/// in the cart adds to its line, a product no longer on sale is left out.
#[utoipa::path(
    post,
    path = "/api/v1/cart/copy",
    tag = "cart",
    security(("bearer" = [])),
    request_body = CopyBody,
    responses(
        (status = 200, description = "The caller's cart after the copy; `X-Guest-Cart` for a new guest cart", body = CartView),
        (status = 404, description = "No live link has this token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The copy would fill the cart past its lines (`cart_full`) or its bound (`total_too_large`), mix currencies (`mixed_currencies`), or the link is the caller's own cart", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn copy(
    State(state): State<AppState>,
    owner: CartOwner,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CopyBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (shopper, new_token) = match owner.shopper() {
        Shopper::Guest(None) => {
            let token = Uuid::new_v4();
            (Shopper::Guest(Some(token)), Some(token))
        }
        other => (other, None),
    };
    let cart = commands::cart::copy_shared_cart(
        &state.handlers,
        &shopper,
        &body.token,
        meta(&owner, &request, &ip),
    )
    .await?;
    Ok((
        answer_headers(cart.position, new_token),
        Json(CartView::from(&cart)),
    ))
}
