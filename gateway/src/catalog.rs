//! Catalog and stock commands: categories, products, receiving and adjusting stock.
//!
//! Every answer here is what the command just decided (the aggregate's state after it),
//! with `X-Consistency-Token` naming the events' position; listings and searches read the
//! catalog read model.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::Utc;
use commands::handler::{CommandError, CommandHandler, CommandMeta, Handled};
use commands::unique::{self, UniqueError};
use domain::catalog::{
    CatalogError, Category, CategoryCommand, CreateProduct, Product, ProductCommand, ProductRecord,
};
use domain::id::{CategoryId, ProductId};
use domain::inventory::{Inventory, InventoryCommand, InventoryError, DEFAULT_WAREHOUSE};
use domain::money::Money;
use domain::user::Role;
use domain::value::{Sku, Slug};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Money as MoneySchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/categories", post(create_category))
        .route("/products", post(create_product))
        .route(
            "/products/{id}",
            put(update_product).delete(archive_product),
        )
        .route("/inventory/{sku}/receive", post(receive_stock))
        .route("/inventory/{sku}/adjust", post(adjust_stock))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_category, create_product, update_product, archive_product, receive_stock, adjust_stock),
    components(schemas(
        CategoryBody,
        CategoryCreated,
        ProductBody,
        ProductUpdate,
        ProductAnswer,
        ProductAnswerStock,
        ReceiveBody,
        AdjustBody,
        StockAnswer
    )),
    tags((name = "catalog", description = "Browsing products and categories; stock for staff"))
)]
pub struct CatalogApi;

/// A category as `POST /categories` answers it.
#[derive(ToSchema)]
#[allow(dead_code)]
struct CategoryCreated {
    id: Uuid,
    name: String,
    slug: String,
    parent_id: Option<Uuid>,
}

/// A product as the write side holds it right after a command (see [`product_json`]);
/// `GET /products/{id}` adds images, variants and times once the catalog has caught up.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ProductAnswer {
    id: Uuid,
    sku: String,
    name: String,
    slug: String,
    description: Option<String>,
    category_id: Uuid,
    price: MoneySchema,
    /// `draft` (a vendor's, awaiting review), `active` or `archived`.
    status: String,
    #[schema(value_type = Object)]
    attributes: Map<String, Value>,
    stock: ProductAnswerStock,
    /// The product stream's revision.
    version: Option<u64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ProductAnswerStock {
    /// On hand minus reserved over the product's SKU, never below 0.
    available: i64,
}

/// One SKU's stock, summed over warehouses, after the command.
#[derive(ToSchema)]
#[allow(dead_code)]
struct StockAnswer {
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
}

const STAFF: &[Role] = &[Role::Staff, Role::Admin];
const SELLERS: &[Role] = &[Role::Staff, Role::Admin, Role::Vendor];

fn meta(user: &AuthUser, request: &RequestId, ip: &ClientIp) -> CommandMeta {
    request.command_meta(user.actor(), ip)
}

/// `X-Consistency-Token`: where the command's events sit in `$all`.
fn consistency<E>(handled: &Handled<E>) -> HeaderMap {
    crate::consistency::headers(handled.position)
}

fn catalog_error(e: CommandError<CatalogError>) -> ApiError {
    match e {
        CommandError::Rejected(CatalogError::Invalid { field, reason }) => {
            ApiError::invalid_field(field, reason)
        }
        CommandError::Rejected(CatalogError::NotCreated) => {
            ApiError::NotFound("no such item".into())
        }
        CommandError::Rejected(e) => ApiError::conflict("catalog_rule", e.to_string()),
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn inventory_error(e: CommandError<InventoryError>) -> ApiError {
    match e {
        CommandError::Rejected(
            e @ (InventoryError::ZeroQuantity
            | InventoryError::MissingReason
            | InventoryError::InvalidWarehouse),
        ) => ApiError::UnprocessableEntity {
            code: "invalid_stock_change",
            detail: e.to_string(),
            errors: vec![],
        },
        CommandError::Rejected(e @ InventoryError::WouldGoNegative { .. }) => {
            ApiError::conflict("insufficient_stock", e.to_string())
        }
        CommandError::Rejected(e) => ApiError::conflict("inventory_rule", e.to_string()),
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

fn claim_error(kind: &'static str, e: UniqueError) -> ApiError {
    match e {
        UniqueError::Taken { key, .. } => ApiError::conflict(
            match kind {
                "sku" => "sku_taken",
                _ => "slug_taken",
            },
            format!("{key:?} is already used"),
        ),
        UniqueError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CategoryBody {
    name: String,
    /// Derived from `name` when absent.
    slug: Option<String>,
    parent_id: Option<Uuid>,
}

/// Creates a category (staff).
#[utoipa::path(
    post,
    path = "/api/v1/categories",
    tag = "catalog",
    security(("bearer" = [])),
    request_body = CategoryBody,
    responses(
        (status = 201, description = "The category", body = CategoryCreated, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`, or `catalog_rule`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name or slug, an unknown `parent_id`, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_category(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CategoryBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let slug = match &body.slug {
        Some(s) => Slug::parse(s),
        None => Slug::from_name(&body.name),
    }
    .map_err(|e| ApiError::invalid_field("slug", e.message))?;
    let h = &state.handlers;
    if let Some(parent) = body.parent_id {
        let (p, _) = h
            .categories
            .load(&CommandHandler::<Category>::stream_id(parent))
            .await
            .map_err(catalog_error)?;
        if p.category_id.is_none() {
            return Err(ApiError::invalid_field("parent_id", "no such category"));
        }
    }
    let id = Uuid::new_v4();
    let meta = meta(&user, &request, &ip);
    unique::claim(&*state.store, "category_slug", slug.as_str(), id, &meta)
        .await
        .map_err(|e| claim_error("slug", e))?;
    let command = CategoryCommand::Create {
        category_id: CategoryId::new(id),
        name: body.name,
        slug: slug.clone(),
        parent_id: body.parent_id.map(CategoryId::new),
    };
    let stream = CommandHandler::<Category>::stream_id(id);
    let handled = match h.categories.handle(&stream, command, meta.clone()).await {
        Ok(handled) => handled,
        Err(e) => {
            let _ = unique::release(&*state.store, "category_slug", slug.as_str(), id, &meta).await;
            return Err(catalog_error(e));
        }
    };
    let (c, _) = h.categories.load(&stream).await.map_err(catalog_error)?;
    Ok((
        StatusCode::CREATED,
        consistency(&handled),
        Json(json!({ "id": id, "name": c.name, "slug": c.slug, "parent_id": c.parent_id })),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProductBody {
    sku: String,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    category_id: Uuid,
    #[schema(value_type = MoneySchema)]
    price: Money,
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: Map<String, Value>,
}

async fn product_json(
    state: &AppState,
    p: &ProductRecord,
    version: Option<u64>,
) -> Result<Value, ApiError> {
    let (stock, _) = state
        .handlers
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(&p.sku))
        .await
        .map_err(inventory_error)?;
    Ok(json!({
        "id": p.product_id,
        "sku": p.sku,
        "name": p.name,
        "slug": p.slug,
        "description": p.description,
        "category_id": p.category_id,
        "price": p.price,
        "status": p.status,
        "attributes": p.attributes,
        "stock": { "available": stock.available().max(0) },
        "version": version,
    }))
}

/// Creates a product (staff or vendor). Staff's go on sale at once; a vendor's wait as
/// drafts for review.
#[utoipa::path(
    post,
    path = "/api/v1/products",
    tag = "catalog",
    security(("bearer" = [])),
    request_body = ProductBody,
    responses(
        (status = 201, description = "The product", body = ProductAnswer, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither staff nor vendor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sku_taken`, `slug_taken`, or `catalog_rule`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, slug, name or price, an unknown `category_id`, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_product(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<ProductBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let sku = Sku::parse(&body.sku).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let slug = match &body.slug {
        Some(s) => Slug::parse(s),
        None => Slug::from_name(&body.name),
    }
    .map_err(|e| ApiError::invalid_field("slug", e.message))?;
    if body.price.amount < 0 {
        return Err(ApiError::invalid_field(
            "price.amount",
            "must not be negative",
        ));
    }
    let h = &state.handlers;
    let (category, _) = h
        .categories
        .load(&CommandHandler::<Category>::stream_id(body.category_id))
        .await
        .map_err(catalog_error)?;
    if category.category_id.is_none() {
        return Err(ApiError::invalid_field("category_id", "no such category"));
    }
    let id = Uuid::new_v4();
    let meta = meta(&user, &request, &ip);
    unique::claim(&*state.store, "sku", sku.as_str(), id, &meta)
        .await
        .map_err(|e| claim_error("sku", e))?;
    if let Err(e) = unique::claim(&*state.store, "product_slug", slug.as_str(), id, &meta).await {
        let _ = unique::release(&*state.store, "sku", sku.as_str(), id, &meta).await;
        return Err(claim_error("slug", e));
    }
    let command = ProductCommand::Create(Box::new(CreateProduct {
        product_id: ProductId::new(id),
        sku: sku.clone(),
        name: body.name,
        slug: slug.clone(),
        description: body.description,
        category_id: CategoryId::new(body.category_id),
        price: body.price,
        attributes: body.attributes,
        vendor_id: (user.role == Role::Vendor).then_some(user.user_id.into()),
        // Staff put products on sale at once; a vendor's wait for review as drafts.
        publish: user.role != Role::Vendor,
        at: meta.occurred_at,
    }));
    let stream = CommandHandler::<Product>::stream_id(id);
    let handled = match h.products.handle(&stream, command, meta.clone()).await {
        Ok(handled) => handled,
        Err(e) => {
            let _ = unique::release(&*state.store, "sku", sku.as_str(), id, &meta).await;
            let _ = unique::release(&*state.store, "product_slug", slug.as_str(), id, &meta).await;
            return Err(catalog_error(e));
        }
    };
    let (p, version) = h.products.load(&stream).await.map_err(catalog_error)?;
    let p = p
        .created
        .ok_or_else(|| ApiError::internal("created product not found"))?;
    Ok((
        StatusCode::CREATED,
        consistency(&handled),
        Json(product_json(&state, &p, version).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProductUpdate {
    name: Option<String>,
    description: Option<String>,
    category_id: Option<Uuid>,
    /// In the product's currency.
    #[schema(value_type = Option<MoneySchema>)]
    price: Option<Money>,
    /// Replaces the attributes.
    #[schema(value_type = Option<Object>)]
    attributes: Option<Map<String, Value>>,
}

/// A vendor may change only their own products; staff any.
async fn owned_product(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
) -> Result<ProductRecord, ApiError> {
    user.require(SELLERS)?;
    let (p, _) = state
        .handlers
        .products
        .load(&CommandHandler::<Product>::stream_id(id))
        .await
        .map_err(catalog_error)?;
    let p = p
        .created
        .ok_or_else(|| ApiError::NotFound("no such product".into()))?;
    if user.role == Role::Vendor && p.vendor_id.map(|v| v.as_uuid()) != Some(user.user_id) {
        return Err(ApiError::Forbidden(
            "a vendor may change only their own products".into(),
        ));
    }
    Ok(p)
}

/// Changes a product's fields and price (staff; a vendor their own products).
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    request_body = ProductUpdate,
    responses(
        (status = 200, description = "The product after the change", body = ProductAnswer, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body, or `id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`catalog_rule`: archived, or a price in another currency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad field, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_product(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ProductUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    owned_product(&state, &user, id).await?;
    let stream = CommandHandler::<Product>::stream_id(id);
    let h = &state.handlers;
    let meta = meta(&user, &request, &ip);
    let mut last = None;
    if body.name.is_some()
        || body.description.is_some()
        || body.category_id.is_some()
        || body.attributes.is_some()
    {
        let command = ProductCommand::Update {
            name: body.name,
            description: body.description,
            category_id: body.category_id.map(CategoryId::new),
            attributes: body.attributes,
            at: meta.occurred_at,
        };
        last = Some(
            h.products
                .handle(&stream, command, meta.clone())
                .await
                .map_err(catalog_error)?,
        );
    }
    if let Some(price) = body.price {
        // A second command of the same request: its own id, the same correlation.
        let mut price_meta = meta.clone();
        price_meta.command_id = Uuid::new_v5(&meta.command_id, b"price");
        let command = ProductCommand::ChangePrice {
            price,
            at: meta.occurred_at,
        };
        last = Some(
            h.products
                .handle(&stream, command, price_meta)
                .await
                .map_err(catalog_error)?,
        );
    }
    let (p, version) = h.products.load(&stream).await.map_err(catalog_error)?;
    let p = p
        .created
        .ok_or_else(|| ApiError::NotFound("no such product".into()))?;
    let headers = last.as_ref().map(consistency).unwrap_or_default();
    Ok((headers, Json(product_json(&state, &p, version).await?)))
}

/// Takes a product off sale for good (staff; a vendor their own products).
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    responses(
        (status = 204, description = "Archived", headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "`id` not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn archive_product(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    owned_product(&state, &user, id).await?;
    let handled = state
        .handlers
        .products
        .handle(
            &CommandHandler::<Product>::stream_id(id),
            ProductCommand::Archive { at: Utc::now() },
            meta(&user, &request, &ip),
        )
        .await
        .map_err(catalog_error)?;
    Ok((StatusCode::NO_CONTENT, consistency(&handled)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReceiveBody {
    /// Above 0.
    quantity: u32,
    /// The default warehouse when absent.
    warehouse: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AdjustBody {
    /// Units to add (positive) or take away (negative); not 0.
    delta: i64,
    /// Why (a count, damage, loss); required.
    reason: String,
    /// The default warehouse when absent.
    warehouse: Option<String>,
}

async fn stock_answer(
    state: &AppState,
    sku: &Sku,
    handled: &Handled<domain::inventory::InventoryEvent>,
) -> Result<impl IntoResponse, ApiError> {
    let (s, _) = state
        .handlers
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(sku))
        .await
        .map_err(inventory_error)?;
    Ok((
        consistency(handled),
        Json(json!({
            "sku": sku,
            "on_hand": s.on_hand_total(),
            "reserved": s.reserved(),
            "available": s.available(),
        })),
    ))
}

/// Books received units into a warehouse (staff).
#[utoipa::path(
    post,
    path = "/api/v1/inventory/{sku}/receive",
    tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU")),
    request_body = ReceiveBody,
    responses(
        (status = 200, description = "The SKU's stock after it", body = StockAnswer, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, a zero quantity or warehouse (`invalid_stock_change`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn receive_stock(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(sku): Path<String>,
    AppJson(body): AppJson<ReceiveBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let command = InventoryCommand::ReceiveStock {
        sku: sku.clone(),
        warehouse: body.warehouse.unwrap_or_else(|| DEFAULT_WAREHOUSE.into()),
        quantity: body.quantity,
    };
    let handled = state
        .handlers
        .inventory
        .handle(
            &CommandHandler::<Inventory>::stream_id(&sku),
            command,
            meta(&user, &request, &ip),
        )
        .await
        .map_err(inventory_error)?;
    stock_answer(&state, &sku, &handled).await
}

/// Corrects a warehouse's count by `delta`, with a reason (staff).
#[utoipa::path(
    post,
    path = "/api/v1/inventory/{sku}/adjust",
    tag = "catalog",
    security(("bearer" = [])),
    params(("sku" = String, Path, description = "The SKU")),
    request_body = AdjustBody,
    responses(
        (status = 200, description = "The SKU's stock after it", body = StockAnswer, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient_stock`: on hand would drop below reserved or zero; or `inventory_rule`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, a zero delta, no reason or a bad warehouse (`invalid_stock_change`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn adjust_stock(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(sku): Path<String>,
    AppJson(body): AppJson<AdjustBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&sku).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let command = InventoryCommand::AdjustStock {
        sku: sku.clone(),
        warehouse: body.warehouse.unwrap_or_else(|| DEFAULT_WAREHOUSE.into()),
        delta: body.delta,
        reason: body.reason,
    };
    let handled = state
        .handlers
        .inventory
        .handle(
            &CommandHandler::<Inventory>::stream_id(&sku),
            command,
            meta(&user, &request, &ip),
        )
        .await
        .map_err(inventory_error)?;
    stock_answer(&state, &sku, &handled).await
}
