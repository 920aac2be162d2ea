//! `store-bench`: the event store's append and read rates, each beside a plain PostgreSQL
//! `INSERT` (or `SELECT`) of the same rows in the same transaction shape, in the same run.
//!
//! ```sh
//! cargo run --release -p commands --bin store-bench            # about two minutes
//! cargo run --release -p commands --bin store-bench -- --quick # a smoke run
//! ```
//!
//! It works in a database of its own, created and dropped here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use commands::store::postgres::{PgEventStore, MIGRATOR};
use commands::store::{
    Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom, StoreError,
};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Event store append/read rates beside plain PostgreSQL INSERTs")]
struct Args {
    /// The server to benchmark on; a fresh database is created there and dropped after.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Appends per scenario for 1-event appends (batch scenarios scale from it).
    #[arg(long, default_value_t = 8_000)]
    appends: usize,
    /// A few seconds' smoke run.
    #[arg(long)]
    quick: bool,
}

const STREAMS: usize = 1_000;
const WRITERS: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let appends = if args.quick { 400 } else { args.appends };

    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    let db = format!(
        "um_store_bench_{}",
        &Uuid::new_v4().simple().to_string()[..8]
    );
    let mut admin = server.clone().connect().await.context("connecting")?;
    sqlx::query(&format!("create database {db}"))
        .execute(&mut admin)
        .await?;
    let result = run(server.clone().database(&db), appends).await;
    let pool_gone = sqlx::query(&format!("drop database {db} with (force)"))
        .execute(&mut admin)
        .await;
    if let Err(e) = pool_gone {
        eprintln!("could not drop {db}: {e}");
    }
    result
}

async fn run(options: PgConnectOptions, appends: usize) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(WRITERS as u32 + 2)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    sqlx::query(
        "create table plain_events (
            event_position  bigint generated always as identity primary key,
            event_id        uuid not null unique,
            stream_id       text not null,
            stream_revision bigint not null,
            event_type      text not null,
            schema_version  integer not null,
            data            jsonb not null,
            metadata        jsonb not null,
            recorded_at     timestamptz not null default now(),
            unique (stream_id, stream_revision))",
    )
    .execute(&pool)
    .await?;
    let store = Arc::new(PgEventStore::new(pool.clone()));

    println!(
        "| scenario | store | plain INSERT | store / plain | store p50 / p99 | plain p50 / p99 |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");

    for (name, writers, batch, n) in [
        (
            "1-event appends, 1 writer, 1,000 streams",
            1,
            1,
            appends / 4,
        ),
        (
            "1-event appends, 16 writers, 1,000 streams",
            WRITERS,
            1,
            appends,
        ),
        ("10-event appends, 16 writers", WRITERS, 10, appends / 4),
        ("100-event appends, 16 writers", WRITERS, 100, appends / 20),
    ] {
        let store_run = appends_scenario(&store, &pool, writers, batch, n, Target::Store).await?;
        let plain_run = appends_scenario(&store, &pool, writers, batch, n, Target::Plain).await?;
        row(name, batch, &store_run, &plain_run);
    }

    let (hot, conflicts) = hot_stream(&store, appends / 4).await?;
    let plain_hot = appends_scenario(
        &store,
        &pool,
        WRITERS,
        1,
        appends / 4,
        Target::PlainOneStream,
    )
    .await?;
    row(
        &format!("one hot stream, 16 writers ({conflicts} conflicts retried)"),
        1,
        &hot,
        &plain_hot,
    );

    let (store_read, n) = read_all_store(&store).await?;
    let (plain_read, plain_n) = read_all_plain(&pool).await?;
    let store_rate = n as f64 / store_read.as_secs_f64();
    let plain_rate = plain_n as f64 / plain_read.as_secs_f64();
    println!(
        "| `$all` read, pages of 1,000 ({n} events; plain {plain_n} rows) | {store_rate:.0} events/s | {plain_rate:.0} rows/s | {:.2} | | |",
        store_rate / plain_rate,
    );
    pool.close().await;
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Store,
    Plain,
    /// Plain single-row INSERTs into one stream, revisions from a shared counter: the
    /// cheapest thing that could write one stream from many writers, without any check.
    PlainOneStream,
}

struct Run {
    elapsed: Duration,
    appends: usize,
    latencies: Vec<Duration>,
}

fn row(name: &str, batch: usize, store: &Run, plain: &Run) {
    let rate = |r: &Run| r.appends as f64 / r.elapsed.as_secs_f64();
    let unit = if batch == 1 {
        format!("{:.0} appends/s", rate(store))
    } else {
        format!(
            "{:.0} appends/s = {:.0} events/s",
            rate(store),
            rate(store) * batch as f64
        )
    };
    let plain_unit = if batch == 1 {
        format!("{:.0} inserts/s", rate(plain))
    } else {
        format!(
            "{:.0} inserts/s = {:.0} rows/s",
            rate(plain),
            rate(plain) * batch as f64
        )
    };
    println!(
        "| {name} | {unit} | {plain_unit} | {:.2} | {} | {} |",
        rate(store) / rate(plain),
        percentiles(&store.latencies),
        percentiles(&plain.latencies),
    );
}

fn percentiles(l: &[Duration]) -> String {
    let mut l = l.to_vec();
    l.sort();
    let at = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    format!(
        "{:.2} / {:.2} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    )
}

fn payload(i: usize) -> (Value, Value) {
    (
        json!({
            "order_id": Uuid::new_v4(),
            "sku": format!("SKU-{:05}", i % 10_000),
            "quantity": 1 + i % 5,
            "unit_price": { "amount": 1999 + i as i64 % 700, "currency": "USD" },
            "warehouse": "main",
            "note": "benchmark payload of a realistic size for a reservation"
        }),
        json!({
            "command_id": Uuid::new_v4(),
            "correlation_id": Uuid::new_v4(),
            "causation_id": Uuid::new_v4(),
            "actor_id": Uuid::new_v4(),
            "actor_role": "customer",
            "occurred_at": chrono::Utc::now(),
            "schema_version": 1
        }),
    )
}

fn new_events(n: usize, seed: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| {
            let (data, metadata) = payload(seed + i);
            NewEvent {
                id: Uuid::new_v4(),
                event_type: "StockReserved".into(),
                schema_version: 1,
                data,
                metadata,
            }
        })
        .collect()
}

/// `n` appends of `batch` events from `writers` tasks; writer `w` owns the streams
/// `w, w + writers, ...` of 1,000, so the writers never conflict.
async fn appends_scenario(
    store: &Arc<PgEventStore>,
    pool: &PgPool,
    writers: usize,
    batch: usize,
    n: usize,
    target: Target,
) -> anyhow::Result<Run> {
    let run_id = Uuid::new_v4().simple().to_string();
    let counter = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let pool = pool.clone();
            let run_id = run_id.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mine: Vec<usize> = (w..STREAMS).step_by(writers).collect();
                let mut next_revision = vec![0u64; mine.len()];
                let mut latencies = Vec::new();
                for i in (w..n).step_by(writers) {
                    let slot = (i / writers) % mine.len();
                    let stream = format!("bench{run_id}-{}", mine[slot]);
                    let events = new_events(batch, i);
                    let t = Instant::now();
                    match target {
                        Target::Store => {
                            let expected = match next_revision[slot] {
                                0 => ExpectedVersion::NoStream,
                                r => ExpectedVersion::Exact(r - 1),
                            };
                            let r = store.append(&stream, expected, events).await?;
                            next_revision[slot] = r.revision + 1;
                        }
                        Target::Plain => {
                            let first = next_revision[slot] as i64;
                            plain_insert(&pool, &stream, first, events).await?;
                            next_revision[slot] += batch as u64;
                        }
                        Target::PlainOneStream => {
                            let first = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            plain_insert(&pool, &format!("plainhot{run_id}"), first, events)
                                .await?;
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
    Ok(Run {
        elapsed: start.elapsed(),
        appends: latencies.len(),
        latencies,
    })
}

/// The same rows, in one statement and one implicit transaction, as the store's append.
async fn plain_insert(
    pool: &PgPool,
    stream: &str,
    first_revision: i64,
    events: Vec<NewEvent>,
) -> anyhow::Result<()> {
    let n = events.len();
    let mut ids = Vec::with_capacity(n);
    let mut types = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut metadata = Vec::with_capacity(n);
    for e in events {
        ids.push(e.id);
        types.push(e.event_type);
        data.push(e.data);
        metadata.push(e.metadata);
    }
    sqlx::query(
        "insert into plain_events
            (event_id, stream_id, stream_revision, event_type, schema_version, data, metadata)
         select i.event_id, $1, $2 + i.ord - 1, i.event_type, 1, i.data, i.metadata
           from unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
                with ordinality as i(event_id, event_type, data, metadata, ord)",
    )
    .bind(stream)
    .bind(first_revision)
    .bind(&ids)
    .bind(&types)
    .bind(&data)
    .bind(&metadata)
    .execute(pool)
    .await?;
    Ok(())
}

/// 16 writers on one stream, each the plain optimistic way: append at the revision it
/// last knew, and on a conflict reload the revision and try again.
async fn hot_stream(store: &Arc<PgEventStore>, n: usize) -> anyhow::Result<(Run, usize)> {
    let stream = format!("hot{}-1", Uuid::new_v4().simple());
    let conflicts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let stream = stream.clone();
            let conflicts = conflicts.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut known: Option<u64> = None;
                for i in (w..n).step_by(WRITERS) {
                    let t = Instant::now();
                    let events = new_events(1, i);
                    loop {
                        let expected =
                            known.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
                        match store.append(&stream, expected, events.clone()).await {
                            Ok(r) => {
                                known = Some(r.revision);
                                break;
                            }
                            Err(StoreError::WrongExpectedVersion { .. }) => {
                                conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let last = store
                                    .read_stream(&stream, ReadFrom::End, Direction::Backwards, 1)
                                    .await?;
                                known = last.first().map(|e| e.revision);
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
    let run = Run {
        elapsed: start.elapsed(),
        appends: latencies.len(),
        latencies,
    };
    Ok((run, conflicts.load(std::sync::atomic::Ordering::Relaxed)))
}

async fn read_all_store(store: &Arc<PgEventStore>) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let mut after = Position::START;
    let mut n = 0;
    loop {
        let page = store.read_all(after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        n += page.len();
    }
    Ok((start.elapsed(), n))
}

async fn read_all_plain(pool: &PgPool) -> anyhow::Result<(Duration, usize)> {
    #[derive(sqlx::FromRow)]
    #[allow(dead_code)]
    struct Row {
        event_position: i64,
        event_id: Uuid,
        stream_id: String,
        stream_revision: i64,
        event_type: String,
        schema_version: i32,
        data: Value,
        metadata: Value,
        recorded_at: chrono::DateTime<chrono::Utc>,
    }
    let start = Instant::now();
    let mut after = 0i64;
    let mut n = 0;
    loop {
        let page: Vec<Row> = sqlx::query_as(
            "select event_position, event_id, stream_id, stream_revision, event_type,
                    schema_version, data, metadata, recorded_at
               from plain_events where event_position > $1 order by event_position limit 1000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.event_position;
        n += page.len();
    }
    Ok((start.elapsed(), n))
}
