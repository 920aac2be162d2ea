//! The last step of a batch: every table written in one statement over arrays, the only
//! round trip that holds a transaction id.

use std::sync::LazyLock;

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};

use super::batch::Batch;
use super::fact::Day;
use crate::runtime::projection::column;

impl Batch {
    /// Writes everything in one statement (see [`WRITE`]), binding its parameters in the
    /// order of [`WRITES`].
    pub(super) async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let q = sqlx::query(sqlx::AssertSqlSafe(WRITE.as_str()));
        let q = self.bind_orders(q);
        let q = self.bind_sums(q);
        let q = self.bind_memory(q);
        let q = self.bind_catalog(q);
        let q = self.bind_stock(q);
        q.execute(&mut *tx).await?;
        Ok(())
    }

    fn bind_orders<'q>(&'q self, q: Q<'q>) -> Q<'q> {
        let orders = self.orders.changed();
        let l = &self.new_lines;
        q.bind(column(&orders, |(k, _)| **k))
            .bind(column(&orders, |(_, o)| o.user_id))
            .bind(column(&orders, |(_, o)| o.currency.as_str()))
            .bind(column(&orders, |(_, o)| o.total))
            .bind(column(&orders, |(_, o)| o.units))
            .bind(column(&orders, |(_, o)| o.placed_at))
            .bind(column(&orders, |(_, o)| o.placed_day))
            .bind(column(&orders, |(_, o)| o.paid_amount))
            .bind(column(&orders, |(_, o)| o.paid_at))
            .bind(column(&orders, |(_, o)| o.refunded))
            .bind(column(&orders, |(_, o)| o.cancelled_at))
            .bind(column(&orders, |(_, o)| o.cancellation_reason.as_deref()))
            .bind(column(l, |r| r.0))
            .bind(column(l, |r| r.1))
            .bind(column(l, |r| r.2))
            .bind(column(l, |r| r.3.as_str()))
            .bind(column(l, |r| r.4))
            .bind(column(l, |r| r.5))
            .bind(column(l, |r| r.6))
            .bind(column(l, |r| r.7))
    }

    /// The daily aggregates.
    fn bind_sums<'q>(&'q self, q: Q<'q>) -> Q<'q> {
        let q = q
            .bind(self.daily.keys().map(|k| k.0).collect::<Vec<_>>())
            .bind(self.daily.keys().map(|k| k.1.as_str()).collect::<Vec<_>>());
        let mut q = self.daily.bind_counters(q);
        for sums in [&self.category_sales, &self.product_sales] {
            q = q
                .bind(sums.keys().map(|k| k.0).collect::<Vec<_>>())
                .bind(sums.keys().map(|k| k.1).collect::<Vec<_>>())
                .bind(sums.keys().map(|k| k.2.as_str()).collect::<Vec<_>>());
            q = sums.bind_counters(q);
        }
        let q = q.bind(self.funnel.keys().copied().collect::<Vec<_>>());
        let q = self.funnel.bind_counters(q);
        let k = &self.cancellations;
        let q = q
            .bind(k.keys().map(|k| k.0).collect::<Vec<_>>())
            .bind(k.keys().map(|k| k.1.as_str()).collect::<Vec<_>>())
            .bind(k.keys().map(|k| k.2.as_str()).collect::<Vec<_>>());
        k.bind_counters(q)
    }

    /// Customers and carts.
    fn bind_memory<'q>(&'q self, q: Q<'q>) -> Q<'q> {
        let customers = self.customers.changed();
        let carts = self.carts.changed();
        q.bind(column(&customers, |(k, _)| k.0))
            .bind(column(&customers, |(k, _)| k.1.as_str()))
            .bind(column(&customers, |(_, c)| c.orders))
            .bind(column(&customers, |(_, c)| c.monetary))
            .bind(column(&customers, |(_, c)| c.first_order_at))
            .bind(column(&customers, |(_, c)| c.last_order_at))
            .bind(column(&carts, |(k, _)| k.as_str()))
            .bind(column(&carts, |(_, d)| **d))
    }

    /// Categories, products and their SKUs.
    fn bind_catalog<'q>(&'q self, q: Q<'q>) -> Q<'q> {
        let categories = self.categories.changed();
        let products = self.products.changed();
        let skus = self.product_skus.changed();
        q.bind(column(&categories, |(k, _)| **k))
            .bind(column(&categories, |(_, c)| c.name.as_str()))
            .bind(column(&categories, |(_, c)| c.parent_id))
            .bind(column(&products, |(k, _)| **k))
            .bind(column(&products, |(_, p)| p.sku.as_str()))
            .bind(column(&products, |(_, p)| p.name.as_str()))
            .bind(column(&products, |(_, p)| p.category_id))
            .bind(column(&skus, |(k, _)| k.as_str()))
            .bind(column(&skus, |(_, p)| **p))
    }

    /// Stock levels, daily movements and alerts.
    fn bind_stock<'q>(&'q self, q: Q<'q>) -> Q<'q> {
        let stock = self.stock.changed();
        let q = q
            .bind(column(&stock, |(k, _)| k.as_str()))
            .bind(column(&stock, |(_, s)| s.on_hand))
            .bind(column(&stock, |(_, s)| s.reserved))
            .bind(column(&stock, |(_, s)| s.received))
            .bind(column(&stock, |(_, s)| s.adjusted))
            .bind(column(&stock, |(_, s)| s.sold))
            .bind(column(&stock, |(_, s)| s.restocked))
            .bind(column(&stock, |(_, s)| s.low_stock_threshold))
            .bind(column(&stock, |(_, s)| s.last_alert_at))
            .bind(column(&stock, |(_, s)| s.last_alert_available))
            .bind(column(&stock, |(_, s)| s.updated_at));
        let keys: Vec<&(String, Day)> = self.stock_daily.keys().collect();
        let q = q
            .bind(column(&keys, |k| k.0.as_str()))
            .bind(column(&keys, |k| k.1))
            .bind(column(&keys, |k| self.closing[*k].0))
            .bind(column(&keys, |k| self.closing[*k].1));
        let a = &self.alerts;
        self.stock_daily
            .bind_counters(q)
            .bind(column(a, |r| r.0))
            .bind(column(a, |r| r.1.as_str()))
            .bind(column(a, |r| r.2))
            .bind(column(a, |r| r.3))
            .bind(column(a, |r| r.4))
    }
}

type Q<'q> = Query<'q, Postgres, PgArguments>;

/// The upsert of `daily_category_sales` or `daily_product_sales` (the same columns but
/// the key).
macro_rules! line_sales_upsert {
    ($table:literal, $key:literal) => {
        concat!(
            "insert into ",
            $table,
            " as t (day, ",
            $key,
            ", currency, orders_paid, units_sold,
                 revenue, refunded_units, refunded_revenue)
             select * from unnest($1::date[], $2::uuid[], $3::text[], $4::int8[], $5::int8[],
                 $6::int8[], $7::int8[], $8::int8[])
             on conflict (day, ",
            $key,
            ", currency) do update
                set orders_paid = t.orders_paid + excluded.orders_paid,
                    units_sold = t.units_sold + excluded.units_sold,
                    revenue = least(t.revenue::numeric + excluded.revenue, 9223372036854775807)::bigint,
                    refunded_units = t.refunded_units + excluded.refunded_units,
                    refunded_revenue = least(t.refunded_revenue::numeric + excluded.refunded_revenue, 9223372036854775807)::bigint"
        )
    };
}

/// The write of each table, its parameters numbered from `$1`, in the order the `bind_*`
/// functions bind them. Memory tables get their final rows; daily aggregates get
/// increments. A table the batch did not touch gets empty arrays, which cost nothing.
const WRITES: &[&str] = &[
    "insert into orders (order_id, user_id, currency, total, units, placed_at, placed_day,
         paid_amount, paid_at, refunded, cancelled_at, cancellation_reason)
     select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::int8[],
         $6::timestamptz[], $7::date[], $8::int8[], $9::timestamptz[], $10::int8[],
         $11::timestamptz[], $12::text[])
     on conflict (order_id) do update
        set paid_amount = excluded.paid_amount, paid_at = excluded.paid_at,
            refunded = excluded.refunded, cancelled_at = excluded.cancelled_at,
            cancellation_reason = excluded.cancellation_reason",
    "insert into order_lines (order_id, line, product_id, sku, category_id, quantity, revenue,
         variant_id)
     select * from unnest($1::uuid[], $2::int4[], $3::uuid[], $4::text[], $5::uuid[],
         $6::int8[], $7::int8[], $8::uuid[])",
    "insert into daily_sales as t (day, currency, orders_placed, placed_value, orders_paid,
         units_sold, gross_revenue, orders_cancelled, refunds, refunded_amount,
         payment_failures)
     select * from unnest($1::date[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
         $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
     on conflict (day, currency) do update
        set orders_placed = t.orders_placed + excluded.orders_placed,
            placed_value = least(t.placed_value::numeric + excluded.placed_value, 9223372036854775807)::bigint,
            orders_paid = t.orders_paid + excluded.orders_paid,
            units_sold = t.units_sold + excluded.units_sold,
            gross_revenue = least(t.gross_revenue::numeric + excluded.gross_revenue, 9223372036854775807)::bigint,
            orders_cancelled = t.orders_cancelled + excluded.orders_cancelled,
            refunds = t.refunds + excluded.refunds,
            refunded_amount = least(t.refunded_amount::numeric + excluded.refunded_amount, 9223372036854775807)::bigint,
            payment_failures = t.payment_failures + excluded.payment_failures",
    line_sales_upsert!("daily_category_sales", "category_id"),
    line_sales_upsert!("daily_product_sales", "product_id"),
    "insert into funnel_daily as t (day, carts_started, carts_checked_out, carts_expired,
         orders_placed, orders_paid, orders_cancelled)
     select * from unnest($1::date[], $2::int8[], $3::int8[], $4::int8[], $5::int8[],
         $6::int8[], $7::int8[])
     on conflict (day) do update
        set carts_started = t.carts_started + excluded.carts_started,
            carts_checked_out = t.carts_checked_out + excluded.carts_checked_out,
            carts_expired = t.carts_expired + excluded.carts_expired,
            orders_placed = t.orders_placed + excluded.orders_placed,
            orders_paid = t.orders_paid + excluded.orders_paid,
            orders_cancelled = t.orders_cancelled + excluded.orders_cancelled",
    "insert into cancellations as t (day, reason, currency, orders, value, paid_orders)
     select * from unnest($1::date[], $2::text[], $3::text[], $4::int8[], $5::int8[],
         $6::int8[])
     on conflict (day, reason, currency) do update
        set orders = t.orders + excluded.orders, value = least(t.value::numeric + excluded.value, 9223372036854775807)::bigint,
            paid_orders = t.paid_orders + excluded.paid_orders",
    "insert into customers (user_id, currency, orders, monetary, first_order_at, last_order_at)
     select * from unnest($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::timestamptz[],
         $6::timestamptz[])
     on conflict (user_id, currency) do update
        set orders = excluded.orders, monetary = excluded.monetary,
            first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at",
    "insert into carts (cart_id, opened_day)
     select * from unnest($1::text[], $2::date[])
     on conflict (cart_id) do update set opened_day = excluded.opened_day",
    "insert into categories (category_id, name, parent_id)
     select * from unnest($1::uuid[], $2::text[], $3::uuid[])
     on conflict (category_id) do update
        set name = excluded.name, parent_id = excluded.parent_id",
    "insert into products (product_id, sku, name, category_id)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[])
     on conflict (product_id) do update
        set sku = excluded.sku, name = excluded.name, category_id = excluded.category_id",
    "insert into product_skus (sku, product_id)
     select * from unnest($1::text[], $2::uuid[])
     on conflict (sku) do update set product_id = excluded.product_id",
    "insert into stock (sku, on_hand, reserved, received, adjusted, sold, restocked,
         low_stock_threshold, last_alert_at, last_alert_available, updated_at)
     select * from unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[],
         $6::int8[], $7::int8[], $8::int8[], $9::timestamptz[], $10::int8[],
         $11::timestamptz[])
     on conflict (sku) do update
        set on_hand = excluded.on_hand, reserved = excluded.reserved,
            received = excluded.received, adjusted = excluded.adjusted, sold = excluded.sold,
            restocked = excluded.restocked, low_stock_threshold = excluded.low_stock_threshold,
            last_alert_at = excluded.last_alert_at,
            last_alert_available = excluded.last_alert_available,
            updated_at = excluded.updated_at",
    "insert into stock_daily as t (sku, day, closing_on_hand, closing_reserved, received,
         adjusted, reserved, released, sold, restocked)
     select * from unnest($1::text[], $2::date[], $3::int8[], $4::int8[], $5::int8[],
         $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[])
     on conflict (sku, day) do update
        set received = t.received + excluded.received,
            adjusted = t.adjusted + excluded.adjusted,
            reserved = t.reserved + excluded.reserved,
            released = t.released + excluded.released,
            sold = t.sold + excluded.sold,
            restocked = t.restocked + excluded.restocked,
            closing_on_hand = excluded.closing_on_hand,
            closing_reserved = excluded.closing_reserved",
    "insert into low_stock_alerts (event_id, sku, available, threshold, detected_at)
     select * from unnest($1::uuid[], $2::text[], $3::int8[], $4::int8[], $5::timestamptz[])
     on conflict (event_id) do nothing",
];

/// [`WRITES`] as one statement of data-modifying CTEs (each runs once, to completion,
/// whether or not anything reads it), parameters renumbered to follow one another: one
/// round trip for a whole batch, the only one that holds a transaction id.
static WRITE: LazyLock<String> = LazyLock::new(|| {
    let mut sql = String::from("with ");
    let mut offset = 0;
    for (i, part) in WRITES.iter().enumerate() {
        if i > 0 {
            sql.push_str(",\n");
        }
        sql.push_str(&format!("w{i} as ("));
        offset = renumber(part, offset, &mut sql);
        sql.push(')');
    }
    sql.push_str("\nselect 1");
    sql
});

/// Appends `sql` to `out` with each `$n` as `$(n + offset)`; answers the highest number
/// written.
fn renumber(sql: &str, offset: usize, out: &mut String) -> usize {
    let mut highest = offset;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = rest[..digits].parse().expect("a numbered parameter");
        highest = highest.max(n + offset);
        out.push_str(&(n + offset).to_string());
        rest = &rest[digits..];
    }
    out.push_str(rest);
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_follow_one_another_across_the_writes() {
        let mut numbers: Vec<usize> = WRITE
            .split('$')
            .skip(1)
            .map(|s| {
                s[..s.bytes().take_while(u8::is_ascii_digit).count()]
                    .parse()
                    .unwrap()
            })
            .collect();
        numbers.sort();
        numbers.dedup();
        let expected: Vec<usize> = (1..=numbers.len()).collect();
        assert_eq!(numbers, expected);
        assert_eq!(WRITE.matches(" as (insert into ").count(), WRITES.len());
    }
}
