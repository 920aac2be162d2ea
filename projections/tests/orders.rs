//! The orders read model against a real store: built from `$all`, applied effectively once,
//! and followed live by the runner.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position};
use domain::id::{OrderId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::Sku;
use projections::orders::OrdersProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

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

async fn place(orders: &CommandHandler<Order>) -> Uuid {
    let id = Uuid::new_v4();
    let stream = CommandHandler::<Order>::stream_id(id);
    let place = PlaceOrder {
        order_id: OrderId::new(id),
        user_id: UserId::new(Uuid::new_v4()),
        lines: vec![OrderLine {
            product_id: ProductId::new(Uuid::new_v4()),
            sku: Sku::parse("MUG-1").unwrap(),
            quantity: 3,
            unit_price: Money::new(1250, Currency::USD),
        }],
        shipping_address: serde_json::from_value(serde_json::json!({
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
        }))
        .unwrap(),
        billing_address: None,
        payment_method: "card".into(),
        notes: None,
        coupon_code: None,
        discount: Money::zero(Currency::USD),
        tax_rate_bp: 825,
        shipping: Money::new(499, Currency::USD),
        at: Utc::now(),
    };
    orders
        .handle(&stream, OrderCommand::Place(Box::new(place)), meta())
        .await
        .unwrap();
    orders
        .handle(
            &stream,
            OrderCommand::MarkStockReserved { at: Utc::now() },
            meta(),
        )
        .await
        .unwrap();
    id
}

async fn all_events(store: &dyn EventStore, n: usize) -> Vec<commands::store::RecordedEvent> {
    // $all shows a commit once older transactions of the cluster have ended.
    for _ in 0..500 {
        let events = store.read_all(Position::START, 10_000).await.unwrap();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("$all never showed {n} events");
}

/// A batch delivered twice changes nothing the second time; totals land as minor units.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn orders_are_applied_effectively_once(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let id = place(&orders).await;
    let events = all_events(&*store, 2).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    assert_eq!(runner.apply_batch(&events).await.unwrap(), 2);
    assert_eq!(
        runner.apply_batch(&events).await.unwrap(),
        0,
        "already covered by the checkpoint"
    );

    let (status, subtotal, tax, total): (String, i64, i64, i64) = sqlx::query_as(
        "select status, subtotal, tax, total from orders.orders where order_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    // 3 x 12.50 = 37.50; tax 8.25% = 3.09 (3.09375 rounded); shipping 4.99.
    assert_eq!(
        (status.as_str(), subtotal, tax, total),
        ("awaiting_payment", 3750, 309, 3750 + 309 + 499)
    );
    let history: i64 =
        sqlx::query_scalar("select count(*) from orders.order_history where order_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(history, 2);
}

/// The runner follows `$all` live from its checkpoint.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn the_runner_follows_new_orders(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let task = tokio::spawn(runner.run(stopped));
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(place(&orders).await);
    }
    let mut seen = 0i64;
    for _ in 0..500 {
        seen = sqlx::query_scalar(
            "select count(*) from orders.orders where status = 'awaiting_payment'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if seen == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen, 5);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let applied: i64 = sqlx::query_scalar(
        "select events_applied from projections.checkpoints where projection = 'orders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(applied, 10);
}
