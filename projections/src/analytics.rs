//! The `analytics` read model: daily sales (overall, per category, per product), the
//! cart → order → payment funnel, cancellations by reason, customers' RFM inputs, stock
//! movements and low-stock alerts. The tables, the views over them and the rules
//! (revenue at payment, refunds on their own day) are described in
//! `schemas/read-models/analytics.sql` and `schemas/read-models.md`.
//!
//! Each event costs one statement: the data-modifying CTEs of one statement update the
//! projection's own memory of the order (or cart, or SKU) and every aggregate it feeds, so a
//! rebuild pays one round trip per event. Nothing here reads the clock or another read
//! model: a rebuild replays this model alone and must land on the same rows.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use commands::store::RecordedEvent;
use domain::cart::CartEvent;
use domain::catalog::{CategoryEvent, ProductEvent};
use domain::inventory::InventoryEvent;
use domain::order::OrderEvent;
use domain::DomainEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::{event_time, Projection, ProjectionError};

pub struct AnalyticsProjection;

/// The day an instant belongs to in every table: its UTC date.
fn day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// The id part of `<category>-<id>`.
fn stream_key(event: &RecordedEvent) -> &str {
    event.stream_id.split_once('-').map_or("", |(_, key)| key)
}

fn stream_uuid(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(stream_key(event))
        .map_err(|e| ProjectionError::event(event, format!("stream id: {e}")))
}

fn snake_case<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

const ORDER_PLACED: &str = "
    with o as (
        insert into orders (order_id, user_id, currency, total, units, placed_at, placed_day)
        values ($1, $2, $3, $4, $5, $6, $7)
        on conflict (order_id) do nothing
        returning order_id
    ),
    l as (
        insert into order_lines (order_id, line, product_id, sku, category_id, quantity, revenue)
        select o.order_id, t.line, t.product_id, t.sku,
               coalesce(p.category_id, '00000000-0000-0000-0000-000000000000'),
               t.quantity, t.revenue
          from o
         cross join unnest($8::int[], $9::uuid[], $10::text[], $11::bigint[], $12::bigint[])
               as t (line, product_id, sku, quantity, revenue)
          left join products p on p.product_id = t.product_id
    ),
    d as (
        insert into daily_sales (day, currency, orders_placed, placed_value)
        select $7, $3, 1, $4 from o
        on conflict (day, currency) do update
           set orders_placed = daily_sales.orders_placed + 1,
               placed_value = daily_sales.placed_value + excluded.placed_value
    )
    insert into funnel_daily (day, orders_placed)
    select $7, 1 from o
    on conflict (day) do update set orders_placed = funnel_daily.orders_placed + 1";

const ORDER_PAID: &str = "
    with o as (
        update orders set paid_amount = $2, paid_at = $3
         where order_id = $1 and paid_at is null and cancelled_at is null
        returning order_id, user_id, currency, units, placed_day
    ),
    d as (
        insert into daily_sales (day, currency, orders_paid, units_sold, gross_revenue)
        select $4, currency, 1, units, $2 from o
        on conflict (day, currency) do update
           set orders_paid = daily_sales.orders_paid + 1,
               units_sold = daily_sales.units_sold + excluded.units_sold,
               gross_revenue = daily_sales.gross_revenue + excluded.gross_revenue
    ),
    c as (
        insert into daily_category_sales (day, category_id, currency, orders_paid, units_sold, revenue)
        select $4, l.category_id, o.currency, 1, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from o join order_lines l on l.order_id = o.order_id
         group by l.category_id, o.currency
        on conflict (day, category_id, currency) do update
           set orders_paid = daily_category_sales.orders_paid + 1,
               units_sold = daily_category_sales.units_sold + excluded.units_sold,
               revenue = daily_category_sales.revenue + excluded.revenue
    ),
    p as (
        insert into daily_product_sales (day, product_id, currency, orders_paid, units_sold, revenue)
        select $4, l.product_id, o.currency, 1, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from o join order_lines l on l.order_id = o.order_id
         group by l.product_id, o.currency
        on conflict (day, product_id, currency) do update
           set orders_paid = daily_product_sales.orders_paid + 1,
               units_sold = daily_product_sales.units_sold + excluded.units_sold,
               revenue = daily_product_sales.revenue + excluded.revenue
    ),
    f as (
        update funnel_daily f set orders_paid = f.orders_paid + 1
          from o where f.day = o.placed_day
    )
    insert into customers (user_id, currency, orders, monetary, first_order_at, last_order_at)
    select user_id, currency, 1, $2, $3, $3 from o
    on conflict (user_id, currency) do update
       set orders = customers.orders + 1,
           monetary = customers.monetary + excluded.monetary,
           first_order_at = least(customers.first_order_at, excluded.first_order_at),
           last_order_at = greatest(customers.last_order_at, excluded.last_order_at)";

const ORDER_PAYMENT_FAILED: &str = "
    insert into daily_sales (day, currency, payment_failures)
    select $2, currency, 1 from orders where order_id = $1
    on conflict (day, currency) do update
       set payment_failures = daily_sales.payment_failures + 1";

/// A refund gives back `$2`; a full one (`$3`) also gives back every line, for the
/// category and product figures.
const ORDER_REFUNDED: &str = "
    with o as (
        update orders set refunded = refunded + $2 where order_id = $1
        returning order_id, user_id, currency
    ),
    d as (
        insert into daily_sales (day, currency, refunds, refunded_amount)
        select $4, currency, 1, $2 from o
        on conflict (day, currency) do update
           set refunds = daily_sales.refunds + 1,
               refunded_amount = daily_sales.refunded_amount + excluded.refunded_amount
    ),
    c as (
        insert into daily_category_sales (day, category_id, currency, refunded_units, refunded_revenue)
        select $4, l.category_id, o.currency, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from o join order_lines l on l.order_id = o.order_id
         where $3
         group by l.category_id, o.currency
        on conflict (day, category_id, currency) do update
           set refunded_units = daily_category_sales.refunded_units + excluded.refunded_units,
               refunded_revenue = daily_category_sales.refunded_revenue + excluded.refunded_revenue
    ),
    p as (
        insert into daily_product_sales (day, product_id, currency, refunded_units, refunded_revenue)
        select $4, l.product_id, o.currency, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from o join order_lines l on l.order_id = o.order_id
         where $3
         group by l.product_id, o.currency
        on conflict (day, product_id, currency) do update
           set refunded_units = daily_product_sales.refunded_units + excluded.refunded_units,
               refunded_revenue = daily_product_sales.refunded_revenue + excluded.refunded_revenue
    )
    update customers c set monetary = c.monetary - $2
      from o where c.user_id = o.user_id and c.currency = o.currency";

/// `prev` reads the order as it was before this statement (every part of one statement
/// sees the same snapshot), which is what the refund of a paid order is computed from.
const ORDER_CANCELLED: &str = "
    with prev as (
        select order_id, user_id, currency, total, placed_day,
               paid_at is not null as paid, paid_amount - refunded as refund
          from orders where order_id = $1 and cancelled_at is null
    ),
    o as (
        update orders set cancelled_at = $3, cancellation_reason = $2, refunded = paid_amount
         where order_id = $1 and cancelled_at is null
    ),
    k as (
        insert into cancellations (day, reason, currency, orders, value, paid_orders)
        select $4, $2, currency, 1, total, paid::int from prev
        on conflict (day, reason, currency) do update
           set orders = cancellations.orders + 1,
               value = cancellations.value + excluded.value,
               paid_orders = cancellations.paid_orders + excluded.paid_orders
    ),
    d as (
        insert into daily_sales (day, currency, orders_cancelled, refunds, refunded_amount)
        select $4, currency, 1, paid::int, case when paid then refund else 0 end from prev
        on conflict (day, currency) do update
           set orders_cancelled = daily_sales.orders_cancelled + 1,
               refunds = daily_sales.refunds + excluded.refunds,
               refunded_amount = daily_sales.refunded_amount + excluded.refunded_amount
    ),
    c as (
        insert into daily_category_sales (day, category_id, currency, refunded_units, refunded_revenue)
        select $4, l.category_id, prev.currency, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from prev join order_lines l on l.order_id = prev.order_id
         where prev.paid
         group by l.category_id, prev.currency
        on conflict (day, category_id, currency) do update
           set refunded_units = daily_category_sales.refunded_units + excluded.refunded_units,
               refunded_revenue = daily_category_sales.refunded_revenue + excluded.refunded_revenue
    ),
    p as (
        insert into daily_product_sales (day, product_id, currency, refunded_units, refunded_revenue)
        select $4, l.product_id, prev.currency, sum(l.quantity)::bigint, sum(l.revenue)::bigint
          from prev join order_lines l on l.order_id = prev.order_id
         where prev.paid
         group by l.product_id, prev.currency
        on conflict (day, product_id, currency) do update
           set refunded_units = daily_product_sales.refunded_units + excluded.refunded_units,
               refunded_revenue = daily_product_sales.refunded_revenue + excluded.refunded_revenue
    ),
    f as (
        update funnel_daily f set orders_cancelled = f.orders_cancelled + 1
          from prev where f.day = prev.placed_day
    )
    update customers c set orders = c.orders - 1, monetary = c.monetary - prev.refund
      from prev where prev.paid and c.user_id = prev.user_id and c.currency = prev.currency";

/// A cart opens with its first item since it was last closed: only then does the
/// conflict clause update (and return) the row.
const CART_FILLED: &str = "
    with c as (
        insert into carts (cart_id, opened_day) values ($1, $2)
        on conflict (cart_id) do update set opened_day = excluded.opened_day
         where carts.opened_day is null
        returning opened_day
    )
    insert into funnel_daily (day, carts_started)
    select opened_day, 1 from c
    on conflict (day) do update set carts_started = funnel_daily.carts_started + 1";

const CART_CHECKED_OUT: &str = "
    with c as (select opened_day from carts where cart_id = $1 and opened_day is not null),
    u as (update carts set opened_day = null where cart_id = $1)
    update funnel_daily f set carts_checked_out = f.carts_checked_out + 1
      from c where f.day = c.opened_day";

const CART_EXPIRED: &str = "
    with c as (select opened_day from carts where cart_id = $1 and opened_day is not null),
    u as (update carts set opened_day = null where cart_id = $1)
    update funnel_daily f set carts_expired = f.carts_expired + 1
      from c where f.day = c.opened_day";

/// One movement of a SKU: `$2..$9` are deltas (on hand, reserved, received, adjusted,
/// committed, restocked, reserved today, released today).
const STOCK_MOVED: &str = "
    with s as (
        insert into stock (sku, on_hand, reserved, received, adjusted, sold, restocked, updated_at)
        values ($1, $2, $3, $4, $5, $6 - $7, $7, $11)
        on conflict (sku) do update
           set on_hand = stock.on_hand + excluded.on_hand,
               reserved = stock.reserved + excluded.reserved,
               received = stock.received + excluded.received,
               adjusted = stock.adjusted + excluded.adjusted,
               sold = stock.sold + excluded.sold,
               restocked = stock.restocked + excluded.restocked,
               updated_at = excluded.updated_at
        returning on_hand, reserved
    )
    insert into stock_daily (sku, day, received, adjusted, reserved, released, sold, restocked,
                             closing_on_hand, closing_reserved)
    select $1, $10, $4, $5, $8, $9, $6, $7, on_hand, reserved from s
    on conflict (sku, day) do update
       set received = stock_daily.received + excluded.received,
           adjusted = stock_daily.adjusted + excluded.adjusted,
           reserved = stock_daily.reserved + excluded.reserved,
           released = stock_daily.released + excluded.released,
           sold = stock_daily.sold + excluded.sold,
           restocked = stock_daily.restocked + excluded.restocked,
           closing_on_hand = excluded.closing_on_hand,
           closing_reserved = excluded.closing_reserved";

/// How one inventory event moves a SKU's counters.
#[derive(Default)]
struct Movement {
    on_hand: i64,
    reserved: i64,
    received: i64,
    adjusted: i64,
    committed: i64,
    restocked: i64,
    reserved_today: i64,
    released_today: i64,
}

impl AnalyticsProjection {
    async fn order(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let order_id = stream_uuid(event)?;
        let e = OrderEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
            .map_err(|e| ProjectionError::event(event, e))?;
        match e {
            OrderEvent::OrderPlaced {
                user_id,
                lines,
                totals,
                placed_at,
                ..
            } => {
                let units: i64 = lines.iter().map(|l| i64::from(l.quantity)).sum();
                let numbers: Vec<i32> = (0..lines.len() as i32).collect();
                let products: Vec<Uuid> = lines.iter().map(|l| l.product_id.as_uuid()).collect();
                let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
                let quantities: Vec<i64> = lines.iter().map(|l| i64::from(l.quantity)).collect();
                let revenues: Vec<i64> = lines
                    .iter()
                    .map(|l| l.unit_price.amount * i64::from(l.quantity))
                    .collect();
                sqlx::query(ORDER_PLACED)
                    .bind(order_id)
                    .bind(user_id.as_uuid())
                    .bind(totals.total.currency.as_str())
                    .bind(totals.total.amount)
                    .bind(units)
                    .bind(placed_at)
                    .bind(day(placed_at))
                    .bind(&numbers)
                    .bind(&products)
                    .bind(&skus)
                    .bind(&quantities)
                    .bind(&revenues)
                    .execute(&mut *tx)
                    .await?;
            }
            OrderEvent::OrderPaid { amount, at, .. } => {
                sqlx::query(ORDER_PAID)
                    .bind(order_id)
                    .bind(amount.amount)
                    .bind(at)
                    .bind(day(at))
                    .execute(&mut *tx)
                    .await?;
            }
            OrderEvent::OrderPaymentFailed { at, .. } => {
                sqlx::query(ORDER_PAYMENT_FAILED)
                    .bind(order_id)
                    .bind(day(at))
                    .execute(&mut *tx)
                    .await?;
            }
            OrderEvent::OrderRefunded {
                amount, full, at, ..
            } => {
                sqlx::query(ORDER_REFUNDED)
                    .bind(order_id)
                    .bind(amount.amount)
                    .bind(full)
                    .bind(day(at))
                    .execute(&mut *tx)
                    .await?;
            }
            OrderEvent::OrderCancelled { reason, at, .. } => {
                sqlx::query(ORDER_CANCELLED)
                    .bind(order_id)
                    .bind(snake_case(&reason))
                    .bind(at)
                    .bind(day(at))
                    .execute(&mut *tx)
                    .await?;
            }
            OrderEvent::OrderStockReserved { .. }
            | OrderEvent::OrderShipped { .. }
            | OrderEvent::OrderDelivered { .. } => {}
        }
        Ok(())
    }

    async fn cart(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let cart_id = stream_key(event);
        let e = CartEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
            .map_err(|e| ProjectionError::event(event, e))?;
        let query = match e {
            CartEvent::CartItemAdded { at, .. } => {
                sqlx::query(CART_FILLED).bind(cart_id).bind(day(at))
            }
            CartEvent::GuestCartMerged { .. } => sqlx::query(CART_FILLED)
                .bind(cart_id)
                .bind(day(event_time(event))),
            CartEvent::CartCheckedOut { .. } => sqlx::query(CART_CHECKED_OUT).bind(cart_id),
            CartEvent::CartExpired { .. } => sqlx::query(CART_EXPIRED).bind(cart_id),
            _ => return Ok(()),
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }

    async fn inventory(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let e =
            InventoryEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
                .map_err(|e| ProjectionError::event(event, e))?;
        let at = event_time(event);
        let (sku, m) = match e {
            InventoryEvent::StockReceived { sku, quantity, .. } => {
                let q = i64::from(quantity);
                let m = Movement {
                    on_hand: q,
                    received: q,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::StockAdjusted { sku, delta, .. } => {
                let m = Movement {
                    on_hand: delta,
                    adjusted: delta,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::StockReserved { sku, quantity, .. } => {
                let q = i64::from(quantity);
                let m = Movement {
                    reserved: q,
                    reserved_today: q,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::ReservationReleased { sku, quantity, .. } => {
                let q = i64::from(quantity);
                let m = Movement {
                    reserved: -q,
                    released_today: q,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::ReservationCommitted { sku, quantity, .. } => {
                let q = i64::from(quantity);
                let m = Movement {
                    on_hand: -q,
                    reserved: -q,
                    committed: q,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::StockRestocked { sku, quantity, .. } => {
                let q = i64::from(quantity);
                let m = Movement {
                    on_hand: q,
                    restocked: q,
                    ..Movement::default()
                };
                (sku, m)
            }
            InventoryEvent::LowStockThresholdSet { sku, threshold } => {
                sqlx::query(
                    "insert into stock (sku, low_stock_threshold, updated_at) values ($1, $2, $3)
                     on conflict (sku) do update
                        set low_stock_threshold = excluded.low_stock_threshold,
                            updated_at = excluded.updated_at",
                )
                .bind(sku.as_str())
                .bind(i64::from(threshold))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                return Ok(());
            }
            InventoryEvent::LowStockDetected {
                sku,
                available,
                threshold,
            } => {
                sqlx::query(
                    "with a as (
                         insert into low_stock_alerts (event_id, sku, available, threshold, detected_at)
                         values ($1, $2, $3, $4, $5) on conflict (event_id) do nothing
                     )
                     insert into stock (sku, low_stock_threshold, last_alert_at, last_alert_available,
                                        updated_at)
                     values ($2, $4, $5, $3, $5)
                     on conflict (sku) do update
                        set low_stock_threshold = excluded.low_stock_threshold,
                            last_alert_at = excluded.last_alert_at,
                            last_alert_available = excluded.last_alert_available,
                            updated_at = excluded.updated_at",
                )
                .bind(event.id)
                .bind(sku.as_str())
                .bind(available)
                .bind(i64::from(threshold))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                return Ok(());
            }
        };
        sqlx::query(STOCK_MOVED)
            .bind(sku.as_str())
            .bind(m.on_hand)
            .bind(m.reserved)
            .bind(m.received)
            .bind(m.adjusted)
            .bind(m.committed)
            .bind(m.restocked)
            .bind(m.reserved_today)
            .bind(m.released_today)
            .bind(day(at))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn product(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let product_id = stream_uuid(event)?;
        let e =
            ProductEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
                .map_err(|e| ProjectionError::event(event, e))?;
        match e {
            ProductEvent::ProductCreated {
                sku,
                name,
                category_id,
                ..
            } => {
                sqlx::query(
                    "with p as (
                         insert into products (product_id, sku, name, category_id)
                         values ($1, $2, $3, $4)
                         on conflict (product_id) do update
                            set sku = excluded.sku, name = excluded.name,
                                category_id = excluded.category_id
                     )
                     insert into product_skus (sku, product_id) values ($2, $1)
                     on conflict (sku) do update set product_id = excluded.product_id",
                )
                .bind(product_id)
                .bind(sku.as_str())
                .bind(&name)
                .bind(category_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            }
            // Only the name and category matter here; an update of neither costs nothing.
            ProductEvent::ProductUpdated {
                name, category_id, ..
            } if name.is_some() || category_id.is_some() => {
                sqlx::query(
                    "update products set name = coalesce($2, name),
                         category_id = coalesce($3, category_id)
                      where product_id = $1",
                )
                .bind(product_id)
                .bind(&name)
                .bind(category_id.map(|c| c.as_uuid()))
                .execute(&mut *tx)
                .await?;
            }
            ProductEvent::VariantAdded { variant } => {
                sqlx::query(
                    "insert into product_skus (sku, product_id) values ($1, $2)
                     on conflict (sku) do update set product_id = excluded.product_id",
                )
                .bind(variant.sku.as_str())
                .bind(product_id)
                .execute(&mut *tx)
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn category(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let category_id = stream_uuid(event)?;
        let e =
            CategoryEvent::from_data(&event.event_type, event.schema_version, event.data.clone())
                .map_err(|e| ProjectionError::event(event, e))?;
        let query = match e {
            CategoryEvent::CategoryCreated {
                name, parent_id, ..
            } => sqlx::query(
                "insert into categories (category_id, name, parent_id) values ($1, $2, $3)
                 on conflict (category_id) do update
                    set name = excluded.name, parent_id = excluded.parent_id",
            )
            .bind(category_id)
            .bind(name)
            .bind(parent_id.map(|p| p.as_uuid())),
            CategoryEvent::CategoryRenamed { name } => {
                sqlx::query("update categories set name = $2 where category_id = $1")
                    .bind(category_id)
                    .bind(name)
            }
            CategoryEvent::CategoryMoved { parent_id } => {
                sqlx::query("update categories set parent_id = $2 where category_id = $1")
                    .bind(category_id)
                    .bind(parent_id.map(|p| p.as_uuid()))
            }
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }
}

#[async_trait]
impl Projection for AnalyticsProjection {
    fn name(&self) -> &'static str {
        "analytics"
    }

    fn schema(&self) -> &'static str {
        "analytics"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/analytics.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        // Most of `$all` is none of this model's business: decide by name before decoding.
        match (event.category(), event.event_type.as_str()) {
            (
                "order",
                "OrderPlaced" | "OrderPaid" | "OrderPaymentFailed" | "OrderRefunded"
                | "OrderCancelled",
            ) => self.order(tx, event).await,
            ("cart", "CartItemAdded" | "GuestCartMerged" | "CartCheckedOut" | "CartExpired") => {
                self.cart(tx, event).await
            }
            ("inventory", _) => self.inventory(tx, event).await,
            ("product", "ProductCreated" | "ProductUpdated" | "VariantAdded") => {
                self.product(tx, event).await
            }
            ("category", _) => self.category(tx, event).await,
            _ => Ok(()),
        }
    }
}
