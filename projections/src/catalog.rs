//! The `catalog` read model: the category tree with product counts, products with their
//! variants, images, price history and stock, and a weighted full-text search vector.
//!
//! It follows three aggregates: `category-<id>`, `product-<id>` and `inventory-<SKU>`,
//! and the suspensions and reinstatements of `vendor-<id>` (`status`): a suspended
//! vendor's products on sale read `suspended`, off the storefront, until it is reinstated.
//! Counters are kept incrementally, because a rebuild replays every stock movement ever
//! made and must not re-aggregate anything per event. A catalog event is one statement (the
//! data-modifying CTEs below read a row's old values in the same snapshot they write the
//! new ones); only a category move, which is rare, takes a few. Stock movements, most of
//! the catalog's events, are summed per SKU over a batch and written in one statement
//! (`stock`).
//!
//! Everything written comes from the event: times are the event's own (its `at`, or when
//! the store recorded it), so a rebuild equals the incrementally built model row for row.
//!
//! Search (ADR 0007): [`facets`] keeps `product_facets` and `suggestions` for the products
//! a batch touched; [`search_index`] is the `SearchIndex` port the gateway asks, with its
//! PostgreSQL adapter.

pub mod facets;
pub mod search_index;
mod status;
mod stock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::catalog::{CategoryEvent, ProductEvent};
use sqlx::PgConnection;
use uuid::Uuid;

use self::facets::Touched;
use self::status::{set_status, vendor_moved};
use self::stock::{PendingStock, StockChange};
use crate::runtime::projection::{decode, event_time, Projection, ProjectionError};

pub struct CatalogProjection;

#[async_trait]
impl Projection for CatalogProjection {
    fn name(&self) -> &'static str {
        "catalog"
    }

    fn schema(&self) -> &'static str {
        "catalog"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        match event.category() {
            "inventory" | "category" | "product" => true,
            // A suspended vendor's products leave the storefront, and come back with it.
            "vendor" => matches!(
                event.event_type.as_str(),
                "VendorSuspended" | "VendorReinstated"
            ),
            _ => false,
        }
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/catalog.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_events(tx, &[event]).await
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        self.apply_events(tx, events).await
    }
}

impl CatalogProjection {
    /// Applies `events` (in `$all` order) with as few statements as their order allows:
    /// stock movements are summed per SKU and written together, one statement for a run
    /// of them, which is what lets a rebuild replay a shop's whole stock history quickly.
    /// The result is the same as applying them one by one.
    pub async fn apply_events(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut pending = PendingStock::default();
        let mut touched = Touched::default();
        let mut events = events.iter().peekable();
        while let Some(event) = events.next() {
            match event.category() {
                "inventory" => {
                    let (sku, change) = StockChange::of(event)?;
                    touched.sku(sku.as_str());
                    pending.add(sku, change);
                }
                "category" => category(tx, event, &mut touched).await?,
                "product" => {
                    // Staff products are created and published by one command: one row
                    // written once instead of inserted and then updated.
                    let published = events.next_if(|next| {
                        event.event_type == "ProductCreated"
                            && next.event_type == "ProductPublished"
                            && next.stream_id == event.stream_id
                    });
                    if let Some(id) = id_of(event, "product-") {
                        touched.product(id);
                    }
                    product(tx, event, published.copied()).await?
                }
                "vendor" => {
                    if let Some(vendor) = id_of(event, "vendor-") {
                        let suspended = event.event_type == "VendorSuspended";
                        for id in vendor_moved(tx, vendor, suspended, event_time(event)).await? {
                            touched.product(id);
                        }
                    }
                }
                _ => {}
            }
        }
        pending.flush(tx).await?;
        touched.refresh(tx).await?;
        Ok(())
    }
}

fn id_of(event: &RecordedEvent, prefix: &str) -> Option<Uuid> {
    event
        .stream_id
        .strip_prefix(prefix)
        .and_then(|s| Uuid::parse_str(s).ok())
}

fn revision(event: &RecordedEvent) -> i64 {
    event.revision as i64
}

async fn category(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    touched: &mut Touched,
) -> Result<(), ProjectionError> {
    let Some(id) = id_of(event, "category-") else {
        return Ok(());
    };
    let e = decode::<CategoryEvent>(event)?;
    let at = event_time(event);
    match e {
        CategoryEvent::CategoryCreated {
            name,
            slug,
            parent_id,
            ..
        } => {
            sqlx::query(
                "insert into categories (category_id, name, slug, parent_id, path, depth, version,
                     created_at, updated_at)
                 select $1, $2, $3, $4, p.path || $1, cardinality(p.path), $5, $6, $6
                   from (select coalesce((select path from categories where category_id = $4),
                                         '{}'::uuid[]) as path) p",
            )
            .bind(id)
            .bind(&name)
            .bind(slug.as_str())
            .bind(parent_id.map(|p| p.as_uuid()))
            .bind(revision(event))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        CategoryEvent::CategoryRenamed { name } => {
            // Products carry their category's name for search, and so does its
            // suggestion: both follow the rename.
            sqlx::query(
                "with renamed as (
                     update categories set name = $2, version = $3, updated_at = $4
                      where category_id = $1),
                 suggested as (
                     update suggestions set term = $2
                      where kind = 'category' and ref = $1::text)
                 update products set category_name = $2 where category_id = $1",
            )
            .bind(id)
            .bind(&name)
            .bind(revision(event))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        CategoryEvent::CategoryMoved { parent_id } => {
            moved(tx, event, id, parent_id.map(|p| p.as_uuid()), at).await?;
            touched.category_moved(id);
        }
        CategoryEvent::CategorySlugChanged { to, .. } => {
            sqlx::query(
                "update categories set slug = $2, version = $3, updated_at = $4
                  where category_id = $1",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(revision(event))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Re-roots a category's subtree under `parent` and moves its product count from the old
/// ancestors to the new ones.
async fn moved(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    id: Uuid,
    parent: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), ProjectionError> {
    let (old_path, count): (Vec<Uuid>, i32) =
        sqlx::query_as("select path, subtree_product_count from categories where category_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ProjectionError::event(event, "no such category"))?;
    let mut new_path: Vec<Uuid> = match parent {
        None => vec![],
        Some(p) => sqlx::query_scalar("select path from categories where category_id = $1")
            .bind(p)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ProjectionError::event(event, "the new parent does not exist"))?,
    };
    // The write side refuses a move under the category's own descendants (it walks the
    // new parent's ancestors), but events from before it did may say otherwise: such a
    // move would detach a loop from the tree, so it is parked, not applied.
    if new_path.contains(&id) {
        return Err(ProjectionError::event(
            event,
            "moving a category under its own descendant makes a cycle",
        ));
    }
    new_path.push(id);
    sqlx::query(
        "update categories set
             path = $2 || path[$3 + 1:],
             depth = cardinality($2) + cardinality(path) - $3 - 1,
             parent_id = case when category_id = $1 then $4 else parent_id end,
             version = case when category_id = $1 then $5 else version end,
             updated_at = case when category_id = $1 then $6 else updated_at end
          where path @> array[$1]",
    )
    .bind(id)
    .bind(&new_path)
    .bind(old_path.len() as i32)
    .bind(parent)
    .bind(revision(event))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let old_ancestors = &old_path[..old_path.len() - 1];
    let new_ancestors = &new_path[..new_path.len() - 1];
    if count != 0 {
        sqlx::query(
            "update categories set subtree_product_count = subtree_product_count
                 + case when category_id = any($2) then $1 else 0 end
                 - case when category_id = any($3) then $1 else 0 end
              where category_id = any($2 || $3)",
        )
        .bind(count)
        .bind(new_ancestors)
        .bind(old_ancestors)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Applies one product event; `published`, the `ProductPublished` that directly followed a
/// `ProductCreated` in the same stream, is applied with it.
async fn product(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    published: Option<&RecordedEvent>,
) -> Result<(), ProjectionError> {
    let Some(id) = id_of(event, "product-") else {
        return Ok(());
    };
    let e = decode::<ProductEvent>(event)?;
    let version = revision(event);
    match e {
        ProductEvent::ProductCreated {
            sku,
            name,
            slug,
            description,
            category_id,
            price,
            attributes,
            vendor_id,
            at,
            ..
        } => {
            let (version, published_at) = match published {
                Some(p) => match decode::<ProductEvent>(p)? {
                    ProductEvent::ProductPublished { at } => (revision(p), Some(at)),
                    _ => (version, None),
                },
                None => (version, None),
            };
            // Stock may have arrived before the product: the SKU's row is claimed. A draft
            // is in no category count; a published product counts in its category and
            // every ancestor.
            sqlx::query(
                "with s as (
                     insert into stock (sku, product_id) values ($2, $1)
                     on conflict (sku) do update set product_id = excluded.product_id),
                 counts as (
                     update categories set
                         product_count = product_count + (category_id = $6)::int,
                         subtree_product_count = subtree_product_count + 1
                      where $13::timestamptz is not null
                        and category_id = any(coalesce(
                            (select path from categories where category_id = $6), '{}'::uuid[])))
                 insert into products (product_id, sku, slug, name, description, category_id,
                     category_name, price, currency, status, attributes, vendor_id, version,
                     created_at, updated_at, published_at)
                 values ($1, $2, $3, $4, $5, $6,
                         (select name from categories where category_id = $6), $7, $8,
                         case when $13::timestamptz is null then 'draft' else 'active' end,
                         $9, $10, $11, $12, coalesce($13, $12), $13)",
            )
            .bind(id)
            .bind(sku.as_str())
            .bind(slug.as_str())
            .bind(&name)
            .bind(&description)
            .bind(category_id.as_uuid())
            .bind(price.amount)
            .bind(price.currency.as_str())
            .bind(serde_json::Value::Object(attributes))
            .bind(vendor_id.map(|v| v.as_uuid()))
            .bind(version)
            .bind(at)
            .bind(published_at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductUpdated {
            name,
            description,
            category_id,
            attributes,
            at,
        } => {
            // An active product that changes category leaves the old ancestors' counts and
            // joins the new ones'; one update of `categories` nets the two, since a
            // statement may change a row only once.
            sqlx::query(
                "with old as (
                     select p.category_id, p.status, coalesce(c.path, '{}'::uuid[]) as path
                       from products p left join categories c using (category_id)
                      where p.product_id = $1),
                 new as (
                     select coalesce((select path from categories where category_id = $4),
                                     '{}'::uuid[]) as path),
                 counts as (
                     update categories c set
                         product_count = c.product_count
                             + (c.category_id = $4)::int - (c.category_id = old.category_id)::int,
                         subtree_product_count = c.subtree_product_count
                             + (c.category_id = any(new.path))::int
                             - (c.category_id = any(old.path))::int
                       from old, new
                      where $4::uuid is not null and old.status = 'active'
                        and old.category_id <> $4 and c.category_id = any(old.path || new.path))
                 update products set
                     name = coalesce($2, name),
                     description = coalesce($3, description),
                     category_id = coalesce($4, category_id),
                     category_name = case when $4::uuid is null then category_name
                         else (select name from categories where category_id = $4) end,
                     attributes = coalesce($5, attributes),
                     version = $6, updated_at = $7
                  where product_id = $1",
            )
            .bind(id)
            .bind(&name)
            .bind(&description)
            .bind(category_id.map(|c| c.as_uuid()))
            .bind(attributes.map(serde_json::Value::Object))
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductPriceChanged { from, to, at } => {
            sqlx::query(
                "with change as (
                     insert into price_changes (event_id, product_id, from_price, to_price,
                         currency, changed_at)
                     values ($1, $2, $3, $4, $5, $6))
                 update products set price = $4, currency = $5, version = $7, updated_at = $6
                  where product_id = $2",
            )
            .bind(event.id)
            .bind(id)
            .bind(from.amount)
            .bind(to.amount)
            .bind(to.currency.as_str())
            .bind(at)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductPublished { at } => {
            set_status(tx, id, "active", Some(version), at).await?;
        }
        ProductEvent::ProductArchived { at } => {
            set_status(tx, id, "archived", Some(version), at).await?;
        }
        ProductEvent::VariantAdded { variant } => {
            sqlx::query(
                "with s as (
                     insert into stock (sku, product_id, variant_id) values ($3, $2, $1)
                     on conflict (sku) do update set product_id = excluded.product_id,
                         variant_id = excluded.variant_id),
                 v as (
                     insert into variants (variant_id, product_id, sku, name, price, currency,
                         attributes, position, created_at)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9))
                 update products set version = $8, updated_at = $9 where product_id = $2",
            )
            .bind(variant.variant_id.as_uuid())
            .bind(id)
            .bind(variant.sku.as_str())
            .bind(&variant.name)
            .bind(variant.price.amount)
            .bind(variant.price.currency.as_str())
            .bind(serde_json::Value::Object(variant.attributes))
            .bind(version)
            .bind(event_time(event))
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ImageAdded { image } => {
            sqlx::query(
                "with i as (
                     insert into images (image_id, product_id, url, alt, position)
                     values ($1, $2, $3, $4, $5))
                 update products set version = $6, updated_at = $7 where product_id = $2",
            )
            .bind(image.image_id.as_uuid())
            .bind(id)
            .bind(&image.url)
            .bind(&image.alt)
            .bind(image.position as i32)
            .bind(version)
            .bind(event_time(event))
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductSubmittedForReview { at } => {
            set_status(tx, id, "pending_review", Some(version), at).await?;
        }
        ProductEvent::ProductUnpublished { at }
        | ProductEvent::ProductSubmissionRejected { at, .. } => {
            set_status(tx, id, "draft", Some(version), at).await?;
        }
        ProductEvent::VariantUpdated {
            variant_id,
            name,
            price,
            attributes,
            at,
        } => {
            sqlx::query(
                "with v as (
                     update variants set name = coalesce($3, name),
                         price = coalesce($4, price), currency = coalesce($5, currency),
                         attributes = coalesce($6, attributes)
                      where variant_id = $1 and product_id = $2)
                 update products set version = $7, updated_at = $8 where product_id = $2",
            )
            .bind(variant_id.as_uuid())
            .bind(id)
            .bind(&name)
            .bind(price.map(|p| p.amount))
            .bind(price.map(|p| p.currency.as_str().to_owned()))
            .bind(attributes.map(serde_json::Value::Object))
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::VariantRemoved {
            variant_id,
            sku,
            at,
        } => {
            // The SKU's stock stays, no longer the product's: it leaves the product's sums.
            sqlx::query(
                "with v as (delete from variants where variant_id = $1 and product_id = $2),
                 s as (
                     update stock set product_id = null, variant_id = null
                      where sku = $3 and variant_id = $1)
                 update products set version = $4, updated_at = $5 where product_id = $2",
            )
            .bind(variant_id.as_uuid())
            .bind(id)
            .bind(sku.as_str())
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductSlugChanged { from, to, at } => {
            sqlx::query(
                "with old as (
                     insert into product_redirects (slug, product_id, changed_at)
                     values ($2, $1, $5)
                     on conflict (slug) do update set product_id = excluded.product_id,
                         changed_at = excluded.changed_at),
                 back as (delete from product_redirects where slug = $3)
                 update products set slug = $3, version = $4, updated_at = $5
                  where product_id = $1",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductSeoChanged {
            meta_title,
            meta_description,
            at,
        } => {
            sqlx::query(
                "update products set meta_title = $2, meta_description = $3, version = $4,
                     updated_at = $5
                  where product_id = $1",
            )
            .bind(id)
            .bind(&meta_title)
            .bind(&meta_description)
            .bind(version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ImageRemoved { image_id } => {
            sqlx::query(
                "with i as (delete from images where image_id = $1 and product_id = $2)
                 update products set version = $3, updated_at = $4 where product_id = $2",
            )
            .bind(image_id.as_uuid())
            .bind(id)
            .bind(version)
            .bind(event_time(event))
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}
