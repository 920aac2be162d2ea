//! Rebuilds, verification and poison events, against a real PostgreSQL store.

mod common;

use std::sync::Arc;

use commands::handler::CommandHandler;
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use domain::order::Order;
use projections::orders::OrdersProjection;
use projections::rebuild::{checksums, rebuild, verify};
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

use common::{all_events, caught_up, order_story, place, PATIENCE};

/// Awaits one phase of a long test, failing by the phase's name if it hangs: a stuck rebuild
/// (a lock it never gets, a swap that waits on the live runner) then reads as which step
/// stuck, not as a test binary that never ends.
async fn phase<T>(name: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, work)
        .await
        .unwrap_or_else(|_| panic!("phase `{name}` did not end within {PATIENCE:?}"))
}

async fn fingerprint(pool: &PgPool) -> Vec<projections::rebuild::TableChecksum> {
    let mut conn = pool.acquire().await.unwrap();
    checksums(&mut conn, "orders", &[]).await.unwrap()
}

/// Appends `n` order stories from 8 concurrent writers.
async fn stories(orders: &CommandHandler<Order>, from: usize, n: usize) {
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let orders = orders.clone();
            tokio::spawn(async move {
                for i in (from + w..from + n).step_by(8) {
                    order_story(&orders, i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// A rebuild replays thousands of mixed events into a shadow schema while the live model
/// serves and new orders keep coming, swaps it in, and ends identical row for row to a
/// build that followed the log live.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_rebuild_equals_the_live_build_row_for_row(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    // On several threads: the rebuild races live writes and reads.
    common::on_threads(options, connect, rebuild_beside_live_traffic).await;
}

async fn rebuild_beside_live_traffic(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 10_000);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = tokio::spawn(
        Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection)).run(stopped),
    );
    phase("the first 1,000 stories", stories(&orders, 0, 1_000)).await;
    caught_up(&*store, &pool, "orders").await;
    let before = fingerprint(&pool).await;
    assert!(before
        .iter()
        .any(|t| t.table == "orders" && t.rows == 1_000));
    assert!(
        before
            .iter()
            .find(|t| t.table == "order_history")
            .unwrap()
            .rows
            > 2_500,
        "a log of a few thousand events: {before:?}"
    );

    // Nothing new: the rebuild reproduces the live tables exactly.
    let report = phase(
        "the quiet rebuild",
        rebuild(
            store.clone(),
            &pool,
            Arc::new(OrdersProjection),
            &mut |_| {},
        ),
    )
    .await
    .unwrap();
    assert_eq!(fingerprint(&pool).await, before);
    let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(report.events, committed as u64);

    // With writes and reads during the rebuild, the swapped-in model goes on live and a
    // fresh replay still matches it.
    let writes = {
        let orders = orders.clone();
        tokio::spawn(async move { stories(&orders, 1_000, 200).await })
    };
    let reads = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut answered = 0;
            for _ in 0..200 {
                let n: i64 = sqlx::query_scalar("select count(*) from orders.orders")
                    .fetch_one(&pool)
                    .await
                    .expect("the live tables serve during a rebuild");
                assert!(n >= 1_000);
                answered += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            answered
        })
    };
    phase(
        "the rebuild beside writes and reads",
        rebuild(
            store.clone(),
            &pool,
            Arc::new(OrdersProjection),
            &mut |_| {},
        ),
    )
    .await
    .unwrap();
    phase("the writes during the rebuild", writes)
        .await
        .unwrap();
    assert_eq!(
        phase("the reads during the rebuild", reads).await.unwrap(),
        200
    );
    caught_up(&*store, &pool, "orders").await;
    let count: i64 = sqlx::query_scalar("select count(*) from orders.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1_200, "the runner went on after the swap");
    let check = phase(
        "the verification",
        verify(
            store.clone(),
            &pool,
            Arc::new(OrdersProjection),
            &mut |_| {},
        ),
    )
    .await
    .unwrap();
    assert!(check.matches(), "{check:?}");

    stop.send(true).unwrap();
    phase("the live runner's stop", live)
        .await
        .unwrap()
        .unwrap();
}

/// Verification notices a live table that no longer matches the log.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn verify_finds_a_tampered_row(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let id = place(&orders, 2).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner
        .apply_batch(&all_events(&*store, 2).await)
        .await
        .unwrap();
    let ok = verify(
        store.clone(),
        &pool,
        Arc::new(OrdersProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(ok.matches());
    sqlx::query("update orders.orders set total = total + 1 where order_id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let bad = verify(
        store.clone(),
        &pool,
        Arc::new(OrdersProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(!bad.matches());
    let differ: Vec<_> = bad
        .live
        .as_ref()
        .unwrap()
        .iter()
        .zip(&bad.replayed)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.table.as_str())
        .collect();
    assert_eq!(differ, ["orders"]);
    let leftover: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_namespace where nspname = 'orders__verify')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!leftover, "the scratch schema is dropped");
}

/// An event the projection cannot apply is parked with its error after a few attempts;
/// the events after it are applied and the checkpoint moves past it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_poison_event_is_parked_and_the_rest_go_on(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let first = place(&orders, 1).await;
    // Well-formed JSON the order projection cannot decode: an OrderPaid without its fields.
    let poison = Uuid::new_v4();
    store
        .append(
            &format!("order-{}", Uuid::new_v4()),
            ExpectedVersion::Any,
            vec![NewEvent {
                id: poison,
                event_type: "OrderPaid".into(),
                schema_version: 1,
                data: serde_json::json!({"amount": "lots"}),
                metadata: serde_json::json!({}),
            }],
        )
        .await
        .unwrap();
    let second = place(&orders, 1).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = tokio::spawn(
        Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection)).run(stopped),
    );
    caught_up(&*store, &pool, "orders").await;
    let placed: Vec<Uuid> = sqlx::query_scalar("select order_id from orders.orders")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(placed.contains(&first) && placed.contains(&second));
    let (event_id, error, attempts): (Uuid, String, i32) = sqlx::query_as(
        "select event_id, error, attempts from projections.parked where projection = 'orders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((event_id, attempts), (poison, 3));
    assert!(error.contains("OrderPaid"), "{error}");
    let lag = projections::status::refresh(&*store, &pool, "orders")
        .await
        .unwrap();
    assert_eq!((lag.events, lag.parked), (0, 1));
    // A relay that has published nothing yet is behind by the whole log.
    sqlx::query(
        "insert into projections.relay_checkpoints (relay, commit_position, prepare_position)
         values ('TEST', 0, 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let relays = projections::status::refresh_relays(&*store, &pool)
        .await
        .unwrap();
    assert_eq!(relays, vec![("TEST".to_owned(), committed as u64)]);

    stop.send(true).unwrap();
    live.await.unwrap().unwrap();
}

/// Tables made from other DDL than the code's are rebuilt when the runner starts.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn outdated_tables_are_rebuilt_at_start(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let id = place(&orders, 1).await;
    Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection))
        .apply_batch(&all_events(&*store, 2).await)
        .await
        .unwrap();
    // An older release's tables: a column the code no longer has, a row it would not write.
    sqlx::query("alter table orders.orders add column legacy text")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "update projections.checkpoints set tables_md5 = 'old' where projection = 'orders'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner.prepare().await.unwrap();
    let legacy: bool = sqlx::query_scalar(
        "select exists (select 1 from information_schema.columns
          where table_schema = 'orders' and table_name = 'orders' and column_name = 'legacy')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!legacy, "the tables were remade from the code's DDL");
    let status: String = sqlx::query_scalar("select status from orders.orders where order_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "awaiting_payment");
    let md5: String = sqlx::query_scalar(
        "select tables_md5 from projections.checkpoints where projection = 'orders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(md5.len(), 32);
}

/// Staff's actions on a parked event (`runtime::parked`): a retry the read model refuses
/// again keeps it parked with one more attempt; skipped, a rebuild parks it again;
/// discarded, a rebuild drops it without parking it. Each action is recorded.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn parked_events_are_retried_skipped_and_discarded(pool: PgPool) {
    use projections::runtime::parked::{self, Action, Actor, Outcome};

    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    place(&orders, 1).await;
    let poison = Uuid::new_v4();
    store
        .append(
            &format!("order-{}", Uuid::new_v4()),
            ExpectedVersion::Any,
            vec![NewEvent {
                id: poison,
                event_type: "OrderPaid".into(),
                schema_version: 1,
                data: serde_json::json!({"amount": "lots"}),
                metadata: serde_json::json!({}),
            }],
        )
        .await
        .unwrap();
    // `$all` shows a commit once the cluster's older transactions have ended.
    let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let log = all_events(&*store, committed as usize).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(OrdersProjection));
    runner.apply_until_parked(&log).await.unwrap();
    let parked_now = || async { parked::list(&pool, Some("orders"), 10, 0).await.unwrap() };
    let (items, total) = parked_now().await;
    assert_eq!(total, 1);
    let first = items[0].clone();
    assert_eq!(first.event_id, poison);
    let by = |reason: &str| Actor {
        user_id: Some(Uuid::new_v4()),
        role: "staff".into(),
        reason: reason.into(),
        correlation_id: None,
    };

    // A retry while the cause stands: refused again, still parked, one more attempt.
    let event = log.into_iter().find(|e| e.id == poison).unwrap();
    let outcome = parked::retry(
        &pool,
        &OrdersProjection,
        first.parked_id,
        &event,
        &by("too soon"),
    )
    .await
    .unwrap();
    assert!(
        matches!(outcome, Some(Outcome::Failed(ref e)) if e.contains("OrderPaid")),
        "{outcome:?}"
    );
    let (items, _) = parked_now().await;
    assert_eq!(items[0].attempts, 4);

    // Skipped: the park ends, and a rebuild parks it again.
    let skipped = parked::set_aside(&pool, first.parked_id, Action::Skip, &by("later"))
        .await
        .unwrap();
    assert_eq!(skipped, Some(Outcome::Skipped));
    assert_eq!(parked_now().await.1, 0);
    assert_eq!(
        parked::set_aside(&pool, first.parked_id, Action::Skip, &by("twice"))
            .await
            .unwrap(),
        None,
        "no longer parked"
    );
    phase(
        "rebuild after a skip",
        rebuild(
            store.clone(),
            &pool,
            Arc::new(OrdersProjection),
            &mut |_| {},
        ),
    )
    .await
    .unwrap();
    let (items, total) = parked_now().await;
    assert_eq!(total, 1, "a skipped event is tried again by a rebuild");
    let again = items[0].clone();
    assert_eq!(again.event_id, poison);

    // Discarded: the park ends, and a rebuild drops it without parking it.
    let discarded = parked::set_aside(&pool, again.parked_id, Action::Discard, &by("bad data"))
        .await
        .unwrap();
    assert_eq!(discarded, Some(Outcome::Discarded));
    phase(
        "rebuild after a discard",
        rebuild(
            store.clone(),
            &pool,
            Arc::new(OrdersProjection),
            &mut |_| {},
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        parked_now().await.1,
        0,
        "a discarded event is not parked again"
    );
    let placed: i64 = sqlx::query_scalar("select count(*) from orders.orders")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(placed, 1, "the rest of the log is applied");

    let (actions, total) = parked::actions(&pool, 10, 0).await.unwrap();
    assert_eq!(total, 3);
    let recorded: Vec<(&str, &str, &str)> = actions
        .iter()
        .map(|a| (a.action.as_str(), a.outcome.as_str(), a.reason.as_str()))
        .collect();
    assert_eq!(
        recorded,
        [
            ("discard", "discarded", "bad data"),
            ("skip", "skipped", "later"),
            ("retry", "failed", "too soon"),
        ]
    );
}
