//! The `SearchIndex` port (ADR 0007): what the gateway asks of a search engine (a query
//! → one page of product ids, the total and the facets of the whole result; a prefix →
//! suggestions), and [`PgSearchIndex`], its adapter over the catalog read model.
//!
//! An external engine (OpenSearch, Meilisearch) would be a second adapter: a projection
//! fed from the same catalog events fills its index, and the gateway holds that adapter
//! instead of this one. Products themselves are still read from the catalog read model.

use async_trait::async_trait;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

/// What to search for. Every filter narrows both the results and the facets' counts.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Full-text, web-search syntax; `None` matches every product on sale.
    pub q: Option<String>,
    /// Facet values every result has: `("brand", "Acme")`, `("category", id)` (the
    /// category or a descendant), `("attr.color", "red")`, `("in_stock", "true")`.
    pub filters: Vec<(String, String)>,
    /// Minor units, inclusive.
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
    pub limit: i64,
    pub offset: i64,
    /// Whether to count facets at all.
    pub facets: bool,
    /// The most values answered per facet key (the top ones by count).
    pub facet_values: i64,
}

/// One value of a facet and how many results have it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FacetValue {
    pub value: String,
    /// A category's name (the value is its id); `None` for other keys.
    pub label: Option<String>,
    pub count: i64,
}

/// A facet key's top values, and how many other values were left off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub key: String,
    pub values: Vec<FacetValue>,
    pub more: i64,
}

/// One page of a search: its product ids best first, the total and the facets.
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    pub ids: Vec<Uuid>,
    pub total: i64,
    pub facets: Vec<Facet>,
}

/// A completion of a prefix: a product's name, a brand or a category's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Suggestion {
    pub term: String,
    /// `product`, `brand` or `category`.
    pub kind: String,
    /// Products on sale behind it (1 for a product).
    pub weight: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchIndexError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A search engine over the products on sale.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// One page of the products `query` matches, with the total and (if asked) facets.
    async fn search(&self, query: &SearchQuery) -> Result<SearchHits, SearchIndexError>;
    /// Up to `limit` terms starting with `prefix` (case-insensitive), heaviest first; when
    /// none does, the terms most similar to it.
    async fn suggest(&self, prefix: &str, limit: i64) -> Result<Vec<Suggestion>, SearchIndexError>;
}

/// The adapter over the catalog read model: `product_search`, `product_facets` and
/// `suggestions` in the schema `catalog`.
#[derive(Clone)]
pub struct PgSearchIndex {
    pool: PgPool,
}

impl PgSearchIndex {
    pub fn new(pool: PgPool) -> Self {
        PgSearchIndex { pool }
    }
}

#[derive(sqlx::FromRow)]
struct HitsRow {
    total: i64,
    ids: Vec<Uuid>,
    facets: sqlx::types::Json<Vec<FacetRow>>,
}

#[derive(Deserialize)]
struct FacetRow {
    key: String,
    value: String,
    label: Option<String>,
    count: i64,
    distinct_values: i64,
}

/// Folds the rows (ordered by key, then count) into facets.
fn facets(rows: Vec<FacetRow>, cap: i64) -> Vec<Facet> {
    let mut out: Vec<Facet> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|f| f.key != r.key) {
            out.push(Facet {
                key: r.key.clone(),
                values: vec![],
                more: (r.distinct_values - cap).max(0),
            });
        }
        if let Some(f) = out.last_mut() {
            f.values.push(FacetValue {
                value: r.value,
                label: r.label,
                count: r.count,
            });
        }
    }
    out
}

/// The upper bound of a prefix range: every text starting with `prefix` sorts (bytewise,
/// as `text_pattern_ops` does) at or above `prefix` and below this.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[async_trait]
impl SearchIndex for PgSearchIndex {
    async fn search(&self, query: &SearchQuery) -> Result<SearchHits, SearchIndexError> {
        // The matching ids once; the page and every facet's counts from them.
        let mut b: QueryBuilder<Postgres> =
            QueryBuilder::new("with m as materialized (select p.product_id, p.name, ");
        match &query.q {
            Some(q) => {
                b.push("ts_rank(ps.search, websearch_to_tsquery('english', ")
                    .push_bind(q.clone())
                    .push(")) as rank from catalog.products p")
                    .push(" join catalog.product_search ps on ps.product_id = p.product_id")
                    .push(" where ps.search @@ websearch_to_tsquery('english', ")
                    .push_bind(q.clone())
                    .push(")");
            }
            None => {
                b.push("0::real as rank from catalog.products p where true");
            }
        }
        b.push(" and p.status = 'active'");
        if let Some(min) = query.price_min {
            b.push(" and p.price >= ").push_bind(min);
        }
        if let Some(max) = query.price_max {
            b.push(" and p.price <= ").push_bind(max);
        }
        if let Some(cur) = &query.currency {
            b.push(" and p.currency = ").push_bind(cur.clone());
        }
        for (key, value) in &query.filters {
            b.push(
                " and p.product_id in (select f.product_id from catalog.product_facets f \
                 where f.key = ",
            )
            .push_bind(key.clone())
            .push(" and f.value = ")
            .push_bind(value.clone())
            .push(")");
        }
        b.push(
            "), page as (select product_id, rank, name from m order by rank desc, name, product_id \
             limit ",
        )
        .push_bind(query.limit)
        .push(" offset ")
        .push_bind(query.offset)
        .push(")");
        if query.facets {
            b.push(
                ", counts as (select f.key, f.value, count(*) as n
                     from m join catalog.product_facets f on f.product_id = m.product_id
                    group by f.key, f.value),
                 ranked as (select key, value, n,
                     row_number() over (partition by key order by n desc, value) as rn,
                     count(*) over (partition by key) as distinct_values
                   from counts)
                 select (select count(*) from m) as total,
                   (select coalesce(array_agg(product_id order by rank desc, name, product_id),
                                    '{}') from page) as ids,
                   (select coalesce(jsonb_agg(jsonb_build_object('key', r.key, 'value', r.value,
                        'label', c.name, 'count', r.n, 'distinct_values', r.distinct_values)
                        order by r.key, r.rn), '[]')
                      from ranked r left join catalog.categories c
                        on r.key = 'category' and c.category_id::text = r.value
                     where r.rn <= ",
            )
            .push_bind(query.facet_values)
            .push(") as facets");
        } else {
            b.push(
                " select (select count(*) from m) as total,
                   (select coalesce(array_agg(product_id order by rank desc, name, product_id),
                                    '{}') from page) as ids,
                   '[]'::jsonb as facets",
            );
        }
        let row: HitsRow = b.build_query_as().fetch_one(&self.pool).await?;
        Ok(SearchHits {
            ids: row.ids,
            total: row.total,
            facets: facets(row.facets.0, query.facet_values),
        })
    }

    async fn suggest(&self, prefix: &str, limit: i64) -> Result<Vec<Suggestion>, SearchIndexError> {
        let prefix = prefix.to_lowercase();
        // One range of the `text_pattern_ops` index; a name several products share is
        // suggested once.
        let found: Vec<Suggestion> = sqlx::query_as(
            "select term, kind, weight from (
                 select distinct on (kind, lower(term)) term, kind, weight
                   from catalog.suggestions
                  where lower(term) ~>=~ $1 and lower(term) ~<~ $2
                  order by kind, lower(term), weight desc) s
              order by weight desc, lower(term), kind
              limit $3",
        )
        .bind(&prefix)
        .bind(prefix_end(&prefix))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if !found.is_empty() {
            return Ok(found);
        }
        // Nothing starts so: the most similar terms (a typo), by trigrams.
        Ok(sqlx::query_as(
            "select term, kind, weight from (
                 select distinct on (kind, lower(term)) term, kind, weight,
                        public.similarity(lower(term), $1) as sim
                   from catalog.suggestions
                  where lower(term) operator(public.%) $1
                  order by kind, lower(term), weight desc) s
              order by sim desc, weight desc, lower(term), kind
              limit $2",
        )
        .bind(&prefix)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
