//! What a batch holds in memory, and how each fact folds into it, in log order.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::fact::{day, Day, Fact, Time};
use super::rows::{col, Rows, Sums};

#[derive(Clone)]
pub(super) struct OrderRow {
    pub(super) user_id: Uuid,
    pub(super) currency: String,
    pub(super) total: i64,
    pub(super) units: i64,
    pub(super) placed_at: Time,
    pub(super) placed_day: Day,
    pub(super) paid_amount: i64,
    pub(super) paid_at: Option<Time>,
    pub(super) refunded: i64,
    pub(super) cancelled_at: Option<Time>,
    pub(super) cancellation_reason: Option<String>,
}

/// What the sales figures need of an order line.
pub(super) struct Line {
    pub(super) product_id: Uuid,
    pub(super) category_id: Uuid,
    pub(super) quantity: i64,
    pub(super) revenue: i64,
}

/// `order_lines` rows to insert: order, line number, product, sku, category, quantity,
/// revenue, variant.
pub(super) type NewLine = (Uuid, i32, Uuid, String, Uuid, i64, i64, Option<Uuid>);

pub(super) struct Customer {
    pub(super) orders: i64,
    pub(super) monetary: i64,
    pub(super) first_order_at: Time,
    pub(super) last_order_at: Time,
}

#[derive(Default)]
pub(super) struct Stock {
    pub(super) on_hand: i64,
    pub(super) reserved: i64,
    pub(super) received: i64,
    pub(super) adjusted: i64,
    pub(super) sold: i64,
    pub(super) restocked: i64,
    pub(super) low_stock_threshold: Option<i64>,
    pub(super) last_alert_at: Option<Time>,
    pub(super) last_alert_available: Option<i64>,
    pub(super) updated_at: Time,
}

pub(super) struct ProductRow {
    pub(super) sku: String,
    pub(super) name: String,
    pub(super) category_id: Uuid,
}

pub(super) struct CategoryRow {
    pub(super) name: String,
    pub(super) parent_id: Option<Uuid>,
}

/// What the category of a product the catalog never announced is recorded as.
pub(super) const NO_CATEGORY: Uuid = Uuid::nil();

#[derive(Default)]
pub(super) struct Batch {
    pub(super) orders: Rows<Uuid, OrderRow>,
    pub(super) lines: HashMap<Uuid, Vec<Line>>,
    pub(super) new_lines: Vec<NewLine>,
    pub(super) customers: Rows<(Uuid, String), Customer>,
    pub(super) carts: Rows<String, Option<Day>>,
    pub(super) stock: Rows<String, Stock>,
    pub(super) products: Rows<Uuid, ProductRow>,
    pub(super) product_skus: Rows<String, Uuid>,
    pub(super) categories: Rows<Uuid, CategoryRow>,
    pub(super) alerts: Vec<(Uuid, String, i64, i64, Time)>,
    pub(super) daily: Sums<(Day, String), 9>,
    pub(super) category_sales: Sums<(Day, Uuid, String), 5>,
    pub(super) product_sales: Sums<(Day, Uuid, String), 5>,
    pub(super) funnel: Sums<Day, 6>,
    pub(super) cancellations: Sums<(Day, String, String), 3>,
    pub(super) stock_daily: Sums<(String, Day), 6>,
    /// The levels at the end of each SKU's day, as of its last movement in the batch.
    pub(super) closing: BTreeMap<(String, Day), (i64, i64)>,
}

impl Batch {
    /// Adds the lines of `order_id` to the category and product figures of `day`: `paid`
    /// counts a sale, otherwise a full refund.
    fn line_sales(&mut self, order_id: Uuid, currency: &str, day: Day, paid: bool) {
        let mut categories: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        let mut products: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        for l in self.lines.get(&order_id).into_iter().flatten() {
            let c = categories.entry(l.category_id).or_default();
            *c = (c.0 + l.quantity, c.1.saturating_add(l.revenue));
            let p = products.entry(l.product_id).or_default();
            *p = (p.0 + l.quantity, p.1.saturating_add(l.revenue));
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
            c[revenue] = c[revenue].saturating_add(r);
        }
        for (product_id, (q, r)) in products {
            let p = self
                .product_sales
                .at((day, product_id, currency.to_owned()));
            p[col::LINE_PAID] += count;
            p[units] += q;
            p[revenue] = p[revenue].saturating_add(r);
        }
    }

    pub(super) fn fold(&mut self, fact: Fact) {
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
                        l.variant_id,
                    ));
                }
                self.lines.insert(order_id, kept);
                let d = self.daily.at((placed_day, currency.clone()));
                d[col::PLACED] += 1;
                d[col::PLACED_VALUE] = d[col::PLACED_VALUE].saturating_add(total);
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
                d[col::GROSS_REVENUE] = d[col::GROSS_REVENUE].saturating_add(amount);
                self.line_sales(order_id, &currency, day(at), true);
                self.funnel.at(placed_day)[col::ORDERS_PAID] += 1;
                let c = self.customers.upsert((user_id, currency), || Customer {
                    orders: 0,
                    monetary: 0,
                    first_order_at: at,
                    last_order_at: at,
                });
                c.orders += 1;
                c.monetary = c.monetary.saturating_add(amount);
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
                o.refunded = o.refunded.saturating_add(amount);
                let (user_id, currency) = (o.user_id, o.currency.clone());
                let d = self.daily.at((day(at), currency.clone()));
                d[col::REFUNDS] += 1;
                d[col::REFUNDED_AMOUNT] = d[col::REFUNDED_AMOUNT].saturating_add(amount);
                if full {
                    self.line_sales(order_id, &currency, day(at), false);
                }
                if let Some(c) = self.customers.edit(&(user_id, currency)) {
                    c.monetary = c.monetary.saturating_sub(amount);
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
                let refund = o.paid_amount.saturating_sub(o.refunded);
                o.cancelled_at = Some(at);
                o.cancellation_reason = Some(reason.clone());
                o.refunded = o.paid_amount;
                let (user_id, currency, total, placed_day) =
                    (o.user_id, o.currency.clone(), o.total, o.placed_day);
                let k = self.cancellations.at((day(at), reason, currency.clone()));
                k[col::ORDERS] += 1;
                k[col::VALUE] = k[col::VALUE].saturating_add(total);
                k[col::PAID_ORDERS] += i64::from(paid);
                let d = self.daily.at((day(at), currency.clone()));
                d[col::CANCELLED] += 1;
                if paid {
                    d[col::REFUNDS] += 1;
                    d[col::REFUNDED_AMOUNT] = d[col::REFUNDED_AMOUNT].saturating_add(refund);
                    self.line_sales(order_id, &currency, day(at), false);
                }
                self.funnel.at(placed_day)[col::ORDERS_CANCELLED] += 1;
                if paid {
                    if let Some(c) = self.customers.edit(&(user_id, currency)) {
                        c.orders -= 1;
                        c.monetary = c.monetary.saturating_sub(refund);
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
}
