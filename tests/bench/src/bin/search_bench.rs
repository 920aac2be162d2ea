//! `search-bench`: search (ADR 0007) at 10k products under a closed-loop load: plain
//! product search, faceted search, suggestions and product by id, side by side in one run.
//!
//! ```sh
//! cargo run --release -p bench --bin search-bench                 # about 2 minutes
//! cargo run --release -p bench --bin search-bench -- --seconds 3  # smoke run
//! ```
//!
//! It creates a database of its own (dropped at the end), builds the real `Application` in
//! process (projections running, rate limit off), seeds the demo catalog and then
//! `--products` minus its 300 more products through the command handler, in the demo's
//! categories, each with a brand (of 20), a colour (of 12), a material (of 8) and a model
//! (of `--models`, default 3,000 distinct values), and waits for the catalog read model.
//! Each scenario then keeps `--connections` clients busy (one keep-alive connection each,
//! a minimal HTTP/1.1 client as in `gateway-bench`), in `--rounds` turns taken in
//! rotation after a `--warmup`. The load generator shares the cores with the server and
//! PostgreSQL: the rates are what the machine does as a whole.
//!
//! Every route goes through the catalog's answer cache (about a second), as in production;
//! the bench's random terms, brands, colours, prefixes and ids keep most answers uncached.
//! The catalog's tables are analysed once seeded, as autovacuum would within a minute.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::scratch::with_scratch_database;
use chrono::Utc;
use clap::Parser;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use gateway::config::{Config, Secret};
use gateway::seed::{seed_demo, DemoCatalog};
use gateway::startup::Application;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use tokio::sync::oneshot;
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Search at 10k products: plain, faceted, suggestions, product by id")]
struct Args {
    /// The PostgreSQL server; the bench creates and drops a database of its own on it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Products in the catalog, the demo's 300 included.
    #[arg(long, default_value_t = 10_000)]
    products: usize,
    /// Distinct values of the `model` attribute.
    #[arg(long, default_value_t = 3_000)]
    models: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// Unmeasured seconds before each turn's measurement.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Turns each scenario's seconds are split into, taken in rotation.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Concurrent clients, one keep-alive connection each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
}

/// Words of product names: each search term matches about a twelfth of the bulk products.
const TERMS: [&str; 12] = [
    "skillet",
    "jacket",
    "lamp",
    "headphones",
    "tent",
    "kettle",
    "tee",
    "shoe",
    "charger",
    "thermostat",
    "backpack",
    "grinder",
];
const STYLES: [&str; 6] = ["Classic", "Compact", "Deluxe", "Travel", "Pro", "Everyday"];
const BRANDS: [&str; 20] = [
    "Acme", "Borealis", "Cobalt", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pioneer", "Quartz", "Ridge", "Summit",
    "Tundra",
];
const COLOURS: [&str; 12] = [
    "black", "white", "red", "blue", "green", "grey", "navy", "olive", "sand", "teal", "rust",
    "plum",
];
const MATERIALS: [&str; 8] = [
    "steel",
    "cotton",
    "wool",
    "nylon",
    "leather",
    "bamboo",
    "glass",
    "aluminium",
];
/// What shoppers type: two to four letters of names, brands and categories.
const PREFIXES: [&str; 24] = [
    "sk", "jac", "la", "head", "te", "ket", "sh", "cha", "ther", "back", "gri", "cl", "de", "pro",
    "ac", "bo", "co", "em", "gr", "me", "su", "ki", "out", "ho",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,sqlx=error".into()),
        )
        .init();
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    with_scratch_database(&server, "um_search_bench", |db| async move {
        run(db.to_url_lossy().as_ref(), &args).await
    })
    .await
}

async fn run(database_url: &str, args: &Args) -> anyhow::Result<()> {
    let jwt_secret = Secret::random();
    let config = Config::from_args_ignoring_env([
        "ultramarket",
        "--database-url",
        database_url,
        "--bind",
        "127.0.0.1:0",
        "--rate-limit-per-minute",
        "0",
        "--jwt-secret",
        jwt_secret.expose(),
    ])?;
    let app = Application::build(config)
        .await?
        .with_process_managers()
        .with_projections();
    let state = app.state().clone();
    let addr = app.local_addr();
    let (stop_engine, engine_stopped) = oneshot::channel::<()>();
    let engine = tokio::spawn(app.run_until_stopped(async {
        let _ = engine_stopped.await;
    }));

    let started = Instant::now();
    let seeded = seed_demo(&state).await?;
    let catalog = DemoCatalog::new();
    let leaves: Vec<Uuid> = catalog
        .categories
        .iter()
        .filter(|c| c.parent_id.is_some())
        .map(|c| c.id)
        .collect();
    let mut ids: Vec<Uuid> = catalog.products.iter().map(|p| p.id).collect();
    let bulk = args.products.saturating_sub(ids.len());
    let mut last = seeded.position;
    let handlers = state.handlers.clone();
    for chunk in (0..bulk).collect::<Vec<_>>().chunks(64) {
        let made = futures::future::join_all(chunk.iter().map(|&i| {
            let handlers = handlers.clone();
            let category = leaves[i % leaves.len()];
            let models = args.models;
            async move {
                let id = Uuid::new_v4();
                let mut attributes = Map::new();
                attributes.insert("brand".into(), json!(BRANDS[i % BRANDS.len()]));
                attributes.insert("colour".into(), json!(COLOURS[(i / 3) % COLOURS.len()]));
                attributes.insert(
                    "material".into(),
                    json!(MATERIALS[(i / 7) % MATERIALS.len()]),
                );
                attributes.insert("model".into(), json!(format!("M-{:05}", i % models)));
                let name = format!(
                    "{} {} {}",
                    STYLES[(i / 12) % STYLES.len()],
                    TERMS[i % TERMS.len()],
                    i
                );
                let handled = handlers
                    .products
                    .handle(
                        &CommandHandler::<Product>::stream_id(id),
                        ProductCommand::Create(Box::new(CreateProduct {
                            product_id: ProductId::new(id),
                            sku: Sku::parse(&format!("BULK-{i:06}"))?,
                            name,
                            slug: Slug::parse(&format!("bulk-{i}"))?,
                            description: Some("A bench product.".into()),
                            category_id: CategoryId::new(category),
                            price: Money::new(500 + (i as i64 * 37) % 60_000, Currency::USD),
                            attributes,
                            vendor_id: None,
                            publish: true,
                            seo: Default::default(),
                            at: Utc::now(),
                        })),
                        CommandMeta::new(id, id, Actor::system(), Utc::now()),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("create a bench product: {e}"))?;
                anyhow::Ok((id, handled.position))
            }
        }))
        .await;
        for m in made {
            let (id, position) = m?;
            ids.push(id);
            last = last.max(position);
        }
    }
    let seeding = started.elapsed();
    let position = last.context("the seed appended nothing")?;
    let caught_started = Instant::now();
    loop {
        if projections::checkpoint::position(&state.pool, "catalog").await? >= position {
            break;
        }
        anyhow::ensure!(
            caught_started.elapsed() < Duration::from_secs(600),
            "the catalog did not catch up within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caught_up = caught_started.elapsed();
    // What autovacuum does within a minute of a bulk load: without statistics the planner
    // takes a facet filter for one row and joins two filters in a nested loop (147 ms
    // against 2 ms for a filtered search, measured with EXPLAIN ANALYZE).
    for table in [
        "catalog.products",
        "catalog.product_search",
        "catalog.product_facets",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("analyze {table}")))
            .execute(&state.pool)
            .await?;
    }
    let (facet_rows, distinct): (i64, i64) =
        sqlx::query_as("select count(*), count(distinct (key, value)) from catalog.product_facets")
            .fetch_one(&state.pool)
            .await?;
    println!(
        "search-bench: {} products ({} facet rows, {} distinct facet values) seeded in {:.1} s, \
         catalog caught up in {:.1} s; {} connections, {} s measured per scenario in {} turns \
         (each after {} s warm-up)\n",
        ids.len(),
        facet_rows,
        distinct,
        seeding.as_secs_f64(),
        caught_up.as_secs_f64(),
        args.connections,
        args.seconds,
        args.rounds,
        args.warmup,
    );

    let ids = Arc::new(ids);
    let mut scenarios = vec![
        Scenario::new(
            "product search (`GET /products/search?q=`, random of 12 terms)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                format!("/api/v1/products/search?q={q}")
            }),
        ),
        Scenario::new(
            "faceted search (`GET /search?q=`, facets of the whole result)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                format!("/api/v1/search?q={q}")
            }),
        ),
        Scenario::new(
            "faceted search, filtered (`GET /search?q=&brand=&attr.colour=`)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                let b = BRANDS[rng.random_range(0..BRANDS.len())];
                let c = COLOURS[rng.random_range(0..COLOURS.len())];
                format!("/api/v1/search?q={q}&brand={b}&attr.colour={c}")
            }),
        ),
        Scenario::new(
            "faceted browse, no q (`GET /search`, all 10k products)",
            Arc::new(|_: &mut StdRng| "/api/v1/search".to_owned()),
        ),
        Scenario::new(
            "suggestions (`GET /search/suggestions?q=`, random of 24 prefixes)",
            Arc::new(|rng: &mut StdRng| {
                let q = PREFIXES[rng.random_range(0..PREFIXES.len())];
                format!("/api/v1/search/suggestions?q={q}")
            }),
        ),
        Scenario::new("product by id (`GET /products/:id`, random of all)", {
            let ids = ids.clone();
            Arc::new(move |rng: &mut StdRng| {
                let id = ids[rng.random_range(0..ids.len())];
                format!("/api/v1/products/{id}")
            })
        }),
    ];
    let slice = Duration::from_secs_f64(args.seconds as f64 / args.rounds as f64);
    for _ in 0..args.rounds {
        for s in &mut scenarios {
            s.run(args, addr, slice).await;
        }
    }

    println!("| scenario | req/s | p50 | p99 | errors |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for s in &mut scenarios {
        s.latencies.sort_unstable();
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            s.name,
            s.rate(),
            ms(s.quantile(0.50)),
            ms(s.quantile(0.99)),
            s.errors
        );
    }
    let (suggest, by_id) = (&scenarios[4], &scenarios[5]);
    let met = suggest.rate() >= by_id.rate() && suggest.quantile(0.5) <= by_id.quantile(0.5);
    println!(
        "\nsuggestions / product by id: {:.2}x the rate, p50 {:.2} vs {:.2} ms (target: at least \
         as fast) {}",
        suggest.rate() / by_id.rate(),
        ms(suggest.quantile(0.5)),
        ms(by_id.quantile(0.5)),
        if met { "met" } else { "NOT met" }
    );
    let _ = stop_engine.send(());
    engine.await??;
    Ok(())
}

/// Makes the next request's path from the worker's random source.
type PathFn = dyn Fn(&mut StdRng) -> String + Send + Sync + 'static;

/// One scenario's results, added up over its turns.
struct Scenario {
    name: &'static str,
    path: Arc<PathFn>,
    latencies: Vec<Duration>,
    errors: usize,
    measured: Duration,
}

impl Scenario {
    fn new(name: &'static str, path: Arc<PathFn>) -> Self {
        Scenario {
            name,
            path,
            latencies: Vec::new(),
            errors: 0,
            measured: Duration::ZERO,
        }
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.measured.as_secs_f64()
    }

    /// Of the sorted latencies.
    fn quantile(&self, q: f64) -> Duration {
        let n = self.latencies.len();
        self.latencies
            .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    /// Keeps every connection busy for the warm-up, then for `measured`.
    async fn run(&mut self, args: &Args, addr: SocketAddr, measured: Duration) {
        let warm_until = Instant::now() + Duration::from_secs(args.warmup);
        let end = warm_until + measured;
        let mut workers = tokio::task::JoinSet::new();
        for n in 0..args.connections {
            let path = self.path.clone();
            workers.spawn(async move {
                let mut rng = StdRng::seed_from_u64(n as u64);
                let mut connection = None;
                let mut buf = Vec::with_capacity(64 * 1024);
                let (mut latencies, mut errors, mut first_error) = (Vec::new(), 0, None);
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let request =
                        format!("GET {} HTTP/1.1\r\nhost: {addr}\r\n\r\n", path(&mut rng));
                    let outcome =
                        bench::http::exchange(&mut connection, addr, request.as_bytes(), &mut buf)
                            .await;
                    if outcome.is_err() {
                        connection = None;
                    }
                    if sent < warm_until {
                        continue;
                    }
                    match outcome {
                        Ok(()) => latencies.push(sent.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error)
            });
        }
        while let Some(joined) = workers.join_next().await {
            let (latencies, errors, first_error) = joined.expect("a load worker does not panic");
            self.latencies.extend(latencies);
            self.errors += errors;
            if let Some(e) = first_error {
                eprintln!("{}: {e}", self.name);
            }
        }
        self.measured += measured;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
