//! The orders read model against a real store: built from `$all`, applied effectively once,
//! and followed live by the runner.

mod common;

use std::sync::Arc;
use std::time::Duration;

use commands::handler::CommandHandler;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::order::Order;
use projections::orders::OrdersProjection;
use projections::Runner;
use sqlx::PgPool;

use common::{all_events, place};

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

/// A batch delivered twice changes nothing the second time; totals land as minor units.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn orders_are_applied_effectively_once(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let id = place(&orders, 3).await;
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
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_runner_follows_new_orders(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    // The tables exist before the first look at them.
    runner.prepare().await.unwrap();
    let task = tokio::spawn(runner.run(stopped));
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(place(&orders, 3).await);
    }
    let mut seen = 0i64;
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
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

/// Applied one event at a time or as one batch, the tables are the same: the batch folds
/// changes in memory, and must not change what they add up to.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn one_by_one_equals_one_batch(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    for n in 0..40 {
        common::order_story(&orders, n).await;
    }
    let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let events = all_events(&*store, committed as usize).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    for event in &events {
        assert_eq!(
            runner
                .apply_batch(std::slice::from_ref(event))
                .await
                .unwrap(),
            1
        );
    }
    // verify replays the log in pages of thousands: each page is one batch.
    let check = projections::rebuild::verify(store, &pool, Arc::new(OrdersProjection), &mut |_| {})
        .await
        .unwrap();
    assert!(check.matches(), "{check:?}");
    let refunded: i64 = sqlx::query_scalar("select count(*) from orders.orders where refunded > 0")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        refunded > 0,
        "the stories include refunds and paid cancellations"
    );
}

/// The payments table follows the order's payment stream: a declined card, then a capture,
/// then a partial refund.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn payments_follow_the_payment_stream(pool: PgPool) {
    use commands::payment::{pay_order, PayOutcome, TestProvider};
    use domain::id::OrderId;
    use domain::payment::Payment;

    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let payments: CommandHandler<Payment> = CommandHandler::new(store.clone(), 100);
    let id = place(&orders, 2).await;
    let provider = Arc::new(TestProvider::new(pool.clone()));
    let pay = |token: &'static str| {
        let (orders, payments, provider) = (orders.clone(), payments.clone(), provider.clone());
        async move {
            pay_order(
                &orders,
                &payments,
                &*provider,
                OrderId::new(id),
                "card",
                token,
                common::meta(),
            )
            .await
            .unwrap()
        }
    };
    assert!(matches!(
        pay("tok_chargeDeclined").await,
        PayOutcome::Declined { .. }
    ));
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner
        .apply_batch(&all_events(&*store, 3).await)
        .await
        .unwrap();
    let (status, code, attempts): (String, Option<String>, i32) = sqlx::query_as(
        "select status, error_code, attempts from orders.payments where order_id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), code.as_deref(), attempts),
        ("failed", Some("card_declined"), 1)
    );

    let PayOutcome::Captured { reference, .. } = pay("tok_visa").await else {
        panic!("tok_visa captures");
    };
    runner
        .apply_batch(&all_events(&*store, 5).await)
        .await
        .unwrap();
    let (status, transaction, amount, method, code): (String, Option<String>, i64, Option<String>, Option<String>) =
        sqlx::query_as(
            "select status, transaction_id, amount, method, error_code from orders.payments where order_id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "captured");
    assert_eq!(transaction.as_deref(), Some(reference.as_str()));
    // 2 x 12.50 + 8.25% tax (2.06) + 4.99 shipping.
    assert_eq!(amount, 2500 + 206 + 499);
    assert_eq!((method.as_deref(), code), (Some("card"), None));

    payments
        .handle(
            &CommandHandler::<Payment>::stream_id(id),
            domain::payment::PaymentCommand::Refund {
                amount: domain::money::Money::new(700, domain::money::Currency::USD),
                reason: "scratched".into(),
                at: chrono::Utc::now(),
            },
            common::meta(),
        )
        .await
        .unwrap();
    runner
        .apply_batch(&all_events(&*store, 6).await)
        .await
        .unwrap();
    let (status, refunded): (String, i64) =
        sqlx::query_as("select status, refunded from orders.payments where order_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), refunded), ("partially_refunded", 700));
}

/// A runner applies a batch after the position it last committed without reading the
/// checkpoint first. When another process moved the checkpoint meanwhile, the batch must
/// notice and skip what that process applied, not apply it a second time.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_batch_after_a_stale_position_skips_what_another_process_applied(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    place(&orders, 1).await;
    place(&orders, 2).await;
    let events = all_events(&*store, 4).await;
    let here = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let elsewhere = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let start = commands::store::Position::START;
    assert_eq!(here.apply_following(start, &events[..2]).await.unwrap(), 2);
    assert_eq!(elsewhere.apply_batch(&events).await.unwrap(), 2);
    assert_eq!(
        here.apply_following(events[1].position, &events[2..])
            .await
            .unwrap(),
        0,
        "the other process applied these"
    );
    let (applied, at): (i64, i64) = sqlx::query_as(
        "select events_applied, prepare_position from projections.checkpoints
          where projection = 'orders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((applied, at), (4, events[3].position.prepare as i64));
    let history: i64 = sqlx::query_scalar("select count(*) from orders.order_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(history, 4);
    assert_eq!(here.position(), events[3].position);
}

/// A batch may wait for its read model's lock as long as another runner's batch (or a
/// rebuild) holds it; a `statement_timeout` set for the engine's role must not turn that
/// wait into an error, which would also leave the connection in an aborted transaction.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_batch_waits_for_its_lock_past_the_statement_timeout(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    let pool = options
        .max_connections(2)
        .connect_with(connect.clone().options([("statement_timeout", "300")]))
        .await
        .unwrap();
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    place(&orders, 1).await;
    let events = all_events(&*store, 1).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner.prepare().await.unwrap();
    let mut holder = <sqlx::PgConnection as sqlx::Connection>::connect_with(&connect)
        .await
        .unwrap();
    sqlx::query("select pg_advisory_lock(hashtext('projection:orders'))")
        .execute(&mut holder)
        .await
        .unwrap();
    let batch = tokio::spawn({
        let runner = runner.clone();
        let events = events.clone();
        async move { runner.apply_batch(&events).await }
    });
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(!batch.is_finished(), "the batch should wait for the lock");
    sqlx::query("select pg_advisory_unlock(hashtext('projection:orders'))")
        .execute(&mut holder)
        .await
        .unwrap();
    assert_eq!(batch.await.unwrap().unwrap(), events.len());
    let placed: i64 = sqlx::query_scalar("select count(*) from orders.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(placed, 1);
}

/// Appends `n` events of a category the orders read model wants nothing of.
async fn unrelated(store: &dyn EventStore, n: usize) {
    let events = (0..n)
        .map(|i| commands::store::NewEvent {
            id: uuid::Uuid::new_v4(),
            event_type: "ThingNoted".into(),
            schema_version: 1,
            data: serde_json::json!({ "i": i }),
            metadata: serde_json::json!({}),
        })
        .collect();
    store
        .append(
            &format!("thing-{}", uuid::Uuid::new_v4()),
            commands::store::ExpectedVersion::NoStream,
            events,
        )
        .await
        .unwrap();
}

async fn checkpoint_row(pool: &PgPool) -> (i64, commands::store::Position) {
    let (applied, commit, prepare): (i64, i64, i64) = sqlx::query_as(
        "select events_applied, commit_position, prepare_position from projections.checkpoints
          where projection = 'orders'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let at = commands::store::Position {
        commit: commit as u64,
        prepare: prepare as u64,
    };
    (applied, at)
}

/// A store holding three events the orders read model wants nothing of, then an order's
/// two: the five events, as `$all` shows them.
async fn unrelated_then_an_order(
    pool: &PgPool,
) -> (Arc<dyn EventStore>, Vec<commands::store::RecordedEvent>) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    unrelated(&*store, 3).await;
    place(&orders, 1).await;
    let events = all_events(&*store, 5).await;
    (store, events)
}

/// Events a read model wants nothing of move its position at once and its checkpoint
/// with the next batch it wants (or when the held move falls due); the checkpoint's
/// tally counts them either way.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn passed_over_events_move_the_checkpoint_with_the_next_wanted_batch(pool: PgPool) {
    let (store, events) = unrelated_then_an_order(&pool).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let start = commands::store::Position::START;
    assert_eq!(
        runner.apply_following(start, &events[..3]).await.unwrap(),
        3
    );
    assert_eq!(runner.position(), events[2].position, "passed over at once");
    assert_eq!(
        runner
            .apply_following(events[2].position, &events[3..])
            .await
            .unwrap(),
        2
    );
    assert_eq!(checkpoint_row(&pool).await, (5, events[4].position));
    assert_eq!(runner.checkpoint_due(), None, "nothing held any more");

    // Held alone, the move is made when flushed.
    unrelated(&*store, 2).await;
    let more = all_events(&*store, 7).await;
    assert_eq!(
        runner
            .apply_following(events[4].position, &more[5..])
            .await
            .unwrap(),
        2
    );
    runner.flush_checkpoint().await.unwrap();
    assert_eq!(checkpoint_row(&pool).await, (7, more[6].position));
}

/// A held move that another process overtook is dropped, and what that process applied
/// is not applied again.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_held_move_overtaken_by_another_process_changes_nothing(pool: PgPool) {
    let (store, events) = unrelated_then_an_order(&pool).await;
    let here = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let elsewhere = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    let start = commands::store::Position::START;
    assert_eq!(here.apply_following(start, &events[..3]).await.unwrap(), 3);
    assert_eq!(elsewhere.apply_batch(&events).await.unwrap(), 5);
    here.flush_checkpoint().await.unwrap();
    assert_eq!(checkpoint_row(&pool).await, (5, events[4].position));
    assert_eq!(
        here.apply_following(events[2].position, &events[3..])
            .await
            .unwrap(),
        0,
        "the other process applied these"
    );
    let history: i64 = sqlx::query_scalar("select count(*) from orders.order_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(history, 2);
    assert_eq!(checkpoint_row(&pool).await, (5, events[4].position));
}

/// A runner following `$all` whose last events are all passed over still brings its
/// checkpoint to the head, with no later event to carry the move.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_runner_moves_a_held_checkpoint_when_no_batch_follows(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner.prepare().await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(runner.clone().run(stopped));
    place(&orders, 1).await;
    common::caught_up(&*store, &pool, "orders").await;
    unrelated(&*store, 4).await;
    let events = all_events(&*store, 6).await;
    tokio::time::timeout(PATIENCE, async {
        while checkpoint_row(&pool).await.1 < events[5].position {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the held checkpoint move was never made");
    assert_eq!(checkpoint_row(&pool).await.0, 6);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}
