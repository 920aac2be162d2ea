//! Place-order through the checkout saga with one gateway and one projection worker, then
//! with two of each, side by side in one run (issue 19, item 6). Every role is an OS
//! process of the release `ultramarket` binary over PostgreSQL and NATS JetStream, as
//! `tests/tests/scale_out.rs` runs them.
//!
//! ```sh
//! cargo build --release -p gateway --bin ultramarket
//! cargo run --release -p bench --bin scale-bench -- --seconds 15
//! ```
//!
//! Each client signs in, then places one-line orders in a closed loop through its gateway
//! (client `i` uses gateway `i mod N`), and each order counts once the saga has reserved
//! it and the orders read model shows it `awaiting_payment` (a read with the order's
//! consistency token, through the same gateway). Configurations alternate (1, 2, 2, 1 with
//! `--rounds 2`), so the machine's noise falls on both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use e2e::deployment::Deployment;
use e2e::{send, usd, Server};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// How long each configuration takes orders.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Customers placing orders at once.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Rounds; each runs both configurations, in alternating order.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
}

const GATEWAY: &[&str] = &["--rate-limit-per-minute", "0", "--database-pool-size", "16"];
const OTHER: &[&str] = &["--database-pool-size", "8"];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Beside this bench in target/release, unless ULTRAMARKET_BIN names another; set before
    // any thread starts.
    if std::env::var_os("ULTRAMARKET_BIN").is_none() {
        let beside: PathBuf = std::env::current_exe()?
            .with_file_name(format!("ultramarket{}", std::env::consts::EXE_SUFFIX));
        anyhow::ensure!(
            beside.exists(),
            "{} is missing: cargo build --release -p gateway --bin ultramarket",
            beside.display()
        );
        std::env::set_var("ULTRAMARKET_BIN", beside);
    }
    tokio::runtime::Runtime::new()?.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for round in 0..args.rounds {
        let order: [usize; 2] = if round % 2 == 0 { [1, 2] } else { [2, 1] };
        for copies in order {
            let row = measure(copies, &args).await?;
            eprintln!(
                "round {}: {copies} gateway(s) and worker(s): {} orders in {:.1} s",
                round + 1,
                row.latencies.len(),
                row.elapsed.as_secs_f64()
            );
            rows.push((copies, row));
        }
    }
    println!("| gateways and projection workers | orders/s | p50 | p99 |");
    println!("| --- | ---: | ---: | ---: |");
    for (copies, mut row) in rows {
        row.latencies.sort();
        let pct = |p: f64| {
            let i = ((row.latencies.len() as f64 - 1.0) * p).round() as usize;
            row.latencies
                .get(i)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "| {copies} + {copies} | {:.0} | {:.1} ms | {:.1} ms |",
            row.latencies.len() as f64 / row.elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99)
        );
    }
    Ok(())
}

struct Row {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

async fn measure(copies: usize, args: &Args) -> anyhow::Result<Row> {
    let d = Deployment::with_nats();
    let mut gateways = Vec::new();
    let mut others = Vec::new();
    for _ in 0..copies {
        gateways.push(d.start("gateway", GATEWAY).await);
        others.push(d.start("project", OTHER).await);
    }
    others.push(d.start("relay", OTHER).await);
    others.push(d.start("process", OTHER).await);
    let product = stock(&gateways[0]).await?;
    let gateways = Arc::new(gateways);
    let mut customers = Vec::new();
    for i in 0..args.clients {
        let (_, token) = gateways[0]
            .customer(&format!("bench{i}@scale.example"))
            .await;
        customers.push(token);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let clients: Vec<_> = customers
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (gateways, product) = (gateways.clone(), product.clone());
            tokio::spawn(async move {
                let gateway = &gateways[i % gateways.len()];
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    latencies.push(place_and_reserve(gateway, &token, &product).await);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for c in clients {
        latencies.extend(c.await?);
    }
    let elapsed = started.elapsed();
    drop(others);
    drop(gateways);
    Ok(Row { latencies, elapsed })
}

/// A product with stock for the whole run.
async fn stock(gateway: &Server) -> anyhow::Result<String> {
    let admin = gateway.admin().await;
    let category = send(
        gateway
            .post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Bench" })),
    )
    .await;
    anyhow::ensure!(category.status == 201, "{}", category.text);
    let product = send(gateway.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "BENCH-1", "name": "Bench", "category_id": category.body["id"], "price": usd(500),
    })))
    .await;
    anyhow::ensure!(product.status == 201, "{}", product.text);
    let stocked = send(
        gateway
            .post("/api/v1/inventory/BENCH-1/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 1_000_000 })),
    )
    .await;
    anyhow::ensure!(stocked.status == 200, "{}", stocked.text);
    Ok(product.body["id"].as_str().unwrap_or_default().to_owned())
}

/// One order, from the request to the saga's reservation as the read model shows it.
async fn place_and_reserve(gateway: &Server, token: &str, product: &str) -> Duration {
    let began = Instant::now();
    let placed = send(
        gateway
            .post("/api/v1/orders")
            .bearer_auth(token)
            .json(&json!({
                "items": [{ "product_id": product, "quantity": 1 }],
                "shipping_address": { "line1": "1 Main St", "city": "Springfield",
                                      "postal_code": "12345", "country": "US" },
                "payment_method": "card",
            })),
    )
    .await;
    assert_eq!(placed.status, 202, "{}", placed.text);
    let path = format!("/api/v1/orders/{}", placed.body["id"].as_str().unwrap());
    let consistency = placed.consistency();
    loop {
        let a = send(
            gateway
                .get(&path)
                .bearer_auth(token)
                .header("x-consistency-token", &consistency),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.text);
        if a.body["status"] == "awaiting_payment" {
            return began.elapsed();
        }
        assert_ne!(a.body["status"], "cancelled", "{}", a.text);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
