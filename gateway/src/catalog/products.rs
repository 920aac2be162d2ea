//! `/products`: creating, changing and archiving products (staff, or the vendor who sells
//! them), and browsing them (anyone): the listing, search and one product.
//!
//! A command's answer is what it just decided, with `X-Consistency-Token` naming its
//! events' position; the listings read the catalog read model, through the answer cache.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{SubsecRound, Utc};
use commands::catalog::{self as use_case, NewProduct, ProductChange};
use domain::catalog::{Seller, Seo};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money as DomainMoney};
use domain::user::Role;
use domain::value::{Sku, Slug};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::cache::cached;
use super::listing::{self, with_ratings, ProductFilter, PRODUCT_PARAMS};
use super::params::{params, raw_query};
use super::views::{ProductListing, ProductStock, ProductView};
use crate::auth::viewer::Viewer;
use crate::auth::AuthUser;
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::pricing::book::{Item, RuleSet};
use crate::pricing::history::with_prior_prices;
use crate::state::AppState;
use crate::views::{Money, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/search", get(search_products))
        .route(
            "/products/{id}",
            get(get_product).put(update_product).delete(archive_product),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        create_product,
        update_product,
        archive_product,
        list_products,
        search_products,
        get_product
    ),
    components(schemas(
        ProductBody,
        ProductUpdate,
        ProductView,
        ProductStock,
        ProductListing,
        Page<ProductView>,
        Money
    )),
    tags((name = "catalog", description = "Browsing products and categories; stock for staff"))
)]
pub struct ProductsApi;

pub(super) const SELLERS: &[Role] = &[Role::Staff, Role::Admin, Role::Vendor];

/// Who sells, for a caller already allowed to (`SELLERS`).
pub(super) fn seller(user: &AuthUser) -> Seller {
    if user.role == Role::Vendor {
        Seller::Vendor(user.user_id.into())
    } else {
        Seller::Staff
    }
}

/// A slug as sent, or `None` to derive it from the name.
pub(super) fn slug(raw: Option<&str>) -> Result<Option<Slug>, ApiError> {
    raw.map(Slug::parse)
        .transpose()
        .map_err(|e| ApiError::invalid_field("slug", e.message))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProductBody {
    sku: String,
    name: String,
    slug: Option<String>,
    description: Option<String>,
    category_id: Uuid,
    #[schema(value_type = Money)]
    price: DomainMoney,
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: Map<String, Value>,
    /// The SEO title, one line of at most 200 characters.
    meta_title: Option<String>,
    /// The SEO description, one line of at most 1000 characters.
    meta_description: Option<String>,
    /// Staff: keep the product off sale, a `draft`, until `POST /products/{id}/publish`
    /// (default false: staff's products go on sale at once). A vendor's is a draft anyway.
    #[serde(default)]
    draft: bool,
}

/// Creates a product (staff or vendor). Staff's go on sale at once unless sent as a
/// `draft`; a vendor's wait as drafts for review.
#[utoipa::path(
    post,
    path = "/api/v1/products",
    tag = "catalog",
    security(("bearer" = [])),
    request_body = ProductBody,
    responses(
        (status = 201, description = "The product", body = ProductView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
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
    let new = NewProduct {
        product_id: ProductId::new(Uuid::new_v4()),
        sku,
        slug: slug(body.slug.as_deref())?,
        name: body.name,
        description: body.description,
        category_id: CategoryId::new(body.category_id),
        price: body.price,
        attributes: body.attributes,
        seller: seller(&user),
        seo: Seo {
            meta_title: body.meta_title,
            meta_description: body.meta_description,
        },
        draft: body.draft,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let created = use_case::create_product(&state.handlers, new, &meta).await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(created.position),
        Json(ProductView::from(&created)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProductUpdate {
    name: Option<String>,
    description: Option<String>,
    category_id: Option<Uuid>,
    /// In the product's currency.
    #[schema(value_type = Option<Money>)]
    price: Option<DomainMoney>,
    /// Replaces the attributes.
    #[schema(value_type = Option<Object>)]
    attributes: Option<Map<String, Value>>,
    /// A new canonical slug: the old one stays the product's and redirects to it.
    slug: Option<String>,
    /// The SEO title; a blank text clears it.
    meta_title: Option<String>,
    /// The SEO description; a blank text clears it.
    meta_description: Option<String>,
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
        (status = 200, description = "The product after the change", body = ProductView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`, or `catalog_rule`: archived, or a price in another currency", body = Problem, content_type = "application/problem+json"),
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
    user.require(SELLERS)?;
    let change = ProductChange {
        name: body.name,
        description: body.description,
        category_id: body.category_id.map(CategoryId::new),
        price: body.price,
        attributes: body.attributes,
        slug: slug(body.slug.as_deref())?,
        meta_title: body.meta_title,
        meta_description: body.meta_description,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed = use_case::update_product(
        &state.handlers,
        ProductId::new(id),
        change,
        seller(&user),
        &meta,
    )
    .await?;
    Ok((
        consistency::headers(changed.position),
        Json(ProductView::from(&changed)),
    ))
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
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
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
    user.require(SELLERS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let position =
        use_case::archive_product(&state.handlers, ProductId::new(id), seller(&user), &meta)
            .await?;
    Ok((StatusCode::NO_CONTENT, consistency::headers(position)))
}

/// Products on sale (staff: any status), filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "catalog",
    params(ProductFilter, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the catalog covers this command position")),
    responses(
        (status = 200, description = "A page of products", body = Page<ProductView>),
        (status = 400, description = "A parameter is wrong; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`status` other than active, asked by a non-staff user", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(query, PRODUCT_PARAMS)?;
    let filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|products?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    let set = state.current_rules().await?;
    let key = format!("{key}|rules:{}", set.generation());
    let pool = state.pool.clone();
    cached(&state, &headers, key, || async move {
        let mut page = listing::product_page(&pool, filter, staff).await?;
        priced(&set, &mut page.items);
        with_prior_prices(&pool, &set, &mut page.items).await?;
        with_ratings(&pool, &mut page.items).await?;
        Ok(page)
    })
    .await
}

/// Each product's price for one unit under the live rules (`set`), on the views.
fn priced(set: &RuleSet, views: &mut [ProductView]) {
    let at = Utc::now().trunc_subsecs(0);
    for v in views {
        let Ok(currency) = Currency::parse(&v.price.currency) else {
            continue;
        };
        let item = Item {
            product_id: v.id,
            variant_id: None,
            category_id: v.category_id,
            vendor_id: v.listing.as_ref().and_then(|l| l.vendor_id),
            unit_price: DomainMoney::new(v.price.amount, currency),
            quantity: 1,
        };
        v.pricing = Some(set.unit_pricing(at, &item));
    }
}

/// Full-text search: `q` is required; results ranked, name matches above description ones.
#[utoipa::path(
    get,
    path = "/api/v1/products/search",
    tag = "catalog",
    params(ProductFilter),
    responses(
        (status = 200, description = "Matching products, best first", body = Page<ProductView>),
        (status = 400, description = "`q` missing or a parameter wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(query, PRODUCT_PARAMS)?;
    if !p.contains_key("q") {
        return Err(ApiError::invalid_query("q", "is required"));
    }
    let filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|search?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    let set = state.current_rules().await?;
    let key = format!("{key}|rules:{}", set.generation());
    let pool = state.pool.clone();
    cached(&state, &headers, key, || async move {
        let mut page = listing::product_page(&pool, filter, staff).await?;
        priced(&set, &mut page.items);
        with_prior_prices(&pool, &set, &mut page.items).await?;
        with_ratings(&pool, &mut page.items).await?;
        Ok(page)
    })
    .await
}

/// One product by id or by slug. Drafts and archived products exist only for staff and
/// (their own) vendors. A slug the product had before answers a permanent redirect to its
/// current one.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    params(("id" = String, Path, description = "The product's id, or its slug")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 308, description = "A former slug: `Location` names the product by its current slug", headers(("Location" = String, description = "/api/v1/products/{current slug}"))),
        (status = 404, description = "No such product (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_product(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let set = state.current_rules().await?;
    let key = format!(
        "{}|product/{id}|rules:{}",
        viewer.audience(),
        set.generation()
    );
    let pool = state.pool.clone();
    let (by_slug, staff, vendor) = (id.clone(), viewer.is_staff(), viewer.vendor());
    let found = cached(&state, &headers, key, move || async move {
        let mut view = listing::product(&pool, &id, &viewer).await?;
        priced(&set, std::slice::from_mut(&mut view));
        with_prior_prices(&pool, &set, std::slice::from_mut(&mut view)).await?;
        with_ratings(&pool, std::slice::from_mut(&mut view)).await?;
        Ok(view)
    })
    .await;
    // Only a miss by slug pays for the second look, which the cache has caught up for.
    match found {
        Err(ApiError::NotFound(detail)) if Uuid::parse_str(&by_slug).is_err() => {
            match listing::redirect(&state.pool, &by_slug, staff, vendor).await? {
                Some(current) => {
                    let location = HeaderValue::from_str(&format!("/api/v1/products/{current}"))
                        .map_err(ApiError::internal)?;
                    Ok((
                        StatusCode::PERMANENT_REDIRECT,
                        [(header::LOCATION, location)],
                    )
                        .into_response())
                }
                None => Err(ApiError::NotFound(detail)),
            }
        }
        other => other,
    }
}
