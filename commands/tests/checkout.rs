//! The checkout saga against a real PostgreSQL store: the flash sale, and a crash in the
//! middle of checkout.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use commands::checkout::Checkout;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand, InventoryEvent};
use domain::money::{Currency, Money};
use domain::order::{CancellationReason, Order, OrderCommand, OrderLine, OrderStatus, PlaceOrder};
use domain::value::{Address, Sku};
use domain::{Aggregate, DomainEvent};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

struct Shop {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    orders: CommandHandler<Order>,
    inventory: CommandHandler<Inventory>,
}

impl Shop {
    fn new(pool: PgPool) -> Self {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        Shop {
            orders: CommandHandler::new(store.clone(), 10_000),
            inventory: CommandHandler::new(store.clone(), 10_000),
            store,
            pool,
        }
    }

    /// The whole log. `$all` shows a commit once every older transaction in the cluster
    /// has ended (other tests' included), so this waits until it shows every stored event.
    async fn log(&self) -> Vec<commands::store::RecordedEvent> {
        let stored: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let events = self
                .store
                .read_all(commands::store::Position::START, 10_000)
                .await
                .unwrap();
            if events.len() as i64 >= stored {
                return events;
            }
            assert!(Instant::now() < deadline, "$all never showed the log");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A saga with handlers of its own, as a freshly started process would have.
    fn saga(&self, name: &str) -> Checkout {
        let mut saga = Checkout::new(
            self.store.clone(),
            self.pool.clone(),
            CommandHandler::new(self.store.clone(), 10_000),
            CommandHandler::new(self.store.clone(), 10_000),
            Duration::from_secs(900),
        );
        saga.name = name.into();
        saga
    }

    async fn receive(&self, sku: &str, quantity: u32) {
        let sku = Sku::parse(sku).unwrap();
        self.inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(&sku),
                InventoryCommand::ReceiveStock {
                    sku: sku.clone(),
                    warehouse: "main".into(),
                    quantity,
                },
                meta(),
            )
            .await
            .unwrap();
    }

    async fn place(&self, skus: &[&str]) -> OrderId {
        let order_id = OrderId::new(Uuid::new_v4());
        let lines = skus
            .iter()
            .map(|s| OrderLine {
                product_id: ProductId::new(Uuid::new_v4()),
                variant_id: None,
                sku: Sku::parse(s).unwrap(),
                quantity: 1,
                unit_price: Money::new(1999, Currency::USD),
                price_rules: Vec::new(),
                vendor_id: None,
            })
            .collect();
        let place = PlaceOrder {
            order_id,
            user_id: UserId::new(Uuid::new_v4()),
            lines,
            shipping_address: serde_json::from_value(serde_json::json!({
                "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
            }))
            .unwrap(),
            billing_address: None::<Address>,
            payment_method: "card".into(),
            notes: None,
            coupon_code: None,
            discount: Money::zero(Currency::USD),
            discount_over: None,
            tax: domain::order::TaxTerms {
                rate_ppm: 0,
                inclusive: false,
            },
            shipping: Money::zero(Currency::USD),
            shipping_method: None,
            at: Utc::now(),
        };
        self.orders
            .handle(
                &CommandHandler::<Order>::stream_id(order_id),
                OrderCommand::Place(Box::new(place)),
                meta(),
            )
            .await
            .unwrap();
        order_id
    }

    async fn status(&self, order: OrderId) -> (OrderStatus, Option<CancellationReason>) {
        let (state, _) = self
            .orders
            .load(&CommandHandler::<Order>::stream_id(order))
            .await
            .unwrap();
        let o = state.placed.unwrap();
        (o.status, o.cancellation_reason)
    }

    /// How many of `orders` are still pending.
    async fn pending(&self, orders: &[OrderId]) -> usize {
        let mut pending = 0;
        for o in orders {
            if self.status(*o).await.0 == OrderStatus::Pending {
                pending += 1;
            }
        }
        pending
    }

    /// Waits until at least one of `orders` is no longer pending: the saga is at work.
    async fn until_one_settled(&self, orders: &[OrderId]) {
        let deadline = Instant::now() + PATIENCE;
        while self.pending(orders).await == orders.len() {
            assert!(
                Instant::now() < deadline,
                "the saga settled none of {} orders within {PATIENCE:?}",
                orders.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until no order is pending any more.
    async fn settled(&self, orders: &[OrderId]) -> Vec<(OrderStatus, Option<CancellationReason>)> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut all = Vec::with_capacity(orders.len());
            for o in orders {
                all.push(self.status(*o).await);
            }
            if all.iter().all(|(s, _)| *s != OrderStatus::Pending) {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "orders still pending after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn inventory_events(&self, sku: &str) -> Vec<InventoryEvent> {
        let stream = format!("inventory-{}", Sku::parse(sku).unwrap());
        self.store
            .read_stream(&stream, ReadFrom::End, Direction::Forwards, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|e| InventoryEvent::from_data(&e.event_type, e.schema_version, e.data).unwrap())
            .collect()
    }

    /// The inventory state of a SKU replayed from its stream alone.
    async fn replayed(&self, sku: &str) -> domain::inventory::InventoryState {
        self.inventory_events(sku)
            .await
            .iter()
            .fold(Default::default(), Inventory::evolve)
    }
}

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(
        id,
        id,
        Actor {
            user_id: None,
            role: "staff".into(),
        },
        Utc::now(),
    )
}

fn start(saga: Checkout) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        saga.run(rx).await.unwrap();
    });
    (tx, task)
}

/// The flash sale: 200 concurrent one-unit orders for a SKU with 50 in stock. Exactly 50
/// reach `awaiting_payment`, 150 are cancelled `out_of_stock`, and the inventory stream
/// replays to 50 reserved. Repeated `FLASH_SALE_ROUNDS` times (default 3) on fresh SKUs.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn flash_sale_never_oversells(options: PgPoolOptions, connect: PgConnectOptions) {
    common::on_threads(options, connect, flash_sale).await;
}

async fn flash_sale(pool: PgPool) {
    let rounds: usize = std::env::var("FLASH_SALE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let shop = Arc::new(Shop::new(pool));
    let (stop, saga) = start(shop.saga("checkout"));

    for round in 0..rounds {
        let sku = format!("FLASH-{round}");
        shop.receive(&sku, 50).await;
        let placing: Vec<_> = (0..200)
            .map(|_| {
                let shop = shop.clone();
                let sku = sku.clone();
                tokio::spawn(async move { shop.place(&[&sku]).await })
            })
            .collect();
        let mut orders = Vec::new();
        for p in placing {
            orders.push(p.await.unwrap());
        }
        let outcome = shop.settled(&orders).await;
        let awaiting = outcome
            .iter()
            .filter(|(s, _)| *s == OrderStatus::AwaitingPayment)
            .count();
        let out_of_stock = outcome
            .iter()
            .filter(|o| **o == (OrderStatus::Cancelled, Some(CancellationReason::OutOfStock)))
            .count();
        assert_eq!((awaiting, out_of_stock), (50, 150), "round {round}");

        let inv = shop.replayed(&sku).await;
        assert_eq!(inv.reserved(), 50, "round {round}");
        assert_eq!(inv.available(), 0);
        let reserved_events = shop
            .inventory_events(&sku)
            .await
            .iter()
            .filter(|e| e.event_type() == "StockReserved")
            .count();
        assert_eq!(
            reserved_events, 50,
            "one reservation per winning order, none undone"
        );
    }
    stop.send(true).unwrap();
    saga.await.unwrap();
}

/// What a checkout run leaves behind, to compare runs: orders by outcome, stock reserved
/// per SKU, and the number of events per order stream.
async fn summary(
    shop: &Shop,
    orders: &[OrderId],
    skus: [&str; 2],
) -> (usize, usize, i64, i64, Vec<usize>) {
    let outcome = shop.settled(orders).await;
    let awaiting = outcome
        .iter()
        .filter(|(s, _)| *s == OrderStatus::AwaitingPayment)
        .count();
    let cancelled = outcome
        .iter()
        .filter(|o| **o == (OrderStatus::Cancelled, Some(CancellationReason::OutOfStock)))
        .count();
    let mut events_per_order = Vec::new();
    for o in orders {
        let n = shop
            .store
            .read_stream(
                &CommandHandler::<Order>::stream_id(o),
                ReadFrom::End,
                Direction::Forwards,
                100,
            )
            .await
            .unwrap()
            .len();
        events_per_order.push(n);
    }
    events_per_order.sort();
    events_per_order.dedup();
    (
        awaiting,
        cancelled,
        shop.replayed(skus[0]).await.reserved(),
        shop.replayed(skus[1]).await.reserved(),
        events_per_order,
    )
}

/// A saga killed in the middle of checkout and started again (fresh process state, same
/// checkpoint table) ends where an uninterrupted saga ends, and never acts twice on one
/// event: every order holds exactly two events, and no order reserved a SKU twice.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn saga_restarted_mid_checkout_ends_like_an_uninterrupted_one(pool: PgPool) {
    let shop = Arc::new(Shop::new(pool));

    // Two-line orders; the second SKU is the scarce one, so 30 of 60 orders fit.
    let run = |skus: [&'static str; 2], crash: bool| {
        let shop = shop.clone();
        async move {
            shop.receive(skus[0], 100).await;
            shop.receive(skus[1], 30).await;
            let name = format!("checkout-{}", skus[0]);
            let (stop, task) = start(shop.saga(&name));
            let mut orders = Vec::new();
            for i in 0..60 {
                if crash && i == 20 {
                    // Once it has settled an order, so the kill finds it at work...
                    shop.until_one_settled(&orders).await;
                }
                orders.push(shop.place(&skus).await);
                if crash && i == 20 {
                    // ...and with the order just placed not acted on yet: killed where it
                    // stands, no shutdown, no last checkpoint.
                    task.abort();
                }
            }
            let (stop, task) = if crash {
                let _ = task.await;
                let pending = shop.pending(&orders[..=20]).await;
                assert!(
                    pending > 0,
                    "the saga was killed with no order of the 21 placed left to act on"
                );
                drop(stop);
                start(shop.saga(&name))
            } else {
                (stop, task)
            };
            let s = summary(&shop, &orders, skus).await;
            stop.send(true).unwrap();
            task.await.unwrap();

            // Never twice: each order reserved each SKU at most once.
            for sku in skus {
                let events = shop.inventory_events(sku).await;
                let mut seen = std::collections::HashSet::new();
                for e in events {
                    if let InventoryEvent::StockReserved { order_id, .. } = e {
                        assert!(seen.insert(order_id), "{order_id} reserved {sku} twice");
                    }
                }
            }
            s
        }
    };

    let uninterrupted = run(["CALM-A", "CALM-B"], false).await;
    let restarted = run(["CRASH-A", "CRASH-B"], true).await;
    assert_eq!(uninterrupted, (30, 30, 30, 30, vec![2]));
    assert_eq!(restarted, uninterrupted);
}

/// Commands to one hot stream from many clients are decided in batches: none is lost,
/// none conflicts, and the stream's revision counts them all.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn concurrent_commands_to_one_stream_all_land(
    options: PgPoolOptions,
    connect: PgConnectOptions,
) {
    common::on_threads(options, connect, all_land).await;
}

async fn all_land(pool: PgPool) {
    let shop = Arc::new(Shop::new(pool));
    shop.receive("HOT-1", 10_000).await;
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let shop = shop.clone();
            tokio::spawn(async move {
                let order_id = OrderId::new(Uuid::new_v4());
                shop.inventory
                    .handle(
                        "inventory-HOT-1",
                        InventoryCommand::ReserveStock {
                            sku: Sku::parse("HOT-1").unwrap(),
                            order_id,
                            quantity: 2,
                        },
                        meta(),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        let handled = t.await.unwrap().unwrap();
        assert_eq!(handled.events.len(), 1);
        assert!(handled.position.is_some());
    }
    let inv = shop.replayed("HOT-1").await;
    assert_eq!(inv.reserved(), 600);
    // A second handler (another process) sees the same state and conflicts are retried.
    let other: CommandHandler<Inventory> = CommandHandler::new(shop.store.clone(), 10);
    let (state, revision) = other.load("inventory-HOT-1").await.unwrap();
    assert_eq!(state.reserved(), 600);
    assert_eq!(revision, Some(300));
}

/// A retried command (same command id) appends nothing the second time.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_retried_command_appends_once(pool: PgPool) {
    let shop = Shop::new(pool);
    shop.receive("RETRY-1", 5).await;
    let m = meta();
    let cmd = InventoryCommand::AdjustStock {
        sku: Sku::parse("RETRY-1").unwrap(),
        warehouse: "main".into(),
        delta: 3,
        reason: "found a box".into(),
    };
    let first = shop
        .inventory
        .handle("inventory-RETRY-1", cmd.clone(), m.clone())
        .await
        .unwrap();
    // A fresh handler (no cache): the store recognises the event ids.
    let fresh: CommandHandler<Inventory> = CommandHandler::new(shop.store.clone(), 10);
    // Decided against the new state the retry would adjust again; the store refuses to
    // write the same ids twice and answers with the first append.
    let again = fresh.handle("inventory-RETRY-1", cmd, m).await.unwrap();
    assert_eq!(again.revision, first.revision);
    assert_eq!(shop.replayed("RETRY-1").await.on_hand_total(), 8);
}

/// The payment path through the saga: a declined card leaves the order payable, a good one
/// pays it, shipping commits the stock and a full refund after shipment restocks it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn pay_ship_and_refund_through_the_saga(pool: PgPool) {
    use commands::payment::{pay_order, PayError, PayOutcome, TestProvider};
    use domain::order::{ChangedBy, PaymentStatus};
    use domain::payment::Payment;

    let shop = Arc::new(Shop::new(pool));
    let (stop, saga) = start(shop.saga("checkout"));
    shop.receive("PAY-1", 5).await;
    let order = shop.place(&["PAY-1"]).await;
    assert_eq!(
        shop.settled(&[order]).await[0].0,
        OrderStatus::AwaitingPayment
    );
    let payments: CommandHandler<Payment> = CommandHandler::new(shop.store.clone(), 100);
    let provider = TestProvider::new(shop.pool.clone());

    let declined = pay_order(
        &shop.orders,
        &payments,
        &provider,
        order,
        "card",
        "tok_chargeDeclined",
        meta(),
    )
    .await
    .unwrap();
    assert!(matches!(declined, PayOutcome::Declined { ref code, .. } if code == "card_declined"));
    let stream = CommandHandler::<Order>::stream_id(order);
    let wait_for = |want: OrderStatus, pay: PaymentStatus| {
        let shop = shop.clone();
        let stream = stream.clone();
        async move {
            let deadline = Instant::now() + PATIENCE;
            loop {
                let (s, _) = shop.orders.load(&stream).await.unwrap();
                let o = s.placed.unwrap();
                if o.status == want && o.payment_status == pay {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "stuck at {:?}/{:?}",
                    o.status,
                    o.payment_status
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for(OrderStatus::AwaitingPayment, PaymentStatus::Failed).await;

    let paid = pay_order(
        &shop.orders,
        &payments,
        &provider,
        order,
        "card",
        "tok_visa",
        meta(),
    )
    .await
    .unwrap();
    assert!(matches!(paid, PayOutcome::Captured { .. }));
    wait_for(OrderStatus::Paid, PaymentStatus::Captured).await;
    let again = pay_order(
        &shop.orders,
        &payments,
        &provider,
        order,
        "card",
        "tok_visa",
        meta(),
    )
    .await;
    assert!(matches!(again, Err(PayError::NotPayable("paid"))));

    let staff = ChangedBy {
        user_id: None,
        role: "staff".into(),
    };
    shop.orders
        .handle(
            &stream,
            OrderCommand::Ship {
                tracking_number: Some("1Z999".into()),
                note: None,
                by: staff.clone(),
                at: Utc::now(),
            },
            meta(),
        )
        .await
        .unwrap();
    let sold = || async {
        let s = shop.replayed("PAY-1").await;
        (s.on_hand_total(), s.reserved(), s.sold_total())
    };
    let deadline = Instant::now() + PATIENCE;
    while sold().await != (4, 0, 1) {
        assert!(
            Instant::now() < deadline,
            "shipment never committed the stock: {:?}",
            sold().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shop.orders
        .handle(
            &stream,
            OrderCommand::Refund {
                amount: None,
                reason: "returned".into(),
                by: staff,
                at: Utc::now(),
            },
            meta(),
        )
        .await
        .unwrap();
    wait_for(OrderStatus::Refunded, PaymentStatus::Refunded).await;
    let deadline = Instant::now() + PATIENCE;
    while sold().await != (5, 0, 0) {
        assert!(
            Instant::now() < deadline,
            "the refund never restocked: {:?}",
            sold().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    saga.await.unwrap();
}

/// A reservation not paid in time is released and its order cancelled as `expired`.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn unpaid_reservations_expire(pool: PgPool) {
    let shop = Shop::new(pool);
    let mut saga = shop.saga("checkout-expiry");
    saga.reservation_ttl = Duration::from_secs(60);
    shop.receive("EXP-1", 1).await;
    let order = shop.place(&["EXP-1"]).await;
    // Drive the saga by hand over the log, as its loop would.
    let events = shop.log().await;
    for e in &events {
        saga.handle(e).await.unwrap();
    }
    let placed_stream = CommandHandler::<Order>::stream_id(order);
    let more = shop
        .store
        .read_stream(
            &placed_stream,
            ReadFrom::Revision(1),
            Direction::Forwards,
            10,
        )
        .await
        .unwrap();
    for e in &more {
        saga.handle(e).await.unwrap();
    }
    assert_eq!(shop.status(order).await.0, OrderStatus::AwaitingPayment);
    assert_eq!(shop.replayed("EXP-1").await.available(), 0);

    assert_eq!(saga.expire_due(Utc::now()).await.unwrap(), 0, "not yet due");
    assert_eq!(
        saga.expire_due(Utc::now() + chrono::Duration::minutes(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shop.status(order).await,
        (OrderStatus::Cancelled, Some(CancellationReason::Expired))
    );
    // The cancellation event releases the stock.
    let cancelled = shop
        .store
        .read_stream(&placed_stream, ReadFrom::End, Direction::Backwards, 1)
        .await
        .unwrap();
    saga.handle(&cancelled[0]).await.unwrap();
    assert_eq!(shop.replayed("EXP-1").await.available(), 1);
    assert_eq!(
        saga.expire_due(Utc::now() + chrono::Duration::minutes(5))
            .await
            .unwrap(),
        0,
        "expired once"
    );
}
