//! `pricing-bench`: product reads with 1,000 live price rules against none (issue 24,
//! ADR 0008), side by side in one run.
//!
//! ```sh
//! cargo run --release -p bench --bin pricing-bench                 # about 2 minutes
//! cargo run --release -p bench --bin pricing-bench -- --seconds 3  # smoke run
//! ```
//!
//! Two engines run in this process, each the real `Application` on a database of its own
//! (dropped at the end), seeded alike with the demo catalog and bulk products
//! (`bench::catalog`). The second also holds `--rules` enabled rules through the pricing
//! use case: most on single products, some on variants that do not exist, categories,
//! vendors and a few store-wide, with every kind of adjustment and a mix of priorities and
//! stacking, so each product is covered by a handful of rules as in a real shop. Once its
//! `pricing` read model has them, product by id and a category page are loaded on both
//! engines in turns (`bench::load`); every answer goes through the catalog's answer cache,
//! as in production, and random ids keep most of them uncached.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bench::catalog::{self, Seeded};
use bench::engine::Engine;
use bench::load::{Load, Scenario};
use bench::scratch::with_scratch_database;
use chrono::Utc;
use clap::Parser;
use commands::handler::{Actor, CommandMeta};
use domain::id::{CategoryId, ProductId, UserId, VariantId};
use domain::money::{Currency, Money};
use domain::pricing::{Adjustment, PriceRuleTerms, Scope, Segment, Tier, Window};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Product reads with 1,000 price rules against none, side by side")]
struct Args {
    /// The PostgreSQL server; the bench creates and drops two databases of its own on it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Products in each catalog, the demo's 300 included.
    #[arg(long, default_value_t = 5_000)]
    products: usize,
    /// Live price rules in the second engine.
    #[arg(long, default_value_t = 1_000)]
    rules: usize,
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
    let (args, server) = (&args, &server);
    with_scratch_database(server, "um_pricing_bench_none", |none| async move {
        with_scratch_database(server, "um_pricing_bench_rules", |rules| async move {
            run(
                none.to_url_lossy().as_ref(),
                rules.to_url_lossy().as_ref(),
                args,
            )
            .await
        })
        .await
    })
    .await
}

/// The `n`th rule of the bench's mix over `seeded`'s catalog.
fn rule(n: usize, seeded: &Seeded, rng: &mut StdRng) -> PriceRuleTerms {
    let pick = |rng: &mut StdRng, ids: &[Uuid]| ids[rng.random_range(0..ids.len())];
    let scope = match n % 100 {
        0 => Scope::Store,
        1..=10 => Scope::Category {
            category_id: CategoryId::new(pick(rng, &seeded.leaves)),
        },
        11..=20 => Scope::Variant {
            variant_id: VariantId::new(Uuid::new_v4()),
        },
        21..=25 => Scope::Vendor {
            vendor_id: UserId::new(Uuid::new_v4()),
        },
        _ => Scope::Product {
            product_id: ProductId::new(pick(rng, &seeded.ids)),
        },
    };
    let adjustment = match n % 5 {
        0 => Adjustment::PercentOff {
            basis_points: rng.random_range(100..3_000),
        },
        1 => Adjustment::AmountOff {
            amount: Money::new(rng.random_range(10..500), Currency::USD),
        },
        2 => Adjustment::SetPrice {
            amount: Money::new(rng.random_range(400..50_000), Currency::USD),
        },
        3 => Adjustment::Tiered {
            tiers: vec![
                Tier {
                    min_quantity: 2,
                    basis_points: 500,
                },
                Tier {
                    min_quantity: 5,
                    basis_points: 1_000,
                },
            ],
        },
        _ => Adjustment::BuyXGetY {
            buy: 2,
            get: 1,
            basis_points: 10_000,
        },
    };
    PriceRuleTerms {
        name: format!("bench rule {n}"),
        scope,
        adjustment,
        window: Window::default(),
        priority: rng.random_range(-10..10),
        stacks: n.is_multiple_of(3),
        segment: if n.is_multiple_of(7) {
            Segment::NewCustomers
        } else {
            Segment::All
        },
    }
}

async fn run(none_url: &str, rules_url: &str, args: &Args) -> anyhow::Result<()> {
    let none = Engine::start(none_url).await?;
    let ruled = Engine::start(rules_url).await?;
    let seeded_none = catalog::seed(&none.state, args.products, 3_000).await?;
    let seeded = catalog::seed(&ruled.state, args.products, 3_000).await?;
    let mut rng = StdRng::seed_from_u64(24);
    let mut last = None;
    for n in 0..args.rules {
        let terms = rule(n, &seeded, &mut rng);
        let id = Uuid::new_v4();
        let meta = CommandMeta::new(id, id, Actor::system(), Utc::now());
        let made = commands::pricing::create_rule(&ruled.state.handlers, terms, true, &meta)
            .await
            .map_err(|e| anyhow::anyhow!("create a bench rule: {e}"))?;
        last = last.max(made.position);
    }
    let last = last.context("the rules appended nothing")?;
    catalog::wait_for(&ruled.state, "pricing", last).await?;
    // The price history reprices what each rule covers; measured only once both engines'
    // history is done, so neither spends the run catching up.
    catalog::wait_for(&ruled.state, "price_history", last).await?;
    let head = none.state.store.head_position().await?;
    catalog::wait_for(&none.state, "price_history", head).await?;
    let live: i64 =
        sqlx::query_scalar("select count(*) from pricing.price_rules where status = 'active'")
            .fetch_one(&ruled.state.pool)
            .await?;
    println!(
        "pricing-bench: two engines of {} products each (seeded in {:.1} s and {:.1} s), the \
         second with {live} active price rules; {} connections, {} s measured per scenario in \
         {} turns (each after {} s warm-up)\n",
        seeded.ids.len(),
        seeded_none.seeding.as_secs_f64(),
        seeded.seeding.as_secs_f64(),
        args.connections,
        args.seconds,
        args.rounds,
        args.warmup,
    );

    let by_id = |ids: &[Uuid]| {
        let ids = Arc::new(ids.to_vec());
        Arc::new(move |rng: &mut StdRng| {
            format!("/api/v1/products/{}", ids[rng.random_range(0..ids.len())])
        })
    };
    let category_page = |leaves: &[Uuid]| {
        let leaves = Arc::new(leaves.to_vec());
        Arc::new(move |rng: &mut StdRng| {
            format!(
                "/api/v1/products?category_id={}&limit=20&offset={}",
                leaves[rng.random_range(0..leaves.len())],
                20 * rng.random_range(0..5)
            )
        })
    };
    let mut scenarios = vec![
        Scenario::new(
            none.addr,
            "product by id, no rules",
            by_id(&seeded_none.ids),
        ),
        Scenario::new(
            ruled.addr,
            format!("product by id, {live} rules"),
            by_id(&seeded.ids),
        ),
        Scenario::new(
            none.addr,
            "category page of 20, no rules",
            category_page(&seeded_none.leaves),
        ),
        Scenario::new(
            ruled.addr,
            format!("category page of 20, {live} rules"),
            category_page(&seeded.leaves),
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
    let ratio = scenarios[1].rate() / scenarios[0].rate();
    println!(
        "\nproduct by id with rules / without: {ratio:.2} of the rate (target: at least 0.8) {}",
        if ratio >= 0.8 { "met" } else { "NOT met" }
    );
    println!(
        "category page with rules / without: {:.2} of the rate",
        scenarios[3].rate() / scenarios[2].rate()
    );
    for engine in [none, ruled] {
        engine.stop().await?;
    }
    Ok(())
}
