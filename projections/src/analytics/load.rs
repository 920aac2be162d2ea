//! The first step of a batch: the rows its facts touch, read in one round trip.

use std::collections::BTreeSet;

use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::batch::{Batch, CategoryRow, Customer, Line, OrderRow, ProductRow, Stock};
use super::fact::{Day, Fact, Time};
use crate::runtime::projection::ProjectionError;

impl Batch {
    /// Reads the rows `facts` touch, in one round trip: each table's rows come back as a
    /// JSON array of arrays in one column of one row.
    pub(super) async fn load(
        tx: &mut PgConnection,
        facts: &[Fact],
    ) -> Result<Batch, ProjectionError> {
        let mut order_ids = BTreeSet::new();
        let mut users = BTreeSet::new();
        let mut cart_ids = BTreeSet::new();
        let mut skus = BTreeSet::new();
        let mut product_ids = BTreeSet::new();
        let mut category_ids = BTreeSet::new();
        for fact in facts {
            match fact {
                Fact::Placed {
                    order_id,
                    user_id,
                    lines,
                    ..
                } => {
                    order_ids.insert(*order_id);
                    users.insert(*user_id);
                    product_ids.extend(lines.iter().map(|l| l.product_id));
                }
                Fact::Paid { order_id, .. }
                | Fact::PaymentFailed { order_id, .. }
                | Fact::Refunded { order_id, .. }
                | Fact::Cancelled { order_id, .. } => {
                    order_ids.insert(*order_id);
                }
                Fact::CartFilled { cart_id, .. } | Fact::CartClosed { cart_id, .. } => {
                    cart_ids.insert(cart_id.as_str());
                }
                Fact::StockMoved { sku, .. }
                | Fact::ThresholdSet { sku, .. }
                | Fact::LowStock { sku, .. } => {
                    skus.insert(sku.as_str());
                }
                Fact::ProductUpdated { product_id, .. } => {
                    product_ids.insert(*product_id);
                }
                Fact::CategoryRenamed { category_id, .. }
                | Fact::CategoryMoved { category_id, .. } => {
                    category_ids.insert(*category_id);
                }
                Fact::ProductCreated { .. }
                | Fact::SkuAdded { .. }
                | Fact::CategoryCreated { .. } => {}
            }
        }
        let loaded: Loaded = sqlx::query_as(LOAD)
            .bind(order_ids.into_iter().collect::<Vec<_>>())
            .bind(users.into_iter().collect::<Vec<_>>())
            .bind(cart_ids.into_iter().collect::<Vec<_>>())
            .bind(skus.into_iter().collect::<Vec<_>>())
            .bind(product_ids.into_iter().collect::<Vec<_>>())
            .bind(category_ids.into_iter().collect::<Vec<_>>())
            .fetch_one(&mut *tx)
            .await?;
        let (orders, lines, customers, carts, stock, products, categories) = loaded;
        let mut batch = Batch::default();
        for (order_id, user_id, currency, total, units, placed_at, placed_day, paid) in orders.0 {
            let (paid_amount, paid_at, refunded, cancelled_at, cancellation_reason) = paid;
            let row = OrderRow {
                user_id,
                currency,
                total,
                units,
                placed_at,
                placed_day,
                paid_amount,
                paid_at,
                refunded,
                cancelled_at,
                cancellation_reason,
            };
            batch.orders.loaded(order_id, row);
        }
        for (order_id, product_id, category_id, quantity, revenue) in lines.0 {
            batch.lines.entry(order_id).or_default().push(Line {
                product_id,
                category_id,
                quantity,
                revenue,
            });
        }
        for (user_id, currency, orders, monetary, first_order_at, last_order_at) in customers.0 {
            let row = Customer {
                orders,
                monetary,
                first_order_at,
                last_order_at,
            };
            batch.customers.loaded((user_id, currency), row);
        }
        for (cart_id, opened_day) in carts.0 {
            batch.carts.loaded(cart_id, opened_day);
        }
        for (sku, levels, alert, updated_at) in stock.0 {
            let (on_hand, reserved, received, adjusted, sold, restocked) = levels;
            let (low_stock_threshold, last_alert_at, last_alert_available) = alert;
            let row = Stock {
                on_hand,
                reserved,
                received,
                adjusted,
                sold,
                restocked,
                low_stock_threshold,
                last_alert_at,
                last_alert_available,
                updated_at,
            };
            batch.stock.loaded(sku, row);
        }
        for (product_id, sku, name, category_id) in products.0 {
            let row = ProductRow {
                sku,
                name,
                category_id,
            };
            batch.products.loaded(product_id, row);
        }
        for (category_id, name, parent_id) in categories.0 {
            batch
                .categories
                .loaded(category_id, CategoryRow { name, parent_id });
        }
        Ok(batch)
    }
}

/// The rows a batch touches: orders (`$1`) with their lines, the customers of those orders
/// and of the users placing orders (`$2`), carts (`$3`), stock (`$4`), products (`$5`) and
/// categories (`$6`).
const LOAD: &str = "
    select
      (select coalesce(json_agg(json_build_array(order_id, user_id, currency, total, units,
                  placed_at, placed_day, json_build_array(paid_amount, paid_at, refunded,
                  cancelled_at, cancellation_reason))), '[]')
         from orders where order_id = any($1)),
      (select coalesce(json_agg(json_build_array(order_id, product_id, category_id, quantity,
                  revenue)), '[]')
         from order_lines where order_id = any($1)),
      (select coalesce(json_agg(json_build_array(user_id, currency, orders, monetary,
                  first_order_at, last_order_at)), '[]')
         from customers
        where user_id = any($2)
           or user_id in (select user_id from orders where order_id = any($1))),
      (select coalesce(json_agg(json_build_array(cart_id, opened_day)), '[]')
         from carts where cart_id = any($3)),
      (select coalesce(json_agg(json_build_array(sku,
                  json_build_array(on_hand, reserved, received, adjusted, sold, restocked),
                  json_build_array(low_stock_threshold, last_alert_at, last_alert_available),
                  updated_at)), '[]')
         from stock where sku = any($4)),
      (select coalesce(json_agg(json_build_array(product_id, sku, name, category_id)), '[]')
         from products where product_id = any($5)),
      (select coalesce(json_agg(json_build_array(category_id, name, parent_id)), '[]')
         from categories where category_id = any($6))";

/// What [`LOAD`] answers, one JSON column per table.
type Loaded = (
    Json<Vec<(Uuid, Uuid, String, i64, i64, Time, Day, PaymentColumns)>>,
    Json<Vec<(Uuid, Uuid, Uuid, i64, i64)>>,
    Json<Vec<(Uuid, String, i64, i64, Time, Time)>>,
    Json<Vec<(String, Option<Day>)>>,
    Json<Vec<(String, StockLevels, StockAlert, Time)>>,
    Json<Vec<(Uuid, String, String, Uuid)>>,
    Json<Vec<(Uuid, String, Option<Uuid>)>>,
);
/// An order's paid amount, payment time, refunded amount, cancellation time and reason.
type PaymentColumns = (i64, Option<Time>, i64, Option<Time>, Option<String>);
/// On hand, reserved, received, adjusted, sold, restocked.
type StockLevels = (i64, i64, i64, i64, i64, i64);
/// Threshold, last alert time and the availability it reported.
type StockAlert = (Option<i64>, Option<Time>, Option<i64>);
