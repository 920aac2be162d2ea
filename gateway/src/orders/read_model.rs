//! What the orders' queries read of the `orders` read model: its rows, and the SQL that
//! fetches them. Queries never read the event store.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::views::Address;

/// One row of `orders.orders`; money in minor units of `currency`.
#[derive(sqlx::FromRow)]
pub struct OrderRow {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub payment_status: String,
    pub currency: String,
    pub subtotal: i64,
    pub tax: i64,
    pub shipping: i64,
    pub discount: i64,
    pub total: i64,
    pub shipping_address: sqlx::types::Json<Address>,
    pub billing_address: Option<sqlx::types::Json<Address>>,
    pub payment_method: String,
    pub notes: Option<String>,
    pub tracking_number: Option<String>,
    pub cancellation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refunded: i64,
    pub shipping_method: Option<String>,
}

/// One line of `orders.order_items`.
#[derive(sqlx::FromRow)]
pub struct OrderItemRow {
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub quantity: i32,
    pub price: i64,
    pub subtotal: i64,
    pub variant_id: Option<Uuid>,
    pub discount: i64,
    pub tax: i64,
    pub tax_rate_ppm: i32,
    pub tax_inclusive: bool,
    pub tax_rounding: String,
    pub taxable: i64,
    pub price_off: i64,
    pub price_rules: sqlx::types::Json<serde_json::Value>,
    pub cancelled: i32,
    pub vendor_id: Option<Uuid>,
}

/// An order as the read model holds it: its row and its lines, in order.
pub struct StoredOrder {
    pub row: OrderRow,
    pub items: Vec<OrderItemRow>,
}

/// One status change of one order (`orders.order_history`).
#[derive(sqlx::FromRow)]
pub struct HistoryRow {
    pub order_id: Uuid,
    pub status: String,
    pub notes: Option<String>,
    pub updated_by: Option<Uuid>,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str =
    "order_id, user_id, status, payment_status, currency, subtotal, tax, shipping, \
     discount, total, shipping_address, billing_address, payment_method, notes, tracking_number, \
     cancellation_reason, created_at, updated_at, refunded, shipping_method";

/// The `order by` of a list's `sort` parameter (`-` for descending); `None` for any other.
pub fn order_by(sort: &str) -> Option<&'static str> {
    Some(match sort {
        "created_at" => "created_at asc",
        "-created_at" => "created_at desc",
        "total" => "total asc",
        "-total" => "total desc",
        "updated_at" => "updated_at asc",
        "-updated_at" => "updated_at desc",
        _ => return None,
    })
}

/// The lines of `rows`, each row with its own.
async fn with_items(pool: &PgPool, rows: Vec<OrderRow>) -> Result<Vec<StoredOrder>, sqlx::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.order_id).collect();
    let mut items: Vec<OrderItemRow> = sqlx::query_as(
        "select order_id, product_id, sku, quantity, price, subtotal, variant_id, discount, tax,
                tax_rate_ppm, tax_inclusive, tax_rounding, taxable, price_off, price_rules,
                cancelled, vendor_id
           from orders.order_items
          where order_id = any($1) order by order_id, line",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (mine, rest) = items.drain(..).partition(|i| i.order_id == row.order_id);
            items = rest;
            StoredOrder { row, items: mine }
        })
        .collect())
}

/// One order, if the read model has it.
pub async fn order(pool: &PgPool, order_id: Uuid) -> Result<Option<OrderRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders.orders where order_id = $1"
    )))
    .bind(order_id)
    .fetch_optional(pool)
    .await
}

/// `row` with its lines.
pub async fn stored(pool: &PgPool, row: OrderRow) -> Result<StoredOrder, sqlx::Error> {
    let mut all = with_items(pool, vec![row]).await?;
    Ok(all.remove(0))
}

/// A page of orders, of one user or of everyone, in one status or any: how many there
/// are in all, and the page.
pub async fn page(
    pool: &PgPool,
    user_id: Option<Uuid>,
    status: Option<&str>,
    order_by: &str,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<StoredOrder>), sqlx::Error> {
    let filter = "($1::uuid is null or user_id = $1) and ($2::text is null or status = $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from orders.orders where {filter}"
    )))
    .bind(user_id)
    .bind(status)
    .fetch_one(pool)
    .await?;
    let rows: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORDER_COLUMNS} from orders.orders where {filter} order by {order_by}, order_id limit $3 offset $4"
    )))
    .bind(user_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, with_items(pool, rows).await?))
}

/// Every status change of a user's orders, oldest first, at most 1000.
pub async fn history(pool: &PgPool, user_id: Uuid) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query_as(
        "select h.order_id, h.status, h.notes, h.updated_by, h.role, h.created_at
           from orders.order_history h join orders.orders o using (order_id)
          where o.user_id = $1 order by h.created_at, h.event_id limit 1000",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}
