//! Reading products from the catalog read model: the listing's filters (parsed from the
//! query string, and documented for OpenAPI by the same type), one page of products with
//! their stock, and one product by id or slug.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::money::Currency;
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use utoipa::IntoParams;
use uuid::Uuid;

use super::params::Check;
use super::views::{ProductListing, ProductStock, ProductView};
use crate::auth::viewer::Viewer;
use crate::error::ApiError;
use crate::views::{Money, Page};

/// The longest search text, in characters.
const MAX_Q: usize = 200;

/// Every parameter a product listing knows.
pub const PRODUCT_PARAMS: &[&str] = &[
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
    "min_rating",
];

/// A product listing's filters, sort and page, as the query string gives them.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// 1 to 100, default 20.
    #[param(value_type = Option<i64>)]
    pub limit: i64,
    /// Default 0.
    #[param(value_type = Option<i64>)]
    pub offset: i64,
    /// `created_at`, `name`, `price`, `updated_at`, `rating` (the average of its published
    /// reviews; products without reviews last either way), each with `-` for descending
    /// (default `-created_at`); `relevance` with `q` (its default).
    #[param(value_type = Option<String>)]
    pub sort: &'static str,
    /// Full-text search, web-search syntax (`"red shoe" -boot`).
    pub q: Option<String>,
    /// This category and its descendants.
    pub category_id: Option<Uuid>,
    /// Minor units, inclusive.
    pub min_price: Option<i64>,
    /// Minor units, inclusive.
    pub max_price: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    /// `true`: available stock above 0; `false`: none available.
    pub in_stock: Option<bool>,
    pub vendor_id: Option<Uuid>,
    /// Staff only: `draft`, `pending_review`, `active` (the default), `archived` or `all`.
    #[param(value_type = Option<String>)]
    pub status: Option<&'static str>,
    /// 1 to 5: only products whose reviews average at least this.
    pub min_rating: Option<i64>,
}

impl ProductFilter {
    /// Reads the filters of `p`; every wrong parameter is named.
    pub fn parse(p: &HashMap<String, String>, viewer: &Viewer) -> Result<ProductFilter, ApiError> {
        let mut c = Check::default();
        let (limit, offset) = c.page(p);
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
        // The sort is kept as the `order by` it names.
        let sort = match p.get("sort").map_or(default_sort, String::as_str) {
            "created_at" => "p.created_at asc, p.product_id",
            "-created_at" => "p.created_at desc, p.product_id",
            "updated_at" => "p.updated_at asc, p.product_id",
            "-updated_at" => "p.updated_at desc, p.product_id",
            "name" => "p.name asc, p.product_id",
            "-name" => "p.name desc, p.product_id",
            "price" => "p.price asc, p.product_id",
            "-price" => "p.price desc, p.product_id",
            "rating" => "pr.average asc nulls last, p.product_id",
            "-rating" => {
                "pr.average desc nulls last, pr.review_count desc nulls last, p.product_id"
            }
            "relevance" if q.is_some() => "rank desc, p.product_id",
            _ => {
                c.fail(
                    "sort",
                    "one of created_at, name, price, rating, updated_at, with - for \
                     descending; relevance with q",
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
            Some("pending_review") => Some("pending_review"),
            Some("archived") => Some("archived"),
            Some("all") => None,
            Some(_) => {
                c.fail(
                    "status",
                    "one of draft, pending_review, active, archived, all",
                );
                Some("active")
            }
        };
        let filter = ProductFilter {
            limit,
            offset,
            sort,
            category_id: c.uuid(p, "category_id"),
            min_price,
            max_price,
            currency,
            in_stock: c.bool(p, "in_stock"),
            vendor_id: c.uuid(p, "vendor_id"),
            status,
            min_rating: c.int(p, "min_rating", 1..=5),
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
            });
        }
        Ok(filter)
    }
}

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
    meta_title: Option<String>,
    meta_description: Option<String>,
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
    p.price, p.currency, p.status, p.attributes, p.meta_title, p.meta_description, p.vendor_id,
    st.on_hand, st.reserved, st.available,
    st.low_stock, p.version, p.created_at, p.updated_at,
    (select coalesce(jsonb_agg(jsonb_build_object('id', i.image_id, 'url', i.url, 'alt', i.alt,
             'position', i.position) order by i.position, i.image_id), '[]'::jsonb)
       from catalog.images i where i.product_id = p.product_id) as images,
    (select coalesce(jsonb_agg(jsonb_build_object('id', v.variant_id, 'sku', v.sku,
             'name', v.name, 'price', jsonb_build_object('amount', v.price, 'currency', v.currency),
             'attributes', v.attributes,
             'stock', jsonb_build_object('available', greatest(coalesce(vs.available, 0), 0)))
             order by v.position), '[]'::jsonb)
       from catalog.variants v left join catalog.stock vs on vs.sku = v.sku
      where v.product_id = p.product_id) as variants";

/// Products with their stock summed over their SKUs (`catalog.product_stock`, inlined so
/// only the rows read are summed).
const PRODUCT_FROM: &str = "catalog.products p cross join lateral (
    select coalesce(sum(s.on_hand), 0)::bigint as on_hand,
           coalesce(sum(s.reserved), 0)::bigint as reserved,
           coalesce(sum(s.available), 0)::bigint as available,
           coalesce(bool_or(s.low_stock), false) as low_stock
      from catalog.stock s where s.product_id = p.product_id) st";

/// The staff's view of a product; [`ProductView::public`] leaves out their counts.
impl From<ProductRow> for ProductView {
    fn from(r: ProductRow) -> Self {
        ProductView {
            id: r.product_id,
            sku: r.sku,
            name: r.name,
            slug: r.slug,
            description: r.description,
            category_id: r.category_id,
            price: Money {
                amount: r.price,
                currency: r.currency,
            },
            status: r.status,
            attributes: r.attributes,
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            stock: ProductStock {
                available: r.available.max(0),
                on_hand: Some(r.on_hand),
                reserved: Some(r.reserved),
                low_stock: Some(r.low_stock),
            },
            version: u64::try_from(r.version).unwrap_or_default(),
            listing: Some(ProductListing {
                vendor_id: r.vendor_id,
                images: r.images,
                variants: r.variants,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }),
            rank: r.rank,
            pricing: None,
            rating: None,
        }
    }
}

fn view(r: ProductRow, staff: bool) -> ProductView {
    let v = ProductView::from(r);
    if staff {
        v
    } else {
        v.public()
    }
}

/// One page of the products `f` selects, with the total that match.
pub async fn product_page(
    pool: &PgPool,
    f: ProductFilter,
    staff: bool,
) -> Result<Page<ProductView>, ApiError> {
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
    // Ratings are the reviews read model's; joined only when the page filters or sorts by
    // them (an answer's ratings are read for its page alone).
    if f.min_rating.is_some() || f.sort.contains("pr.") {
        b.push(" left join reviews.product_ratings pr on pr.product_id = p.product_id");
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
    if let Some(min) = f.min_rating {
        b.push(" and pr.average >= ").push_bind(min);
    }
    b.push(" order by ").push(f.sort);
    b.push(" limit ").push_bind(f.limit);
    b.push(" offset ").push_bind(f.offset);
    let rows: Vec<ProductRow> = b.build_query_as().fetch_all(pool).await?;
    let total = match rows.first() {
        Some(r) => r.total.unwrap_or(0),
        // Past the end the window has no row to ride on: count on its own.
        None if f.offset > 0 => {
            return Box::pin(product_page(
                pool,
                ProductFilter {
                    offset: 0,
                    limit: 1,
                    ..f
                },
                staff,
            ))
            .await
            .map(|p| Page {
                items: vec![],
                total: p.total,
                limit: f.limit,
                offset: f.offset,
            });
        }
        None => 0,
    };
    Ok(Page {
        items: rows.into_iter().map(|r| view(r, staff)).collect(),
        total,
        limit: f.limit,
        offset: f.offset,
    })
}

/// One product by id (when `id` is a UUID) or by slug, as `viewer` may see it: drafts and
/// archived products exist only for staff and the vendor who sells them.
pub async fn product(pool: &PgPool, id: &str, viewer: &Viewer) -> Result<ProductView, ApiError> {
    let sql = |by: &str| {
        format!(
            "select {PRODUCT_COLUMNS}, null::real as rank, null::bigint as total
               from {PRODUCT_FROM} where {by} = $1"
        )
    };
    let row: Option<ProductRow> = match Uuid::parse_str(id) {
        Ok(uuid) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql("p.product_id")))
                .bind(uuid)
                .fetch_optional(pool)
                .await?
        }
        Err(_) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql("p.slug")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }
    };
    let staff = viewer.is_staff();
    let vendor = viewer.vendor();
    match row {
        Some(r) if r.status == "active" || staff || (vendor.is_some() && r.vendor_id == vendor) => {
            Ok(view(r, staff))
        }
        _ => Err(ApiError::NotFound("no such product".into())),
    }
}

/// The current slug of the product that had `slug` before, if the viewer (`staff`, or the
/// `vendor`) may see it: a lookup by a former slug redirects there.
pub async fn redirect(
    pool: &PgPool,
    slug: &str,
    staff: bool,
    vendor: Option<Uuid>,
) -> Result<Option<String>, ApiError> {
    let row: Option<(String, String, Option<Uuid>)> = sqlx::query_as(
        "select p.slug, p.status, p.vendor_id
           from catalog.product_redirects r join catalog.products p using (product_id)
          where r.slug = $1",
    )
    .bind(slug)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .filter(|(_, status, vendor_id)| {
            status == "active" || staff || (vendor.is_some() && *vendor_id == vendor)
        })
        .map(|(slug, _, _)| slug))
}

/// The products `ids` that are on sale, in the order given (search answers them by
/// relevance), as `staff` or the public sees them.
pub async fn products_on_sale(
    pool: &PgPool,
    ids: &[Uuid],
    staff: bool,
) -> Result<Vec<ProductView>, ApiError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRODUCT_COLUMNS}, null::real as rank, null::bigint as total
           from {PRODUCT_FROM} where p.product_id = any($1) and p.status = 'active'"
    )))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    let mut by_id: HashMap<Uuid, ProductRow> =
        rows.into_iter().map(|r| (r.product_id, r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|r| view(r, staff))
        .collect())
}

/// Each product's rating from its published reviews, on the views (count 0 without any):
/// what product answers (the listings, search, one product) carry, from the `reviews`
/// read model.
pub async fn with_ratings(pool: &PgPool, views: &mut [ProductView]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = views.iter().map(|v| v.id).collect();
    let mut found = crate::reviews::list::ratings_of(pool, &ids).await?;
    for v in views {
        v.rating = Some(found.remove(&v.id).unwrap_or_default());
    }
    Ok(())
}
