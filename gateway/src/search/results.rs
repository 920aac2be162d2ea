//! `GET /api/v1/search`: products on sale matching a full-text query and facet filters,
//! one page of them, and the facets of the whole result with their counts (ADR 0007).
//! The existing `/products/search` answers as before; this route adds facets.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use domain::money::Currency;
use projections::catalog::search_index::{PgSearchIndex, SearchIndex, SearchQuery};
use serde::Serialize;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};

use crate::auth::viewer::Viewer;
use crate::catalog::cache::cached_noted;
use crate::catalog::listing::{products_on_sale, with_ratings};
use crate::catalog::params::{params, Check};
use crate::catalog::views::ProductView;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// The longest search text, in characters.
pub const MAX_Q: usize = 200;
/// Values answered per facet key by default, and at most.
pub const DEFAULT_FACET_VALUES: i64 = 10;
pub const MAX_FACET_VALUES: i64 = 100;
/// The most `attr.<name>` filters one search takes.
const MAX_ATTR_FILTERS: usize = 10;

const SEARCH_PARAMS: &[&str] = &[
    "q",
    "limit",
    "offset",
    "facets",
    "facet_limit",
    "category",
    "brand",
    "in_stock",
    "price_min",
    "price_max",
    "currency",
];

/// The search's parameters; besides these, `attr.<name>=<value>` (for instance
/// `attr.color=red`) keeps the products with that attribute value.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchParams {
    /// Full-text, web-search syntax (`"red shoe" -boot`), 1 to 200 characters; without
    /// it every product on sale matches.
    q: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
    /// `false` leaves the facets out (default `true`).
    facets: Option<bool>,
    /// Values answered per facet key, the most frequent first: 1 to 100, default 10.
    facet_limit: Option<i64>,
    /// A category id: that category and its descendants.
    category: Option<uuid::Uuid>,
    brand: Option<String>,
    /// `true`: available stock above 0; `false`: none.
    in_stock: Option<bool>,
    /// Minor units, inclusive.
    price_min: Option<i64>,
    /// Minor units, inclusive.
    price_max: Option<i64>,
    /// ISO 4217 code.
    currency: Option<String>,
}

/// A page of results and the facets of the whole result.
#[derive(Serialize, ToSchema)]
pub struct SearchAnswer {
    /// The page, best match first (by name without `q`).
    pub items: Vec<ProductView>,
    /// Products matching, in all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// By key: `category`, `brand`, `price`, `in_stock`, `attr.<name>`; only keys some
    /// result has. Left out with `facets=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<BTreeMap<String, FacetView>>,
}

/// A facet key's most frequent values among the results.
#[derive(Serialize, ToSchema)]
pub struct FacetView {
    pub values: Vec<FacetValueView>,
    /// How many other values the results have, left off by `facet_limit`.
    pub more: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FacetValueView {
    /// What to filter by: a category id, a brand, `USD:1000-2500` (a price band, minor
    /// units, upper edge excluded), `true`/`false`, an attribute value.
    pub value: String,
    /// The category's name, for `category`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Results with this value.
    pub count: i64,
}

/// Reads the query string: `attr.<name>` pairs apart, the rest strictly.
fn parse(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<SearchQuery, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::invalid_query("query", e.body_text()))?;
    let (attrs, rest): (Vec<_>, Vec<_>) =
        pairs.into_iter().partition(|(k, _)| k.starts_with("attr."));
    let p: HashMap<String, String> = params(Ok(Query(rest)), SEARCH_PARAMS)?;
    let mut c = Check::default();
    let mut bad = Vec::new();
    let (limit, offset) = c.page(&p);
    let q = match p.get("q").map(|q| q.trim()) {
        None => None,
        Some(q) if q.is_empty() || q.chars().count() > MAX_Q => {
            c.fail("q", format!("must be 1 to {MAX_Q} characters"));
            None
        }
        Some(q) => Some(q.to_owned()),
    };
    let mut filters = Vec::new();
    if let Some(category) = c.uuid(&p, "category") {
        filters.push(("category".to_owned(), category.to_string()));
    }
    if let Some(brand) = p.get("brand") {
        if brand.is_empty() || brand.chars().count() > 200 {
            c.fail("brand", "must be 1 to 200 characters");
        }
        filters.push(("brand".to_owned(), brand.clone()));
    }
    if let Some(in_stock) = c.bool(&p, "in_stock") {
        filters.push(("in_stock".to_owned(), in_stock.to_string()));
    }
    if attrs.len() > MAX_ATTR_FILTERS {
        bad.push(FieldError::new(
            "attr",
            format!("at most {MAX_ATTR_FILTERS} attribute filters"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (key, value) in attrs {
        let name = &key["attr.".len()..];
        if name.is_empty() || name.chars().count() > 100 || name == "brand" {
            bad.push(FieldError::new(
                &key,
                "attr.<name> with a name of 1 to 100 characters (brand is `brand=`)",
            ));
        } else if !seen.insert(key.clone()) {
            bad.push(FieldError::new(&key, "given more than once"));
        } else if value.is_empty() || value.chars().count() > 200 {
            bad.push(FieldError::new(&key, "must be 1 to 200 characters"));
        } else {
            filters.push((key, value));
        }
    }
    let price_min = c.int(&p, "price_min", 0..=i64::MAX);
    let price_max = c.int(&p, "price_max", 0..=i64::MAX);
    if let (Some(min), Some(max)) = (price_min, price_max) {
        if min > max {
            c.fail("price_min", "must not be above price_max");
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
    let facets = c.bool(&p, "facets").unwrap_or(true);
    let facet_values = c
        .int(&p, "facet_limit", 1..=MAX_FACET_VALUES)
        .unwrap_or(DEFAULT_FACET_VALUES);
    if let Err(ApiError::InvalidQuery(mut errors)) = c.done() {
        errors.append(&mut bad);
        return Err(ApiError::InvalidQuery(errors));
    }
    if !bad.is_empty() {
        return Err(ApiError::InvalidQuery(bad));
    }
    Ok(SearchQuery {
        q,
        filters,
        price_min,
        price_max,
        currency,
        limit,
        offset,
        facets,
        facet_values,
    })
}

/// Products on sale matching `q` and the filters, with the facets of the whole result.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(SearchParams, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the catalog covers this command position")),
    responses(
        (status = 200, description = "A page of products and the facets of all that match", body = SearchAnswer),
        (status = 400, description = "`invalid_query`: a parameter is unknown, repeated or wrong; `errors` names it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::error::responses::ProjectionLag),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = parse(query)?;
    let staff = viewer.is_staff();
    // The parsed query names the answer: the same search asked in another parameter order
    // is the same entry.
    let key = format!(
        "{}|faceted-search|{query:?}",
        if staff { "staff" } else { "public" }
    );
    let permits = SEARCH_PERMITS.get_or_init(|| {
        let pool = usize::try_from(state.config.database_pool_size).unwrap_or(1);
        Semaphore::new((pool / 4).max(1))
    });
    let (response, total) = cached_noted(&state, &headers, key, Some(permits), || async {
        let index = PgSearchIndex::new(state.pool.clone());
        let hits = index.search(&query).await.map_err(ApiError::internal)?;
        let mut items = products_on_sale(&state.pool, &hits.ids, staff).await?;
        with_ratings(&state.pool, &mut items).await?;
        let total = hits.total;
        Ok((answer(&query, hits.facets, items, total), total))
    })
    .await?;
    if let Some(q) = &query.q {
        // Counted in memory, cached answer or not; the search log's task records it later,
        // off this path.
        state.search_log.note(q, u64::try_from(total).unwrap_or(0));
    }
    Ok(response)
}

/// Uncached searches running at once in this process: a quarter of the pool, so a burst
/// of faceted searches (each a scan of its whole result) queues here rather than taking
/// every connection from product reads, commands and the read models' runners.
static SEARCH_PERMITS: OnceLock<Semaphore> = OnceLock::new();

fn answer(
    query: &SearchQuery,
    facets: Vec<projections::catalog::search_index::Facet>,
    items: Vec<ProductView>,
    total: i64,
) -> SearchAnswer {
    let facets = query.facets.then(|| {
        facets
            .into_iter()
            .map(|f| {
                let values = f
                    .values
                    .into_iter()
                    .map(|v| FacetValueView {
                        value: v.value,
                        label: v.label,
                        count: v.count,
                    })
                    .collect();
                (
                    f.key,
                    FacetView {
                        values,
                        more: f.more,
                    },
                )
            })
            .collect()
    });
    SearchAnswer {
        items,
        total,
        limit: query.limit,
        offset: query.offset,
        facets,
    }
}
