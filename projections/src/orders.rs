//! The `orders` read model: `orders`, `order_items`, `payments`, `order_history`
//! (the seed's tables, money as minor units plus currency).
//!
//! A batch is folded in memory first: orders placed in it are inserted already in their
//! latest state, changes to older orders are merged into one patch per order, and every
//! table is written with one statement over arrays. That is what lets a rebuild replay
//! tens of thousands of events a second; the rows are the same as one event at a time.
//! Payment events fold into `payments` rows after the orders are written (`payments`).
//!
//! Sums saturate at the bounds of `bigint` instead of failing: the rules keep every total
//! far below them (`domain::money::MAX_TOTAL`), but an event written before the bounds
//! existed is still history, and a read model that refused it would park it for good.

mod payments;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::privacy::erased_subject;
use commands::store::RecordedEvent;
use domain::order::{ChangedBy, OrderEvent};
use domain::payment::PaymentEvent;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{column, decode, wire_name, Projection, ProjectionError};

pub struct OrdersProjection;

/// The mutable columns of an order.
#[derive(Default, Clone)]
struct Change {
    status: Option<String>,
    payment_status: Option<String>,
    /// `Some` when the batch set the tracking number (to a value or to none).
    tracking_number: Option<Option<String>>,
    cancellation_reason: Option<String>,
    /// Set `refunded` to the order's total (a paid order cancelled) before adding `refunded`.
    refund_all: bool,
    refunded: i64,
    updated_at: Option<DateTime<Utc>>,
}

struct NewOrder {
    user_id: Uuid,
    currency: String,
    subtotal: i64,
    tax: i64,
    shipping: i64,
    discount: i64,
    total: i64,
    shipping_address: Value,
    billing_address: Option<Value>,
    payment_method: String,
    shipping_method: Option<String>,
    notes: Option<String>,
    created_at: DateTime<Utc>,
    change: Change,
}

/// What a batch writes.
#[derive(Default)]
struct Batch {
    /// Orders placed in this batch, in placement order.
    placed: Vec<Uuid>,
    new: HashMap<Uuid, NewOrder>,
    /// Changes to orders placed before this batch, in first-touched order.
    patched: Vec<Uuid>,
    patches: HashMap<Uuid, Change>,
    items: Vec<ItemRow>,
    /// Units of lines cancelled before they shipped: order, SKU, quantity.
    cancelled: Vec<(Uuid, String, i32)>,
    history: Vec<HistoryRow>,
    /// Payment events with their order, in log order; written after the orders.
    payments: Vec<(Uuid, PaymentEvent)>,
    /// Customers erased in this batch: their orders keep their numbers, not their
    /// addresses or notes.
    erased: Vec<Uuid>,
}

/// `order_items`: order, line, product, sku, quantity, unit price, line subtotal, and the
/// line's variant, discount and tax ([`LineTax`]).
type ItemRow = (Uuid, i32, Uuid, String, i32, i64, i64, LineTax);

/// `order_items`' columns of ADR 0006: variant, discount, tax amount, rate, inclusive,
/// rounding, taxable.
#[derive(Clone)]
struct LineTax {
    variant_id: Option<Uuid>,
    discount: i64,
    tax: i64,
    rate_ppm: i32,
    inclusive: bool,
    rounding: String,
    taxable: i64,
    /// ADR 0008: what the price rules took off, and which (id, version, amount).
    price_off: i64,
    price_rules: serde_json::Value,
    /// Issue 23: the store that sold the line (`None`: the marketplace itself).
    vendor_id: Option<Uuid>,
}
/// `order_history`: order, event, status, notes, updated by, role, at.
type HistoryRow = (
    Uuid,
    Uuid,
    String,
    Option<String>,
    Option<Uuid>,
    String,
    DateTime<Utc>,
);

impl Batch {
    fn change(&mut self, order_id: Uuid) -> &mut Change {
        if let Some(new) = self.new.get_mut(&order_id) {
            return &mut new.change;
        }
        if !self.patches.contains_key(&order_id) {
            self.patched.push(order_id);
        }
        self.patches.entry(order_id).or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn history(
        &mut self,
        event: &RecordedEvent,
        order_id: Uuid,
        status: &str,
        notes: Option<String>,
        by: Option<&ChangedBy>,
        at: DateTime<Utc>,
    ) {
        let (user, role) = match by {
            Some(b) => (b.user_id.map(|u| u.as_uuid()), b.role.clone()),
            None => (
                event
                    .metadata
                    .get("actor_id")
                    .and_then(|v| v.as_str())
                    .and_then(|s| Uuid::parse_str(s).ok()),
                event
                    .metadata
                    .get("actor_role")
                    .and_then(|v| v.as_str())
                    .unwrap_or("system")
                    .to_owned(),
            ),
        };
        self.history
            .push((order_id, event.id, status.to_owned(), notes, user, role, at));
    }

    fn add(&mut self, event: &RecordedEvent) -> Result<(), ProjectionError> {
        if event.category() == "user" {
            if let Some(user_id) = erased_subject(event) {
                self.erased.push(user_id);
            }
            return Ok(());
        }
        if event.category() == "payment" {
            if let Some(order_id) = event.stream_uuid() {
                let e = decode::<PaymentEvent>(event)?;
                self.payments.push((order_id, e));
            }
            return Ok(());
        }
        if event.category() != "order" {
            return Ok(());
        }
        let Some(order_id) = event.stream_uuid() else {
            return Ok(());
        };
        let e = decode::<OrderEvent>(event)?;
        let system = ChangedBy::system();
        match e {
            OrderEvent::OrderPlaced {
                user_id,
                lines,
                totals,
                shipping_address,
                billing_address,
                payment_method,
                notes,
                placed_at,
                shipping_method,
                ..
            } => {
                for (i, l) in lines.iter().enumerate() {
                    self.items.push((
                        order_id,
                        i as i32,
                        l.product_id.as_uuid(),
                        l.sku.as_str().to_owned(),
                        l.quantity as i32,
                        l.unit_price.amount,
                        l.line_total.amount,
                        LineTax {
                            variant_id: l.variant_id.map(|v| v.as_uuid()),
                            discount: l.discount.amount,
                            tax: l.tax.amount.amount,
                            rate_ppm: i32::try_from(l.tax.rate_ppm).unwrap_or(i32::MAX),
                            inclusive: l.tax.inclusive,
                            rounding: l.tax.rounding.as_str().to_owned(),
                            taxable: l.tax.taxable.amount,
                            price_off: l.price_off(),
                            price_rules: serde_json::to_value(&l.price_rules).unwrap_or_default(),
                            vendor_id: l.vendor_id.map(|v| v.as_uuid()),
                        },
                    ));
                }
                self.history(event, order_id, "pending", notes.clone(), None, placed_at);
                self.placed.push(order_id);
                self.new.insert(
                    order_id,
                    NewOrder {
                        user_id: user_id.as_uuid(),
                        currency: totals.total.currency.as_str().to_owned(),
                        subtotal: totals.subtotal.amount,
                        tax: totals.tax.amount,
                        shipping: totals.shipping.amount,
                        discount: totals.discount.amount,
                        total: totals.total.amount,
                        shipping_address: serde_json::to_value(&shipping_address)
                            .unwrap_or_default(),
                        billing_address: billing_address
                            .map(|a| serde_json::to_value(a).unwrap_or_default()),
                        payment_method,
                        shipping_method,
                        notes,
                        created_at: placed_at,
                        change: Change {
                            status: Some("pending".into()),
                            payment_status: Some("pending".into()),
                            updated_at: Some(placed_at),
                            ..Change::default()
                        },
                    },
                );
            }
            OrderEvent::OrderStockReserved { at } => {
                let c = self.change(order_id);
                c.status = Some("awaiting_payment".into());
                c.updated_at = Some(at);
                self.history(event, order_id, "awaiting_payment", None, Some(&system), at);
            }
            OrderEvent::OrderPaymentFailed { code, at, .. } => {
                let c = self.change(order_id);
                c.payment_status = Some("failed".into());
                c.updated_at = Some(at);
                self.history(
                    event,
                    order_id,
                    "awaiting_payment",
                    Some(format!("payment failed: {code}")),
                    Some(&system),
                    at,
                );
            }
            OrderEvent::OrderPaid { at, .. } => {
                let c = self.change(order_id);
                c.status = Some("paid".into());
                c.payment_status = Some("captured".into());
                c.updated_at = Some(at);
                self.history(event, order_id, "paid", None, Some(&system), at);
            }
            OrderEvent::OrderShipped {
                tracking_number,
                note,
                by,
                at,
            } => {
                let c = self.change(order_id);
                c.status = Some("shipped".into());
                c.tracking_number = Some(tracking_number);
                c.updated_at = Some(at);
                self.history(event, order_id, "shipped", note, Some(&by), at);
            }
            OrderEvent::OrderDelivered { note, by, at } => {
                let c = self.change(order_id);
                c.status = Some("delivered".into());
                c.updated_at = Some(at);
                self.history(event, order_id, "delivered", note, Some(&by), at);
            }
            // Shipments (issue 22): one leaving moves the order to `partially_shipped`
            // (and `OrderShipped` follows the last); creating or delivering one changes
            // nothing the order's row shows.
            OrderEvent::OrderLinesShipped {
                shipment_id,
                tracking_number,
                by,
                at,
                ..
            } => {
                let c = self.change(order_id);
                c.status = Some("partially_shipped".into());
                if tracking_number.is_some() {
                    c.tracking_number = Some(tracking_number);
                }
                c.updated_at = Some(at);
                self.history(
                    event,
                    order_id,
                    "partially_shipped",
                    Some(format!("shipment {shipment_id} left")),
                    Some(&by),
                    at,
                );
            }
            OrderEvent::OrderShipmentCreated { .. } | OrderEvent::OrderShipmentDelivered { .. } => {
            }
            OrderEvent::OrderCancelled {
                reason,
                note,
                by,
                was_paid,
                at,
            } => {
                let c = self.change(order_id);
                c.status = Some("cancelled".into());
                c.cancellation_reason = Some(wire_name(&reason));
                if was_paid {
                    c.payment_status = Some("refunded".into());
                    c.refund_all = true;
                    c.refunded = 0;
                }
                c.updated_at = Some(at);
                self.history(event, order_id, "cancelled", note, Some(&by), at);
            }
            OrderEvent::OrderLinesCancelled {
                lines, refund, at, ..
            } => {
                for l in &lines {
                    let quantity = i32::try_from(l.quantity).unwrap_or(i32::MAX);
                    self.cancelled
                        .push((order_id, l.sku.as_str().to_owned(), quantity));
                }
                let c = self.change(order_id);
                c.payment_status = Some("partially_refunded".into());
                c.refunded = c.refunded.saturating_add(refund.amount);
                c.updated_at = Some(at);
            }
            OrderEvent::OrderRefunded {
                amount,
                reason,
                full,
                by,
                at,
            } => {
                let status = if full {
                    "refunded"
                } else {
                    "partially_refunded"
                };
                let c = self.change(order_id);
                c.status = Some(status.into());
                c.payment_status = Some(status.into());
                c.refunded = c.refunded.saturating_add(amount.amount);
                c.updated_at = Some(at);
                self.history(event, order_id, status, Some(reason), Some(&by), at);
            }
        }
        Ok(())
    }

    /// Writes the batch with one statement (one round trip): the orders it placed, their
    /// items, the changes to orders placed before it and the history, each a
    /// data-modifying `WITH` over arrays (empty ones write nothing). They cannot see each
    /// other's rows, and need not: the changes are to other orders than the placed ones,
    /// and the foreign keys of items and history are checked at the end of the statement.
    /// Payments come after, as they read their rows first.
    async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let new: Vec<(&Uuid, &NewOrder)> =
            self.placed.iter().map(|id| (id, &self.new[id])).collect();
        let col = |f: fn(&NewOrder) -> i64| column(&new, |(_, o)| f(o));
        let it = &self.items;
        let p: Vec<(&Uuid, &Change)> = self
            .patched
            .iter()
            .map(|id| (id, &self.patches[id]))
            .collect();
        let h = &self.history;
        sqlx::query(
            "with placed as (
                 insert into orders (order_id, user_id, status, payment_status, currency,
                     subtotal, tax, shipping, discount, total, refunded, shipping_address,
                     billing_address, payment_method, notes, tracking_number,
                     cancellation_reason, created_at, updated_at, shipping_method)
                 select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[],
                     $5::text[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[],
                     $11::int8[], $12::jsonb[], $13::jsonb[], $14::text[], $15::text[],
                     $16::text[], $17::text[], $18::timestamptz[], $19::timestamptz[],
                     $52::text[])
                 on conflict (order_id) do nothing),
             items as (
                 insert into order_items (order_id, line, product_id, sku, quantity, price,
                     subtotal, variant_id, discount, tax, tax_rate_ppm, tax_inclusive,
                     tax_rounding, taxable, price_off, price_rules, vendor_id)
                 select * from unnest($20::uuid[], $21::int4[], $22::uuid[], $23::text[],
                     $24::int4[], $25::int8[], $26::int8[], $43::uuid[], $44::int8[],
                     $45::int8[], $46::int4[], $47::bool[], $48::text[], $49::int8[],
                     $50::int8[], $51::jsonb[], $53::uuid[])
                 on conflict do nothing),
             patched as (
                 update orders o set
                     status = coalesce(p.status, o.status),
                     payment_status = coalesce(p.payment_status, o.payment_status),
                     tracking_number = case when p.tracking_set then p.tracking_number
                                            else o.tracking_number end,
                     cancellation_reason = coalesce(p.reason, o.cancellation_reason),
                     refunded = least(greatest(
                                    (case when p.refund_all then o.total else o.refunded end)::numeric
                                        + p.refunded,
                                    -9223372036854775808), 9223372036854775807)::bigint,
                     updated_at = coalesce(p.updated_at, o.updated_at)
                   from unnest($27::uuid[], $28::text[], $29::text[], $30::bool[],
                               $31::text[], $32::text[], $33::bool[], $34::int8[],
                               $35::timestamptz[])
                        as p(order_id, status, payment_status, tracking_set, tracking_number,
                             reason, refund_all, refunded, updated_at)
                  where o.order_id = p.order_id)
             insert into order_history (order_id, event_id, status, notes, updated_by, role,
                 created_at)
             select * from unnest($36::uuid[], $37::uuid[], $38::text[], $39::text[],
                 $40::uuid[], $41::text[], $42::timestamptz[])
             on conflict (event_id) do nothing",
        )
        // placed
        .bind(column(&new, |(id, _)| **id))
        .bind(column(&new, |(_, o)| o.user_id))
        .bind(column(&new, |(_, o)| {
            o.change.status.clone().unwrap_or_default()
        }))
        .bind(column(&new, |(_, o)| {
            o.change.payment_status.clone().unwrap_or_default()
        }))
        .bind(column(&new, |(_, o)| o.currency.clone()))
        .bind(col(|o| o.subtotal))
        .bind(col(|o| o.tax))
        .bind(col(|o| o.shipping))
        .bind(col(|o| o.discount))
        .bind(col(|o| o.total))
        .bind(col(|o| {
            if o.change.refund_all {
                o.total.saturating_add(o.change.refunded)
            } else {
                o.change.refunded
            }
        }))
        .bind(column(&new, |(_, o)| o.shipping_address.clone()))
        .bind(column(&new, |(_, o)| o.billing_address.clone()))
        .bind(column(&new, |(_, o)| o.payment_method.clone()))
        .bind(column(&new, |(_, o)| o.notes.clone()))
        .bind(column(&new, |(_, o)| {
            o.change.tracking_number.clone().flatten()
        }))
        .bind(column(&new, |(_, o)| o.change.cancellation_reason.clone()))
        .bind(column(&new, |(_, o)| o.created_at))
        .bind(column(&new, |(_, o)| {
            o.change.updated_at.unwrap_or(o.created_at)
        }))
        // items
        .bind(column(it, |r| r.0))
        .bind(column(it, |r| r.1))
        .bind(column(it, |r| r.2))
        .bind(column(it, |r| r.3.clone()))
        .bind(column(it, |r| r.4))
        .bind(column(it, |r| r.5))
        .bind(column(it, |r| r.6))
        // patched
        .bind(column(&p, |(id, _)| **id))
        .bind(column(&p, |(_, c)| c.status.clone()))
        .bind(column(&p, |(_, c)| c.payment_status.clone()))
        .bind(column(&p, |(_, c)| c.tracking_number.is_some()))
        .bind(column(&p, |(_, c)| c.tracking_number.clone().flatten()))
        .bind(column(&p, |(_, c)| c.cancellation_reason.clone()))
        .bind(column(&p, |(_, c)| c.refund_all))
        .bind(column(&p, |(_, c)| c.refunded))
        .bind(column(&p, |(_, c)| c.updated_at))
        // history
        .bind(column(h, |r| r.0))
        .bind(column(h, |r| r.1))
        .bind(column(h, |r| r.2.clone()))
        .bind(column(h, |r| r.3.clone()))
        .bind(column(h, |r| r.4))
        .bind(column(h, |r| r.5.clone()))
        .bind(column(h, |r| r.6))
        // items, ADR 0006
        .bind(column(it, |r| r.7.variant_id))
        .bind(column(it, |r| r.7.discount))
        .bind(column(it, |r| r.7.tax))
        .bind(column(it, |r| r.7.rate_ppm))
        .bind(column(it, |r| r.7.inclusive))
        .bind(column(it, |r| r.7.rounding.clone()))
        .bind(column(it, |r| r.7.taxable))
        // items, ADR 0008
        .bind(column(it, |r| r.7.price_off))
        .bind(column(it, |r| r.7.price_rules.clone()))
        // placed, issue 22
        .bind(column(&new, |(_, o)| o.shipping_method.clone()))
        // items, issue 23
        .bind(column(it, |r| r.7.vendor_id))
        .execute(&mut *tx)
        .await?;
        if !self.cancelled.is_empty() {
            // After the insert above: a line placed and cancelled in one batch is there.
            let c = &self.cancelled;
            sqlx::query(
                "update order_items i set cancelled = i.cancelled + c.quantity
                   from (select order_id, sku, sum(quantity)::int4 as quantity
                           from unnest($1::uuid[], $2::text[], $3::int4[])
                                as c(order_id, sku, quantity)
                          group by order_id, sku) c
                  where i.order_id = c.order_id and i.sku = c.sku",
            )
            .bind(column(c, |r| r.0))
            .bind(column(c, |r| r.1.clone()))
            .bind(column(c, |r| r.2))
            .execute(&mut *tx)
            .await?;
        }
        if !self.payments.is_empty() {
            payments::write(tx, &self.payments).await?;
        }
        if !self.erased.is_empty() {
            // As a replay reads the orders once the key is gone: the declared
            // replacements of `OrderPlaced`'s personal fields.
            let erased = serde_json::to_value(domain::privacy::erased_address())
                .expect("an address serializes");
            sqlx::query(
                "update orders set shipping_address = $2, billing_address = null, notes = null
                  where user_id = any($1)",
            )
            .bind(&self.erased)
            .bind(erased)
            .execute(&mut *tx)
            .await?;
            // The placement's entry of the timeline carries the order's notes (the only
            // `pending` one); the staff's notes on later changes are not the customer's.
            sqlx::query(
                "update order_history h set notes = null
                   from orders o
                  where h.order_id = o.order_id and o.user_id = any($1)
                    and h.status = 'pending'",
            )
            .bind(&self.erased)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Projection for OrdersProjection {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn schema(&self) -> &'static str {
        "orders"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(event.category(), "order" | "payment") || erased_subject(event).is_some()
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/orders.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, &[event]).await
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut batch = Batch::default();
        for event in events {
            batch.add(event)?;
        }
        batch.write(tx).await?;
        Ok(())
    }
}
