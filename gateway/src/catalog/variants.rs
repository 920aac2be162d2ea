//! `/products/{id}/variants`: a product's variants (staff, or the vendor who sells it).
//! Each has its own SKU (unique across every product and variant), price in the product's
//! currency, attributes, and stock, received into the default warehouse on creation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Json, Router};
use commands::catalog::{self as use_case, NewVariant, VariantChange};
use domain::catalog::Variant;
use domain::id::{ProductId, VariantId};
use domain::money::Money as DomainMoney;
use domain::value::Sku;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::products::{seller, SELLERS};
use super::views::{VariantStock, VariantView};
use crate::auth::AuthUser;
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Money;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/variants", post(create_variant))
        .route(
            "/products/{id}/variants/{variant_id}",
            put(update_variant).delete(remove_variant),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(create_variant, update_variant, remove_variant),
    components(schemas(VariantBody, VariantUpdate, VariantView, VariantStock))
)]
pub struct VariantsApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct VariantBody {
    /// Unique across every product's and variant's SKU.
    sku: String,
    name: String,
    /// In the product's currency.
    #[schema(value_type = Money)]
    price: DomainMoney,
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: Map<String, Value>,
    /// Units received into the default warehouse; 0 when absent.
    #[serde(default)]
    stock: u32,
}

/// Adds a variant to a product (staff; a vendor their own products), and receives its
/// opening stock.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/variants",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    request_body = VariantBody,
    responses(
        (status = 201, description = "The variant", body = VariantView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`sku_taken`, or `catalog_rule`: the product is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad SKU, name, price (or another currency than the product's) or attributes, too many variants, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_variant(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<VariantBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let sku = Sku::parse(&body.sku).map_err(|e| ApiError::invalid_field("sku", e.message))?;
    let new = NewVariant {
        variant: Variant {
            variant_id: VariantId::new(Uuid::new_v4()),
            sku,
            name: body.name,
            price: body.price,
            attributes: body.attributes,
        },
        stock: body.stock,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let created = use_case::create_variant(
        &state.handlers,
        ProductId::new(id),
        new,
        seller(&user),
        &meta,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(created.position),
        Json(VariantView::from(&created)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct VariantUpdate {
    name: Option<String>,
    /// In the product's currency.
    #[schema(value_type = Option<Money>)]
    price: Option<DomainMoney>,
    /// Replaces the attributes.
    #[schema(value_type = Option<Object>)]
    attributes: Option<Map<String, Value>>,
}

/// Changes a variant's name, price or attributes (staff; a vendor their own products).
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/variants/{variant_id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The product"),
        ("variant_id" = Uuid, Path, description = "The variant"),
    ),
    request_body = VariantUpdate,
    responses(
        (status = 200, description = "The variant after the change", body = VariantView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product, or no such variant of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`catalog_rule`: the product is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, price (or another currency than the product's) or attributes, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_variant(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path((id, variant_id)): Path<(Uuid, Uuid)>,
    AppJson(body): AppJson<VariantUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let change = VariantChange {
        name: body.name,
        price: body.price,
        attributes: body.attributes,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed = use_case::update_variant(
        &state.handlers,
        ProductId::new(id),
        VariantId::new(variant_id),
        change,
        seller(&user),
        &meta,
    )
    .await?;
    Ok((
        consistency::headers(changed.position),
        Json(VariantView::from(&changed)),
    ))
}

/// Removes a variant (staff; a vendor their own products); its SKU is free again. A
/// variant with stock on hand or reserved is refused: adjust its stock to 0 first.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}/variants/{variant_id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The product"),
        ("variant_id" = Uuid, Path, description = "The variant"),
    ),
    responses(
        (status = 204, description = "Removed", headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product, or no such variant of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`variant_has_stock`: its SKU has stock on hand or reserved", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_variant(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path((id, variant_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let position = use_case::remove_variant(
        &state.handlers,
        ProductId::new(id),
        VariantId::new(variant_id),
        seller(&user),
        &meta,
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, consistency::headers(position)))
}
