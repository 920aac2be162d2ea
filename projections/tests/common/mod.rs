//! Flows the projection tests share: orders through the real command handler, and `$all`
//! read until it shows what was appended.
#![allow(dead_code)]

use std::time::Duration;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::{EventStore, Position, RecordedEvent};
use domain::id::{OrderId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::order::{ChangedBy, Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::Sku;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn meta() -> CommandMeta {
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

/// Places an order of `quantity` mugs and reserves its stock: two events.
pub async fn place(orders: &CommandHandler<Order>, quantity: u32) -> Uuid {
    let id = Uuid::new_v4();
    let stream = CommandHandler::<Order>::stream_id(id);
    let place = PlaceOrder {
        order_id: OrderId::new(id),
        user_id: UserId::new(Uuid::new_v4()),
        lines: vec![OrderLine {
            product_id: ProductId::new(Uuid::new_v4()),
            variant_id: None,
            sku: Sku::parse("MUG-1").unwrap(),
            quantity,
            unit_price: Money::new(1250, Currency::USD),
            price_rules: Vec::new(),
            vendor_id: None,
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
        discount_over: None,
        tax: domain::order::TaxTerms {
            rate_ppm: 82500,
            inclusive: false,
        },
        shipping: Money::new(499, Currency::USD),
        shipping_method: None,
        at: Utc::now(),
    };
    orders
        .handle(&stream, OrderCommand::Place(Box::new(place)), meta())
        .await
        .unwrap();
    act(
        orders,
        id,
        OrderCommand::MarkStockReserved { at: Utc::now() },
    )
    .await;
    id
}

pub async fn act(orders: &CommandHandler<Order>, id: Uuid, command: OrderCommand) {
    orders
        .handle(&CommandHandler::<Order>::stream_id(id), command, meta())
        .await
        .unwrap();
}

/// Places an order and walks it down one of a few paths, so the log mixes every kind of
/// order event.
pub async fn order_story(orders: &CommandHandler<Order>, n: usize) {
    let id = place(orders, 1 + (n % 4) as u32).await;
    let staff = ChangedBy {
        user_id: None,
        role: "admin".into(),
    };
    match n % 5 {
        0 => {}
        1 => {
            let cmd = OrderCommand::Cancel {
                reason: domain::order::CancellationReason::Customer,
                note: Some("changed my mind".into()),
                by: staff.clone(),
                at: Utc::now(),
            };
            act(orders, id, cmd).await;
        }
        _ => {
            let amount = orders
                .load(&CommandHandler::<Order>::stream_id(id))
                .await
                .unwrap()
                .0
                .placed
                .as_ref()
                .unwrap()
                .totals
                .total;
            act(
                orders,
                id,
                OrderCommand::MarkPaid {
                    amount,
                    payment_reference: format!("pay_{n}"),
                    at: Utc::now(),
                },
            )
            .await;
            if n % 5 >= 3 {
                let cmd = OrderCommand::Ship {
                    tracking_number: Some(format!("TRK{n}")),
                    note: None,
                    by: staff.clone(),
                    at: Utc::now(),
                };
                act(orders, id, cmd).await;
            }
            if n % 5 == 4 {
                let cmd = OrderCommand::Refund {
                    amount: Some(Money::new(100, Currency::USD)),
                    reason: "scratched".into(),
                    by: staff,
                    at: Utc::now(),
                };
                act(orders, id, cmd).await;
            }
        }
    }
}

/// `$all` once it shows at least `n` events ($all shows a commit once older transactions
/// of the cluster have ended).
pub async fn all_events(store: &dyn EventStore, n: usize) -> Vec<RecordedEvent> {
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let events = store.read_all(Position::START, 100_000).await.unwrap();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("$all did not show {n} events within {PATIENCE:?}");
}

/// Waits until `projection`'s checkpoint covers every event committed so far. The head
/// of `$all` is not enough: it trails while other tests' transactions are open, so the
/// target is the last of all the events the table holds, once `$all` shows them.
pub async fn caught_up(store: &dyn EventStore, pool: &sqlx::PgPool, projection: &str) {
    let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(pool)
        .await
        .unwrap();
    let target = all_events(store, committed as usize)
        .await
        .last()
        .map_or(Position::START, |e| e.position);
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let at = projections::checkpoint::position(pool, projection)
            .await
            .unwrap();
        if at >= target {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{projection} did not catch up with {target} within {PATIENCE:?}");
}

/// Runs `test` on a runtime of four worker threads, with a pool to the test's database.
///
/// `#[sqlx::test]` runs its body on one thread, where concurrent tasks only take turns at
/// their awaits; a test whose point is a race must have them run at the same time. Take
/// the pool options `#[sqlx::test]` gives (rather than its pool) so that the pool's
/// connections belong to the runtime that uses them.
pub async fn on_threads<F, Fut>(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
    test: F,
) where
    F: FnOnce(sqlx::PgPool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let ran = tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("a multi-threaded runtime")
            .block_on(async move {
                let pool = options
                    .connect_with(connect)
                    .await
                    .expect("the test database answers");
                test(pool.clone()).await;
                // As `#[sqlx::test]` does with its own pool, so the database can be dropped.
                let _ = tokio::time::timeout(Duration::from_secs(10), pool.close()).await;
            })
    })
    .await;
    if let Err(e) = ran {
        std::panic::resume_unwind(e.into_panic());
    }
}
