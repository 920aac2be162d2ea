//! What the `notifications` read model keeps of the marketplace's stores to address them
//! (issue 23 item 7): each order's stores and their lines, each store SKU's store, each
//! payout's store and amount; read before a batch folds, written after.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::column;

/// What the model knows of the stores, as of the point of the log the batch has reached.
#[derive(Default)]
pub(crate) struct Stores {
    /// Each order's stores and their lines, and those the batch adds.
    pub(crate) orders: HashMap<Uuid, Vec<(Uuid, Value)>>,
    pub(crate) new_orders: Vec<(Uuid, Uuid, Value)>,
    /// Each store SKU's store and product (`None`: removed in the batch).
    pub(crate) skus: HashMap<String, Option<(Uuid, Uuid)>>,
    /// Each store product's store, to place its variants' SKUs.
    pub(crate) products: HashMap<Uuid, Uuid>,
    pub(crate) changed_skus: BTreeMap<String, Option<(Uuid, Uuid)>>,
    /// Each payout's store and amount, and those the batch adds.
    pub(crate) payouts: HashMap<Uuid, (Uuid, Value)>,
    pub(crate) new_payouts: Vec<(Uuid, Uuid, Value)>,
}

/// What a batch's steps ask of [`Stores`] before they fold.
#[derive(Default)]
pub(crate) struct Wanted {
    pub orders: Vec<Uuid>,
    pub skus: Vec<String>,
    pub products: Vec<Uuid>,
    pub payouts: Vec<Uuid>,
}

impl Stores {
    /// Reads what `wanted` names; answers the stores found, whose addresses the batch
    /// loads next.
    pub(crate) async fn load(
        tx: &mut PgConnection,
        wanted: &Wanted,
    ) -> Result<(Self, Vec<Uuid>), sqlx::Error> {
        let mut stores = Stores::default();
        let mut vendors = Vec::new();
        if !wanted.orders.is_empty() {
            let rows: Vec<(Uuid, Uuid, Value)> = sqlx::query_as(
                "select order_id, vendor_id, lines from order_stores
                  where order_id = any($1) order by order_id, vendor_id",
            )
            .bind(&wanted.orders)
            .fetch_all(&mut *tx)
            .await?;
            for (order_id, vendor_id, lines) in rows {
                vendors.push(vendor_id);
                stores
                    .orders
                    .entry(order_id)
                    .or_default()
                    .push((vendor_id, lines));
            }
        }
        if !wanted.skus.is_empty() || !wanted.products.is_empty() {
            let rows: Vec<(String, Uuid, Uuid)> = sqlx::query_as(
                "select sku, vendor_id, product_id from store_skus
                  where sku = any($1) or product_id = any($2)",
            )
            .bind(&wanted.skus)
            .bind(&wanted.products)
            .fetch_all(&mut *tx)
            .await?;
            for (sku, vendor_id, product_id) in rows {
                vendors.push(vendor_id);
                stores.products.insert(product_id, vendor_id);
                stores.skus.insert(sku, Some((vendor_id, product_id)));
            }
        }
        if !wanted.payouts.is_empty() {
            let rows: Vec<(Uuid, Uuid, Value)> = sqlx::query_as(
                "select payout_id, vendor_id, amount from store_payouts where payout_id = any($1)",
            )
            .bind(&wanted.payouts)
            .fetch_all(&mut *tx)
            .await?;
            for (payout_id, vendor_id, amount) in rows {
                vendors.push(vendor_id);
                stores.payouts.insert(payout_id, (vendor_id, amount));
            }
        }
        Ok((stores, vendors))
    }

    pub(crate) async fn write(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if !self.new_orders.is_empty() {
            let rows = &self.new_orders;
            sqlx::query(
                "insert into order_stores (order_id, vendor_id, lines)
                 select * from unnest($1::uuid[], $2::uuid[], $3::jsonb[])
                 on conflict do nothing",
            )
            .bind(column(rows, |r| r.0))
            .bind(column(rows, |r| r.1))
            .bind(column(rows, |r| r.2.clone()))
            .execute(&mut *tx)
            .await?;
        }
        let (kept, gone): (Vec<_>, Vec<_>) =
            self.changed_skus.iter().partition(|(_, to)| to.is_some());
        if !gone.is_empty() {
            sqlx::query("delete from store_skus where sku = any($1)")
                .bind(column(&gone, |(sku, _)| (*sku).clone()))
                .execute(&mut *tx)
                .await?;
        }
        if !kept.is_empty() {
            let at = |r: &(&String, &Option<(Uuid, Uuid)>)| r.1.unwrap_or_default();
            sqlx::query(
                "insert into store_skus (sku, vendor_id, product_id)
                 select * from unnest($1::text[], $2::uuid[], $3::uuid[])
                 on conflict (sku) do update set vendor_id = excluded.vendor_id,
                     product_id = excluded.product_id",
            )
            .bind(column(&kept, |(sku, _)| (*sku).clone()))
            .bind(column(&kept, |r| at(r).0))
            .bind(column(&kept, |r| at(r).1))
            .execute(&mut *tx)
            .await?;
        }
        if !self.new_payouts.is_empty() {
            let rows = &self.new_payouts;
            sqlx::query(
                "insert into store_payouts (payout_id, vendor_id, amount)
                 select * from unnest($1::uuid[], $2::uuid[], $3::jsonb[])
                 on conflict do nothing",
            )
            .bind(column(rows, |r| r.0))
            .bind(column(rows, |r| r.1))
            .bind(column(rows, |r| r.2.clone()))
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    pub(crate) fn sku(&mut self, sku: String, to: Option<(Uuid, Uuid)>) {
        if let Some((vendor_id, product_id)) = to {
            self.products.insert(product_id, vendor_id);
        }
        self.skus.insert(sku.clone(), to);
        self.changed_skus.insert(sku, to);
    }
}
