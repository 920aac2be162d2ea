//! `command-bench`: commands end to end through the checkout saga.
//!
//! ```sh
//! cargo run --release -p bench --bin command-bench
//! ```
//!
//! 1. Place-order throughput: 16 clients place one-line orders over 1,000 SKUs; each order
//!    is timed from `PlaceOrder` until the saga has reserved its stock (`awaiting_payment`).
//! 2. The hot-SKU flash sale: 16 clients reserve one SKU through the command handler
//!    (reservations/s, p50/p99), beside the plain load-decide-append loop with optimistic
//!    retry on the same rules, in the same run.
//!
//! It works in a database of its own, created and dropped here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::scratch::with_scratch_database;
use chrono::Utc;
use clap::Parser;
use commands::checkout::Checkout;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::{Direction, EventStore, ExpectedVersion, NewEvent, ReadFrom, StoreError};
use commands::{database::MIGRATOR, store::postgres::PgEventStore};
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand, InventoryState};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderLine, OrderStatus, PlaceOrder};
use domain::value::Sku;
use domain::{Aggregate, DomainEvent};
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Orders placed in the throughput run.
    #[arg(long, default_value_t = 4_000)]
    orders: usize,
    /// Reservations in each flash-sale run.
    #[arg(long, default_value_t = 4_000)]
    reservations: usize,
}

const CLIENTS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    with_scratch_database(&server, "um_command_bench", |db| run(db, &args)).await
}

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

fn percentiles(mut l: Vec<Duration>) -> String {
    l.sort();
    let at = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    format!(
        "{:.1} / {:.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    )
}

async fn run(options: PgConnectOptions, args: &Args) -> anyhow::Result<()> {
    let pool = commands::database::pool_options()
        .max_connections(24)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100_000);
    let inventory: CommandHandler<Inventory> = CommandHandler::new(store.clone(), 100_000);

    for i in 0..1_000 {
        let sku = Sku::parse(&format!("BENCH-{i:04}"))?;
        inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(&sku),
                InventoryCommand::ReceiveStock {
                    sku: sku.clone(),
                    warehouse: "main".into(),
                    quantity: 1_000_000,
                },
                meta(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    println!("| scenario | rate | p50 / p99 |");
    println!("| --- | --- | --- |");

    // 1. Place-order through the saga.
    let saga = Checkout::new(
        store.clone(),
        pool.clone(),
        orders.clone(),
        inventory.clone(),
        Duration::from_secs(900),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let saga_task = tokio::spawn(saga.run(stopped));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let orders = orders.clone();
            let n = args.orders;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (c..n).step_by(CLIENTS) {
                    let t = Instant::now();
                    let order_id = OrderId::new(Uuid::new_v4());
                    let stream = CommandHandler::<Order>::stream_id(order_id);
                    let place = PlaceOrder {
                        order_id,
                        user_id: UserId::new(Uuid::new_v4()),
                        lines: vec![OrderLine {
                            product_id: ProductId::new(Uuid::new_v4()),
                            variant_id: None,
                            sku: Sku::parse(&format!("BENCH-{:04}", (i * 7919) % 1_000))?,
                            quantity: 1,
                            unit_price: Money::new(2_500, Currency::USD),
                            price_rules: Vec::new(),
                            vendor_id: None,
                        }],
                        shipping_address: serde_json::from_value(serde_json::json!({
                            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
                        }))?,
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
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    // Until the saga has reserved the stock.
                    loop {
                        let (state, _) = orders.load(&stream).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                        if state.placed.is_some_and(|o| o.status != OrderStatus::Pending) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed();
    println!(
        "| place-order → stock reserved by the saga, 16 clients, 1,000 SKUs ({} orders) | {:.0} orders/s | {} |",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentiles(latencies)
    );
    stop.send(true)?;
    saga_task.await??;

    // 2. The hot SKU: the batching handler.
    let hot = Sku::parse("HOT-HANDLER")?;
    let hot_stream = CommandHandler::<Inventory>::stream_id(&hot);
    inventory
        .handle(
            &hot_stream,
            InventoryCommand::ReceiveStock {
                sku: hot.clone(),
                warehouse: "main".into(),
                quantity: 1_000_000,
            },
            meta(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let inventory = inventory.clone();
            let hot = hot.clone();
            let hot_stream = hot_stream.clone();
            let n = args.reservations;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for _ in (c..n).step_by(CLIENTS) {
                    let t = Instant::now();
                    let cmd = InventoryCommand::ReserveStock {
                        sku: hot.clone(),
                        order_id: OrderId::new(Uuid::new_v4()),
                        quantity: 1,
                    };
                    inventory
                        .handle(&hot_stream, cmd, meta())
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed();
    println!(
        "| hot-SKU flash sale, command handler (batched per stream), 16 clients | {:.0} reservations/s | {} |",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentiles(latencies)
    );

    // 2b. The same with the plain loop: load, decide, append at that version, retry.
    let plain_stream = "inventory-HOT-PLAIN".to_owned();
    let plain_sku = Sku::parse("HOT-PLAIN")?;
    let received = Inventory::decide(
        &InventoryState::default(),
        &InventoryCommand::ReceiveStock {
            sku: plain_sku.clone(),
            warehouse: "main".into(),
            quantity: 1_000_000,
        },
    )?;
    store
        .append(&plain_stream, ExpectedVersion::NoStream, to_new(&received))
        .await?;
    let conflicts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let store = store.clone();
            let sku = plain_sku.clone();
            let stream = plain_stream.clone();
            let conflicts = conflicts.clone();
            let n = args.reservations / 4;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for _ in (c..n).step_by(CLIENTS) {
                    let t = Instant::now();
                    let cmd = InventoryCommand::ReserveStock {
                        sku: sku.clone(),
                        order_id: OrderId::new(Uuid::new_v4()),
                        quantity: 1,
                    };
                    loop {
                        let events = store
                            .read_stream(&stream, ReadFrom::End, Direction::Forwards, usize::MAX)
                            .await?;
                        let mut state = InventoryState::default();
                        let mut revision = 0;
                        for e in &events {
                            let ev = <Inventory as Aggregate>::Event::from_data(
                                &e.event_type,
                                e.schema_version,
                                e.data.clone(),
                            )?;
                            state = Inventory::evolve(state, &ev);
                            revision = e.revision;
                        }
                        let new = Inventory::decide(&state, &cmd)?;
                        match store
                            .append(&stream, ExpectedVersion::Exact(revision), to_new(&new))
                            .await
                        {
                            Ok(_) => break,
                            Err(StoreError::WrongExpectedVersion { .. }) => {
                                conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed();
    println!(
        "| hot-SKU flash sale, plain load-decide-append with retry, 16 clients ({} conflicts) | {:.0} reservations/s | {} |",
        conflicts.load(std::sync::atomic::Ordering::Relaxed),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentiles(latencies)
    );
    pool.close().await;
    Ok(())
}

fn to_new(events: &[<Inventory as Aggregate>::Event]) -> Vec<NewEvent> {
    events
        .iter()
        .map(|e| NewEvent {
            id: Uuid::new_v4(),
            event_type: e.event_type().into(),
            schema_version: e.schema_version(),
            data: e.to_data(),
            metadata: serde_json::json!({}),
        })
        .collect()
}
