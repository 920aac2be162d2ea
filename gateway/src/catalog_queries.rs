//! Catalog queries: product listings, search, one product, the category tree, one
//! category and its products, and stock per SKU. They read the `catalog` read model only.
//!
//! Browsing needs no account; a token, when sent, must be valid, and staff (with it) also
//! see drafts and archived products (`status=`) and stock counts. A vendor sees their own
//! drafts by id.
//!
//! Answers are cached for about a second, keyed by the database, the audience and the
//! request. Each cached answer remembers the catalog checkpoint it was read at, and a
//! request carrying `X-Consistency-Token` uses it only if that checkpoint covers the token;
//! otherwise it waits for the read model (as every query does) and reads afresh. So a
//! client never sees an answer older than its own last write.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use commands::store::Position;
use domain::money::Currency;
use domain::user::Role;
use domain::value::Sku;
use moka::sync::Cache;
use serde::Serialize;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::{ApiError, FieldError, Problem};
use crate::state::AppState;
use crate::views::Money;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products))
        .route("/products/search", get(search_products))
        .route("/products/{id}", get(get_product))
        .route("/categories", get(list_categories))
        .route("/categories/{id}", get(get_category))
        .route("/categories/{id}/products", get(category_products))
        .route("/inventory", get(list_stock))
        .route("/inventory/{sku}", get(get_stock))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_products,
        search_products,
        get_product,
        list_categories,
        get_category,
        category_products,
        list_stock,
        get_stock
    ),
    components(schemas(
        Money,
        ProductStock,
        ProductView,
        ProductPage,
        CategoryView,
        CategoryRef,
        CategoryPage,
        CategoryDetail,
        StockView,
        StockPage
    )),
    tags((name = "catalog", description = "Browsing products and categories; stock for staff"))
)]
pub struct CatalogQueriesApi;

const STAFF: &[Role] = &[Role::Staff, Role::Admin];
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
const MAX_Q: usize = 200;

// ------------------------------------------------------------------------------ errors

/// A query's own failure: its parameters (400, each wrong one named), or anything else.
enum QueryError {
    Params(Vec<FieldError>),
    Api(ApiError),
}

impl From<ApiError> for QueryError {
    fn from(e: ApiError) -> Self {
        QueryError::Api(e)
    }
}

impl From<sqlx::Error> for QueryError {
    fn from(e: sqlx::Error) -> Self {
        QueryError::Api(e.into())
    }
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        match self {
            QueryError::Api(e) => e.into_response(),
            QueryError::Params(errors) => {
                let detail = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut p = Problem::new(StatusCode::BAD_REQUEST, "invalid_query", detail);
                p.errors = errors;
                p.into_response()
            }
        }
    }
}

fn bad(field: &str, message: impl Into<String>) -> QueryError {
    QueryError::Params(vec![FieldError::new(field, message)])
}

// ------------------------------------------------------------------------------ viewer

/// Who is browsing: anyone, or the holder of a valid token. A token that is sent must be
/// valid (401 otherwise): a client that believes it is signed in should learn it is not.
struct Viewer(Option<AuthUser>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(Viewer(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|u| Viewer(Some(u)))
    }
}

impl Viewer {
    fn is_staff(&self) -> bool {
        self.0.as_ref().is_some_and(|u| STAFF.contains(&u.role))
    }

    fn vendor(&self) -> Option<Uuid> {
        self.0
            .as_ref()
            .filter(|u| u.role == Role::Vendor)
            .map(|u| u.user_id)
    }

    /// What answers may differ by: the cache keeps one per audience.
    fn audience(&self) -> String {
        if self.is_staff() {
            "staff".into()
        } else if let Some(v) = self.vendor() {
            format!("vendor:{v}")
        } else {
            "public".into()
        }
    }
}

// ------------------------------------------------------------------------------ cache

struct Cached {
    /// The catalog checkpoint when the answer was read: it reflects at least that much.
    at: Position,
    body: Bytes,
}

/// At most this many bytes of answers (and their keys) are kept.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

static CACHE: LazyLock<Cache<String, Arc<Cached>>> = LazyLock::new(|| {
    Cache::builder()
        .weigher(|key: &String, value: &Arc<Cached>| {
            u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
        })
        .max_capacity(CACHE_BYTES)
        .time_to_live(Duration::from_secs(1))
        .build()
});

/// Answers from the cache when it may, else waits for the read model to cover the
/// client's token, notes the checkpoint, runs `read` and keeps its answer.
async fn cached<T, F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    key: String,
    read: F,
) -> Result<Response, QueryError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, QueryError>>,
{
    let wanted = crate::consistency::token(headers)?;
    // Several engines (tests, mostly) can share a process: the database names the engine.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.config.database_url.expose().hash(&mut h);
    let key = format!("{:x}|{key}", h.finish());
    if let Some(hit) = CACHE.get(&key) {
        if wanted.is_none_or(|w| hit.at >= w) {
            return Ok(json_body(hit.body.clone()));
        }
    }
    caught_up(state, headers, "catalog").await?;
    // Read before the query: the answer then reflects at least this checkpoint.
    let at = projections::checkpoint::position(&state.pool, "catalog")
        .await
        .map_err(ApiError::from)?;
    let answer = read().await?;
    let body = Bytes::from(serde_json::to_vec(&answer).map_err(ApiError::internal)?);
    CACHE.insert(
        key,
        Arc::new(Cached {
            at,
            body: body.clone(),
        }),
    );
    Ok(json_body(body))
}

fn json_body(body: Bytes) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

// ------------------------------------------------------------------------------ shapes

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductStock {
    /// On hand minus reserved, summed over the product's SKUs (never below 0).
    pub available: i64,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hand: Option<i64>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    /// Staff only: a SKU of the product is below its low-stock threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock: Option<bool>,
}

/// A product as `API.md` shapes it, with its images and variants.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub category_id: Uuid,
    pub price: Money,
    /// `draft`, `active` or `archived`.
    pub status: String,
    #[schema(value_type = Object)]
    pub attributes: Value,
    pub stock: ProductStock,
    /// The product stream's revision.
    pub version: i64,
    pub vendor_id: Option<Uuid>,
    /// `[{id, url, alt, position}]`, by position.
    #[schema(value_type = Vec<Object>)]
    pub images: Value,
    /// `[{id, sku, name, price, attributes}]`, in the order added.
    #[schema(value_type = Vec<Object>)]
    pub variants: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Search only: how well it matches `q` (higher first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A category in the tree; `product_count` counts active products in it and below.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    pub depth: i32,
    pub product_count: i32,
    /// Active products filed directly under it.
    pub direct_product_count: i32,
    #[schema(no_recursion)]
    pub children: Vec<CategoryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRef {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// The roots of the tree (paged), each with its whole subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryPage {
    pub items: Vec<CategoryView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One category with its ancestors (root first) and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDetail {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    pub depth: i32,
    pub product_count: i32,
    pub direct_product_count: i32,
    pub ancestors: Vec<CategoryRef>,
    pub children: Vec<CategoryView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub sold: i64,
    pub low_stock_threshold: Option<i32>,
    pub low_stock: bool,
    pub product_id: Option<Uuid>,
    pub variant_id: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockPage {
    pub items: Vec<StockView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

// ------------------------------------------------------------------------------ params

/// The query string as name → value; a name given twice or not in `known` is an error.
fn params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    known: &[&str],
) -> Result<HashMap<String, String>, QueryError> {
    let Query(pairs) = query.map_err(|e| bad("query", e.body_text()))?;
    let mut out = HashMap::new();
    let mut errors = Vec::new();
    for (k, v) in pairs {
        if !known.contains(&k.as_str()) {
            errors.push(FieldError::new(
                &k,
                format!("unknown parameter; known: {}", known.join(", ")),
            ));
        } else {
            match out.entry(k) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    errors.push(FieldError::new(e.key(), "given more than once"));
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(QueryError::Params(errors))
    }
}

/// Collects the field errors of one query string.
#[derive(Default)]
struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn int(
        &mut self,
        p: &HashMap<String, String>,
        field: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let raw = p.get(field)?;
        match raw.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.fail(
                    field,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    fn uuid(&mut self, p: &HashMap<String, String>, field: &str) -> Option<Uuid> {
        let raw = p.get(field)?;
        Uuid::parse_str(raw.trim())
            .map_err(|_| self.fail(field, "must be a UUID"))
            .ok()
    }

    fn bool(&mut self, p: &HashMap<String, String>, field: &str) -> Option<bool> {
        match p.get(field)?.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.fail(field, "must be true or false");
                None
            }
        }
    }

    fn done(self) -> Result<(), QueryError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(QueryError::Params(self.0))
        }
    }
}

fn page(c: &mut Check, p: &HashMap<String, String>) -> (i64, i64) {
    (
        c.int(p, "limit", 1..=MAX_LIMIT).unwrap_or(DEFAULT_LIMIT),
        c.int(p, "offset", 0..=1_000_000).unwrap_or(0),
    )
}

/// Product listing filters, as documented for OpenAPI; parsed by [`ProductFilter::parse`].
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ProductListParams {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
    /// `created_at`, `name`, `price`, `updated_at`, each with `-` for descending
    /// (default `-created_at`); `relevance` with `q` (its default).
    sort: Option<String>,
    /// Full-text search, web-search syntax (`"red shoe" -boot`).
    q: Option<String>,
    /// This category and its descendants.
    category_id: Option<Uuid>,
    /// Minor units, inclusive.
    min_price: Option<i64>,
    /// Minor units, inclusive.
    max_price: Option<i64>,
    /// ISO 4217 code.
    currency: Option<String>,
    /// `true`: available stock above 0; `false`: none available.
    in_stock: Option<bool>,
    vendor_id: Option<Uuid>,
    /// Staff only: `draft`, `active` (the default), `archived` or `all`.
    status: Option<String>,
}

const PRODUCT_PARAMS: &[&str] = &[
    "limit",
    "offset",
    "sort",
    "q",
    "category_id",
    "min_price",
    "max_price",
    "currency",
    "in_stock",
    "vendor_id",
    "status",
];

struct ProductFilter {
    limit: i64,
    offset: i64,
    order_by: &'static str,
    q: Option<String>,
    category_id: Option<Uuid>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    currency: Option<String>,
    in_stock: Option<bool>,
    vendor_id: Option<Uuid>,
    /// `None`: every status.
    status: Option<&'static str>,
}

impl ProductFilter {
    fn parse(p: &HashMap<String, String>, viewer: &Viewer) -> Result<ProductFilter, QueryError> {
        let mut c = Check::default();
        let (limit, offset) = page(&mut c, p);
        let q = match p.get("q").map(|q| q.trim()) {
            None => None,
            Some(q) if q.is_empty() || q.chars().count() > MAX_Q => {
                c.fail("q", format!("must be 1 to {MAX_Q} characters"));
                None
            }
            Some(q) => Some(q.to_owned()),
        };
        let default_sort = if q.is_some() {
            "relevance"
        } else {
            "-created_at"
        };
        let order_by = match p.get("sort").map_or(default_sort, String::as_str) {
            "created_at" => "p.created_at asc, p.product_id",
            "-created_at" => "p.created_at desc, p.product_id",
            "updated_at" => "p.updated_at asc, p.product_id",
            "-updated_at" => "p.updated_at desc, p.product_id",
            "name" => "p.name asc, p.product_id",
            "-name" => "p.name desc, p.product_id",
            "price" => "p.price asc, p.product_id",
            "-price" => "p.price desc, p.product_id",
            "relevance" if q.is_some() => "rank desc, p.product_id",
            _ => {
                c.fail(
                    "sort",
                    "one of created_at, name, price, updated_at, with - for descending; \
                     relevance with q",
                );
                ""
            }
        };
        let min_price = c.int(p, "min_price", 0..=i64::MAX);
        let max_price = c.int(p, "max_price", 0..=i64::MAX);
        if let (Some(min), Some(max)) = (min_price, max_price) {
            if min > max {
                c.fail("min_price", "must not be above max_price");
            }
        }
        let currency = p
            .get("currency")
            .and_then(|raw| match Currency::parse(raw) {
                Ok(cur) => Some(cur.as_str().to_owned()),
                Err(_) => {
                    c.fail("currency", "must be an ISO 4217 code such as USD");
                    None
                }
            });
        let status = match p.get("status").map(String::as_str) {
            None | Some("active") => Some("active"),
            Some("draft") => Some("draft"),
            Some("archived") => Some("archived"),
            Some("all") => None,
            Some(_) => {
                c.fail("status", "one of draft, active, archived, all");
                Some("active")
            }
        };
        let filter = ProductFilter {
            limit,
            offset,
            order_by,
            category_id: c.uuid(p, "category_id"),
            min_price,
            max_price,
            currency,
            in_stock: c.bool(p, "in_stock"),
            vendor_id: c.uuid(p, "vendor_id"),
            status,
            q,
        };
        c.done()?;
        // Only staff browse beyond what is on sale.
        if filter.status != Some("active") && !viewer.is_staff() {
            return Err(match viewer.0 {
                None => {
                    ApiError::Unauthorized("only staff list drafts and archived products".into())
                }
                Some(_) => {
                    ApiError::Forbidden("only staff list drafts and archived products".into())
                }
            }
            .into());
        }
        Ok(filter)
    }
}

// ------------------------------------------------------------------------------ products

#[derive(sqlx::FromRow)]
struct ProductRow {
    product_id: Uuid,
    sku: String,
    name: String,
    slug: String,
    description: Option<String>,
    category_id: Uuid,
    price: i64,
    currency: String,
    status: String,
    attributes: Value,
    vendor_id: Option<Uuid>,
    on_hand: i64,
    reserved: i64,
    available: i64,
    low_stock: bool,
    version: i64,
    images: Value,
    variants: Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rank: Option<f32>,
    total: Option<i64>,
}

const PRODUCT_COLUMNS: &str = "p.product_id, p.sku, p.name, p.slug, p.description, p.category_id,
    p.price, p.currency, p.status, p.attributes, p.vendor_id, st.on_hand, st.reserved, st.available,
    st.low_stock, p.version, p.created_at, p.updated_at,
    (select coalesce(jsonb_agg(jsonb_build_object('id', i.image_id, 'url', i.url, 'alt', i.alt,
             'position', i.position) order by i.position, i.image_id), '[]'::jsonb)
       from catalog.images i where i.product_id = p.product_id) as images,
    (select coalesce(jsonb_agg(jsonb_build_object('id', v.variant_id, 'sku', v.sku,
             'name', v.name, 'price', jsonb_build_object('amount', v.price, 'currency', v.currency),
             'attributes', v.attributes) order by v.position), '[]'::jsonb)
       from catalog.variants v where v.product_id = p.product_id) as variants";

/// Products with their stock summed over their SKUs (`catalog.product_stock`, inlined so
/// only the rows read are summed).
const PRODUCT_FROM: &str = "catalog.products p cross join lateral (
    select coalesce(sum(s.on_hand), 0)::bigint as on_hand,
           coalesce(sum(s.reserved), 0)::bigint as reserved,
           coalesce(sum(s.available), 0)::bigint as available,
           coalesce(bool_or(s.low_stock), false) as low_stock
      from catalog.stock s where s.product_id = p.product_id) st";

impl ProductRow {
    fn view(self, staff: bool) -> ProductView {
        ProductView {
            id: self.product_id,
            sku: self.sku,
            name: self.name,
            slug: self.slug,
            description: self.description,
            category_id: self.category_id,
            price: Money {
                amount: self.price,
                currency: self.currency,
            },
            status: self.status,
            attributes: self.attributes,
            stock: ProductStock {
                available: self.available.max(0),
                on_hand: staff.then_some(self.on_hand),
                reserved: staff.then_some(self.reserved),
                low_stock: staff.then_some(self.low_stock),
            },
            version: self.version,
            vendor_id: self.vendor_id,
            images: self.images,
            variants: self.variants,
            created_at: self.created_at,
            updated_at: self.updated_at,
            rank: self.rank,
        }
    }
}

async fn product_page(
    state: &AppState,
    f: ProductFilter,
    staff: bool,
) -> Result<ProductPage, QueryError> {
    let mut b: QueryBuilder<Postgres> = QueryBuilder::new("select ");
    b.push(PRODUCT_COLUMNS);
    match &f.q {
        Some(q) => {
            b.push(", ts_rank(ps.search, websearch_to_tsquery('english', ");
            b.push_bind(q.clone());
            b.push(")) as rank");
        }
        None => {
            b.push(", null::real as rank");
        }
    }
    // The count rides along with the page: one round trip.
    b.push(", count(*) over () as total from ")
        .push(PRODUCT_FROM);
    if f.q.is_some() {
        b.push(" join catalog.product_search ps on ps.product_id = p.product_id");
    }
    b.push(" where true");
    if let Some(status) = f.status {
        b.push(" and p.status = ").push_bind(status);
    }
    if let Some(q) = &f.q {
        b.push(" and ps.search @@ websearch_to_tsquery('english', ")
            .push_bind(q.clone())
            .push(")");
    }
    if let Some(c) = f.category_id {
        b.push(
            " and p.category_id in (select category_id from catalog.categories where path @> array[",
        )
        .push_bind(c)
        .push("]::uuid[])");
    }
    if let Some(min) = f.min_price {
        b.push(" and p.price >= ").push_bind(min);
    }
    if let Some(max) = f.max_price {
        b.push(" and p.price <= ").push_bind(max);
    }
    if let Some(cur) = &f.currency {
        b.push(" and p.currency = ").push_bind(cur.clone());
    }
    match f.in_stock {
        Some(true) => {
            b.push(" and st.available > 0");
        }
        Some(false) => {
            b.push(" and st.available <= 0");
        }
        None => {}
    }
    if let Some(v) = f.vendor_id {
        b.push(" and p.vendor_id = ").push_bind(v);
    }
    b.push(" order by ").push(f.order_by);
    b.push(" limit ").push_bind(f.limit);
    b.push(" offset ").push_bind(f.offset);
    let rows: Vec<ProductRow> = b.build_query_as().fetch_all(&state.pool).await?;
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0),
        // Past the end the window has no row to ride on: count on its own.
        None if f.offset > 0 => {
            return Box::pin(product_page(
                state,
                ProductFilter {
                    offset: 0,
                    limit: 1,
                    ..f
                },
                staff,
            ))
            .await
            .map(|p| ProductPage {
                items: vec![],
                total: p.total,
                limit: f.limit,
                offset: f.offset,
            });
        }
        None => 0,
    };
    Ok(ProductPage {
        items: rows.into_iter().map(|r| r.view(staff)).collect(),
        total,
        limit: f.limit,
        offset: f.offset,
    })
}

fn raw_query(q: &Option<String>) -> &str {
    q.as_deref().unwrap_or("")
}

/// Products on sale (staff: any status), filtered, sorted and paged.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "catalog",
    params(ProductListParams, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the catalog covers this command position")),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 400, description = "A parameter is wrong; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`status` other than active, asked by a non-staff user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`: the catalog has not caught up with the token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, QueryError> {
    let p = params(query, PRODUCT_PARAMS)?;
    let filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|products?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    cached(&state, &headers, key, || {
        product_page(&state, filter, staff)
    })
    .await
}

/// Full-text search: `q` is required; results ranked, name matches above description ones.
#[utoipa::path(
    get,
    path = "/api/v1/products/search",
    tag = "catalog",
    params(ProductListParams),
    responses(
        (status = 200, description = "Matching products, best first", body = ProductPage),
        (status = 400, description = "`q` missing or a parameter wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, QueryError> {
    let p = params(query, PRODUCT_PARAMS)?;
    if !p.contains_key("q") {
        return Err(bad("q", "is required"));
    }
    let filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|search?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    cached(&state, &headers, key, || {
        product_page(&state, filter, staff)
    })
    .await
}

/// One product by id or by slug. Drafts and archived products exist only for staff and
/// (their own) vendors.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "catalog",
    params(("id" = String, Path, description = "The product's id, or its slug")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "No such product (or not visible to the caller)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_product(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, QueryError> {
    let key = format!("{}|product/{id}", viewer.audience());
    let staff = viewer.is_staff();
    let vendor = viewer.vendor();
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let sql = |by: &str| {
            format!(
                "select {PRODUCT_COLUMNS}, null::real as rank, null::bigint as total
                   from {PRODUCT_FROM} where {by} = $1"
            )
        };
        let row: Option<ProductRow> = match Uuid::parse_str(&id) {
            Ok(uuid) => {
                sqlx::query_as(&sql("p.product_id"))
                    .bind(uuid)
                    .fetch_optional(&st.pool)
                    .await?
            }
            Err(_) => {
                sqlx::query_as(&sql("p.slug"))
                    .bind(&id)
                    .fetch_optional(&st.pool)
                    .await?
            }
        };
        match row {
            Some(r)
                if r.status == "active" || staff || (vendor.is_some() && r.vendor_id == vendor) =>
            {
                Ok(r.view(staff))
            }
            _ => Err(QueryError::Api(ApiError::NotFound(
                "no such product".into(),
            ))),
        }
    })
    .await
}

// ------------------------------------------------------------------------------ categories

#[derive(sqlx::FromRow, Clone)]
struct CategoryRow {
    category_id: Uuid,
    name: String,
    slug: String,
    parent_id: Option<Uuid>,
    path: Vec<Uuid>,
    depth: i32,
    product_count: i32,
    subtree_product_count: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const CATEGORY_COLUMNS: &str = "category_id, name, slug, parent_id, path, depth, product_count,
    subtree_product_count, created_at, updated_at";

/// Nests `rows` (any order) under `root`'s children, by name.
fn subtree(root: Option<Uuid>, rows: &[CategoryRow]) -> Vec<CategoryView> {
    let mut by_parent: HashMap<Option<Uuid>, Vec<&CategoryRow>> = HashMap::new();
    for r in rows {
        by_parent.entry(r.parent_id).or_default().push(r);
    }
    fn build(
        parent: Option<Uuid>,
        by_parent: &HashMap<Option<Uuid>, Vec<&CategoryRow>>,
    ) -> Vec<CategoryView> {
        let mut kids: Vec<&CategoryRow> = by_parent.get(&parent).cloned().unwrap_or_default();
        kids.sort_by(|a, b| a.name.cmp(&b.name).then(a.category_id.cmp(&b.category_id)));
        kids.into_iter()
            .map(|r| CategoryView {
                id: r.category_id,
                name: r.name.clone(),
                slug: r.slug.clone(),
                parent_id: r.parent_id,
                depth: r.depth,
                product_count: r.subtree_product_count,
                direct_product_count: r.product_count,
                children: build(Some(r.category_id), by_parent),
            })
            .collect()
    }
    build(root, &by_parent)
}

/// The category tree: roots by name, paged, each with its whole subtree.
#[utoipa::path(
    get,
    path = "/api/v1/categories",
    tag = "catalog",
    params(
        ("limit" = Option<i64>, Query, description = "Roots per page, 1 to 100, default 20"),
        ("offset" = Option<i64>, Query, description = "Roots to skip, default 0"),
    ),
    responses(
        (status = 200, description = "The tree", body = CategoryPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_categories(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, QueryError> {
    let p = params(query, &["limit", "offset"])?;
    let mut c = Check::default();
    let (limit, offset) = page(&mut c, &p);
    c.done()?;
    let key = format!("public|categories?{}", raw_query(&raw));
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let rows: Vec<CategoryRow> = sqlx::query_as(&format!(
            "select {CATEGORY_COLUMNS} from catalog.categories"
        ))
        .fetch_all(&st.pool)
        .await?;
        // Categories whose parent is gone from the read model still show, as roots.
        let known: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.category_id).collect();
        let rows: Vec<CategoryRow> = rows
            .into_iter()
            .map(|mut r| {
                if r.parent_id.is_some_and(|p| !known.contains(&p)) {
                    r.parent_id = None;
                }
                r
            })
            .collect();
        let roots = subtree(None, &rows);
        let total = roots.len() as i64;
        Ok(CategoryPage {
            items: roots
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect(),
            total,
            limit,
            offset,
        })
    })
    .await
}

async fn find_category(state: &AppState, id: &str) -> Result<CategoryRow, QueryError> {
    let sql =
        |by: &str| format!("select {CATEGORY_COLUMNS} from catalog.categories where {by} = $1");
    let row: Option<CategoryRow> = match Uuid::parse_str(id) {
        Ok(uuid) => {
            sqlx::query_as(&sql("category_id"))
                .bind(uuid)
                .fetch_optional(&state.pool)
                .await?
        }
        Err(_) => {
            sqlx::query_as(&sql("slug"))
                .bind(id)
                .fetch_optional(&state.pool)
                .await?
        }
    };
    row.ok_or_else(|| QueryError::Api(ApiError::NotFound("no such category".into())))
}

/// One category by id or slug, with its ancestors and its subtree.
#[utoipa::path(
    get,
    path = "/api/v1/categories/{id}",
    tag = "catalog",
    params(("id" = String, Path, description = "The category's id, or its slug")),
    responses(
        (status = 200, description = "The category", body = CategoryDetail),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_category(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, QueryError> {
    let key = format!("public|category/{id}");
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let c = find_category(st, &id).await?;
        let related: Vec<CategoryRow> = sqlx::query_as(&format!(
            "select {CATEGORY_COLUMNS} from catalog.categories
              where category_id = any($1) or path @> array[$2]::uuid[]"
        ))
        .bind(&c.path)
        .bind(c.category_id)
        .fetch_all(&st.pool)
        .await?;
        let ancestors = c.path[..c.path.len().saturating_sub(1)]
            .iter()
            .filter_map(|a| related.iter().find(|r| r.category_id == *a))
            .map(|r| CategoryRef {
                id: r.category_id,
                name: r.name.clone(),
                slug: r.slug.clone(),
            })
            .collect();
        let below: Vec<CategoryRow> = related
            .into_iter()
            .filter(|r| r.path.contains(&c.category_id) && r.category_id != c.category_id)
            .collect();
        Ok(CategoryDetail {
            id: c.category_id,
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id,
            depth: c.depth,
            product_count: c.subtree_product_count,
            direct_product_count: c.product_count,
            ancestors,
            children: subtree(Some(c.category_id), &below),
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
    })
    .await
}

/// The products of a category and its descendants; the same parameters as the listing.
#[utoipa::path(
    get,
    path = "/api/v1/categories/{id}/products",
    tag = "catalog",
    params(("id" = String, Path, description = "The category's id, or its slug"), ProductListParams),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn category_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, QueryError> {
    let p = params(query, PRODUCT_PARAMS)?;
    if p.contains_key("category_id") {
        return Err(bad("category_id", "the path names the category"));
    }
    let mut filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|category/{id}/products?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    let st = &state;
    cached(&state, &headers, key, move || async move {
        filter.category_id = Some(find_category(st, &id).await?.category_id);
        product_page(st, filter, staff).await
    })
    .await
}

// ------------------------------------------------------------------------------ stock

#[derive(sqlx::FromRow)]
struct StockRow {
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    sold: i64,
    low_stock_threshold: Option<i32>,
    low_stock: bool,
    product_id: Option<Uuid>,
    variant_id: Option<Uuid>,
    updated_at: Option<DateTime<Utc>>,
    total: Option<i64>,
}

const STOCK_COLUMNS: &str = "sku, on_hand, reserved, available, sold, low_stock_threshold,
    low_stock, product_id, variant_id, updated_at";

impl From<StockRow> for StockView {
    fn from(r: StockRow) -> Self {
        StockView {
            sku: r.sku,
            on_hand: r.on_hand,
            reserved: r.reserved,
            available: r.available,
            sold: r.sold,
            low_stock_threshold: r.low_stock_threshold,
            low_stock: r.low_stock,
            product_id: r.product_id,
            variant_id: r.variant_id,
            updated_at: r.updated_at,
        }
    }
}

/// Stock of one SKU, summed over warehouses (staff).
#[utoipa::path(
    get,
    path = "/api/v1/inventory/{sku}",
    tag = "catalog",
    params(("sku" = String, Path, description = "The SKU (case-insensitive)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "On hand, reserved, available", body = StockView),
        (status = 400, description = "Not a valid SKU", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No product, variant or stock has this SKU", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_stock(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(sku): Path<String>,
) -> Result<Response, QueryError> {
    user.require(STAFF)?;
    let sku = Sku::parse(&sku).map_err(|e| bad("sku", e.message))?;
    let key = format!("staff|stock/{}", sku.as_str());
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let row: Option<StockRow> = sqlx::query_as(&format!(
            "select {STOCK_COLUMNS}, null::bigint as total from catalog.stock where sku = $1"
        ))
        .bind(sku.as_str())
        .fetch_optional(&st.pool)
        .await?;
        row.map(StockView::from)
            .ok_or_else(|| QueryError::Api(ApiError::NotFound("no such SKU".into())))
    })
    .await
}

/// Stock of every SKU (staff), by SKU; `low_stock=true` lists those below their threshold,
/// lowest availability first.
#[utoipa::path(
    get,
    path = "/api/v1/inventory",
    tag = "catalog",
    params(
        ("low_stock" = Option<bool>, Query, description = "Only SKUs below their threshold"),
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<i64>, Query, description = "Default 0"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of stock rows", body = StockPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_stock(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, QueryError> {
    user.require(STAFF)?;
    let p = params(query, &["limit", "offset", "low_stock"])?;
    let mut c = Check::default();
    let (limit, offset) = page(&mut c, &p);
    let low = c.bool(&p, "low_stock").unwrap_or(false);
    c.done()?;
    let key = format!("staff|stock?{}", raw_query(&raw));
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let (filter, order) = if low {
            ("where low_stock", "available, sku")
        } else {
            ("", "sku")
        };
        let rows: Vec<StockRow> = sqlx::query_as(&format!(
            "select {STOCK_COLUMNS}, count(*) over () as total from catalog.stock {filter}
              order by {order} limit $1 offset $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&st.pool)
        .await?;
        let total = match rows.first() {
            Some(r) => r.total.unwrap_or(0),
            None => {
                sqlx::query_scalar(&format!("select count(*) from catalog.stock {filter}"))
                    .fetch_one(&st.pool)
                    .await?
            }
        };
        Ok(StockPage {
            items: rows.into_iter().map(StockView::from).collect(),
            total,
            limit,
            offset,
        })
    })
    .await
}
