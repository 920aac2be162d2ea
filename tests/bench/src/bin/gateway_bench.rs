//! `gateway-bench`: the HTTP gateway under a closed-loop load, beside a static JSON
//! handler of the same server in the same run.
//!
//! ```sh
//! cargo run --release -p bench --bin gateway-bench                 # about 1.5 minutes
//! cargo run --release -p bench --bin gateway-bench -- --seconds 3  # smoke run
//! ```
//!
//! It creates a database of its own (dropped at the end, also on error and Ctrl-C), builds
//! the real `Application` in process (process managers and projections included, rate limit
//! off), seeds the demo catalog through `gateway::seed`, waits for the read models, and then
//! for each scenario keeps `--connections` clients busy for `--seconds` of measurement, each
//! client on its own keep-alive connection sending its next request as soon as the last one
//! is answered. The read scenarios take turns (`--rounds`, each turn after a `--warmup`), so
//! other work on the machine falls on all of them alike; place-order runs last, in one
//! piece. The static baseline is `GET /api/v1/bench/static`, added through `router::app_with`
//! to the same routes and middleware stack and served from the same state on a second
//! listener. The clients are a minimal HTTP/1.1 writer and reader (keep-alive, answers with
//! `content-length`): reqwest took about half the shared cores for itself, so one more row
//! runs the baseline through reqwest to show that cost.
//!
//! With `--rate-limit`, the static and product-by-id scenarios also run through the per-IP
//! limit, set too high to refuse anything, kept in memory and in PostgreSQL (the shared
//! limit of several gateways), each on a listener of its own in the same rotation. Each
//! connection is then a client of its own (`X-Forwarded-For`), except in one row where all
//! of them share one address, and so one row of `rate_limit.clients`.
//!
//! The load generator runs in the same process, on the same cores as the server and
//! PostgreSQL: the rates are what the machine does as a whole, not the server alone.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::routing::get;
use axum::Json;
use bench::scratch::with_scratch_database;
use clap::Parser;
use gateway::config::{Config, RateLimitStore, Secret};
use gateway::router::{api_router, app_with};
use gateway::seed::{seed_demo, DemoCatalog};
use gateway::startup::Application;
use gateway::state::AppState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::ConnectOptions;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Load-test the HTTP gateway beside a static JSON handler")]
struct Args {
    /// The PostgreSQL server; the bench creates and drops a database of its own on it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// Unmeasured seconds before each turn's measurement.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Turns each read scenario's seconds are split into, taken in rotation.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Concurrent clients, one keep-alive connection each.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Also run reads through the per-IP rate limit, in memory and in PostgreSQL.
    #[arg(long)]
    rate_limit: bool,
}

/// A limit no bench client reaches: 10 million requests a minute.
const UNREACHED_LIMIT: u32 = 10_000_000;

/// Search terms, each matching a handful of demo products.
const SEARCH_TERMS: [&str; 12] = [
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
    with_scratch_database(&server, "um_gateway_bench", |db| async move {
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
        // One client address sends everything here; the limiter would measure itself.
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

    let started = Instant::now();
    let seeded = seed_demo(&state).await?;
    let seeding = started.elapsed();

    // The same routes and middleware as `app()`, plus the baseline, over the same state.
    let (addr, stop_bench, bench_server) = serve_bench(state.clone()).await?;
    let mut limited = Vec::new();
    if args.rate_limit {
        for store in [RateLimitStore::Memory, RateLimitStore::Postgres] {
            let config = Config {
                rate_limit_per_minute: UNREACHED_LIMIT,
                rate_limit_store: Some(store),
                trust_forwarded_for: true,
                ..(*state.config).clone()
            };
            let state = AppState {
                config: Arc::new(config),
                ..state.clone()
            };
            limited.push(serve_bench(state).await?);
        }
    }
    let (stop_engine, engine_stopped) = oneshot::channel::<()>();
    let engine = tokio::spawn(app.run_until_stopped(async {
        let _ = engine_stopped.await;
    }));

    let position = seeded.position.context("the seed appended nothing")?;
    let caught_up = wait_for_read_models(&state.pool, position).await?;
    let base = format!("http://{addr}/api/v1");
    let customer = register_customer(&base).await?;

    let catalog = DemoCatalog::new();
    let ids: Arc<Vec<Uuid>> = Arc::new(catalog.products.iter().map(|p| p.id).collect());
    println!(
        "gateway-bench: {} connections, {} s measured per scenario (reads in {} turns, each after \
         {} s warm-up); demo catalog of {} categories, {} products, {} SKUs ({} events) seeded \
         in {:.1} s, read models caught up in {:.1} s\n",
        args.connections,
        args.seconds,
        args.rounds,
        args.warmup,
        seeded.categories,
        seeded.products,
        seeded.skus,
        seeded.events_appended,
        seeding.as_secs_f64(),
        caught_up.as_secs_f64(),
    );

    let mut reads = vec![
        Scenario::new(
            "static JSON (`GET /bench/static`)",
            Load::raw(move |_| get_request(addr, "/api/v1/bench/static")),
        ),
        Scenario::new(
            "product listing (`GET /products?limit=20`)",
            Load::raw(move |_| get_request(addr, "/api/v1/products?limit=20")),
        ),
        Scenario::new("product by id (`GET /products/:id`, random of 300)", {
            let ids = ids.clone();
            Load::raw(move |rng| {
                let id = ids[rng.random_range(0..ids.len())];
                get_request(addr, &format!("/api/v1/products/{id}"))
            })
        }),
        Scenario::new(
            "search (`GET /products/search?q=`, random of 12 terms)",
            Load::raw(move |rng| {
                let q = SEARCH_TERMS[rng.random_range(0..SEARCH_TERMS.len())];
                get_request(addr, &format!("/api/v1/products/search?q={q}"))
            }),
        ),
        Scenario::new("static JSON through reqwest instead", {
            let url = format!("{base}/bench/static");
            Load::Reqwest(Arc::new(move |c, _| c.get(&url)))
        }),
    ];
    let names = [
        [
            "static JSON, rate limit in memory",
            "product by id, rate limit in memory",
        ],
        [
            "static JSON, rate limit in PostgreSQL",
            "product by id, rate limit in PostgreSQL",
        ],
    ];
    for ((addr, _, _), [static_name, by_id_name]) in limited.iter().zip(names) {
        let (addr, ids) = (*addr, ids.clone());
        reads.push(
            Scenario::new(
                static_name,
                Load::raw(move |_| get_request(addr, "/api/v1/bench/static")),
            )
            .apart()
            .at(addr),
        );
        reads.push(
            Scenario::new(
                by_id_name,
                Load::raw(move |rng| {
                    let id = ids[rng.random_range(0..ids.len())];
                    get_request(addr, &format!("/api/v1/products/{id}"))
                }),
            )
            .apart()
            .at(addr),
        );
    }
    if let Some((addr, _, _)) = limited.last() {
        let addr = *addr;
        reads.push(
            Scenario::new(
                "static JSON, rate limit in PostgreSQL, every connection one client",
                Load::raw(move |_| get_request(addr, "/api/v1/bench/static")),
            )
            .at(addr),
        );
    }
    // Other work on the machine comes and goes; short turns spread it over every scenario.
    let slice = Duration::from_secs_f64(args.seconds as f64 / args.rounds as f64);
    for _ in 0..args.rounds {
        for s in &mut reads {
            s.run(args, addr, slice).await;
        }
    }
    let mut order = Scenario::new(
        "place order (`POST /orders`, 1 line, one customer)",
        Load::raw(move |rng| {
            let body = json!({
                "items": [{ "product_id": ids[rng.random_range(0..ids.len())], "quantity": 1 }],
                "shipping_address": {
                    "name": "Bench Customer", "line1": "1 Load Street", "city": "Springfield",
                    "postal_code": "12345", "country": "US"
                },
                "payment_method": "card"
            });
            post_request(addr, "/api/v1/orders", &customer, &body)
        }),
    );
    // Last and in one piece: the checkout saga works through the orders for a while
    // after, and would load the machine under whatever ran next.
    order
        .run(args, addr, Duration::from_secs(args.seconds))
        .await;

    println!("| scenario | req/s | p50 | p99 | errors |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for s in reads.iter_mut().chain([&mut order]) {
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
    let ratio = reads[2].rate() / reads[0].rate();
    println!(
        "\nproduct by id / static: {ratio:.2} (target: at least 0.33) {}",
        if ratio >= 1.0 / 3.0 { "met" } else { "NOT met" }
    );

    for (_, stop, server) in limited
        .into_iter()
        .chain([(addr, stop_bench, bench_server)])
    {
        let _ = stop.send(());
        server.await??;
    }
    let _ = stop_engine.send(());
    engine.await??;
    Ok(())
}

/// The same routes and middleware as `app()`, plus the baseline, over `state`, on a
/// listener of its own: its address, its stop, and the server.
async fn serve_bench(
    state: AppState,
) -> anyhow::Result<(
    SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let routes = app_with(state, api_router().route("/bench/static", get(static_json)));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(
            listener,
            routes.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .into_future(),
    );
    Ok((addr, stop, server))
}

async fn static_json() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "ultramarket" }))
}

/// Waits until every read model has applied `position`; the catalog is required, the
/// others would only compete for the cores while they catch up.
async fn wait_for_read_models(
    pool: &sqlx::PgPool,
    position: commands::store::Position,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for projection in projections::all() {
        loop {
            if projections::checkpoint::position(pool, projection.name()).await? >= position {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "the {} read model did not catch up with the seed within 2 minutes",
                projection.name()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(started.elapsed())
}

async fn register_customer(base: &str) -> anyhow::Result<String> {
    let c = reqwest::Client::new();
    let (email, password) = ("bench@example.com", "a bench customer password");
    let r = c
        .post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "register: {}", r.text().await?);
    let pair: Value = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?
        .json()
        .await?;
    pair["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login: {pair}"))
}

/// How a scenario's clients send their requests.
#[derive(Clone)]
enum Load {
    /// Bytes written straight to the socket by a minimal HTTP/1.1 client: on cores shared
    /// with the server, reqwest took about half the machine for itself.
    Raw(Arc<RawFn>),
    /// Through reqwest, for comparison.
    Reqwest(Arc<ReqwestFn>),
}

/// Makes the next request's bytes from the worker's random source.
type RawFn = dyn Fn(&mut StdRng) -> Vec<u8> + Send + Sync + 'static;
type ReqwestFn =
    dyn Fn(&reqwest::Client, &mut StdRng) -> reqwest::RequestBuilder + Send + Sync + 'static;

impl Load {
    fn raw(f: impl Fn(&mut StdRng) -> Vec<u8> + Send + Sync + 'static) -> Self {
        Load::Raw(Arc::new(f))
    }
}

fn get_request(addr: SocketAddr, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes()
}

fn post_request(addr: SocketAddr, path: &str, bearer: &str, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {bearer}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One scenario's results, added up over its turns.
struct Scenario {
    name: &'static str,
    load: Load,
    latencies: Vec<Duration>,
    errors: usize,
    measured: Duration,
    /// Whether each connection says it is a client of its own (`X-Forwarded-For`).
    apart: bool,
    /// The listener it loads, when not the bench's first.
    at: Option<SocketAddr>,
}

impl Scenario {
    fn new(name: &'static str, load: Load) -> Self {
        Scenario {
            name,
            load,
            latencies: Vec::new(),
            errors: 0,
            measured: Duration::ZERO,
            apart: false,
            at: None,
        }
    }

    /// Loading the listener at `addr`.
    fn at(self, addr: SocketAddr) -> Self {
        Scenario {
            at: Some(addr),
            ..self
        }
    }

    /// Each connection a client of its own.
    fn apart(self) -> Self {
        Scenario {
            apart: true,
            ..self
        }
    }

    /// Successful requests per second of measured time.
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

    /// Keeps every connection to `addr` busy for the warm-up, then for `measured`, and
    /// records what was sent in the measured part.
    async fn run(&mut self, args: &Args, addr: SocketAddr, measured: Duration) {
        let addr = self.at.unwrap_or(addr);
        let warm_until = Instant::now() + Duration::from_secs(args.warmup);
        let end = warm_until + measured;
        let mut workers = tokio::task::JoinSet::new();
        for n in 0..args.connections {
            let load = self.load.clone();
            let client = self
                .apart
                .then(|| format!("x-forwarded-for: 10.{}.{}.1\r\n", n / 256, n % 256));
            workers.spawn(async move {
                let mut worker = Worker {
                    warm_until,
                    end,
                    latencies: Vec::new(),
                    errors: 0,
                    first_error: None,
                };
                let seed = n as u64;
                match load {
                    Load::Raw(request) => worker.raw(&*request, addr, seed, client).await,
                    Load::Reqwest(request) => worker.reqwest(&*request, seed).await,
                }
                worker
            });
        }
        while let Some(joined) = workers.join_next().await {
            let w = joined.expect("a load worker does not panic");
            self.latencies.extend(w.latencies);
            self.errors += w.errors;
            if let Some(e) = w.first_error {
                eprintln!("{}: {e}", self.name);
            }
        }
        self.measured += measured;
    }
}

/// One connection's closed loop.
struct Worker {
    warm_until: Instant,
    end: Instant,
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Worker {
    fn record(&mut self, sent: Instant, outcome: Result<(), String>) {
        if sent < self.warm_until {
            return;
        }
        match outcome {
            Ok(()) => self.latencies.push(sent.elapsed()),
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    async fn reqwest(&mut self, request: &ReqwestFn, seed: u64) {
        // One client per worker: its own connection, kept alive, no shared pool lock.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .expect("a plain HTTP client builds");
        let mut rng = StdRng::seed_from_u64(seed);
        loop {
            let sent = Instant::now();
            if sent >= self.end {
                return;
            }
            let outcome = match request(&client, &mut rng).send().await {
                Ok(r) => {
                    let status = r.status();
                    match r.bytes().await {
                        Ok(_) if status.is_success() => Ok(()),
                        Ok(body) => Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
                        Err(e) => Err(e.to_string()),
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            self.record(sent, outcome);
        }
    }

    async fn raw(&mut self, request: &RawFn, addr: SocketAddr, seed: u64, client: Option<String>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut connection = None;
        let mut buf = Vec::with_capacity(16 * 1024);
        loop {
            let sent = Instant::now();
            if sent >= self.end {
                return;
            }
            let mut bytes = request(&mut rng);
            if let Some(header) = &client {
                // After the request line.
                let at = bytes
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map_or(0, |i| i + 2);
                bytes.splice(at..at, header.bytes());
            }
            let outcome = bench::http::exchange(&mut connection, addr, &bytes, &mut buf).await;
            if outcome.is_err() {
                connection = None;
            }
            self.record(sent, outcome);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
