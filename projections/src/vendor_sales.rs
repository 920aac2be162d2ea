//! The stores' dashboard figures in the `vendor_orders` read model (issue 23 item 5):
//! paid sales per UTC day, and each product's units and sales, less what is given back.
//! The projection calls these as an order's events arrive; they read the sub-order lines
//! the same projection keeps, so a rebuild equals the live build.
//!
//! A sale counts on the day its order is paid, at the lines' prices after price rules. What
//! is given back counts on the day it happens: units cancelled before shipping at each
//! line's share by units (the rule `Money::share_of_units` refunds follow, computed here
//! in SQL over the same integers), and everything not yet given back when the whole order
//! is refunded, or cancelled once paid. Partial refunds (a return's) are money only, and
//! the store's ledger holds them.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

/// Sums saturate, as every read model's do, rather than park the event on an overflow.
/// The SQL below is formatted from this module's constants and fragments only.
const CAP: &str = "9223372036854775807";

/// The order was paid: each of its stores gains a sale, its units and its lines' prices.
pub async fn paid(
    tx: &mut PgConnection,
    order_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // Once per sub-order, whatever a replayed or repeated payment says.
    let vendors: Vec<Uuid> = sqlx::query_scalar(
        "update sub_orders set paid_at = $2 where order_id = $1 and paid_at is null
         returning vendor_id",
    )
    .bind(order_id)
    .bind(at)
    .fetch_all(&mut *tx)
    .await?;
    if vendors.is_empty() {
        return Ok(());
    }
    sqlx::query(AssertSqlSafe(format!(
        "insert into sales_days (vendor_id, day, currency, sub_orders, units, gross)
         select o.vendor_id, (o.paid_at at time zone 'UTC')::date, o.currency, 1,
                sum(l.quantity - l.cancelled), least(sum(l.price), {CAP})
           from sub_orders o
           join sub_order_lines l using (vendor_id, order_id)
          where o.order_id = $1 and o.vendor_id = any($2)
          group by o.vendor_id, o.paid_at, o.currency
         on conflict (vendor_id, day, currency) do update set
             sub_orders = sales_days.sub_orders + 1,
             units = sales_days.units + excluded.units,
             gross = least(sales_days.gross::numeric + excluded.gross, {CAP})::bigint"
    )))
    .bind(order_id)
    .bind(&vendors)
    .execute(&mut *tx)
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "insert into product_sales (vendor_id, product_id, currency, units, gross)
         select o.vendor_id, l.product_id, o.currency, sum(l.quantity - l.cancelled),
                least(sum(l.price), {CAP})
           from sub_orders o
           join sub_order_lines l using (vendor_id, order_id)
          where o.order_id = $1 and o.vendor_id = any($2)
          group by o.vendor_id, l.product_id, o.currency
         on conflict (vendor_id, product_id, currency) do update set
             units = product_sales.units + excluded.units,
             gross = least(product_sales.gross::numeric + excluded.gross, {CAP})::bigint"
    )))
    .bind(order_id)
    .bind(&vendors)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// `quantity` units of `sku` are cancelled before shipping; called before the line's
/// `cancelled` count moves, which the share is taken from.
pub async fn cancelled(
    tx: &mut PgConnection,
    order_id: Uuid,
    sku: &str,
    quantity: u32,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    give_back(
        tx,
        order_id,
        "l.sku = $3",
        // Of a line's price, the units before..before+n give back
        // floor(price·(before+n)/quantity) − floor(price·before/quantity).
        "div(l.price::numeric * (l.cancelled + least($4, l.quantity - l.cancelled)), l.quantity)
             - div(l.price::numeric * l.cancelled, l.quantity)",
        "least($4, l.quantity - l.cancelled)",
        (sku, i64::from(quantity)),
        at,
    )
    .await
}

/// The whole order is given back (a full refund, or a paid order cancelled): every unit
/// not cancelled yet, at what is left of each line's price. Once per sub-order.
pub async fn everything(
    tx: &mut PgConnection,
    order_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let closed: Vec<Uuid> = sqlx::query_scalar(
        "update sub_orders set given_back_at = $2
          where order_id = $1 and paid_at is not null and given_back_at is null
         returning vendor_id",
    )
    .bind(order_id)
    .bind(at)
    .fetch_all(&mut *tx)
    .await?;
    if closed.is_empty() {
        return Ok(());
    }
    give_back(
        tx,
        order_id,
        "true",
        "l.price - div(l.price::numeric * l.cancelled, l.quantity)",
        "l.quantity - l.cancelled",
        ("", 0),
        at,
    )
    .await
}

/// Adds what the chosen lines give back to the day's row and takes it off their products:
/// `amount` and `units` are SQL over a line `l` of a paid sub-order `o`, and `($3, $4)` the
/// caller's SKU and quantity.
async fn give_back(
    tx: &mut PgConnection,
    order_id: Uuid,
    lines: &str,
    amount: &str,
    units: &str,
    (sku, quantity): (&str, i64),
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(format!(
        "with back as (
             select o.vendor_id, o.currency, l.product_id,
                    ({units})::bigint as units, ({amount})::bigint as amount
               from sub_orders o
               join sub_order_lines l using (vendor_id, order_id)
              where o.order_id = $1 and o.paid_at is not null and {lines}
         ),
         products as (
             update product_sales p set units = greatest(p.units - b.units, 0),
                    gross = greatest(p.gross - b.amount, 0)
               from (select vendor_id, product_id, currency, sum(units) as units,
                            sum(amount) as amount
                       from back group by vendor_id, product_id, currency) b
              where p.vendor_id = b.vendor_id and p.product_id = b.product_id
                and p.currency = b.currency
         )
         insert into sales_days (vendor_id, day, currency, cancelled_units, cancelled)
         select vendor_id, ($2 at time zone 'UTC')::date, currency, sum(units),
                least(sum(amount), {CAP})
           from back
          group by vendor_id, currency
         on conflict (vendor_id, day, currency) do update set
             cancelled_units = sales_days.cancelled_units + excluded.cancelled_units,
             cancelled = least(sales_days.cancelled::numeric + excluded.cancelled, {CAP})::bigint"
    )))
    .bind(order_id)
    .bind(at)
    .bind(sku)
    .bind(quantity)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
