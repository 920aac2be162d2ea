//! The search tables of the catalog (ADR 0007): `product_facets`, one row per facetable
//! value of a product on sale, and `suggestions`, the terms a prefix completes to.
//!
//! Neither is patched event by event: a batch notes which products it touched (by id, by a
//! SKU whose stock moved, or under a category that moved) and, after its other writes,
//! [`Touched::refresh`] recomputes those products' facets whole from the tables, then the
//! suggestions of their names, brands and categories. What a product's rows are therefore
//! depends only on the tables at the end of a batch, so a rebuild equals the live build
//! whatever the batches were.

use std::collections::BTreeSet;

use sqlx::PgConnection;
use uuid::Uuid;

/// The longest facet value kept, in characters.
pub const MAX_VALUE: usize = 200;

/// What a batch touched that the search tables follow.
#[derive(Default)]
pub(super) struct Touched {
    products: BTreeSet<Uuid>,
    skus: BTreeSet<String>,
    moved: BTreeSet<Uuid>,
}

/// Every facet row of the products `$1` on sale, inserted; answers the brands and
/// categories among them.
const INSERT_FACETS: &str = "
with ins as (
    insert into product_facets (product_id, key, value)
    select distinct p.product_id, f.key, f.value
      from products p
      cross join lateral (
          select 'category' as key, c::text as value
            from unnest(coalesce((select path from categories where category_id = p.category_id),
                                 array[p.category_id])) c
          union all
          select 'brand', p.attributes ->> 'brand'
           where jsonb_typeof(p.attributes -> 'brand') in ('string', 'number')
          union all
          select 'price', p.currency || ':' || price_band(p.price)
          union all
          select 'in_stock', (coalesce((select sum(s.available) from stock s
                                         where s.product_id = p.product_id), 0) > 0)::text
          union all
          select 'attr.' || a.key,
                 case jsonb_typeof(x) when 'string' then x #>> '{}' else x::text end
            from (select p.attributes as attrs
                  union all
                  select v.attributes from variants v where v.product_id = p.product_id) src
            cross join lateral jsonb_each(case jsonb_typeof(src.attrs)
                                               when 'object' then src.attrs else '{}' end) a
            cross join lateral jsonb_array_elements(case jsonb_typeof(a.value)
                                                        when 'array' then a.value
                                                        else jsonb_build_array(a.value) end) x
           where a.key <> 'brand' and jsonb_typeof(x) in ('string', 'number', 'boolean')
      ) f
     where p.product_id = any($1) and p.status = 'active'
       and f.value is not null and f.value <> ''
       and length(f.value) <= $2 and length(f.key) <= $2
    returning key, value)
select distinct key, value from ins where key in ('brand', 'category')";

impl Touched {
    pub(super) fn product(&mut self, id: Uuid) {
        self.products.insert(id);
    }

    pub(super) fn sku(&mut self, sku: &str) {
        if !self.skus.contains(sku) {
            self.skus.insert(sku.to_owned());
        }
    }

    pub(super) fn category_moved(&mut self, id: Uuid) {
        self.moved.insert(id);
    }

    /// Recomputes the facets and suggestions of every product touched.
    pub(super) async fn refresh(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.products.is_empty() && self.skus.is_empty() && self.moved.is_empty() {
            return Ok(());
        }
        let products: Vec<Uuid> = self.products.into_iter().collect();
        let skus: Vec<String> = self.skus.into_iter().collect();
        let moved: Vec<Uuid> = self.moved.into_iter().collect();
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "select product_id from products where product_id = any($1)
             union
             select product_id from stock where sku = any($2) and product_id is not null
             union
             select product_id from products
              where cardinality($3::uuid[]) > 0
                and category_id in (select category_id from categories where path && $3)",
        )
        .bind(&products)
        .bind(&skus)
        .bind(&moved)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(());
        }
        let mut terms: BTreeSet<(String, String)> = sqlx::query_as(
            "with gone as (delete from product_facets where product_id = any($1)
                           returning key, value)
             select distinct key, value from gone where key in ('brand', 'category')",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let added: Vec<(String, String)> = sqlx::query_as(INSERT_FACETS)
            .bind(&ids)
            .bind(MAX_VALUE as i32)
            .fetch_all(&mut *tx)
            .await?;
        terms.extend(added);
        let (brands, categories): (Vec<_>, Vec<_>) =
            terms.into_iter().partition(|(k, _)| k == "brand");
        let brands: Vec<String> = brands.into_iter().map(|(_, v)| v).collect();
        let categories: Vec<String> = categories.into_iter().map(|(_, v)| v).collect();
        sqlx::query(
            "with active as (
                 select product_id::text as ref, name from products
                  where product_id = any($1) and status = 'active'),
             gone as (
                 delete from suggestions where kind = 'product'
                    and ref = any($1::uuid[]::text[]) and ref not in (select ref from active))
             insert into suggestions (kind, ref, term, weight)
             select 'product', ref, name, 1 from active
             on conflict (kind, ref) do update set term = excluded.term",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        if !brands.is_empty() {
            sqlx::query(
                "with counts as (
                     select value, count(*)::int as n from product_facets
                      where key = 'brand' and value = any($1) group by value),
                 gone as (
                     delete from suggestions where kind = 'brand' and ref = any($1)
                        and ref not in (select value from counts))
                 insert into suggestions (kind, ref, term, weight)
                 select 'brand', value, value, n from counts
                 on conflict (kind, ref) do update set weight = excluded.weight",
            )
            .bind(&brands)
            .execute(&mut *tx)
            .await?;
        }
        if !categories.is_empty() {
            sqlx::query(
                "with counts as (
                     select c.category_id::text as ref, c.name, count(*)::int as n
                       from product_facets f join categories c on c.category_id::text = f.value
                      where f.key = 'category' and f.value = any($1)
                      group by c.category_id, c.name),
                 gone as (
                     delete from suggestions where kind = 'category' and ref = any($1)
                        and ref not in (select ref from counts))
                 insert into suggestions (kind, ref, term, weight)
                 select 'category', ref, name, n from counts
                 on conflict (kind, ref) do update set term = excluded.term,
                     weight = excluded.weight",
            )
            .bind(&categories)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}
