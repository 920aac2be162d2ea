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

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bench::catalog::{self, BRANDS, COLOURS, TERMS};
use bench::engine::Engine;
use bench::load::{ms, Load, Scenario};
use bench::scratch::with_scratch_database;
use clap::Parser;
use rand::rngs::StdRng;
use rand::Rng;
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;

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
    let engine = Engine::start(database_url).await?;
    let (state, addr) = (engine.state.clone(), engine.addr);

    let seeded = catalog::seed(&state, args.products, args.models).await?;
    let ids = seeded.ids;
    let (seeding, caught_up) = (seeded.seeding, seeded.catching_up);
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
            addr,
            "product search (`GET /products/search?q=`, random of 12 terms)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                format!("/api/v1/products/search?q={q}")
            }),
        ),
        Scenario::new(
            addr,
            "faceted search (`GET /search?q=`, facets of the whole result)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                format!("/api/v1/search?q={q}")
            }),
        ),
        Scenario::new(
            addr,
            "faceted search, filtered (`GET /search?q=&brand=&attr.colour=`)",
            Arc::new(|rng: &mut StdRng| {
                let q = TERMS[rng.random_range(0..TERMS.len())];
                let b = BRANDS[rng.random_range(0..BRANDS.len())];
                let c = COLOURS[rng.random_range(0..COLOURS.len())];
                format!("/api/v1/search?q={q}&brand={b}&attr.colour={c}")
            }),
        ),
        Scenario::new(
            addr,
            "faceted browse, no q (`GET /search`, all 10k products)",
            Arc::new(|_: &mut StdRng| "/api/v1/search".to_owned()),
        ),
        Scenario::new(
            addr,
            "suggestions (`GET /search/suggestions?q=`, random of 24 prefixes)",
            Arc::new(|rng: &mut StdRng| {
                let q = PREFIXES[rng.random_range(0..PREFIXES.len())];
                format!("/api/v1/search/suggestions?q={q}")
            }),
        ),
        Scenario::new(
            addr,
            "product by id (`GET /products/:id`, random of all)",
            {
                let ids = ids.clone();
                Arc::new(move |rng: &mut StdRng| {
                    let id = ids[rng.random_range(0..ids.len())];
                    format!("/api/v1/products/{id}")
                })
            },
        ),
    ];
    let slice = Duration::from_secs_f64(args.seconds as f64 / args.rounds as f64);
    let load = Load {
        connections: args.connections,
        warmup: Duration::from_secs(args.warmup),
    };
    for _ in 0..args.rounds {
        for s in &mut scenarios {
            s.run(load, slice).await;
        }
    }

    println!("| scenario | req/s | p50 | p99 | errors |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for s in &mut scenarios {
        println!("{}", s.row());
    }
    let (suggest_rate, suggest_p50) = (scenarios[4].rate(), scenarios[4].quantile(0.5));
    let (by_id_rate, by_id_p50) = (scenarios[5].rate(), scenarios[5].quantile(0.5));
    let met = suggest_rate >= by_id_rate && suggest_p50 <= by_id_p50;
    println!(
        "\nsuggestions / product by id: {:.2}x the rate, p50 {:.2} vs {:.2} ms (target: at least \
         as fast) {}",
        suggest_rate / by_id_rate,
        ms(suggest_p50),
        ms(by_id_p50),
        if met { "met" } else { "NOT met" }
    );
    engine.stop().await?;
    Ok(())
}
