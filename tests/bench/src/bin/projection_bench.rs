//! `projection-bench`: how fast read models are rebuilt, and how far behind the log they
//! run under a steady write load.
//!
//! ```sh
//! cargo run --release -p bench --bin projection-bench
//! ```
//!
//! 1. Fills a store of its own with a shop's mixed log through the real command handlers:
//!    categories, products (created, repriced, pictured), stock received, and order stories
//!    (placed, stock reserved, then paid, shipped, cancelled or refunded).
//! 2. Rebuild throughput: each read model rebuilt alone from the whole log (into its shadow
//!    schema and swapped in), then all of them at once; events of the log per second.
//! 3. End-to-end lag: the projections follow the store in process (the embedded feed) while
//!    writers run order stories at a steady rate; for each command, the time from its
//!    append returning to the read models covering its position (each runner announces
//!    what it has committed; looked at every millisecond):
//!    p50/p99 for the orders model and for all models. With `--nats-url`, the same again
//!    through the relay and JetStream, on a stream of its own.
//!
//! It works in a database of its own, created and dropped here.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bench::scratch::with_scratch_database;
use chrono::Utc;
use clap::Parser;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::{EventStore, Position};
use commands::{database::MIGRATOR, store::postgres::PgEventStore};
use domain::catalog::{Category, CategoryCommand, CreateProduct, Image, Product, ProductCommand};
use domain::id::{CategoryId, ImageId, OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand};
use domain::money::{Currency, Money};
use domain::order::{CancellationReason, ChangedBy, Order, OrderCommand, OrderLine, PlaceOrder};
use domain::value::{Sku, Slug};
use projections::Runner;
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Order stories in the log the rebuilds replay (about five events each).
    #[arg(long, default_value_t = 8_000)]
    stories: usize,
    /// Products in the catalog.
    #[arg(long, default_value_t = 500)]
    products: usize,
    /// Order stories per second during the lag measurement.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// How long the lag measurement runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Only these read models (comma-separated names); all of them when absent.
    #[arg(long, value_delimiter = ',')]
    models: Vec<String>,
    /// Skip the rebuild figures: fill the log, let the runners catch up, measure the lag.
    #[arg(long)]
    lag_only: bool,
    /// Also measure the lag through the relay and JetStream (`nats://127.0.0.1:4222`).
    #[arg(long)]
    nats_url: Option<String>,
}

const WRITERS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    with_scratch_database(&server, "um_projection_bench", |db| run(db, &args)).await
}

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(
        id,
        id,
        Actor {
            user_id: None,
            role: "admin".into(),
        },
        Utc::now(),
    )
}

fn fail<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

#[derive(Clone)]
struct Shop {
    orders: CommandHandler<Order>,
    inventory: CommandHandler<Inventory>,
    products: Arc<Vec<(ProductId, Sku, Money)>>,
}

impl Shop {
    /// One order's life; answers the `$all` position of its last command.
    async fn story(&self, n: usize) -> anyhow::Result<Option<Position>> {
        let (product_id, sku, price) = self.products[(n * 7919) % self.products.len()].clone();
        let order_id = OrderId::new(Uuid::new_v4());
        let stream = CommandHandler::<Order>::stream_id(order_id);
        let quantity = 1 + (n % 3) as u32;
        let place = PlaceOrder {
            order_id,
            user_id: UserId::new(Uuid::from_u128((n % 997) as u128 + 1)),
            lines: vec![OrderLine {
                product_id,
                variant_id: None,
                sku: sku.clone(),
                quantity,
                unit_price: price,
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
        let placed = self
            .orders
            .handle(&stream, OrderCommand::Place(Box::new(place)), meta())
            .await
            .map_err(fail)?;
        let total = placed
            .events
            .iter()
            .find_map(|e| match e {
                domain::order::OrderEvent::OrderPlaced { totals, .. } => Some(totals.total),
                _ => None,
            })
            .ok_or_else(|| anyhow!("no OrderPlaced"))?;
        let stock = CommandHandler::<Inventory>::stream_id(&sku);
        self.inventory
            .handle(
                &stock,
                InventoryCommand::ReserveStock {
                    sku: sku.clone(),
                    order_id,
                    quantity,
                },
                meta(),
            )
            .await
            .map_err(fail)?;
        let mut last = self
            .orders
            .handle(
                &stream,
                OrderCommand::MarkStockReserved { at: Utc::now() },
                meta(),
            )
            .await
            .map_err(fail)?
            .position;
        let staff = ChangedBy {
            user_id: None,
            role: "admin".into(),
        };
        let order = |c| self.orders.handle(&stream, c, meta());
        match n % 6 {
            0 => {
                order(OrderCommand::Cancel {
                    reason: CancellationReason::Customer,
                    note: None,
                    by: staff,
                    at: Utc::now(),
                })
                .await
                .map_err(fail)?;
                last = self
                    .inventory
                    .handle(
                        &stock,
                        InventoryCommand::ReleaseReservation { order_id },
                        meta(),
                    )
                    .await
                    .map_err(fail)?
                    .position;
            }
            1 => {}
            _ => {
                last = order(OrderCommand::MarkPaid {
                    amount: total,
                    payment_reference: format!("pay_{n}"),
                    at: Utc::now(),
                })
                .await
                .map_err(fail)?
                .position;
                if n % 6 >= 3 {
                    order(OrderCommand::Ship {
                        tracking_number: Some(format!("TRK{n}")),
                        note: None,
                        by: staff.clone(),
                        at: Utc::now(),
                    })
                    .await
                    .map_err(fail)?;
                    last = self
                        .inventory
                        .handle(
                            &stock,
                            InventoryCommand::CommitReservation { order_id },
                            meta(),
                        )
                        .await
                        .map_err(fail)?
                        .position;
                }
                if n % 6 == 5 {
                    last = order(OrderCommand::Refund {
                        amount: Some(Money::new(100, Currency::USD)),
                        reason: "scratched".into(),
                        by: staff,
                        at: Utc::now(),
                    })
                    .await
                    .map_err(fail)?
                    .position;
                }
            }
        }
        Ok(last)
    }
}

async fn catalog(store: &Arc<dyn EventStore>, products: usize) -> anyhow::Result<Shop> {
    let categories: CommandHandler<Category> = CommandHandler::new(store.clone(), 1_000);
    let catalog: CommandHandler<Product> = CommandHandler::new(store.clone(), 100_000);
    let inventory: CommandHandler<Inventory> = CommandHandler::new(store.clone(), 100_000);
    let mut category_ids = Vec::new();
    for c in 0..20 {
        let id = CategoryId::new(Uuid::new_v4());
        let parent = (c >= 5).then(|| category_ids[c % 5]);
        categories
            .handle(
                &CommandHandler::<Category>::stream_id(id),
                CategoryCommand::Create {
                    category_id: id,
                    name: format!("Category {c}"),
                    slug: Slug::parse(&format!("category-{c}"))?,
                    parent_id: parent,
                },
                meta(),
            )
            .await
            .map_err(fail)?;
        category_ids.push(id);
    }
    let mut list = Vec::new();
    for p in 0..products {
        let id = ProductId::new(Uuid::new_v4());
        let sku = Sku::parse(&format!("BENCH-{p:05}"))?;
        let stream = CommandHandler::<Product>::stream_id(id);
        let create = CreateProduct {
            product_id: id,
            sku: sku.clone(),
            name: format!("Bench product {p} stoneware mug"),
            slug: Slug::parse(&format!("bench-product-{p}"))?,
            description: Some("A sturdy mug for the long benchmark nights.".into()),
            category_id: category_ids[p % category_ids.len()],
            price: Money::new(1_000 + (p as i64 % 50) * 100, Currency::USD),
            attributes: serde_json::Map::new(),
            vendor_id: None,
            publish: true,
            seo: Default::default(),
            at: Utc::now(),
        };
        catalog
            .handle(&stream, ProductCommand::Create(Box::new(create)), meta())
            .await
            .map_err(fail)?;
        let price = Money::new(1_200 + (p as i64 % 50) * 100, Currency::USD);
        catalog
            .handle(
                &stream,
                ProductCommand::ChangePrice {
                    price,
                    at: Utc::now(),
                },
                meta(),
            )
            .await
            .map_err(fail)?;
        catalog
            .handle(
                &stream,
                ProductCommand::AddImage(Image {
                    image_id: ImageId::new(Uuid::new_v4()),
                    url: format!("https://img.example.com/{p}.jpg"),
                    alt: None,
                    position: 0,
                }),
                meta(),
            )
            .await
            .map_err(fail)?;
        let stock = CommandHandler::<Inventory>::stream_id(&sku);
        inventory
            .handle(
                &stock,
                InventoryCommand::ReceiveStock {
                    sku: sku.clone(),
                    warehouse: "main".into(),
                    quantity: 1_000_000,
                },
                meta(),
            )
            .await
            .map_err(fail)?;
        inventory
            .handle(
                &stock,
                InventoryCommand::SetLowStockThreshold { threshold: 10 },
                meta(),
            )
            .await
            .map_err(fail)?;
        list.push((id, sku, price));
    }
    Ok(Shop {
        orders: CommandHandler::new(store.clone(), 100_000),
        inventory,
        products: Arc::new(list),
    })
}

async fn stories(shop: &Shop, n: usize) -> anyhow::Result<()> {
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let shop = shop.clone();
            tokio::spawn(async move {
                for i in (w..n).step_by(WRITERS) {
                    shop.story(i).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

async fn checkpoints(pool: &PgPool) -> anyhow::Result<HashMap<String, Position>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select projection, commit_position, prepare_position from projections.checkpoints",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, c, p)| (n, Position::new(c as u64, p as u64)))
        .collect())
}

async fn run(options: PgConnectOptions, args: &Args) -> anyhow::Result<()> {
    let pool = commands::database::pool_options()
        .max_connections(32)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));

    let t = Instant::now();
    let shop = catalog(&store, args.products).await?;
    stories(&shop, args.stories).await?;
    let events = store.read_all(Position::START, usize::MAX).await?.len();
    eprintln!(
        "filled the log: {events} events in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    println!(
        "Log: {events} events ({} products, {} order stories).\n",
        args.products, args.stories
    );
    if !args.lag_only {
        rebuilds(&store, &pool, args, events).await?;
    }
    measure_lag(&store, &pool, &shop, args, None).await?;
    if let Some(url) = &args.nats_url {
        let client = async_nats::connect(url.as_str())
            .await
            .with_context(|| format!("NATS at {url}"))?;
        let js = async_nats::jetstream::new(client);
        let suffix = &Uuid::new_v4().simple().to_string()[..8];
        let config = projections::jetstream::JetStreamConfig::new(
            format!("UM_BENCH_{suffix}"),
            format!("bench_{suffix}"),
        );
        // Made here, not left to the relay's start: the probes' consumer is created on it
        // before the relay's task has run.
        projections::jetstream::ensure_stream(&js, &config).await?;
        // The relay starts at the head: the log so far is already in every read model.
        let head = store.head_position().await?;
        sqlx::query(
            "insert into projections.relay_checkpoints (relay, commit_position, prepare_position)
             values ($1, $2, $3)",
        )
        .bind(&config.stream)
        .bind(head.commit as i64)
        .bind(head.prepare as i64)
        .execute(&pool)
        .await?;
        let result = measure_lag(
            &store,
            &pool,
            &shop,
            args,
            Some((js.clone(), config.clone())),
        )
        .await;
        let _ = js.delete_stream(&config.stream).await;
        result?;
    }
    Ok(())
}

/// Each read model rebuilt alone, then all together.
async fn rebuilds(
    store: &Arc<dyn EventStore>,
    pool: &PgPool,
    args: &Args,
    events: usize,
) -> anyhow::Result<()> {
    println!("| rebuild | events | time | events/s |");
    println!("| --- | --- | --- | --- |");
    for projection in models(args) {
        let name = projection.name();
        let report =
            projections::rebuild::rebuild(store.clone(), pool, projection, &mut |_| {}).await?;
        println!(
            "| {name} alone | {} | {:.2} s | {:.0} |",
            report.events,
            report.elapsed.as_secs_f64(),
            report.events_per_second()
        );
    }
    let t = Instant::now();
    let all: Vec<_> = models(args)
        .into_iter()
        .map(|projection| {
            let (store, pool) = (store.clone(), pool.clone());
            tokio::spawn(async move {
                projections::rebuild::rebuild(store, &pool, projection, &mut |_| {}).await
            })
        })
        .collect();
    let models = all.len();
    for task in all {
        task.await??;
    }
    let wall = t.elapsed();
    println!(
        "| all {models} together | {events} each | {:.2} s | {:.0} (log events/s; {:.0} model-events/s) |",
        wall.as_secs_f64(),
        events as f64 / wall.as_secs_f64(),
        (events * models) as f64 / wall.as_secs_f64()
    );

    Ok(())
}

/// The read models `--models` names, or all of them.
fn models(args: &Args) -> Vec<Arc<dyn projections::Projection>> {
    projections::all()
        .into_iter()
        .filter(|p| args.models.is_empty() || args.models.iter().any(|m| m == p.name()))
        .collect()
}

type Feed = Option<(
    async_nats::jetstream::Context,
    projections::jetstream::JetStreamConfig,
)>;

/// Transactions committed or rolled back in this database so far, and rows written to
/// the read models' checkpoints.
async fn transactions(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "select (xact_commit + xact_rollback)::int8,
                (select coalesce(sum(n_tup_ins + n_tup_upd), 0)::int8 from pg_stat_user_tables
                  where schemaname = 'projections' and relname = 'checkpoints')
           from pg_stat_database
          where datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

/// Where the time goes before a read model sees an event: the position a plain `$all`
/// subscriber has reached (the store's visibility horizon and its tail), and, through
/// JetStream, the position of the last relay message a plain NATS subscriber received, and
/// of the last one a consumer that only acknowledges was delivered.
async fn probes(
    store: &Arc<dyn EventStore>,
    feed: &Feed,
    head: Position,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<(&'static str, tokio::sync::watch::Receiver<Position>)>> {
    use futures::StreamExt;
    let subscription = store.subscribe_all(head).await?.take_while(no_error);
    let mut probes = vec![(
        "$all subscriber (probe)",
        probe(head, subscription, stopped.clone(), |event| {
            event.as_ref().ok().map(|e| e.position)
        }),
    )];
    if let Some((js, config)) = feed {
        let messages = js.client().subscribe(config.subjects()).await?;
        probes.push((
            "relay published (probe)",
            probe(head, messages, stopped.clone(), |message| {
                relayed_position(message.headers.as_ref())
            }),
        ));
        // A consumer like a worker's that only acknowledges: JetStream's own delivery.
        let consumer = js
            .get_stream(&config.stream)
            .await?
            .create_consumer(async_nats::jetstream::consumer::pull::Config {
                ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::New,
                filter_subject: config.subjects(),
                ..Default::default()
            })
            .await?;
        let delivered = consumer
            .stream()
            .max_messages_per_batch(projections::runtime::BATCH)
            .expires(Duration::from_secs(10))
            .messages()
            .await?
            .take_while(no_error)
            .then(|message| async move {
                if let Ok(message) = &message {
                    let _ = message.ack().await;
                }
                message
            });
        probes.push((
            "JetStream consumer (probe)",
            probe(head, Box::pin(delivered), stopped, |message| {
                message
                    .as_ref()
                    .ok()
                    .and_then(|m| relayed_position(m.headers.as_ref()))
            }),
        ));
    }
    Ok(probes)
}

/// Follows `items` until `stopped` (or until they end), and answers the latest position
/// `position_of` found in them, from `head` on.
fn probe<S>(
    head: Position,
    mut items: S,
    mut stopped: tokio::sync::watch::Receiver<bool>,
    position_of: impl Fn(&S::Item) -> Option<Position> + Send + 'static,
) -> tokio::sync::watch::Receiver<Position>
where
    S: futures::Stream + Unpin + Send + 'static,
    S::Item: Send,
{
    use futures::StreamExt;
    let (seen, receiver) = tokio::sync::watch::channel(head);
    tokio::spawn(async move {
        loop {
            let item = tokio::select! {
                _ = stopped.wait_for(|s| *s) => return,
                next = items.next() => match next {
                    Some(item) => item,
                    None => return,
                },
            };
            if let Some(at) = position_of(&item) {
                projections::runtime::raise(&seen, at);
            }
        }
    });
    receiver
}

/// For `take_while`: a probe stops at its stream's first error.
fn no_error<T, E>(item: &Result<T, E>) -> std::future::Ready<bool> {
    std::future::ready(item.is_ok())
}

/// The `$all` position a relay message's headers name.
fn relayed_position(headers: Option<&async_nats::HeaderMap>) -> Option<Position> {
    headers
        .and_then(|h| h.get(projections::wire::HEADER_POSITION))
        .and_then(|p| p.as_str().parse::<Position>().ok())
}

/// Runs order stories at a steady rate while the projections follow the log (in process,
/// or through the relay and JetStream), and prints how long each command took to show.
async fn measure_lag(
    store: &Arc<dyn EventStore>,
    pool: &PgPool,
    shop: &Shop,
    args: &Args,
    feed: Feed,
) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut runners = Vec::new();
    let mut relay = None;
    let feed_name = if feed.is_some() {
        "JetStream (relay, one consumer per model)"
    } else {
        "embedded"
    };
    let mut applied = HashMap::new();
    // One announcer for all, as `ultramarket project` has.
    let announcer = projections::checkpoint::announcements::Announcer::new(pool.clone());
    for projection in models(args) {
        let runner =
            Runner::with_announcer(store.clone(), pool.clone(), projection, announcer.clone());
        applied.insert(runner.name().to_owned(), runner.applied());
        let task = match &feed {
            None => tokio::spawn(runner.run(stopped.clone())),
            Some((js, config)) => tokio::spawn(projections::jetstream::run(
                runner,
                js.clone(),
                config.clone(),
                stopped.clone(),
            )),
        };
        runners.push(task);
    }
    if let Some((js, config)) = &feed {
        let r =
            projections::relay::Relay::new(store.clone(), pool.clone(), js.clone(), config.clone());
        relay = Some(tokio::spawn(r.run(stopped.clone())));
    }
    // Writers start once every read model has the log so far.
    let head = store.head_position().await?;
    let probes = probes(store, &feed, head, stopped.clone()).await?;
    let names: Vec<&'static str> = models(args).iter().map(|p| p.name()).collect();
    loop {
        let at = checkpoints(pool).await?;
        if names.iter().all(|n| at.get(*n).is_some_and(|c| *c >= head)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let transactions_before = transactions(pool).await?;
    let (sent, mut appended) = mpsc::unbounded_channel::<(Position, Instant)>();
    let writer = {
        let shop = shop.clone();
        let (rate, seconds) = (args.rate, args.seconds);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut n = 1_000_000;
            let mut inflight = tokio::task::JoinSet::new();
            while Instant::now() < end {
                tick.tick().await;
                n += 1;
                let (shop, sent) = (shop.clone(), sent.clone());
                inflight.spawn(async move {
                    if let Some(p) = shop.story(n).await? {
                        let _ = sent.send((p, Instant::now()));
                    }
                    anyhow::Ok(())
                });
            }
            while let Some(r) = inflight.join_next().await {
                r??;
            }
            anyhow::Ok(())
        })
    };
    // What is watched: the probes, then each read model as its runner commits.
    let first_model = probes.len();
    let watched: Vec<(&str, tokio::sync::watch::Receiver<Position>)> = probes
        .into_iter()
        .chain(names.iter().map(|n| (*n, applied[*n].clone())))
        .collect();
    // Each pending command: its position, when its append returned, which of `watched`
    // already cover it, and whether its "all read models" lag is taken.
    let mut pending: VecDeque<(Position, Instant, Vec<bool>, bool)> = VecDeque::new();
    let mut lags: Vec<Vec<Duration>> = vec![Vec::new(); watched.len()];
    let mut all_lag = Vec::new();
    let mut writing = true;
    loop {
        while let Ok(item) = appended.try_recv() {
            pending.push_back((item.0, item.1, vec![false; watched.len()], false));
        }
        if writing && writer.is_finished() {
            writing = false;
        }
        if !writing && pending.is_empty() && appended.is_empty() {
            break;
        }
        let now = Instant::now();
        for (position, appended_at, seen, _) in pending.iter_mut() {
            for (i, (_, at)) in watched.iter().enumerate() {
                if !seen[i] && *at.borrow() >= *position {
                    seen[i] = true;
                    lags[i].push(now - *appended_at);
                }
            }
        }
        // Stories finish out of order: take every covered one, not only the front.
        pending.retain_mut(|(_, t, seen, taken)| {
            if !*taken && seen[first_model..].iter().all(|s| *s) {
                *taken = true;
                all_lag.push(now - *t);
            }
            !seen.iter().all(|s| *s)
        });
        if pending
            .front()
            .is_some_and(|f| f.1.elapsed() > Duration::from_secs(60))
        {
            return Err(anyhow!("a read model fell more than a minute behind"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    writer.await??;
    // The statistics reach pg_stat_database within a second or so.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (transactions, moves) = {
        let (after, moves_after) = transactions(pool).await?;
        (
            after - transactions_before.0,
            moves_after - transactions_before.1,
        )
    };
    stop.send(true)?;
    for r in runners {
        r.await??;
    }
    if let Some(relay) = relay {
        relay.await?.map_err(fail)?;
    }
    for l in &mut lags {
        l.sort();
    }
    all_lag.sort();
    println!(
        "\nEnd-to-end lag, {feed_name} feed, {} order stories/s for {} s ({} commands measured; \
         {:.1} PostgreSQL transactions per story, writers and read models, {:.1} checkpoint \
         writes):\n",
        args.rate,
        args.seconds,
        all_lag.len(),
        transactions as f64 / all_lag.len().max(1) as f64,
        moves as f64 / all_lag.len().max(1) as f64
    );
    println!("| visible in | p50 | p99 | max |");
    println!("| --- | --- | --- | --- |");
    let rows = watched
        .iter()
        .map(|(what, _)| *what)
        .zip(&lags)
        .chain([("all read models", &all_lag)]);
    for (what, l) in rows {
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.1} ms |",
            percentile(l, 0.5),
            percentile(l, 0.99),
            percentile(l, 1.0)
        );
    }
    Ok(())
}
