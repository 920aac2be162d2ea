//! A closed-loop HTTP load: [`Scenario`]s of GET requests, each kept busy by a number of
//! clients (one keep-alive connection each, through [`crate::http::exchange`]) for a
//! measured slice after a warm-up, so that several scenarios run in turns, side by side,
//! on a noisy machine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

/// Makes the next request's path from the worker's random source.
pub type PathFn = dyn Fn(&mut StdRng) -> String + Send + Sync + 'static;

/// How each turn is driven.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Concurrent clients, one keep-alive connection each.
    pub connections: usize,
    /// Unmeasured time before each turn's measurement.
    pub warmup: Duration,
}

/// One scenario's results, added up over its turns.
pub struct Scenario {
    pub name: String,
    addr: SocketAddr,
    path: Arc<PathFn>,
    latencies: Vec<Duration>,
    pub errors: usize,
    measured: Duration,
    sorted: bool,
}

impl Scenario {
    pub fn new(addr: SocketAddr, name: impl Into<String>, path: Arc<PathFn>) -> Self {
        Scenario {
            name: name.into(),
            addr,
            path,
            latencies: Vec::new(),
            errors: 0,
            measured: Duration::ZERO,
            sorted: false,
        }
    }

    /// Requests answered per second, over every measured turn.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.measured.as_secs_f64()
    }

    /// The latency at quantile `q` (0 to 1).
    pub fn quantile(&mut self, q: f64) -> Duration {
        if !self.sorted {
            self.latencies.sort_unstable();
            self.sorted = true;
        }
        let n = self.latencies.len();
        self.latencies
            .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    /// The table row: name, rate, p50, p99, errors.
    pub fn row(&mut self) -> String {
        let (p50, p99) = (self.quantile(0.50), self.quantile(0.99));
        format!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            self.name,
            self.rate(),
            ms(p50),
            ms(p99),
            self.errors
        )
    }

    /// Keeps every connection busy for the warm-up, then for `measured`.
    pub async fn run(&mut self, load: Load, measured: Duration) {
        let warm_until = Instant::now() + load.warmup;
        let end = warm_until + measured;
        let addr = self.addr;
        let mut workers = tokio::task::JoinSet::new();
        for n in 0..load.connections {
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
                        crate::http::exchange(&mut connection, addr, request.as_bytes(), &mut buf)
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
        self.sorted = false;
    }
}

/// Milliseconds, for tables.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
