//! The analytics read model against a real store: a small shop's day built through the
//! real command handlers, applied by the runner, and the figures an analyst would read.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Days, Utc};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position, RecordedEvent};
use domain::cart::{Cart, CartCommand, CartLine};
use domain::catalog::{Category, CategoryCommand, CreateProduct, Product, ProductCommand};
use domain::id::{CartId, CartItemId, CategoryId, OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand};
use domain::money::{Currency, Money};
use domain::order::{CancellationReason, ChangedBy, Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::{Quantity, Sku, Slug};
use projections::analytics::AnalyticsProjection;
use projections::rebuild::{checksums, rebuild};
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(
        id,
        id,
        Actor {
            user_id: None,
            role: "customer".into(),
        },
        Utc::now(),
    )
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

fn staff() -> ChangedBy {
    ChangedBy {
        user_id: None,
        role: "admin".into(),
    }
}

struct Shop {
    store: Arc<dyn EventStore>,
    categories: CommandHandler<Category>,
    products: CommandHandler<Product>,
    orders: CommandHandler<Order>,
    carts: CommandHandler<Cart>,
    inventory: CommandHandler<Inventory>,
    /// The `$all` position of the last append, which the log must show before it is read.
    last: std::sync::Mutex<Position>,
}

/// A catalog product: its id and SKU.
struct Item {
    id: ProductId,
    sku: Sku,
}

impl Shop {
    fn new(pool: PgPool) -> Self {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        Shop {
            categories: CommandHandler::new(store.clone(), 100),
            products: CommandHandler::new(store.clone(), 100),
            orders: CommandHandler::new(store.clone(), 100),
            carts: CommandHandler::new(store.clone(), 100),
            inventory: CommandHandler::new(store.clone(), 100),
            last: std::sync::Mutex::new(Position::START),
            store,
        }
    }

    async fn category(&self, name: &str) -> CategoryId {
        let id = CategoryId::new(Uuid::new_v4());
        let cmd = CategoryCommand::Create {
            category_id: id,
            name: name.into(),
            slug: Slug::parse(&name.to_lowercase()).unwrap(),
            parent_id: None,
        };
        let handled = self
            .categories
            .handle(&CommandHandler::<Category>::stream_id(id), cmd, meta())
            .await
            .unwrap();
        self.appended(handled.position);
        id
    }

    async fn product(&self, sku: &str, category: CategoryId, price: i64) -> Item {
        let id = ProductId::new(Uuid::new_v4());
        let create = CreateProduct {
            product_id: id,
            sku: Sku::parse(sku).unwrap(),
            name: format!("Product {sku}"),
            slug: Slug::parse(&sku.to_lowercase()).unwrap(),
            description: None,
            category_id: category,
            price: usd(price),
            attributes: Default::default(),
            vendor_id: None,
            publish: true,
            seo: Default::default(),
            at: Utc::now(),
        };
        let handled = self
            .products
            .handle(
                &CommandHandler::<Product>::stream_id(id),
                ProductCommand::Create(Box::new(create)),
                meta(),
            )
            .await
            .unwrap();
        self.appended(handled.position);
        Item {
            id,
            sku: Sku::parse(sku).unwrap(),
        }
    }

    /// Places an order of `(item, quantity, unit price)` lines, no tax, discount or
    /// shipping, so its total is the sum of its lines; its stock is marked reserved.
    async fn place(&self, user: UserId, lines: &[(&Item, u32, i64)], when: DateTime<Utc>) -> Uuid {
        let id = Uuid::new_v4();
        let place = PlaceOrder {
            order_id: OrderId::new(id),
            user_id: user,
            lines: lines
                .iter()
                .map(|(item, quantity, price)| OrderLine {
                    product_id: item.id,
                    variant_id: None,
                    sku: item.sku.clone(),
                    quantity: *quantity,
                    unit_price: usd(*price),
                    price_rules: Vec::new(),
                    vendor_id: None,
                })
                .collect(),
            shipping_address: serde_json::from_value(serde_json::json!({
                "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
            }))
            .unwrap(),
            billing_address: None,
            payment_method: "card".into(),
            notes: None,
            coupon_code: None,
            discount: usd(0),
            discount_over: None,
            tax: domain::order::TaxTerms {
                rate_ppm: 0,
                inclusive: false,
            },
            shipping: usd(0),
            shipping_method: None,
            at: when,
        };
        self.order(id, OrderCommand::Place(Box::new(place))).await;
        self.order(id, OrderCommand::MarkStockReserved { at: when })
            .await;
        id
    }

    async fn order(&self, id: Uuid, command: OrderCommand) {
        let handled = self
            .orders
            .handle(&CommandHandler::<Order>::stream_id(id), command, meta())
            .await
            .unwrap();
        self.appended(handled.position);
    }

    async fn pay(&self, id: Uuid, amount: i64, when: DateTime<Utc>) {
        let cmd = OrderCommand::MarkPaid {
            amount: usd(amount),
            payment_reference: format!("pay_{id}"),
            at: when,
        };
        self.order(id, cmd).await;
    }

    async fn cart(&self, id: CartId, command: CartCommand) {
        let handled = self
            .carts
            .handle(&CommandHandler::<Cart>::stream_id(id), command, meta())
            .await
            .unwrap();
        self.appended(handled.position);
    }

    async fn stock(&self, sku: &Sku, command: InventoryCommand) {
        let handled = self
            .inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(sku),
                command,
                meta(),
            )
            .await
            .unwrap();
        self.appended(handled.position);
    }

    fn appended(&self, at: Option<Position>) {
        let mut last = self.last.lock().unwrap();
        *last = (*last).max(at.unwrap_or(Position::START));
    }

    /// Every event of `$all`, once it shows everything this shop appended (the store shows
    /// a commit only once older transactions of the whole cluster have ended).
    async fn log(&self) -> Vec<RecordedEvent> {
        let head = *self.last.lock().unwrap();
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            let events = self.store.read_all(Position::START, 100_000).await.unwrap();
            if events.last().is_some_and(|e| e.position >= head) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("$all did not reach {head} within {PATIENCE:?}");
    }
}

fn cart_line(item: &Item, quantity: u32, price: i64) -> CartLine {
    CartLine {
        item_id: CartItemId::new(Uuid::new_v4()),
        product_id: item.id,
        variant_id: None,
        sku: item.sku.clone(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: usd(price),
    }
}

async fn one<T>(pool: &PgPool, sql: &'static str) -> T
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sql).fetch_one(pool).await.unwrap()
}

/// Day 1 (2026-03-02): orders A (2 mugs at 10.00 and a plate at 5.00, 25.00), B (a mug,
/// 15.00) and D (a plate, 10.00) are placed and paid, order C is placed and left unpaid.
/// Day 2: A is refunded 3.00, C is cancelled by its customer, D (paid) by staff. Carts: one
/// checked out, one expired. Stock: a low-stock alert. The figures are what those events
/// mean under the documented rules, and a rebuild lands on the very same rows.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_days_trade_gives_the_documented_figures(pool: PgPool) {
    let shop = Shop::new(pool.clone());
    let kitchen = shop.category("Kitchen").await;
    let dining = shop.category("Dining").await;
    let mug = shop.product("MUG-1", kitchen, 1000).await;
    let plate = shop.product("PLATE-1", dining, 500).await;
    let (alice, bob) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
    let day1 = at("2026-03-02T10:00:00Z");
    let day2 = at("2026-03-03T09:30:00Z");

    let a = shop
        .place(alice, &[(&mug, 2, 1000), (&plate, 1, 500)], day1)
        .await;
    shop.pay(a, 2500, day1 + Days::minutes(5)).await;
    let b = shop.place(bob, &[(&mug, 1, 1500)], day1).await;
    shop.pay(b, 1500, day1 + Days::minutes(6)).await;
    let c = shop.place(alice, &[(&mug, 1, 1000)], day1).await;
    let d = shop.place(bob, &[(&plate, 1, 1000)], day1).await;
    shop.pay(d, 1000, day1 + Days::minutes(7)).await;

    shop.order(
        a,
        OrderCommand::Refund {
            amount: Some(usd(300)),
            reason: "chipped".into(),
            by: staff(),
            at: day2,
        },
    )
    .await;
    shop.order(
        c,
        OrderCommand::Cancel {
            reason: CancellationReason::Customer,
            note: None,
            by: staff(),
            at: day2,
        },
    )
    .await;
    shop.order(
        d,
        OrderCommand::Cancel {
            reason: CancellationReason::Staff,
            note: None,
            by: staff(),
            at: day2,
        },
    )
    .await;

    // Two carts opened on day 1: one checked out, one (filled twice) expired on day 2.
    let (kept, left) = (CartId::new(Uuid::new_v4()), CartId::new(Uuid::new_v4()));
    let add = |item: &Item| CartCommand::AddItem {
        line: cart_line(item, 1, 1000),
        at: day1,
    };
    shop.cart(kept, add(&mug)).await;
    shop.cart(
        kept,
        CartCommand::CheckOut {
            order_id: OrderId::new(a),
            at: day1,
        },
    )
    .await;
    shop.cart(left, add(&mug)).await;
    shop.cart(left, add(&plate)).await;
    shop.cart(left, CartCommand::Expire { at: day2 }).await;

    // 10 mugs in, threshold 5, a reservation of 6 leaves 4: the domain raises the alert.
    let order_of_six = OrderId::new(Uuid::new_v4());
    for cmd in [
        InventoryCommand::ReceiveStock {
            sku: mug.sku.clone(),
            warehouse: "main".into(),
            quantity: 10,
        },
        InventoryCommand::SetLowStockThreshold { threshold: 5 },
        InventoryCommand::ReserveStock {
            sku: mug.sku.clone(),
            order_id: order_of_six,
            quantity: 6,
        },
        InventoryCommand::CommitReservation {
            order_id: order_of_six,
        },
    ] {
        shop.stock(&mug.sku, cmd).await;
    }

    // Applied in small batches, so state carried between events crosses transactions.
    let events = shop.log().await;
    let runner = Runner::new(
        shop.store.clone(),
        pool.clone(),
        Arc::new(AnalyticsProjection),
    );
    for batch in events.chunks(5) {
        runner.apply_batch(batch).await.unwrap();
    }

    // Day 1: four placed (6.00 + 25.00 + 15.00 + 10.00 booked), three paid for 50.00;
    // AOV 50.00 / 3 = 16.666… rounds to 16.67. Day 2: the 3.00 refund and D's 10.00.
    let d1: (i64, i64, i64, i64, i64, i64, i64) = one(
        &pool,
        "select orders_placed, placed_value, orders_paid, units_sold, gross_revenue,
                average_order_value, net_revenue
           from analytics.daily_sales where day = '2026-03-02' and currency = 'USD'",
    )
    .await;
    assert_eq!(d1, (4, 6000, 3, 5, 5000, 1667, 5000));
    let d2: (i64, i64, i64, i64, i64, i64) = one(
        &pool,
        "select orders_paid, orders_cancelled, refunds, refunded_amount, gross_revenue, net_revenue
           from analytics.daily_sales where day = '2026-03-03' and currency = 'USD'",
    )
    .await;
    assert_eq!(d2, (0, 2, 2, 1300, 0, -1300));

    // Per category, from line revenue: Kitchen sold A's two mugs and B's one (20.00 +
    // 15.00); Dining A's plate and D's (5.00 + 10.00), and gave D's back on day 2.
    let categories: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "select c.name, s.orders_paid, s.units_sold, s.revenue, s.refunded_units, s.refunded_revenue
           from analytics.daily_category_sales s join analytics.categories c using (category_id)
          order by s.day, c.name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        categories,
        vec![
            ("Dining".into(), 2, 2, 1500, 0, 0),
            ("Kitchen".into(), 2, 3, 3500, 0, 0),
            ("Dining".into(), 0, 0, 0, 1, 1000),
        ]
    );

    let top: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select sku, units_sold::bigint, revenue::bigint, net_revenue::bigint
           from analytics.top_products order by revenue desc",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        top,
        vec![
            ("MUG-1".into(), 3, 3500, 3500),
            ("PLATE-1".into(), 2, 1500, 500)
        ]
    );

    let cancelled: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "select reason, orders, value, paid_orders from analytics.cancellations order by reason",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        cancelled,
        vec![
            ("customer".into(), 1, 1000, 0),
            ("staff".into(), 1, 1000, 1)
        ]
    );

    // The day-1 cohort: 2 carts started, 1 checked out, 1 expired; 4 orders placed, of
    // which 3 were paid and 2 cancelled (one of them after payment).
    let funnel: (i64, i64, i64, i64, i64, i64) = one(
        &pool,
        "select carts_started, carts_checked_out, carts_expired, orders_placed, orders_paid,
                orders_cancelled
           from analytics.funnel_daily where day = '2026-03-02'",
    )
    .await;
    assert_eq!(funnel, (2, 1, 1, 4, 3, 2));

    // Alice kept 25.00 - 3.00 of one paid order (C was never paid); Bob's D was cancelled
    // after payment, which takes it out of his frequency and money.
    let customers: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "select user_id, orders, monetary from analytics.customers order by monetary desc",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        customers,
        vec![(alice.as_uuid(), 1, 2200), (bob.as_uuid(), 1, 1500)]
    );

    let stock: (i64, i64, i64, i64, Option<i64>) = one(
        &pool,
        "select on_hand, reserved, sold, available, low_stock_threshold
           from analytics.stock where sku = 'MUG-1'",
    )
    .await;
    assert_eq!(stock, (4, 0, 6, 4, Some(5)));
    let alerts: Vec<(String, i64, i64)> =
        sqlx::query_as("select sku, available, threshold from analytics.low_stock_alerts")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(alerts, vec![("MUG-1".into(), 4, 5)]);
    let low: Vec<(String, Option<String>)> =
        sqlx::query_as("select sku, name from analytics.low_stock")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(low, vec![("MUG-1".into(), Some("Product MUG-1".into()))]);
    // One day of movements closing at 4 on hand: 6 sold over an average of 4 held.
    let turnover: (i64, Option<String>) = one(
        &pool,
        "select sold, turnover::text from analytics.stock_turnover where sku = 'MUG-1'",
    )
    .await;
    assert_eq!(turnover, (6, Some("1.50".into())));

    // A rebuild from the log gives the same rows, table by table.
    let mut conn = pool.acquire().await.unwrap();
    let live = checksums(&mut conn, "analytics", &[]).await.unwrap();
    drop(conn);
    rebuild(
        shop.store.clone(),
        &pool,
        Arc::new(AnalyticsProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let rebuilt = checksums(&mut conn, "analytics", &[]).await.unwrap();
    assert_eq!(rebuilt, live);
    assert!(live.iter().any(|t| t.table == "daily_sales" && t.rows == 2));
}

/// A customer who bought yesterday for the first time is `new` in the RFM view, scored on
/// the stored inputs against the clock at query time.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn rfm_segments_are_computed_at_query_time(pool: PgPool) {
    let shop = Shop::new(pool.clone());
    let kitchen = shop.category("Kitchen").await;
    let mug = shop.product("MUG-1", kitchen, 1000).await;
    let carol = UserId::new(Uuid::new_v4());
    let dave = UserId::new(Uuid::new_v4());
    let yesterday = Utc::now() - Days::days(1);
    let long_ago = Utc::now() - Days::days(400);
    let o = shop.place(carol, &[(&mug, 1, 1000)], yesterday).await;
    shop.pay(o, 1000, yesterday).await;
    for _ in 0..3 {
        let o = shop.place(dave, &[(&mug, 2, 1000)], long_ago).await;
        shop.pay(o, 2000, long_ago).await;
    }
    let events = shop.log().await;
    let runner = Runner::new(
        shop.store.clone(),
        pool.clone(),
        Arc::new(AnalyticsProjection),
    );
    runner.apply_batch(&events).await.unwrap();

    // user, recency days, frequency, monetary, R, F and M scores, segment.
    type Rfm = (Uuid, i32, i64, i64, i32, i32, i32, String);
    let rfm: Vec<Rfm> = sqlx::query_as(
        "select user_id, recency_days, frequency, monetary, r_score, f_score, m_score, segment
           from analytics.customer_rfm order by monetary",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rfm,
        vec![
            (carol.as_uuid(), 1, 1, 1000, 5, 1, 3, "new".to_owned()),
            (
                dave.as_uuid(),
                400,
                3,
                6000,
                1,
                3,
                5,
                "cannot_lose".to_owned()
            ),
        ]
    );
}
