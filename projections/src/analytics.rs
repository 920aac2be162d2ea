//! The `analytics` read model: daily sales (overall, per category, per product), the
//! cart → order → payment funnel, cancellations by reason, customers' RFM inputs, stock
//! movements and low-stock alerts. The tables, the views over them and the rules
//! (revenue at payment, refunds on their own day) are described in
//! `schemas/read-models/analytics.sql` and `schemas/read-models.md`.
//!
//! A batch is applied in three steps. The rows its events touch are read first (orders and
//! their lines, carts, stock, customers, products, categories: the projection's own memory
//! of other aggregates); then the events are folded over them in memory, in log order; then
//! every table is written with one statement over arrays: final rows for that memory, and
//! summed increments for the daily aggregates. The writes come last, so the transaction
//! holds a transaction id, which holds back every reader of `$all` until it ends, only for
//! those few statements.
//!
//! Nothing here reads the clock or another read model: a rebuild replays this model alone
//! and must land on the same rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use commands::store::RecordedEvent;
use domain::cart::CartEvent;
use domain::catalog::{CategoryEvent, ProductEvent};
use domain::inventory::InventoryEvent;
use domain::order::OrderEvent;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use crate::runtime::projection::{
    column, decode, event_time, wire_name, Projection, ProjectionError,
};

pub struct AnalyticsProjection;

type Day = NaiveDate;
type Time = DateTime<Utc>;

/// The day an instant belongs to in every table: its UTC date.
fn day(at: Time) -> Day {
    at.date_naive()
}

/// The id part of `<category>-<id>`.
fn stream_uuid(event: &RecordedEvent) -> Result<Uuid, ProjectionError> {
    event
        .stream_uuid()
        .ok_or_else(|| ProjectionError::event(event, "the stream id names no aggregate id"))
}

/// A line as an order placed it: product, sku, quantity, line revenue.
struct PlacedLine {
    product_id: Uuid,
    sku: String,
    quantity: i64,
    revenue: i64,
}

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

/// What an event means to this read model.
enum Fact {
    Placed {
        order_id: Uuid,
        user_id: Uuid,
        currency: String,
        total: i64,
        placed_at: Time,
        lines: Vec<PlacedLine>,
    },
    Paid {
        order_id: Uuid,
        amount: i64,
        at: Time,
    },
    PaymentFailed {
        order_id: Uuid,
        at: Time,
    },
    Refunded {
        order_id: Uuid,
        amount: i64,
        full: bool,
        at: Time,
    },
    Cancelled {
        order_id: Uuid,
        reason: String,
        at: Time,
    },
    /// A cart got an item: it opens on `day` unless it is open already.
    CartFilled {
        cart_id: String,
        day: Day,
    },
    CartClosed {
        cart_id: String,
        expired: bool,
    },
    StockMoved {
        sku: String,
        movement: Movement,
        at: Time,
    },
    ThresholdSet {
        sku: String,
        threshold: i64,
        at: Time,
    },
    LowStock {
        event_id: Uuid,
        sku: String,
        available: i64,
        threshold: i64,
        at: Time,
    },
    ProductCreated {
        product_id: Uuid,
        sku: String,
        name: String,
        category_id: Uuid,
    },
    ProductUpdated {
        product_id: Uuid,
        name: Option<String>,
        category_id: Option<Uuid>,
    },
    SkuAdded {
        product_id: Uuid,
        sku: String,
    },
    CategoryCreated {
        category_id: Uuid,
        name: String,
        parent_id: Option<Uuid>,
    },
    CategoryRenamed {
        category_id: Uuid,
        name: String,
    },
    CategoryMoved {
        category_id: Uuid,
        parent_id: Option<Uuid>,
    },
}

fn fact(event: &RecordedEvent) -> Result<Option<Fact>, ProjectionError> {
    let fact = match event.category() {
        "order" => {
            let order_id = stream_uuid(event)?;
            match decode::<OrderEvent>(event)? {
                OrderEvent::OrderPlaced {
                    user_id,
                    lines,
                    totals,
                    placed_at,
                    ..
                } => Fact::Placed {
                    order_id,
                    user_id: user_id.as_uuid(),
                    currency: totals.total.currency.as_str().to_owned(),
                    total: totals.total.amount,
                    placed_at,
                    lines: lines
                        .iter()
                        .map(|l| PlacedLine {
                            product_id: l.product_id.as_uuid(),
                            sku: l.sku.as_str().to_owned(),
                            quantity: i64::from(l.quantity),
                            revenue: l.unit_price.amount * i64::from(l.quantity),
                        })
                        .collect(),
                },
                OrderEvent::OrderPaid { amount, at, .. } => Fact::Paid {
                    order_id,
                    amount: amount.amount,
                    at,
                },
                OrderEvent::OrderPaymentFailed { at, .. } => Fact::PaymentFailed { order_id, at },
                OrderEvent::OrderRefunded {
                    amount, full, at, ..
                } => Fact::Refunded {
                    order_id,
                    amount: amount.amount,
                    full,
                    at,
                },
                OrderEvent::OrderCancelled { reason, at, .. } => Fact::Cancelled {
                    order_id,
                    reason: wire_name(&reason),
                    at,
                },
                _ => return Ok(None),
            }
        }
        "cart" => {
            let cart_id = event.stream_key().to_owned();
            match decode::<CartEvent>(event)? {
                CartEvent::CartItemAdded { at, .. } => Fact::CartFilled {
                    cart_id,
                    day: day(at),
                },
                CartEvent::GuestCartMerged { .. } => Fact::CartFilled {
                    cart_id,
                    day: day(event_time(event)),
                },
                CartEvent::CartCheckedOut { .. } => Fact::CartClosed {
                    cart_id,
                    expired: false,
                },
                CartEvent::CartExpired { .. } => Fact::CartClosed {
                    cart_id,
                    expired: true,
                },
                _ => return Ok(None),
            }
        }
        "inventory" => {
            use InventoryEvent as E;
            let at = event_time(event);
            let (sku, movement) = match decode::<InventoryEvent>(event)? {
                E::StockReceived { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: q,
                        received: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockAdjusted { sku, delta, .. } => {
                    let m = Movement {
                        on_hand: delta,
                        adjusted: delta,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockReserved { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        reserved: q,
                        reserved_today: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::ReservationReleased { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        reserved: -q,
                        released_today: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::ReservationCommitted { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: -q,
                        reserved: -q,
                        committed: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::StockRestocked { sku, quantity, .. } => {
                    let q = i64::from(quantity);
                    let m = Movement {
                        on_hand: q,
                        restocked: q,
                        ..Movement::default()
                    };
                    (sku, m)
                }
                E::LowStockThresholdSet { sku, threshold } => {
                    return Ok(Some(Fact::ThresholdSet {
                        sku: sku.as_str().to_owned(),
                        threshold: i64::from(threshold),
                        at,
                    }))
                }
                E::LowStockDetected {
                    sku,
                    available,
                    threshold,
                } => {
                    return Ok(Some(Fact::LowStock {
                        event_id: event.id,
                        sku: sku.as_str().to_owned(),
                        available,
                        threshold: i64::from(threshold),
                        at,
                    }))
                }
            };
            Fact::StockMoved {
                sku: sku.as_str().to_owned(),
                movement,
                at,
            }
        }
        "product" => {
            let product_id = stream_uuid(event)?;
            match decode::<ProductEvent>(event)? {
                ProductEvent::ProductCreated {
                    sku,
                    name,
                    category_id,
                    ..
                } => Fact::ProductCreated {
                    product_id,
                    sku: sku.as_str().to_owned(),
                    name,
                    category_id: category_id.as_uuid(),
                },
                // Only the name and category matter here; an update of neither costs nothing.
                ProductEvent::ProductUpdated {
                    name, category_id, ..
                } if name.is_some() || category_id.is_some() => Fact::ProductUpdated {
                    product_id,
                    name,
                    category_id: category_id.map(|c| c.as_uuid()),
                },
                ProductEvent::VariantAdded { variant } => Fact::SkuAdded {
                    product_id,
                    sku: variant.sku.as_str().to_owned(),
                },
                _ => return Ok(None),
            }
        }
        "category" => {
            let category_id = stream_uuid(event)?;
            match decode::<CategoryEvent>(event)? {
                CategoryEvent::CategoryCreated {
                    name, parent_id, ..
                } => Fact::CategoryCreated {
                    category_id,
                    name,
                    parent_id: parent_id.map(|p| p.as_uuid()),
                },
                CategoryEvent::CategoryRenamed { name } => {
                    Fact::CategoryRenamed { category_id, name }
                }
                CategoryEvent::CategoryMoved { parent_id } => Fact::CategoryMoved {
                    category_id,
                    parent_id: parent_id.map(|p| p.as_uuid()),
                },
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(fact))
}

/// Rows of one table as the batch found and left them: those it read, those it created,
/// and which of them changed (written back in key order).
struct Rows<K, R> {
    rows: HashMap<K, R>,
    changed: BTreeSet<K>,
}

impl<K: Ord + std::hash::Hash + Clone, R> Default for Rows<K, R> {
    fn default() -> Self {
        Rows {
            rows: HashMap::new(),
            changed: BTreeSet::new(),
        }
    }
}

impl<K: Ord + std::hash::Hash + Clone, R> Rows<K, R> {
    fn loaded(&mut self, key: K, row: R) {
        self.rows.insert(key, row);
    }

    fn get(&self, key: &K) -> Option<&R> {
        self.rows.get(key)
    }

    /// The row to change, if the table has it.
    fn edit(&mut self, key: &K) -> Option<&mut R> {
        let row = self.rows.get_mut(key)?;
        self.changed.insert(key.clone());
        Some(row)
    }

    /// Sets the row, whether or not the table had one.
    fn put(&mut self, key: K, row: R) {
        self.changed.insert(key.clone());
        self.rows.insert(key, row);
    }

    /// The row to change, created by `new` if the table lacks it.
    fn upsert(&mut self, key: K, new: impl FnOnce() -> R) -> &mut R {
        self.changed.insert(key.clone());
        self.rows.entry(key).or_insert_with(new)
    }

    fn changed(&self) -> Vec<(&K, &R)> {
        self.changed.iter().map(|k| (k, &self.rows[k])).collect()
    }
}

/// Increments of a daily aggregate, summed per key and added to the table in one upsert;
/// counters in the order of the table's columns (the `COL` constants).
struct Sums<K, const N: usize>(BTreeMap<K, [i64; N]>);

impl<K: Ord, const N: usize> Default for Sums<K, N> {
    fn default() -> Self {
        Sums(BTreeMap::new())
    }
}

impl<K: Ord, const N: usize> Sums<K, N> {
    /// The increments of `key`'s row, which the write creates even if they stay zero
    /// (as the row-at-a-time upsert did).
    fn at(&mut self, key: K) -> &mut [i64; N] {
        self.0.entry(key).or_insert([0; N])
    }

    fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.keys()
    }

    /// Binds the counters, column by column, as `int8[]`.
    fn bind_counters<'q>(
        &self,
        mut query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        for i in 0..N {
            query = query.bind(self.0.values().map(|c| c[i]).collect::<Vec<i64>>());
        }
        query
    }
}

/// Column indexes of the counters of each daily aggregate.
mod col {
    // daily_sales
    pub const PLACED: usize = 0;
    pub const PLACED_VALUE: usize = 1;
    pub const PAID: usize = 2;
    pub const UNITS_SOLD: usize = 3;
    pub const GROSS_REVENUE: usize = 4;
    pub const CANCELLED: usize = 5;
    pub const REFUNDS: usize = 6;
    pub const REFUNDED_AMOUNT: usize = 7;
    pub const PAYMENT_FAILURES: usize = 8;
    // daily_category_sales, daily_product_sales
    pub const LINE_PAID: usize = 0;
    pub const LINE_UNITS: usize = 1;
    pub const LINE_REVENUE: usize = 2;
    pub const LINE_REFUNDED_UNITS: usize = 3;
    pub const LINE_REFUNDED_REVENUE: usize = 4;
    // funnel_daily
    pub const CARTS_STARTED: usize = 0;
    pub const CARTS_CHECKED_OUT: usize = 1;
    pub const CARTS_EXPIRED: usize = 2;
    pub const ORDERS_PLACED: usize = 3;
    pub const ORDERS_PAID: usize = 4;
    pub const ORDERS_CANCELLED: usize = 5;
    // cancellations
    pub const ORDERS: usize = 0;
    pub const VALUE: usize = 1;
    pub const PAID_ORDERS: usize = 2;
    // stock_daily
    pub const RECEIVED: usize = 0;
    pub const ADJUSTED: usize = 1;
    pub const RESERVED: usize = 2;
    pub const RELEASED: usize = 3;
    pub const SOLD: usize = 4;
    pub const RESTOCKED: usize = 5;
}

#[derive(Clone)]
struct OrderRow {
    user_id: Uuid,
    currency: String,
    total: i64,
    units: i64,
    placed_at: Time,
    placed_day: Day,
    paid_amount: i64,
    paid_at: Option<Time>,
    refunded: i64,
    cancelled_at: Option<Time>,
    cancellation_reason: Option<String>,
}

/// What the sales figures need of an order line.
struct Line {
    product_id: Uuid,
    category_id: Uuid,
    quantity: i64,
    revenue: i64,
}

/// `order_lines` rows to insert: order, line number, product, sku, category, quantity,
/// revenue.
type NewLine = (Uuid, i32, Uuid, String, Uuid, i64, i64);

struct Customer {
    orders: i64,
    monetary: i64,
    first_order_at: Time,
    last_order_at: Time,
}

#[derive(Default)]
struct Stock {
    on_hand: i64,
    reserved: i64,
    received: i64,
    adjusted: i64,
    sold: i64,
    restocked: i64,
    low_stock_threshold: Option<i64>,
    last_alert_at: Option<Time>,
    last_alert_available: Option<i64>,
    updated_at: Time,
}

struct ProductRow {
    sku: String,
    name: String,
    category_id: Uuid,
}

struct CategoryRow {
    name: String,
    parent_id: Option<Uuid>,
}

/// What the category of a product the catalog never announced is recorded as.
const NO_CATEGORY: Uuid = Uuid::nil();

#[derive(Default)]
struct Batch {
    orders: Rows<Uuid, OrderRow>,
    lines: HashMap<Uuid, Vec<Line>>,
    new_lines: Vec<NewLine>,
    customers: Rows<(Uuid, String), Customer>,
    carts: Rows<String, Option<Day>>,
    stock: Rows<String, Stock>,
    products: Rows<Uuid, ProductRow>,
    product_skus: Rows<String, Uuid>,
    categories: Rows<Uuid, CategoryRow>,
    alerts: Vec<(Uuid, String, i64, i64, Time)>,
    daily: Sums<(Day, String), 9>,
    category_sales: Sums<(Day, Uuid, String), 5>,
    product_sales: Sums<(Day, Uuid, String), 5>,
    funnel: Sums<Day, 6>,
    cancellations: Sums<(Day, String, String), 3>,
    stock_daily: Sums<(String, Day), 6>,
    /// The levels at the end of each SKU's day, as of its last movement in the batch.
    closing: BTreeMap<(String, Day), (i64, i64)>,
}

impl Batch {
    /// Reads the rows `facts` touch, in one round trip: each table's rows come back as a
    /// JSON array of arrays in one column of one row.
    async fn load(tx: &mut PgConnection, facts: &[Fact]) -> Result<Batch, ProjectionError> {
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

    /// Adds the lines of `order_id` to the category and product figures of `day`: `paid`
    /// counts a sale, otherwise a full refund.
    fn line_sales(&mut self, order_id: Uuid, currency: &str, day: Day, paid: bool) {
        let mut categories: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        let mut products: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        for l in self.lines.get(&order_id).into_iter().flatten() {
            let c = categories.entry(l.category_id).or_default();
            *c = (c.0 + l.quantity, c.1 + l.revenue);
            let p = products.entry(l.product_id).or_default();
            *p = (p.0 + l.quantity, p.1 + l.revenue);
        }
        let (units, revenue, count) = if paid {
            (col::LINE_UNITS, col::LINE_REVENUE, 1)
        } else {
            (col::LINE_REFUNDED_UNITS, col::LINE_REFUNDED_REVENUE, 0)
        };
        for (category_id, (q, r)) in categories {
            let c = self
                .category_sales
                .at((day, category_id, currency.to_owned()));
            c[col::LINE_PAID] += count;
            c[units] += q;
            c[revenue] += r;
        }
        for (product_id, (q, r)) in products {
            let p = self
                .product_sales
                .at((day, product_id, currency.to_owned()));
            p[col::LINE_PAID] += count;
            p[units] += q;
            p[revenue] += r;
        }
    }

    fn fold(&mut self, fact: Fact) {
        match fact {
            Fact::Placed {
                order_id,
                user_id,
                currency,
                total,
                placed_at,
                lines,
            } => {
                // An order is placed once; a second placement changes nothing.
                if self.orders.get(&order_id).is_some() {
                    return;
                }
                let placed_day = day(placed_at);
                let units = lines.iter().map(|l| l.quantity).sum();
                let mut kept = Vec::with_capacity(lines.len());
                for (n, l) in lines.into_iter().enumerate() {
                    let category_id = self
                        .products
                        .get(&l.product_id)
                        .map_or(NO_CATEGORY, |p| p.category_id);
                    kept.push(Line {
                        product_id: l.product_id,
                        category_id,
                        quantity: l.quantity,
                        revenue: l.revenue,
                    });
                    self.new_lines.push((
                        order_id,
                        n as i32,
                        l.product_id,
                        l.sku,
                        category_id,
                        l.quantity,
                        l.revenue,
                    ));
                }
                self.lines.insert(order_id, kept);
                let d = self.daily.at((placed_day, currency.clone()));
                d[col::PLACED] += 1;
                d[col::PLACED_VALUE] += total;
                self.funnel.at(placed_day)[col::ORDERS_PLACED] += 1;
                self.orders.upsert(order_id, || OrderRow {
                    user_id,
                    currency,
                    total,
                    units,
                    placed_at,
                    placed_day,
                    paid_amount: 0,
                    paid_at: None,
                    refunded: 0,
                    cancelled_at: None,
                    cancellation_reason: None,
                });
            }
            Fact::Paid {
                order_id,
                amount,
                at,
            } => {
                let Some(o) = self.orders.get(&order_id) else {
                    return;
                };
                if o.paid_at.is_some() || o.cancelled_at.is_some() {
                    return;
                }
                let o = self.orders.edit(&order_id).expect("present");
                o.paid_amount = amount;
                o.paid_at = Some(at);
                let (user_id, currency, units, placed_day) =
                    (o.user_id, o.currency.clone(), o.units, o.placed_day);
                let d = self.daily.at((day(at), currency.clone()));
                d[col::PAID] += 1;
                d[col::UNITS_SOLD] += units;
                d[col::GROSS_REVENUE] += amount;
                self.line_sales(order_id, &currency, day(at), true);
                self.funnel.at(placed_day)[col::ORDERS_PAID] += 1;
                let c = self.customers.upsert((user_id, currency), || Customer {
                    orders: 0,
                    monetary: 0,
                    first_order_at: at,
                    last_order_at: at,
                });
                c.orders += 1;
                c.monetary += amount;
                c.first_order_at = c.first_order_at.min(at);
                c.last_order_at = c.last_order_at.max(at);
            }
            Fact::PaymentFailed { order_id, at } => {
                if let Some(o) = self.orders.get(&order_id) {
                    let currency = o.currency.clone();
                    self.daily.at((day(at), currency))[col::PAYMENT_FAILURES] += 1;
                }
            }
            Fact::Refunded {
                order_id,
                amount,
                full,
                at,
            } => {
                let Some(o) = self.orders.edit(&order_id) else {
                    return;
                };
                o.refunded += amount;
                let (user_id, currency) = (o.user_id, o.currency.clone());
                let d = self.daily.at((day(at), currency.clone()));
                d[col::REFUNDS] += 1;
                d[col::REFUNDED_AMOUNT] += amount;
                if full {
                    self.line_sales(order_id, &currency, day(at), false);
                }
                if let Some(c) = self.customers.edit(&(user_id, currency)) {
                    c.monetary -= amount;
                }
            }
            Fact::Cancelled {
                order_id,
                reason,
                at,
            } => {
                let Some(o) = self.orders.get(&order_id) else {
                    return;
                };
                if o.cancelled_at.is_some() {
                    return;
                }
                let o = self.orders.edit(&order_id).expect("present");
                let paid = o.paid_at.is_some();
                let refund = o.paid_amount - o.refunded;
                o.cancelled_at = Some(at);
                o.cancellation_reason = Some(reason.clone());
                o.refunded = o.paid_amount;
                let (user_id, currency, total, placed_day) =
                    (o.user_id, o.currency.clone(), o.total, o.placed_day);
                let k = self.cancellations.at((day(at), reason, currency.clone()));
                k[col::ORDERS] += 1;
                k[col::VALUE] += total;
                k[col::PAID_ORDERS] += i64::from(paid);
                let d = self.daily.at((day(at), currency.clone()));
                d[col::CANCELLED] += 1;
                if paid {
                    d[col::REFUNDS] += 1;
                    d[col::REFUNDED_AMOUNT] += refund;
                    self.line_sales(order_id, &currency, day(at), false);
                }
                self.funnel.at(placed_day)[col::ORDERS_CANCELLED] += 1;
                if paid {
                    if let Some(c) = self.customers.edit(&(user_id, currency)) {
                        c.orders -= 1;
                        c.monetary -= refund;
                    }
                }
            }
            Fact::CartFilled { cart_id, day } => {
                let opened = self.carts.upsert(cart_id, || None);
                if opened.is_none() {
                    *opened = Some(day);
                    self.funnel.at(day)[col::CARTS_STARTED] += 1;
                }
            }
            Fact::CartClosed { cart_id, expired } => {
                let Some(opened) = self.carts.edit(&cart_id) else {
                    return;
                };
                if let Some(day) = opened.take() {
                    let column = if expired {
                        col::CARTS_EXPIRED
                    } else {
                        col::CARTS_CHECKED_OUT
                    };
                    self.funnel.at(day)[column] += 1;
                }
            }
            Fact::StockMoved { sku, movement, at } => {
                let m = movement;
                let s = self.stock.upsert(sku.clone(), Stock::default);
                s.on_hand += m.on_hand;
                s.reserved += m.reserved;
                s.received += m.received;
                s.adjusted += m.adjusted;
                s.sold += m.committed - m.restocked;
                s.restocked += m.restocked;
                s.updated_at = at;
                let levels = (s.on_hand, s.reserved);
                let key = (sku, day(at));
                let d = self.stock_daily.at(key.clone());
                d[col::RECEIVED] += m.received;
                d[col::ADJUSTED] += m.adjusted;
                d[col::RESERVED] += m.reserved_today;
                d[col::RELEASED] += m.released_today;
                d[col::SOLD] += m.committed;
                d[col::RESTOCKED] += m.restocked;
                self.closing.insert(key, levels);
            }
            Fact::ThresholdSet { sku, threshold, at } => {
                let s = self.stock.upsert(sku, Stock::default);
                s.low_stock_threshold = Some(threshold);
                s.updated_at = at;
            }
            Fact::LowStock {
                event_id,
                sku,
                available,
                threshold,
                at,
            } => {
                self.alerts
                    .push((event_id, sku.clone(), available, threshold, at));
                let s = self.stock.upsert(sku, Stock::default);
                s.low_stock_threshold = Some(threshold);
                s.last_alert_at = Some(at);
                s.last_alert_available = Some(available);
                s.updated_at = at;
            }
            Fact::ProductCreated {
                product_id,
                sku,
                name,
                category_id,
            } => {
                self.product_skus.put(sku.clone(), product_id);
                let row = ProductRow {
                    sku,
                    name,
                    category_id,
                };
                self.products.put(product_id, row);
            }
            Fact::ProductUpdated {
                product_id,
                name,
                category_id,
            } => {
                if let Some(p) = self.products.edit(&product_id) {
                    if let Some(name) = name {
                        p.name = name;
                    }
                    if let Some(category_id) = category_id {
                        p.category_id = category_id;
                    }
                }
            }
            Fact::SkuAdded { product_id, sku } => {
                self.product_skus.put(sku, product_id);
            }
            Fact::CategoryCreated {
                category_id,
                name,
                parent_id,
            } => {
                self.categories
                    .put(category_id, CategoryRow { name, parent_id });
            }
            Fact::CategoryRenamed { category_id, name } => {
                if let Some(c) = self.categories.edit(&category_id) {
                    c.name = name;
                }
            }
            Fact::CategoryMoved {
                category_id,
                parent_id,
            } => {
                if let Some(c) = self.categories.edit(&category_id) {
                    c.parent_id = parent_id;
                }
            }
        }
    }

    /// Writes everything in one statement (see [`WRITE`]), binding its parameters in the
    /// order of [`WRITES`].
    async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let q = sqlx::query(&WRITE);
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
                    revenue = t.revenue + excluded.revenue,
                    refunded_units = t.refunded_units + excluded.refunded_units,
                    refunded_revenue = t.refunded_revenue + excluded.refunded_revenue"
        )
    };
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
    "insert into order_lines (order_id, line, product_id, sku, category_id, quantity, revenue)
     select * from unnest($1::uuid[], $2::int4[], $3::uuid[], $4::text[], $5::uuid[],
         $6::int8[], $7::int8[])",
    "insert into daily_sales as t (day, currency, orders_placed, placed_value, orders_paid,
         units_sold, gross_revenue, orders_cancelled, refunds, refunded_amount,
         payment_failures)
     select * from unnest($1::date[], $2::text[], $3::int8[], $4::int8[], $5::int8[],
         $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
     on conflict (day, currency) do update
        set orders_placed = t.orders_placed + excluded.orders_placed,
            placed_value = t.placed_value + excluded.placed_value,
            orders_paid = t.orders_paid + excluded.orders_paid,
            units_sold = t.units_sold + excluded.units_sold,
            gross_revenue = t.gross_revenue + excluded.gross_revenue,
            orders_cancelled = t.orders_cancelled + excluded.orders_cancelled,
            refunds = t.refunds + excluded.refunds,
            refunded_amount = t.refunded_amount + excluded.refunded_amount,
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
        set orders = t.orders + excluded.orders, value = t.value + excluded.value,
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

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(
            (event.category(), event.event_type.as_str()),
            (
                "order",
                "OrderPlaced"
                    | "OrderPaid"
                    | "OrderPaymentFailed"
                    | "OrderRefunded"
                    | "OrderCancelled"
            ) | (
                "cart",
                "CartItemAdded" | "GuestCartMerged" | "CartCheckedOut" | "CartExpired"
            ) | ("inventory", _)
                | (
                    "product",
                    "ProductCreated" | "ProductUpdated" | "VariantAdded"
                )
                | ("category", _)
        )
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
        let mut facts = Vec::with_capacity(events.len());
        for event in events {
            if self.wants(event) {
                facts.extend(fact(event)?);
            }
        }
        if facts.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::load(&mut *tx, &facts).await?;
        for fact in facts {
            batch.fold(fact);
        }
        batch.write(&mut *tx).await?;
        Ok(())
    }
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
