//! `store-bench`: the PostgreSQL event store's append and `$all` read rates, each beside a
//! plain PostgreSQL `INSERT` (or `SELECT`) of the same rows in the same transaction shape,
//! measured in the same run.
//!
//! ```sh
//! cargo run --release -p bench --bin store-bench             # one to three minutes
//! cargo run --release -p bench --bin store-bench -- --quick  # a smoke run, ~10 s
//! ```
//!
//! It creates a database of its own on the server (`um_store_bench_<random>`), migrates it
//! with the engine's migrations, and drops it at the end, on error and on Ctrl-C too; it
//! touches nothing else. The result table goes to stdout as Markdown (for BENCHMARKS.md),
//! progress to stderr.
//!
//! # What is compared
//!
//! The store side is `PgEventStore::append`: one call of `store.append_events`, one round
//! trip, one implicit transaction. The plain side is one multi-row `INSERT ... SELECT FROM
//! unnest(...)` of the same rows, also one statement in one implicit transaction, into
//! `plain_events`: the columns of `store.events` (minus `transaction_id`) with the same
//! primary and unique keys, but without the `$all` ordering index, without `store.streams`
//! and without any version check.
//!
//! The machine this runs on is shared and noisy: commit latency jumps several-fold from one
//! second to the next. So within each round the two sides take turns in short slices (store,
//! plain, plain, store, ...), each side's rate is its own operations over its own time, and
//! the table shows the median over rounds with the range of per-round ratios. While other
//! processes keep every core busy, a single writer's rate is set by how fast the client gets
//! scheduled after each round trip rather than by either side's SQL; compare that row when
//! the machine is otherwise idle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bench::scratch::with_scratch_database;
use clap::Parser;
use commands::store::{
    Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom, StoreError,
};
use commands::{database::MIGRATOR, store::postgres::PgEventStore};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Event store append/read rates beside plain PostgreSQL INSERTs of the same rows")]
struct Args {
    /// The server to benchmark on. A fresh database is created there and dropped after; the
    /// database named in the URL is only used to create and drop it.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// Scale: events each side writes per round in the 16-writer 1-event scenario. The others
    /// derive from it: 1 writer N/2 events, batches of 10 4N events, batches of 100 8N events,
    /// the hot stream N/4 appends.
    #[arg(long, env = "STORE_BENCH_EVENTS", default_value_t = 6_000)]
    events: usize,

    /// Rounds. Each round runs every scenario on both sides; the table shows the median.
    #[arg(long, env = "STORE_BENCH_ROUNDS", default_value_t = 3)]
    rounds: usize,

    /// A smoke run of about ten seconds (--events 2000 --rounds 1).
    #[arg(long)]
    quick: bool,
}

/// Streams the spread scenarios write, per run.
const STREAMS: usize = 1_000;
/// Concurrent writers in every multi-writer scenario.
const WRITERS: usize = 16;
/// Pool size: the writers, the store's notifier task and a little slack.
const POOL: u32 = WRITERS as u32 + 4;
/// `$all` page size.
const PAGE: usize = 1_000;
/// Pages each side reads before the other takes its turn.
const READ_SLICE: usize = 20;
/// Slices of each round of the hot-stream scenario.
const HOT_SLICES: usize = 6;
/// The acceptance bar: the store must reach at least this share of the plain rate.
const BAR: f64 = 0.5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (events, rounds) = if args.quick {
        (2_000, 1)
    } else {
        (args.events, args.rounds)
    };
    if events < 400 {
        bail!("--events must be at least 400");
    }
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let plan = Plan::new(events, rounds);

    let server: PgConnectOptions = args
        .database_url
        .parse()
        .context("parsing --database-url / DATABASE_URL")?;
    with_scratch_database(&server, "um_store_bench", |db| run(db, &plan)).await
}

/// How much each scenario writes per side per round.
struct Plan {
    events: usize,
    rounds: usize,
    one_writer: usize,
    many_writers: usize,
    batch10: usize,
    batch100: usize,
    hot: usize,
}

impl Plan {
    fn new(events: usize, rounds: usize) -> Self {
        Plan {
            events,
            rounds,
            one_writer: events / 2,
            many_writers: events,
            batch10: (events * 4 / 10).max(WRITERS),
            batch100: (events * 8 / 100).max(WRITERS),
            hot: (events / 4).max(WRITERS),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Store,
    Plain,
}

/// One measured run of one side of one scenario (or the sum of its slices).
#[derive(Clone, Default)]
struct Run {
    elapsed: Duration,
    /// Appends, inserts or pages.
    ops: usize,
    events: usize,
    latencies: Vec<Duration>,
    /// Hot stream only: appends refused with `WrongExpectedVersion` (each one reloaded and
    /// retried), and the most retries one append needed.
    conflicts: u64,
    max_retries: u64,
}

impl Run {
    fn ops_rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
    fn events_rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    /// Adds a slice of the same run.
    fn absorb(&mut self, slice: Run) {
        self.elapsed += slice.elapsed;
        self.ops += slice.ops;
        self.events += slice.events;
        self.latencies.extend(slice.latencies);
        self.conflicts += slice.conflicts;
        self.max_retries = self.max_retries.max(slice.max_retries);
    }
}

/// One side's 1,000 streams in a spread scenario, continued from slice to slice. Writer `w`
/// owns streams `w, w + writers, ...` and cycles through them, so writers never conflict.
struct Streams {
    tag: u64,
    /// Per writer: the next revision of each stream it owns.
    next: Vec<Vec<u64>>,
    /// Per writer: appends made so far (which of its streams comes next).
    done: Vec<usize>,
}

impl Streams {
    fn new(bench: &Bench, writers: usize) -> Self {
        Streams {
            tag: bench.tag(),
            next: (0..writers)
                .map(|w| vec![0; (w..STREAMS).step_by(writers).count()])
                .collect(),
            done: vec![0; writers],
        }
    }
}

struct Bench {
    store: PgEventStore,
    pool: PgPool,
    /// Makes every run's stream ids unique.
    runs: AtomicU64,
}

impl Bench {
    fn tag(&self) -> u64 {
        self.runs.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts each measured run from the same state: no dirty buffers a checkpoint could
    /// flush in the middle of one side's run, fresh statistics.
    async fn settle(&self) -> anyhow::Result<()> {
        sqlx::query("analyze store.events, store.streams, plain_events, plain_streams")
            .execute(&self.pool)
            .await?;
        // Needs superuser (or pg_checkpoint); without it the runs are merely noisier.
        let _ = sqlx::query("checkpoint").execute(&self.pool).await;
        Ok(())
    }
}

/// A table row: one scenario, every round's run of both sides.
struct Row {
    name: String,
    batch: usize,
    read: bool,
    store: Vec<Run>,
    plain: Vec<Run>,
}

async fn run(options: PgConnectOptions, plan: &Plan) -> anyhow::Result<()> {
    let started = Instant::now();
    let pool = commands::database::pool_options()
        .max_connections(POOL)
        .min_connections(POOL)
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(options)
        .await
        .context("connecting to the benchmark database")?;
    MIGRATOR.run(&pool).await.context("migrating")?;
    create_plain_tables(&pool).await?;
    let server_version: String = sqlx::query_scalar("show server_version")
        .fetch_one(&pool)
        .await?;
    let synchronous_commit: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(&pool)
        .await?;
    let load_before = load_average();

    let bench = Arc::new(Bench {
        store: PgEventStore::new(pool.clone()),
        pool: pool.clone(),
        runs: AtomicU64::new(0),
    });
    warm_up(&bench).await?;

    let mut rows: Vec<Row> = [
        ("1-event appends, 1 writer, 1,000 streams", 1),
        ("1-event appends, 16 writers, 1,000 streams", 1),
        ("10-event appends, 16 writers, 1,000 streams", 10),
        ("100-event appends, 16 writers, 1,000 streams", 100),
        ("one hot stream, 16 writers, `Exact` + reload/retry", 1),
        ("one hot stream, 16 writers, `Any` (no check)", 1),
        ("`$all` read, pages of 1,000", 1),
    ]
    .into_iter()
    .map(|(name, batch)| Row {
        name: name.to_owned(),
        batch,
        read: false,
        store: Vec::new(),
        plain: Vec::new(),
    })
    .collect();
    rows[6].read = true;

    for round in 0..plan.rounds {
        let spread_scenarios = [
            (0, 1, 1, plan.one_writer),
            (1, WRITERS, 1, plan.many_writers),
            (2, WRITERS, 10, plan.batch10),
            (3, WRITERS, 100, plan.batch100),
        ];
        for (i, writers, batch, appends) in spread_scenarios {
            // Commit latency jumps between about 0.3 and 3 ms from one second to the next on
            // this shared machine, so the two sides take turns in short slices (S P P S S P
            // ...: 10 appends with one writer, 25 per writer with 16) and each side's rate
            // is its total over its slices; each side keeps appending to the same streams
            // across slices.
            let per_slice = if writers == 1 { 10 } else { writers * 25 };
            let slices = (appends / per_slice).max(2) / 2 * 2;
            let mut store_streams = Streams::new(&bench, writers);
            let mut plain_streams = Streams::new(&bench, writers);
            let (mut store_run, mut plain_run) = (Run::default(), Run::default());
            bench.settle().await?;
            for slice in 0..slices {
                let order = if (round + slice) % 2 == 0 {
                    [Side::Store, Side::Plain]
                } else {
                    [Side::Plain, Side::Store]
                };
                let n = share(appends, slices, slice);
                for side in order {
                    match side {
                        Side::Store => store_run
                            .absorb(spread(&bench, side, batch, n, &mut store_streams).await?),
                        Side::Plain => plain_run
                            .absorb(spread(&bench, side, batch, n, &mut plain_streams).await?),
                    }
                    // Untimed: lets the store's asynchronous NOTIFY after its last append
                    // finish before the other side's clock starts.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            progress(round, plan, &rows[i].name, Side::Store, &store_run);
            progress(round, plan, &rows[i].name, Side::Plain, &plain_run);
            rows[i].store.push(store_run);
            rows[i].plain.push(plain_run);
        }

        // The hot stream: three runs (store `Exact`, store `Any`, plain) take turns in six
        // slices, each in every position twice; both store rows share the plain run.
        let mut streams =
            [Hot::Exact, Hot::Any, Hot::Plain].map(|mode| HotStream::new(&bench, mode));
        let mut runs = [Run::default(), Run::default(), Run::default()];
        bench.settle().await?;
        for slice in 0..HOT_SLICES {
            for k in 0..3 {
                let m = (round + slice + k) % 3;
                let n = share(plan.hot, HOT_SLICES, slice);
                runs[m].absorb(hot(&bench, n, &mut streams[m]).await?);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        for s in &streams[..2] {
            s.verify(&bench, plan.hot).await?;
        }
        let [exact, any, plain] = runs;
        progress(round, plan, &rows[4].name, Side::Store, &exact);
        progress(round, plan, &rows[5].name, Side::Store, &any);
        progress(
            round,
            plan,
            "one hot stream, 16 writers",
            Side::Plain,
            &plain,
        );
        rows[4].store.push(exact);
        rows[5].store.push(any);
        rows[4].plain.push(plain.clone());
        rows[5].plain.push(plain);
    }

    // Reads come last, when both logs hold every round's rows; the sides take turns in
    // slices of READ_SLICE pages, each continuing where it stopped.
    for round in 0..plan.rounds {
        bench.settle().await?;
        let mut store_after = Some(Position::START);
        let mut plain_after = Some(0i64);
        let (mut store_run, mut plain_run) = (Run::default(), Run::default());
        let mut slice = round;
        while store_after.is_some() || plain_after.is_some() {
            let order = if slice % 2 == 0 {
                [Side::Store, Side::Plain]
            } else {
                [Side::Plain, Side::Store]
            };
            for side in order {
                match side {
                    Side::Store => store_run.absorb(read_store(&bench, &mut store_after).await?),
                    Side::Plain => plain_run.absorb(read_plain(&bench, &mut plain_after).await?),
                }
            }
            slice += 1;
        }
        progress(round, plan, &rows[6].name, Side::Store, &store_run);
        progress(round, plan, &rows[6].name, Side::Plain, &plain_run);
        rows[6].store.push(store_run);
        rows[6].plain.push(plain_run);
    }

    let (data_len, metadata_len) = payload_sizes();
    print_table(&rows);
    println!();
    println!(
        "- Scale: `--events {}`, {} round(s), median rate over rounds (the range in \
         brackets is the per-round store/plain ratio); latencies pooled over rounds. \
         Total run time {:.0} s.",
        plan.events,
        plan.rounds,
        started.elapsed().as_secs_f64()
    );
    println!(
        "- Server: PostgreSQL {server_version}, synchronous_commit = {synchronous_commit}; \
         client and server share {} core(s); load average before / after: {} / {}.",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average()
    );
    println!(
        "- Payload: JSON data {data_len} bytes, metadata {metadata_len} bytes \
         (correlation_id, causation_id, actor, occurred_at) per event, random v4 event ids."
    );
    println!(
        "- Plain side of the append rows: one `INSERT ... SELECT FROM unnest(...)` per \
         append into a table with the columns and unique keys of `store.events` (minus \
         `transaction_id` and the `$all` ordering index), revisions computed by the client, \
         no version check. Hot stream plain side: the same insert with the revision taken \
         from a per-stream counter row (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` in \
         the same statement), so writers queue on one row lock as the store's do; it never \
         conflicts, so beside the `Exact` row it shows the cost of optimistic retries, not \
         of the store. `$all` plain side: keyset pages `WHERE event_position > $1 ORDER BY \
         event_position LIMIT 1000` over the primary key."
    );
    pool.close().await;
    Ok(())
}

fn progress(round: usize, plan: &Plan, name: &str, side: Side, r: &Run) {
    eprintln!(
        "round {}/{}: {name} [{side:?}]: {} ops, {} events in {:.2} s = {:.0} ops/s, {:.0} events/s{}",
        round + 1,
        plan.rounds,
        r.ops,
        r.events,
        r.elapsed.as_secs_f64(),
        r.ops_rate(),
        r.events_rate(),
        if r.conflicts > 0 {
            format!(", {} conflicts", r.conflicts)
        } else {
            String::new()
        }
    );
}

async fn create_plain_tables(pool: &PgPool) -> anyhow::Result<()> {
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
    .execute(pool)
    .await?;
    // Only the hot-stream baseline uses it: the per-stream revision counter.
    sqlx::query(
        "create table plain_streams (
            stream_id   text primary key,
            revision    bigint not null,
            updated_at  timestamptz not null default now())",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Opens every pooled connection and lets each prepare every statement (and plan the
/// PL/pgSQL function's branches) before anything is timed.
async fn warm_up(bench: &Arc<Bench>) -> anyhow::Result<()> {
    let conns = futures::future::try_join_all((0..POOL).map(|_| bench.pool.acquire())).await?;
    drop(conns);
    for side in [Side::Store, Side::Plain] {
        let mut streams = Streams::new(bench, WRITERS);
        spread(bench, side, 1, WRITERS * 8, &mut streams).await?;
        spread(bench, side, 10, WRITERS * 2, &mut streams).await?;
    }
    for mode in [Hot::Exact, Hot::Any, Hot::Plain] {
        hot(bench, WRITERS * 4, &mut HotStream::new(bench, mode)).await?;
    }
    bench.store.read_all(Position::START, PAGE).await?;
    read_plain_page(&bench.pool, 0).await?;
    Ok(())
}

/// Splits `total` operations over `writers`: writer `w`'s share.
fn share(total: usize, writers: usize, w: usize) -> usize {
    total / writers + usize::from(w < total % writers)
}

/// Roughly 200 bytes of data and 200 of metadata, as a stock reservation would carry.
fn payload() -> (Value, Value) {
    let n: u32 = rand::random();
    let now = chrono::Utc::now();
    (
        json!({
            "order_id": Uuid::new_v4(),
            "sku": format!("SKU-{:06}", n % 1_000_000),
            "quantity": 1 + n % 5,
            "unit_price": { "amount": 499 + n % 20_000, "currency": "EUR" },
            "warehouse_id": "wh-eu-west-1",
            "expires_at": now + chrono::Duration::minutes(15),
        }),
        json!({
            "correlation_id": Uuid::new_v4(),
            "causation_id": Uuid::new_v4(),
            "actor": format!("customer:{}", Uuid::new_v4()),
            "occurred_at": now,
        }),
    )
}

fn new_events(n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|_| {
            let (data, metadata) = payload();
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

fn payload_sizes() -> (usize, usize) {
    let samples = 1_000;
    let (mut d, mut m) = (0, 0);
    for _ in 0..samples {
        let (data, metadata) = payload();
        d += data.to_string().len();
        m += metadata.to_string().len();
    }
    (d / samples, m / samples)
}

/// `appends` appends of `batch` events, shared by the writers of `streams`, continuing
/// those streams. The store side appends with the exact revision it tracked for the stream
/// (`NoStream` for the first append); the plain side inserts at the revision it tracked.
async fn spread(
    bench: &Arc<Bench>,
    side: Side,
    batch: usize,
    appends: usize,
    streams: &mut Streams,
) -> anyhow::Result<Run> {
    let writers = streams.next.len();
    let tag = streams.tag;
    // Payloads are built before the clock starts: the client shares the server's two cores.
    let work: Vec<Vec<Vec<NewEvent>>> = (0..writers)
        .map(|w| {
            (0..share(appends, writers, w))
                .map(|_| new_events(batch))
                .collect()
        })
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .enumerate()
        .map(|(w, ops)| {
            let bench = bench.clone();
            let mut next = std::mem::take(&mut streams.next[w]);
            let mut done = streams.done[w];
            tokio::spawn(async move {
                let ids: Vec<String> = (w..STREAMS)
                    .step_by(writers)
                    .map(|s| format!("stock{tag}-{s}"))
                    .collect();
                let mut latencies = Vec::with_capacity(ops.len());
                for events in ops {
                    let slot = done % ids.len();
                    done += 1;
                    let t = Instant::now();
                    match side {
                        Side::Store => {
                            let expected = match next[slot] {
                                0 => ExpectedVersion::NoStream,
                                r => ExpectedVersion::Exact(r - 1),
                            };
                            let r = bench.store.append(&ids[slot], expected, events).await?;
                            if r.revision != next[slot] + batch as u64 - 1 {
                                bail!("{}: revision {} after append", ids[slot], r.revision);
                            }
                            next[slot] = r.revision + 1;
                        }
                        Side::Plain => {
                            plain_insert(&bench.pool, &ids[slot], Some(next[slot]), events).await?;
                            next[slot] += batch as u64;
                        }
                    }
                    latencies.push(t.elapsed());
                }
                anyhow::Ok((latencies, next, done))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for (w, task) in tasks.into_iter().enumerate() {
        let (l, next, done) = task.await??;
        latencies.extend(l);
        streams.next[w] = next;
        streams.done[w] = done;
    }
    Ok(Run {
        elapsed: start.elapsed(),
        ops: latencies.len(),
        events: latencies.len() * batch,
        latencies,
        conflicts: 0,
        max_retries: 0,
    })
}

/// The same rows as the store's append, in one statement and one implicit transaction. With
/// `first_revision` the client numbers the rows; without, they are numbered from the stream's
/// counter row, taken in the same statement (the hot-stream baseline).
async fn plain_insert(
    pool: &PgPool,
    stream: &str,
    first_revision: Option<u64>,
    events: Vec<NewEvent>,
) -> anyhow::Result<()> {
    let n = events.len();
    let mut ids = Vec::with_capacity(n);
    let mut types = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut metadata = Vec::with_capacity(n);
    for e in events {
        ids.push(e.id);
        types.push(e.event_type);
        versions.push(e.schema_version as i32);
        data.push(e.data);
        metadata.push(e.metadata);
    }
    let done = match first_revision {
        Some(first) => {
            sqlx::query(
                "insert into plain_events
                    (event_id, stream_id, stream_revision, event_type, schema_version, data,
                     metadata)
                 select i.event_id, $1, $2 + i.ord - 1, i.event_type, i.schema_version, i.data,
                        i.metadata
                   from unnest($3::uuid[], $4::text[], $5::integer[], $6::jsonb[], $7::jsonb[])
                        with ordinality
                        as i(event_id, event_type, schema_version, data, metadata, ord)",
            )
            .bind(stream)
            .bind(i64::try_from(first)?)
            .bind(&ids)
            .bind(&types)
            .bind(&versions)
            .bind(&data)
            .bind(&metadata)
            .execute(pool)
            .await?
        }
        None => {
            sqlx::query(
                "with counter as (
                     insert into plain_streams as s (stream_id, revision)
                     values ($1, cardinality($2::uuid[]) - 1)
                     on conflict (stream_id) do update
                        set revision = s.revision + cardinality($2::uuid[]), updated_at = now()
                     returning s.revision)
                 insert into plain_events
                    (event_id, stream_id, stream_revision, event_type, schema_version, data,
                     metadata)
                 select i.event_id, $1, counter.revision - cardinality($2::uuid[]) + i.ord,
                        i.event_type, i.schema_version, i.data, i.metadata
                   from counter,
                        unnest($2::uuid[], $3::text[], $4::integer[], $5::jsonb[], $6::jsonb[])
                        with ordinality
                        as i(event_id, event_type, schema_version, data, metadata, ord)",
            )
            .bind(stream)
            .bind(&ids)
            .bind(&types)
            .bind(&versions)
            .bind(&data)
            .bind(&metadata)
            .execute(pool)
            .await?
        }
    };
    if done.rows_affected() != n as u64 {
        bail!("plain insert wrote {} rows of {n}", done.rows_affected());
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hot {
    /// The store, each writer in the plain optimistic loop: append at the revision it last
    /// knew (`NoStream` at first); on `WrongExpectedVersion` reload the stream's last revision
    /// (`read_stream` backwards, limit 1) and try again.
    Exact,
    /// The store with `ExpectedVersion::Any`: no check, the writers queue on the stream's row.
    Any,
    /// The baseline: plain 1-row inserts numbered from the stream's counter row in the same
    /// statement; the writers queue on the counter row.
    Plain,
}

/// One hot stream, continued from slice to slice, with what each writer last knew of it.
struct HotStream {
    mode: Hot,
    stream: String,
    known: Vec<Option<u64>>,
}

impl HotStream {
    fn new(bench: &Bench, mode: Hot) -> Self {
        HotStream {
            mode,
            stream: format!("hot{}-1", bench.tag()),
            known: vec![None; WRITERS],
        }
    }

    /// Checks that every append landed exactly once.
    async fn verify(&self, bench: &Bench, appends: usize) -> anyhow::Result<()> {
        let last = bench
            .store
            .read_stream(&self.stream, ReadFrom::End, Direction::Backwards, 1)
            .await?;
        if last.first().map(|e| e.revision + 1) != Some(appends as u64) {
            bail!("{} does not hold {appends} events", self.stream);
        }
        Ok(())
    }
}

/// 16 writers making `appends` 1-event appends (or inserts) to one stream. A latency spans
/// every attempt an append needed.
async fn hot(bench: &Arc<Bench>, appends: usize, hot: &mut HotStream) -> anyhow::Result<Run> {
    let mode = hot.mode;
    let work: Vec<Vec<Vec<NewEvent>>> = (0..WRITERS)
        .map(|w| {
            (0..share(appends, WRITERS, w))
                .map(|_| new_events(1))
                .collect()
        })
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .enumerate()
        .map(|(w, ops)| {
            let bench = bench.clone();
            let stream = hot.stream.clone();
            let mut known = hot.known[w];
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(ops.len());
                let (mut conflicts, mut max_retries) = (0u64, 0u64);
                for events in ops {
                    let t = Instant::now();
                    let mut retries = 0;
                    loop {
                        let expected = match mode {
                            Hot::Plain => {
                                plain_insert(&bench.pool, &stream, None, events).await?;
                                break;
                            }
                            Hot::Any => ExpectedVersion::Any,
                            Hot::Exact => {
                                known.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact)
                            }
                        };
                        match bench.store.append(&stream, expected, events.clone()).await {
                            Ok(r) => {
                                known = Some(r.revision);
                                break;
                            }
                            Err(StoreError::WrongExpectedVersion { .. }) => {
                                retries += 1;
                                let last = bench
                                    .store
                                    .read_stream(&stream, ReadFrom::End, Direction::Backwards, 1)
                                    .await?;
                                known = last.first().map(|e| e.revision);
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    latencies.push(t.elapsed());
                    conflicts += retries;
                    max_retries = max_retries.max(retries);
                }
                anyhow::Ok((latencies, conflicts, max_retries, known))
            })
        })
        .collect();
    let mut run = Run::default();
    for (w, task) in tasks.into_iter().enumerate() {
        let (latencies, conflicts, max_retries, known) = task.await??;
        run.latencies.extend(latencies);
        run.conflicts += conflicts;
        run.max_retries = run.max_retries.max(max_retries);
        hot.known[w] = known;
    }
    run.elapsed = start.elapsed();
    run.ops = run.latencies.len();
    run.events = run.ops;
    Ok(run)
}

/// Up to READ_SLICE pages of `$all` through `EventStore::read_all` after `*after`; `None`
/// once the end was read.
async fn read_store(bench: &Arc<Bench>, after: &mut Option<Position>) -> anyhow::Result<Run> {
    let mut run = Run::default();
    let start = Instant::now();
    while let Some(from) = *after {
        if run.ops == READ_SLICE {
            break;
        }
        let t = Instant::now();
        let page = bench.store.read_all(from, PAGE).await?;
        run.latencies.push(t.elapsed());
        run.ops += 1;
        run.events += page.len();
        *after = match page.last() {
            None => None,
            Some(last) if last.position <= from => bail!("$all went backwards at {from}"),
            Some(last) => Some(last.position),
        };
    }
    run.elapsed = start.elapsed();
    Ok(run)
}

/// The same columns decoded into the same Rust types as the store's rows.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct PlainRow {
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

async fn read_plain_page(pool: &PgPool, after: i64) -> anyhow::Result<Vec<PlainRow>> {
    Ok(sqlx::query_as(
        "select event_position, event_id, stream_id, stream_revision, event_type,
                schema_version, data, metadata, recorded_at
           from plain_events where event_position > $1 order by event_position limit $2",
    )
    .bind(after)
    .bind(PAGE as i64)
    .fetch_all(pool)
    .await?)
}

/// Up to READ_SLICE keyset pages of the plain table over its primary key after `*after`;
/// `None` once the end was read.
async fn read_plain(bench: &Arc<Bench>, after: &mut Option<i64>) -> anyhow::Result<Run> {
    let mut run = Run::default();
    let start = Instant::now();
    while let Some(from) = *after {
        if run.ops == READ_SLICE {
            break;
        }
        let t = Instant::now();
        let page = read_plain_page(&bench.pool, from).await?;
        run.latencies.push(t.elapsed());
        run.ops += 1;
        run.events += page.len();
        *after = page.last().map(|last| last.event_position);
    }
    run.elapsed = start.elapsed();
    Ok(run)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// p50 and p99 (nearest rank) over every round's operations, in milliseconds.
fn percentiles(runs: &[Run]) -> String {
    let mut all: Vec<Duration> = runs
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    if all.is_empty() {
        return "-".into();
    }
    all.sort();
    let at = |p: f64| {
        let rank = ((p * all.len() as f64).ceil() as usize).clamp(1, all.len());
        all[rank - 1].as_secs_f64() * 1e3
    };
    format!("{:.2} / {:.2} ms", at(0.50), at(0.99))
}

fn print_table(rows: &[Row]) {
    println!(
        "| scenario | store | plain | store / plain | store p50 / p99 | plain p50 / p99 | ≥ {BAR:.2}? |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | :---: |");
    for row in rows {
        let store_ops = median(row.store.iter().map(Run::ops_rate).collect());
        let plain_ops = median(row.plain.iter().map(Run::ops_rate).collect());
        let store_events = median(row.store.iter().map(Run::events_rate).collect());
        let plain_events = median(row.plain.iter().map(Run::events_rate).collect());
        let (store_cell, plain_cell, ratio) = if row.read {
            (
                format!("{store_events:.0} events/s"),
                format!("{plain_events:.0} rows/s"),
                store_events / plain_events,
            )
        } else if row.batch == 1 {
            (
                format!("{store_ops:.0} appends/s"),
                format!("{plain_ops:.0} inserts/s"),
                store_ops / plain_ops,
            )
        } else {
            (
                format!("{store_events:.0} events/s ({store_ops:.0} appends/s)"),
                format!("{plain_events:.0} rows/s ({plain_ops:.0} inserts/s)"),
                store_ops / plain_ops,
            )
        };
        let per_round: Vec<f64> = row
            .store
            .iter()
            .zip(&row.plain)
            .map(|(s, p)| {
                if row.read {
                    s.events_rate() / p.events_rate()
                } else {
                    s.ops_rate() / p.ops_rate()
                }
            })
            .collect();
        let range = if per_round.len() > 1 {
            let lo = per_round.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = per_round.iter().copied().fold(0.0, f64::max);
            format!(" ({lo:.2}–{hi:.2})")
        } else {
            String::new()
        };
        let mut name = row.name.clone();
        let conflicts: u64 = row.store.iter().map(|r| r.conflicts).sum();
        if conflicts > 0 {
            let appends: usize = row.store.iter().map(|r| r.ops).sum();
            let max = row.store.iter().map(|r| r.max_retries).max().unwrap_or(0);
            name.push_str(&format!(
                "; {:.1} conflicts (each reloaded and retried) per append, up to {max}",
                conflicts as f64 / appends as f64
            ));
        }
        if row.read {
            let store_n = row.store.last().map_or(0, |r| r.events);
            let plain_n = row.plain.last().map_or(0, |r| r.events);
            name.push_str(&format!(" ({store_n} events; plain {plain_n} rows)"));
        }
        println!(
            "| {name} | {store_cell} | {plain_cell} | {ratio:.2}{range} | {} | {} | {} |",
            percentiles(&row.store),
            percentiles(&row.plain),
            if ratio >= BAR { "yes" } else { "**no**" },
        );
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
