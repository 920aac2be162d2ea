//! UltraMarket's benchmarks, a workspace member of their own so that the library crates
//! carry none of their dependencies (clap, reqwest, rand, anyhow).
//!
//! # Layout
//!
//! - [`http`]: the minimal HTTP/1.1 client the HTTP benches load the gateway with.
//! - [`load`]: scenarios of closed-loop HTTP load, run in turns side by side.
//! - [`catalog`]: the demo catalog plus bulk products, for the HTTP benches.
//! - [`engine`]: the real engine in process, on a database of the bench's own.
//! - [`scratch`]: a database of its own for a benchmark run, dropped after it.
//! - `src/bin/`: one binary per floor, each documented at its top and run with
//!   `cargo run --release -p bench --bin <name>`: `store-bench` (the event store),
//!   `command-bench` (command handling and the checkout saga), `projection-bench` (read
//!   model rebuild and lag), `gateway-bench` (the HTTP gateway), `scale-bench` (gateways and
//!   workers as processes), `privacy-bench` (sealing personal data on and off), `search-bench` (search at 10k
//!   products), `pricing-bench` (product reads with 1,000 price rules against none).

pub mod catalog;
pub mod engine;
pub mod http;
pub mod load;
pub mod scratch;
