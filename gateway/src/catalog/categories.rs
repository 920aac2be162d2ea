//! `/categories`: creating and changing a category (staff), and browsing the tree, one
//! category, and the products filed in a category and below it (anyone).

use std::collections::{HashMap, HashSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::catalog::{self as use_case, CategoryChange, NewCategory};
use domain::id::CategoryId;
use serde::{Deserialize, Deserializer};
use sqlx::PgPool;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::cache::cached;
use super::listing::{self, ProductFilter, PRODUCT_PARAMS};
use super::params::{params, raw_query, Check};
use super::products::slug;
use super::views::{CategoryDetail, CategoryRef, CategoryTree, CategoryView, ProductView};
use crate::auth::viewer::Viewer;
use crate::auth::AuthUser;
use crate::auth::STAFF;
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/categories", get(list_categories).post(create_category))
        .route("/categories/{id}", get(get_category).put(change_category))
        .route("/categories/{id}/products", get(category_products))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        create_category,
        list_categories,
        get_category,
        category_products,
        change_category
    ),
    components(schemas(
        CategoryBody,
        CategoryUpdate,
        CategoryView,
        CategoryTree,
        CategoryRef,
        CategoryDetail,
        Page<CategoryView>
    )),
    tags((name = "catalog", description = "Browsing products and categories; stock for staff"))
)]
pub struct CategoriesApi;

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
        (status = 201, description = "The category", body = CategoryView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
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
    let new = NewCategory {
        category_id: CategoryId::new(Uuid::new_v4()),
        slug: slug(body.slug.as_deref())?,
        name: body.name,
        parent_id: body.parent_id.map(CategoryId::new),
    };
    let meta = request.command_meta(user.actor(), &ip);
    let created = use_case::create_category(&state.handlers, new, &meta).await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(created.position),
        Json(CategoryView::from(&created)),
    ))
}

/// A field that may be sent as `null`: `Some(None)` then, and absent is `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CategoryUpdate {
    name: Option<String>,
    /// A new slug; the old one is free again.
    slug: Option<String>,
    /// The new parent; `null` moves the category to the root, absent leaves it where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    parent_id: Option<Option<Uuid>>,
}

/// Renames a category, gives it another slug, or moves it (staff). A category never moves
/// under itself or one of its descendants.
#[utoipa::path(
    put,
    path = "/api/v1/categories/{id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The category")),
    request_body = CategoryUpdate,
    responses(
        (status = 200, description = "The category after the change", body = CategoryView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`category_cycle` (under itself or a descendant) or `category_too_deep`, naming `parent_id`; an unknown `parent_id`, a bad name or slug, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_category(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<CategoryUpdate>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let change = CategoryChange {
        name: body.name,
        slug: slug(body.slug.as_deref())?,
        parent_id: body.parent_id.map(|p| p.map(CategoryId::new)),
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed =
        use_case::change_category(&state.handlers, CategoryId::new(id), change, &meta).await?;
    Ok((
        consistency::headers(changed.position),
        Json(CategoryView::from(&changed)),
    ))
}

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
                tree: Some(CategoryTree {
                    depth: r.depth,
                    product_count: r.subtree_product_count,
                    direct_product_count: r.product_count,
                    children: build(Some(r.category_id), by_parent),
                }),
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
        (status = 200, description = "The tree", body = Page<CategoryView>),
        (status = 400, response = problem::InvalidQuery),
    )
)]
async fn list_categories(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(query, &["limit", "offset"])?;
    let mut c = Check::default();
    let (limit, offset) = c.page(&p);
    c.done()?;
    let key = format!("public|categories?{}", raw_query(&raw));
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let rows: Vec<CategoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CATEGORY_COLUMNS} from catalog.categories"
        )))
        .fetch_all(&st.pool)
        .await?;
        // Categories whose parent is gone from the read model still show, as roots.
        let known: HashSet<Uuid> = rows.iter().map(|r| r.category_id).collect();
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
        Ok(Page {
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

/// Every category, by name, with its depth in the tree: what a form offers to file a
/// product under (the console's product form).
pub(crate) async fn choices(pool: &PgPool) -> Result<Vec<(Uuid, String, i32)>, ApiError> {
    Ok(sqlx::query_as(
        "select category_id, name, depth from catalog.categories order by name limit 1000",
    )
    .fetch_all(pool)
    .await?)
}

async fn find_category(pool: &PgPool, id: &str) -> Result<CategoryRow, ApiError> {
    let sql =
        |by: &str| format!("select {CATEGORY_COLUMNS} from catalog.categories where {by} = $1");
    let row: Option<CategoryRow> = match Uuid::parse_str(id) {
        Ok(uuid) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql("category_id")))
                .bind(uuid)
                .fetch_optional(pool)
                .await?
        }
        Err(_) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql("slug")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }
    };
    row.ok_or_else(|| ApiError::NotFound("no such category".into()))
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
) -> Result<Response, ApiError> {
    let key = format!("public|category/{id}");
    let st = &state;
    cached(&state, &headers, key, move || async move {
        let c = find_category(&st.pool, &id).await?;
        let related: Vec<CategoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CATEGORY_COLUMNS} from catalog.categories
              where category_id = any($1) or path @> array[$2]::uuid[]"
        )))
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
    params(("id" = String, Path, description = "The category's id, or its slug"), ProductFilter),
    responses(
        (status = 200, description = "A page of products", body = Page<ProductView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn category_products(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(query, PRODUCT_PARAMS)?;
    if p.contains_key("category_id") {
        return Err(ApiError::invalid_query(
            "category_id",
            "the path names the category",
        ));
    }
    let mut filter = ProductFilter::parse(&p, &viewer)?;
    let staff = viewer.is_staff();
    let key = format!(
        "{}|category/{id}/products?{}",
        if staff { "staff" } else { "public" },
        raw_query(&raw)
    );
    let pool = &state.pool;
    cached(&state, &headers, key, move || async move {
        filter.category_id = Some(find_category(pool, &id).await?.category_id);
        listing::product_page(pool, filter, staff).await
    })
    .await
}
