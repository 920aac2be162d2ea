//! A product's status in the catalog, and the category counts that follow it.
//!
//! The status is the product's own (`draft`, `pending_review`, `active`, `archived`),
//! except that a product on sale whose vendor is suspended reads `suspended`: off the
//! storefront (every public read asks for `active`) and out of the category counts until
//! the vendor is reinstated. `suspended_vendors` remembers who is suspended, so a product
//! published meanwhile is `suspended` at once.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Sets a product's status (`version` `None` keeps its version: the vendor moved, not the
/// product). Only a change into or out of `active` moves the counts of the category and
/// its ancestors.
pub(super) async fn set_status(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    version: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with eff as (
             select case when $2 = 'active' and exists (
                        select 1 from products p join suspended_vendors s using (vendor_id)
                         where p.product_id = $1)
                    then 'suspended' else $2 end as status),
         old as (
             select p.status, p.category_id, coalesce(c.path, '{}'::uuid[]) as path
               from products p left join categories c using (category_id)
              where p.product_id = $1),
         counts as (
             update categories c set
                 product_count = c.product_count
                     + (case when eff.status = 'active' then 1 else -1 end)
                       * (c.category_id = old.category_id)::int,
                 subtree_product_count = c.subtree_product_count
                     + case when eff.status = 'active' then 1 else -1 end
               from old, eff
              where c.category_id = any(old.path)
                and (old.status = 'active') <> (eff.status = 'active'))
         update products set status = eff.status, version = coalesce($3, version),
             updated_at = $4,
             published_at = case when $2 = 'active' then coalesce(published_at, $4)
                                 else published_at end,
             archived_at = case when $2 = 'archived' then $4 else archived_at end
           from eff
          where product_id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(version)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A vendor was suspended (`suspended`) or reinstated: its products on sale leave the
/// storefront, or those it took off come back. Answers the products moved.
pub(super) async fn vendor_moved(
    tx: &mut PgConnection,
    vendor: Uuid,
    suspended: bool,
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    if suspended {
        sqlx::query(
            "insert into suspended_vendors (vendor_id, suspended_at) values ($1, $2)
             on conflict (vendor_id) do nothing",
        )
        .bind(vendor)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query("delete from suspended_vendors where vendor_id = $1")
            .bind(vendor)
            .execute(&mut *tx)
            .await?;
    }
    let (from, to) = if suspended {
        ("active", "suspended")
    } else {
        ("suspended", "active")
    };
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select product_id from products where vendor_id = $1 and status = $2
          order by product_id",
    )
    .bind(vendor)
    .bind(from)
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        // Out of `active` the counts drop; back into it, `set_status` counts it again.
        if suspended {
            sqlx::query(
                "with old as (
                     select p.category_id, coalesce(c.path, '{}'::uuid[]) as path
                       from products p left join categories c using (category_id)
                      where p.product_id = $1),
                 counts as (
                     update categories c set
                         product_count = c.product_count - (c.category_id = old.category_id)::int,
                         subtree_product_count = c.subtree_product_count - 1
                       from old
                      where c.category_id = any(old.path))
                 update products set status = $2, updated_at = $3 where product_id = $1",
            )
            .bind(id)
            .bind(to)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        } else {
            set_status(tx, *id, to, None, at).await?;
        }
    }
    Ok(ids)
}
