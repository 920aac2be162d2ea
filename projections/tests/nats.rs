//! The relay and both projection feeds against real PostgreSQL and real NATS JetStream.
//!
//! Every scenario ends with the same check, whatever the feed ([`assert_complete`]): the
//! read model holds every event the store holds, each applied exactly once, and each
//! exactly as the store recorded it (metadata, position and `recorded_at` included), so
//! what went through NATS is indistinguishable from what came from the store.
//!
//! Each test uses its own JetStream stream and subject prefix, so tests (and anyone else
//! on the shared server) do not see each other's messages; the test that kills NATS runs
//! a server of its own.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_trait::async_trait;
use commands::handler::CommandHandler;
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent};
use domain::order::Order;
use futures::StreamExt;
use projections::jetstream::{JetStreamConfig, Outcome, Worker};
use projections::orders::OrdersProjection;
use projections::relay::{self, Relay};
use projections::wire::{self, Delivery};
use projections::{Projection, ProjectionError, Runner};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How long a polled condition may take before the test fails. It costs nothing when all
/// is well, and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

/// Counts how many times each event was applied, and keeps what it was given, so a
/// double apply or an altered event shows.
struct Tally;

#[async_trait]
impl Projection for Tally {
    fn name(&self) -> &'static str {
        "tally"
    }

    fn schema(&self) -> &'static str {
        "tally"
    }

    fn tables(&self) -> &'static str {
        "create table applied (
             event_id uuid primary key,
             times    integer not null,
             event    jsonb not null
         );"
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        sqlx::query(
            "insert into applied (event_id, times, event) values ($1, 1, $2)
             on conflict (event_id) do update set times = applied.times + 1",
        )
        .bind(event.id)
        .bind(fingerprint(event))
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// Tally under another name, wanting only product events.
struct Products;

#[async_trait]
impl Projection for Products {
    fn name(&self) -> &'static str {
        "products"
    }

    fn schema(&self) -> &'static str {
        "products"
    }

    fn tables(&self) -> &'static str {
        Tally.tables()
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == "product"
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        Tally.apply(tx, event).await
    }
}

/// Tally under another name, pausing after each event it writes: a batch of it can be
/// abandoned halfway.
struct Slow;

#[async_trait]
impl Projection for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }

    fn schema(&self) -> &'static str {
        "slow"
    }

    fn tables(&self) -> &'static str {
        Tally.tables()
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        Tally.apply(tx, event).await?;
        sqlx::query("select pg_sleep(0.4)")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Everything a `RecordedEvent` holds, as JSON.
fn fingerprint(e: &RecordedEvent) -> Value {
    json!({
        "id": e.id, "stream_id": e.stream_id, "revision": e.revision,
        "position": e.position.to_string(), "event_type": e.event_type,
        "schema_version": e.schema_version, "data": e.data, "metadata": e.metadata,
        "recorded_at": e.recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Feed {
    /// The store's own `$all` subscription, in process (`Runner::run`).
    Embedded,
    /// The relay's JetStream messages (`projections::jetstream::run`).
    JetStream,
}

fn nats_url() -> String {
    std::env::var("NATS_TEST_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

async fn connect(url: &str) -> jetstream::Context {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("NATS at {url}: {e} (start it with `nats-server -js`)"));
    jetstream::new(client)
}

/// A stream and subject prefix of the test's own.
fn config() -> JetStreamConfig {
    let id = Uuid::new_v4().simple().to_string();
    let mut config = JetStreamConfig::new(format!("TEST_{id}"), format!("test{id}"));
    config.idle = Duration::from_millis(300);
    // Messages a killed worker (or a killed server) never saw acknowledged come back
    // within the test's patience.
    config.ack_wait = Duration::from_secs(2);
    config
}

/// Removes the test's stream from the shared server.
async fn delete_stream(js: &jetstream::Context, config: &JetStreamConfig) {
    let _ = js.delete_stream(&config.stream).await;
}

/// Appends `n` events, a few per append, across three categories, pausing `every`
/// between appends so other tasks run meanwhile.
async fn write(store: Arc<dyn EventStore>, n: usize, every: Duration) {
    let categories = ["order", "product", "cart"];
    let mut written = 0;
    let mut i = 0;
    while written < n {
        let per = (1 + i % 3).min(n - written);
        let stream = format!("{}-{}", categories[i % 3], Uuid::new_v4());
        let events = (0..per)
            .map(|k| NewEvent {
                id: Uuid::new_v4(),
                event_type: format!("Thing{}Happened", k),
                schema_version: 1 + (k as u32 % 2),
                data: json!({"i": i, "k": k, "amount": {"minor": 1999, "currency": "EUR"}}),
                metadata: json!({
                    "correlation_id": Uuid::new_v4().to_string(),
                    "causation_id": Uuid::new_v4().to_string(),
                    "actor": {"user_id": null, "role": "customer"},
                }),
            })
            .collect();
        store
            .append(&stream, ExpectedVersion::NoStream, events)
            .await
            .unwrap();
        written += per;
        i += 1;
        if !every.is_zero() {
            tokio::time::sleep(every).await;
        }
    }
}

async fn every_event(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    let mut at = Position::START;
    loop {
        let events = store.read_all(at, 1000).await.unwrap();
        let Some(last) = events.last() else {
            return all;
        };
        at = last.position;
        all.extend(events);
    }
}

/// Waits until `$all` shows `n` events (a commit shows once older transactions ended).
async fn events_in_store(store: &dyn EventStore, n: usize) -> Vec<RecordedEvent> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let events = every_event(store).await;
        if events.len() >= n || Instant::now() > deadline {
            if events.len() != n {
                panic!(
                    "{} of {n} events readable in $all; transactions holding the horizon:\n{}",
                    events.len(),
                    horizon_holders().await
                );
            }
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The server's open transactions that hold an id, oldest first: `$all` shows no event
/// committed after the oldest of them began, whichever database it is in.
async fn horizon_holders() -> String {
    use sqlx::Connection;
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(
        "select format('  pid %s, database %s, application %L, %s for %s s: %s',
                       pid, datname, application_name, state,
                       round(extract(epoch from now() - xact_start), 1), left(query, 200))
           from pg_stat_activity
          where backend_xid is not null
          order by age(backend_xid) desc",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.join("\n")
}

/// The check every scenario ends with: within `within`, the tally holds each of the `n`
/// events in the store exactly once, exactly as recorded, and the checkpoint is at the
/// last one.
async fn assert_complete(store: &dyn EventStore, pool: &PgPool, n: usize, within: Duration) {
    let events = events_in_store(store, n).await;
    let head = events.last().unwrap().position;
    let deadline = Instant::now() + within;
    let (rows, at) = loop {
        // The table is missing until the projection first runs.
        let rows: i64 = sqlx::query_scalar("select count(*) from tally.applied")
            .fetch_one(pool)
            .await
            .unwrap_or(0);
        let at = projections::checkpoint::position(pool, "tally")
            .await
            .unwrap();
        if (rows as usize == n && at == head) || Instant::now() >= deadline {
            break (rows, at);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (rows as usize, at),
        (n, head),
        "read model (rows, checkpoint) after {within:?}"
    );
    let applied: HashMap<Uuid, (i32, Value)> =
        sqlx::query_as::<_, (Uuid, i32, Value)>("select event_id, times, event from tally.applied")
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, times, event)| (id, (times, event)))
            .collect();
    for event in &events {
        let (times, seen) = applied
            .get(&event.id)
            .unwrap_or_else(|| panic!("event {} at {} never applied", event.id, event.position));
        assert_eq!(*times, 1, "event {} applied {times} times", event.id);
        assert_eq!(
            seen,
            &fingerprint(event),
            "event {} altered on its way",
            event.id
        );
    }
}

/// A projection task of either feed, stopped by the returned sender (or aborted).
fn spawn_projection(
    feed: Feed,
    store: &Arc<dyn EventStore>,
    pool: &PgPool,
    projection: Arc<dyn Projection>,
    js: &jetstream::Context,
    config: &JetStreamConfig,
) -> (JoinHandle<Result<(), ProjectionError>>, watch::Sender<bool>) {
    let (stop, stopped) = watch::channel(false);
    let runner = Runner::new(store.clone(), pool.clone(), projection);
    let task = match feed {
        Feed::Embedded => tokio::spawn(runner.run(stopped)),
        Feed::JetStream => tokio::spawn(projections::jetstream::run(
            runner,
            js.clone(),
            config.clone(),
            stopped,
        )),
    };
    (task, stop)
}

fn spawn_relay(
    store: &Arc<dyn EventStore>,
    pool: &PgPool,
    js: &jetstream::Context,
    config: &JetStreamConfig,
) -> JoinHandle<Result<(), relay::RelayError>> {
    let (stop, stopped) = watch::channel(false);
    let relay = Relay::new(store.clone(), pool.clone(), js.clone(), config.clone());
    tokio::spawn(async move {
        // Keeps the sender alive as long as the task: dropping it would read as a stop.
        let _stop = stop;
        relay.run(stopped).await
    })
}

/// Waits until the relay's checkpoint reaches the last of the `n` events in the store.
async fn relayed(store: &dyn EventStore, pool: &PgPool, config: &JetStreamConfig, n: usize) {
    let head = events_in_store(store, n).await.last().unwrap().position;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (at, _) = relay::checkpoint(pool, &config.stream).await.unwrap();
        if at == head {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "relay stuck at {at}, head {head}, after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every message in the test's stream, oldest first.
async fn messages(js: &jetstream::Context, config: &JetStreamConfig) -> Vec<jetstream::Message> {
    let stream = js.get_stream(&config.stream).await.unwrap();
    let consumer: jetstream::consumer::PullConsumer = stream
        .create_consumer(pull::Config {
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut batch = consumer
        .fetch()
        .max_messages(10_000)
        .messages()
        .await
        .unwrap();
    let mut all = Vec::new();
    while let Some(message) = batch.next().await {
        all.push(message.unwrap());
    }
    all
}

/// Asserts the projection's durable consumer was handed every message in the stream and
/// acknowledged them all: the JetStream path carried the events, not only the store.
async fn assert_consumed(js: &jetstream::Context, config: &JetStreamConfig, projection: &str) {
    let stream = js.get_stream(&config.stream).await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let info = stream.consumer_info(projection).await.unwrap();
        let done = info.num_pending == 0 && info.num_ack_pending == 0;
        if done || Instant::now() > deadline {
            assert!(
                done,
                "consumer {projection} left messages after {PATIENCE:?}: {info:?}"
            );
            assert!(info.delivered.stream_sequence > 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The relay publishes each event once, on `<prefix>.<category>.<EventType>`, with the
/// headers the design names, a body that decodes to exactly the stored event, and a
/// chain of previous positions; a relay that lost its checkpoint publishes nothing twice.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_relay_publishes_every_event_once_with_its_subject_and_headers(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    write(store.clone(), 120, Duration::ZERO).await;
    let events = events_in_store(&*store, 120).await;

    let relay = spawn_relay(&store, &pool, &js, &config);
    relayed(&*store, &pool, &config, 120).await;
    let published = messages(&js, &config).await;
    assert_eq!(published.len(), events.len());
    let mut prev = Position::START;
    for (message, event) in published.iter().zip(&events) {
        let headers = message.headers.as_ref().unwrap();
        let header = |name: &str| headers.get(name).unwrap().as_str().to_owned();
        assert_eq!(
            message.subject.as_str(),
            format!(
                "{}.{}.{}",
                config.subject_prefix,
                event.category(),
                event.event_type
            )
        );
        assert_eq!(header("Nats-Msg-Id"), event.id.to_string());
        assert_eq!(header("Um-Event-Type"), event.event_type);
        assert_eq!(header("Um-Stream"), event.stream_id);
        assert_eq!(header("Um-Version"), event.revision.to_string());
        assert_eq!(
            header("Um-Schema-Version"),
            event.schema_version.to_string()
        );
        assert_eq!(header("Um-Position"), event.position.to_string());
        assert_eq!(header("Um-Prev-Position"), prev.to_string());
        assert_eq!(
            header("Um-Correlation-Id"),
            event.metadata["correlation_id"].as_str().unwrap()
        );
        assert_eq!(
            header("Um-Recorded-At")
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
            event.recorded_at
        );
        assert_eq!(
            wire::decode(Some(headers), &message.payload).unwrap(),
            Delivery::Event {
                event: Box::new(event.clone()),
                prev
            }
        );
        prev = event.position;
    }
    relay.abort();

    // A relay that starts over from the beginning (its checkpoint lost, or killed after
    // the acks but before recording them) only produces duplicates JetStream drops.
    sqlx::query("delete from projections.relay_checkpoints")
        .execute(&pool)
        .await
        .unwrap();
    let relay = spawn_relay(&store, &pool, &js, &config);
    relayed(&*store, &pool, &config, 120).await;
    relay.abort();
    assert_eq!(messages(&js, &config).await.len(), events.len());
    let (_, stored) = relay::checkpoint(&pool, &config.stream).await.unwrap();
    assert_eq!(stored, 0, "the second pass stored only duplicates");
    delete_stream(&js, &config).await;
}

/// How many events the tally has applied (none before its table exists).
async fn tallied(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from tally.applied")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Appends a few events at a time, pausing `every` between appends, until `stop` turns
/// true; how many it wrote.
async fn write_until(
    store: Arc<dyn EventStore>,
    stop: watch::Receiver<bool>,
    every: Duration,
) -> usize {
    let mut written = 0;
    while !*stop.borrow() {
        write(store.clone(), 6, every).await;
        written += 6;
    }
    written
}

/// Killing everything mid-stream, repeatedly, loses nothing and applies nothing twice:
/// for JetStream the relay and the worker are aborted and started again; for the embedded
/// feed, the runner. Each kill waits until the new incarnation has applied events of its
/// own, and comes while the writer is still writing: every crash hits a stream in flight.
async fn killed_mid_stream(pool: PgPool, feed: Feed) {
    const KILLS: usize = 5;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    let (stop_writing, writing) = watch::channel(false);
    let writer = tokio::spawn(write_until(
        store.clone(),
        writing,
        Duration::from_millis(5),
    ));
    for kill in 0..KILLS {
        let before = tallied(&pool).await;
        let relay = (feed == Feed::JetStream).then(|| spawn_relay(&store, &pool, &js, &config));
        let (worker, _stop) = spawn_projection(feed, &store, &pool, Arc::new(Tally), &js, &config);
        // Each incarnation dies a little further into its work.
        let progress = 1 + 25 * kill as i64;
        let deadline = Instant::now() + PATIENCE;
        while tallied(&pool).await < before + progress {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: {progress} events not applied within {PATIENCE:?} of the restart"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The relay first, so that the worker may also die with messages still to come.
        if let Some(relay) = relay {
            relay.abort();
            let _ = relay.await;
        }
        worker.abort();
        let _ = worker.await;
        let at_kill = tallied(&pool).await;
        assert!(
            at_kill >= before + progress && !writer.is_finished(),
            "kill {kill} did not come mid-stream: {before} applied before, {at_kill} at the kill"
        );
    }
    stop_writing.send(true).unwrap();
    let written = writer.await.unwrap();
    let _relay = (feed == Feed::JetStream).then(|| spawn_relay(&store, &pool, &js, &config));
    let (_worker, _stop) = spawn_projection(feed, &store, &pool, Arc::new(Tally), &js, &config);
    assert_complete(&*store, &pool, written, PATIENCE).await;
    if feed == Feed::JetStream {
        assert_consumed(&js, &config, "tally").await;
    }
    delete_stream(&js, &config).await;
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn jetstream_relay_and_worker_killed_mid_stream_lose_nothing_and_apply_nothing_twice(
    pool: PgPool,
) {
    killed_mid_stream(pool, Feed::JetStream).await;
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn embedded_runner_killed_mid_stream_loses_nothing_and_applies_nothing_twice(pool: PgPool) {
    killed_mid_stream(pool, Feed::Embedded).await;
}

/// A batch abandoned halfway through its statements (its future dropped, as a stopping
/// worker's is) leaves nothing written and no transaction open on a pooled connection:
/// nothing else sees its writes, and the next batch, on the pool's one connection,
/// applies each event once.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_batch_abandoned_halfway_leaves_nothing_behind(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    let pool = options
        .max_connections(1)
        .connect_with(connect.clone())
        .await
        .unwrap();
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    write(store.clone(), 3, Duration::ZERO).await;
    let events = events_in_store(&*store, 3).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(Slow));
    runner.prepare().await.unwrap();
    let mut observer = <PgConnection as sqlx::Connection>::connect_with(&connect)
        .await
        .unwrap();
    // Abandoned once the server shows it inside a pause: past an insert, before the
    // commit. Not after a fixed time, which a busy machine may not even have started it in.
    // Boxed, so that dropping it drops the batch itself.
    let mut batch = Box::pin(runner.apply_batch(&events));
    let deadline = Instant::now() + PATIENCE;
    loop {
        tokio::select! {
            done = &mut batch => panic!(
                "the batch ended (ok: {}) before it could be abandoned",
                done.is_ok()
            ),
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        let pausing: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
              where datname = current_database() and pid <> pg_backend_pid()
                and state = 'active' and query like 'select pg_sleep%'",
        )
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if pausing > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the batch did not reach its pause within {PATIENCE:?}"
        );
    }
    drop(batch);
    // On the pool's one connection: a transaction left open there would show its insert.
    let seen: i64 = sqlx::query_scalar("select count(*) from slow.applied")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(seen, 0, "the abandoned batch's write is visible");
    // The abandoned transaction ends once its connection is cleaned up; on a busy machine
    // that can take a while, so wait for it rather than for a fixed time. Left open, it
    // never ends.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
              where datname = current_database() and state like 'idle in transaction%'",
        )
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a session was left inside a transaction for {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(runner.apply_batch(&events).await.unwrap(), 3);
    let times: Vec<i32> = sqlx::query_scalar("select times from slow.applied")
        .fetch_all(&mut observer)
        .await
        .unwrap();
    assert_eq!(times, vec![1, 1, 1]);
}

/// A worker parses a message's data and metadata only for events its read model wants:
/// those arrive whole, and the consumer is still drained of every other message.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_worker_gets_whole_the_events_it_wants_and_passes_over_the_rest(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    let relay = spawn_relay(&store, &pool, &js, &config);
    let (worker, _stop) = spawn_projection(
        Feed::JetStream,
        &store,
        &pool,
        Arc::new(Products),
        &js,
        &config,
    );
    write(store.clone(), 120, Duration::from_millis(2)).await;
    let written = events_in_store(&*store, 120).await;
    let head = written.last().expect("events were written").position;
    tokio::time::timeout(PATIENCE, async {
        while projections::checkpoint::position(&pool, "products")
            .await
            .unwrap()
            < head
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the products worker never reached the head");
    assert_consumed(&js, &config, "products").await;
    // Products was handed its events whole, and nothing else.
    let wanted: Vec<(Uuid, Value)> = written
        .iter()
        .filter(|e| e.category() == "product")
        .map(|e| (e.id, fingerprint(e)))
        .collect();
    let seen: Vec<(Uuid, Value)> = sqlx::query_as("select event_id, event from products.applied")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!wanted.is_empty());
    assert_eq!(seen.len(), wanted.len());
    let seen: HashMap<Uuid, Value> = seen.into_iter().collect();
    for (id, event) in &wanted {
        assert_eq!(seen.get(id), Some(event), "product event {id}");
    }
    worker.abort();
    relay.abort();
    delete_stream(&js, &config).await;
}

/// A worker that dies after committing a batch but before acknowledging it gets the
/// messages again, and skips every one of them.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_worker_killed_between_apply_and_ack_skips_the_redelivery(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let mut config = config();
    config.ack_wait = Duration::from_secs(1);
    write(store.clone(), 60, Duration::ZERO).await;
    events_in_store(&*store, 60).await;
    let relay = spawn_relay(&store, &pool, &js, &config);
    relayed(&*store, &pool, &config, 60).await;

    let runner = || Runner::new(store.clone(), pool.clone(), Arc::new(Tally));
    let mut worker = Worker::new(runner(), js.clone(), config.clone());
    let mut unacked = 0;
    while unacked < 60 {
        let batch = worker.fetch().await.unwrap();
        assert!(!batch.is_empty(), "the relay published 60 events");
        let done = worker.apply(&batch).await.unwrap();
        assert_eq!(done.applied, batch.len());
        unacked += batch.len();
        // Killed here: committed, never acknowledged.
    }
    drop(worker);
    assert_complete(&*store, &pool, 60, Duration::ZERO).await;

    let mut worker = Worker::new(runner(), js.clone(), config.clone());
    let (mut redelivered, started) = (0, Instant::now());
    while redelivered < 60 && started.elapsed() < PATIENCE {
        if let Outcome::Batch {
            received,
            applied,
            healed,
        } = worker.step().await.unwrap()
        {
            assert_eq!((applied, healed), (0, 0), "a redelivery applied again");
            redelivered += received;
        }
    }
    assert!(redelivered >= 60, "every unacknowledged message came again");
    assert_complete(&*store, &pool, 60, Duration::ZERO).await;
    relay.abort();
    delete_stream(&js, &config).await;
}

/// A NATS server of the test's own, storing in a directory of its own. The first start
/// binds a port the system picks (a port picked by the test and released before the
/// server binds it could be taken meanwhile by another test's server), read from the
/// server's log; restarts come back on that port.
struct OwnNats {
    child: Option<Child>,
    port: Option<u16>,
    dir: PathBuf,
}

impl OwnNats {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("ultramarket-nats-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut nats = OwnNats {
            child: None,
            port: None,
            dir,
        };
        nats.restart();
        nats
    }

    fn port(&self) -> u16 {
        self.port.expect("the server has started")
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port())
    }

    fn restart(&mut self) {
        // `-1`: a port of the system's choosing.
        let port = self.port.map_or("-1".to_owned(), |p| p.to_string());
        let mut child = Command::new(
            std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "/usr/sbin/nats-server".into()),
        )
        .args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"])
        .arg(&self.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nats-server (set NATS_SERVER_BIN to its path)");
        // The log says where it listens; read to its end so the server never blocks on a
        // full pipe.
        let (said, listening) = std::sync::mpsc::channel();
        let log = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(log).lines() {
                let Ok(line) = line else { break };
                if let Some((_, at)) = line.split_once("Listening for client connections on ") {
                    let _ = said.send(at.trim().to_owned());
                }
            }
        });
        self.child = Some(child);
        let at = listening.recv_timeout(PATIENCE).unwrap_or_else(|_| {
            panic!("nats-server did not say where it listens within {PATIENCE:?}")
        });
        let bound: u16 = at
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("nats-server listens on {at:?}"));
        assert!(
            self.port.is_none_or(|p| p == bound),
            "nats-server came back on {bound}, not {port}"
        );
        self.port = Some(bound);
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", bound)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not answer on {bound} within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to flush anything.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The NATS server dies (SIGKILL) twice while events are written, relayed and
/// projected, and comes back on the same port and storage: the read model ends complete.
/// Each kill comes once events have been applied since the last restart, with the writer
/// still writing, and the server stays down until more events are stored.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_nats_server_killed_and_restarted_mid_stream_loses_nothing(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let mut nats = OwnNats::start();
    let js = connect(&nats.url()).await;
    let config = config();
    let _relay = spawn_relay(&store, &pool, &js, &config);
    let (_worker, _stop) = spawn_projection(
        Feed::JetStream,
        &store,
        &pool,
        Arc::new(Tally),
        &js,
        &config,
    );
    let (stop_writing, writing) = watch::channel(false);
    let writer = tokio::spawn(write_until(
        store.clone(),
        writing,
        Duration::from_millis(10),
    ));
    let stored = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from store.events")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    for kill in 0..2 {
        let before = tallied(&pool).await;
        let deadline = Instant::now() + PATIENCE;
        while tallied(&pool).await < before + 20 {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: 20 events not applied within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        nats.kill();
        assert!(!writer.is_finished(), "kill {kill} came after the writes");
        let down_at = stored().await;
        while stored().await < down_at + 20 {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: 20 events not stored within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        nats.restart();
    }
    stop_writing.send(true).unwrap();
    let written = writer.await.unwrap();
    assert_complete(&*store, &pool, written, PATIENCE).await;
    // NATS carries the live path again, not only the store's backstop.
    let before = messages(&js, &config).await.len();
    write(store.clone(), 5, Duration::ZERO).await;
    assert_complete(&*store, &pool, written + 5, PATIENCE).await;
    relayed(&*store, &pool, &config, written + 5).await;
    assert!(messages(&js, &config).await.len() >= before + 5);
    assert_consumed(&js, &config, "tally").await;
}

/// The stream is purged while events flow (so messages JetStream acknowledged are gone),
/// purged again with no write after it, then deleted outright: the read model ends
/// complete each time.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_purged_or_deleted_stream_still_ends_complete(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    let _relay = spawn_relay(&store, &pool, &js, &config);

    // Purged mid-run: later messages reveal the gap.
    let (worker, _stop) = spawn_projection(
        Feed::JetStream,
        &store,
        &pool,
        Arc::new(Tally),
        &js,
        &config,
    );
    // The relay makes the stream when it starts: wait for it to exist and hold messages,
    // rather than for a time after which it usually does. Half the events are written
    // after the purge.
    let writer = tokio::spawn(write(store.clone(), 100, Duration::from_millis(5)));
    let stream = stream_holding(&js, &config, 1).await;
    let purged = stream.purge().await.unwrap();
    assert!(purged.purged > 0, "the purge removed nothing");
    writer.await.unwrap();
    write(store.clone(), 100, Duration::from_millis(5)).await;
    assert_complete(&*store, &pool, 200, PATIENCE).await;

    // Purged after the last write, before the worker saw it: no later message shows the
    // gap, only the store does.
    worker.abort();
    write(store.clone(), 50, Duration::ZERO).await;
    relayed(&*store, &pool, &config, 250).await;
    stream.purge().await.unwrap();
    let (worker, _stop) = spawn_projection(
        Feed::JetStream,
        &store,
        &pool,
        Arc::new(Tally),
        &js,
        &config,
    );
    assert_complete(&*store, &pool, 250, PATIENCE).await;

    // Deleted, consumers and all, while events flow: recreated and healed.
    // Once the relay has published some of them; half are written after the delete.
    let writer = tokio::spawn(write(store.clone(), 50, Duration::from_millis(5)));
    stream_holding(&js, &config, 1).await;
    js.delete_stream(&config.stream).await.unwrap();
    writer.await.unwrap();
    write(store.clone(), 50, Duration::from_millis(5)).await;
    assert_complete(&*store, &pool, 350, PATIENCE).await;
    assert_consumed(&js, &config, "tally").await;
    worker.abort();
    delete_stream(&js, &config).await;
}

/// The test's stream once the relay has made it and it holds at least `n` messages (a
/// purge empties it; the relay makes it again after a delete).
async fn stream_holding(
    js: &jetstream::Context,
    config: &JetStreamConfig,
    n: u64,
) -> jetstream::stream::Stream {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(mut stream) = js.get_stream(&config.stream).await {
            if stream.info().await.is_ok_and(|i| i.state.messages >= n) {
                return stream;
            }
        }
        assert!(
            Instant::now() < deadline,
            "stream {} did not hold {n} messages within {PATIENCE:?}",
            config.stream
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The real orders read model, built live over each feed, equals a rebuild from the store.
async fn orders_equal_a_rebuild(pool: PgPool, feed: Feed) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    let relay = (feed == Feed::JetStream).then(|| spawn_relay(&store, &pool, &js, &config));
    let (worker, _stop) = spawn_projection(
        feed,
        &store,
        &pool,
        Arc::new(OrdersProjection),
        &js,
        &config,
    );
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 1000);
    for n in 0..40 {
        common::order_story(&orders, n).await;
    }
    // Last, events the read model wants nothing of: its checkpoint still reaches them,
    // with no later batch to carry the move.
    let things = (0..3)
        .map(|i| NewEvent {
            id: Uuid::new_v4(),
            event_type: "ThingNoted".into(),
            schema_version: 1,
            data: json!({ "i": i }),
            metadata: json!({}),
        })
        .collect();
    store
        .append(
            &format!("thing-{}", Uuid::new_v4()),
            ExpectedVersion::NoStream,
            things,
        )
        .await
        .unwrap();
    // The head once every committed event is readable: $all shows a commit only after
    // older transactions of the cluster (other tests') have ended.
    let written: i64 = sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    let head = events_in_store(&*store, written as usize)
        .await
        .last()
        .unwrap()
        .position;
    let deadline = Instant::now() + PATIENCE;
    while projections::checkpoint::position(&pool, "orders")
        .await
        .unwrap()
        < head
    {
        assert!(
            Instant::now() < deadline,
            "orders did not catch up within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.abort();
    if let Some(relay) = relay {
        relay.abort();
    }
    let live = snapshot(&pool).await;
    assert!(
        live.contains("\"status\": \"paid\""),
        "the stories paid some orders"
    );
    projections::rebuild::rebuild(
        store.clone(),
        &pool,
        Arc::new(OrdersProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(snapshot(&pool).await, live);
    delete_stream(&js, &config).await;
}

async fn snapshot(pool: &PgPool) -> String {
    let mut all = String::new();
    for table in ["orders", "order_items", "order_history"] {
        let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select string_agg(to_jsonb(t)::text, E'\\n' order by to_jsonb(t)::text)
               from orders.{table} t"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        all.push_str(&format!("{table}:\n{}\n", rows.unwrap_or_default()));
    }
    all
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn orders_built_over_jetstream_equal_a_rebuild(pool: PgPool) {
    orders_equal_a_rebuild(pool, Feed::JetStream).await;
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn orders_built_over_the_embedded_feed_equal_a_rebuild(pool: PgPool) {
    orders_equal_a_rebuild(pool, Feed::Embedded).await;
}

/// The lease sessions of this test's database: (`application_name`, holding).
async fn lease_sessions(pool: &PgPool) -> Vec<(String, bool)> {
    sqlx::query_as(
        "select a.application_name,
                exists (select 1 from pg_locks l
                         where l.pid = a.pid and l.locktype = 'advisory' and l.granted
                           and l.classid = x'756d6c73'::int::oid)
           from pg_stat_activity a
          where a.datname = current_database()
            and a.application_name like 'ultramarket lease %'
          order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Two copies of each role for one read model (two workers, and with JetStream two relays):
/// one of each works while the other stands by, its runner never moving off the start;
/// killed, the first is replaced by the second, which starts from the checkpoint. Every
/// event ends up applied once, and published once.
async fn standbys_take_over(pool: PgPool, feed: Feed) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let js = connect(&nats_url()).await;
    let config = config();
    write(store.clone(), 100, Duration::ZERO).await;
    let spawn = |runner: &Runner| {
        let (stop, stopped) = watch::channel(false);
        let task = match feed {
            Feed::Embedded => tokio::spawn(runner.clone().run(stopped)),
            Feed::JetStream => tokio::spawn(projections::jetstream::run(
                runner.clone(),
                js.clone(),
                config.clone(),
                stopped,
            )),
        };
        (task, stop)
    };
    let relays = feed == Feed::JetStream;
    let first_relay = relays.then(|| spawn_relay(&store, &pool, &js, &config));
    let first = Runner::new(store.clone(), pool.clone(), Arc::new(Tally));
    let (first_task, _first_stop) = spawn(&first);
    assert_complete(&*store, &pool, 100, PATIENCE).await;

    let second = Runner::new(store.clone(), pool.clone(), Arc::new(Tally));
    let (second_task, second_stop) = spawn(&second);
    let second_relay = relays.then(|| spawn_relay(&store, &pool, &js, &config));
    write(store.clone(), 100, Duration::ZERO).await;
    assert_complete(&*store, &pool, 200, PATIENCE).await;
    // Past a standby's retry: it had every chance to take the lease, and did not.
    tokio::time::sleep(projections::lease::RETRY * 3).await;
    assert_eq!(
        second.position(),
        Position::START,
        "the standby did nothing"
    );
    let mut expected = vec![
        ("ultramarket lease projection:tally".to_owned(), false),
        ("ultramarket lease projection:tally".to_owned(), true),
    ];
    if relays {
        let relay = format!("ultramarket lease relay:{}", config.stream);
        expected.extend([(relay.clone(), false), (relay, true)]);
    }
    expected.sort();
    assert_eq!(
        lease_sessions(&pool).await,
        expected,
        "one holder per lease"
    );

    // Killed mid-stream: the writes go on while the standby takes over.
    let writing = tokio::spawn(write(store.clone(), 100, Duration::from_millis(5)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    first_task.abort();
    if let Some(relay) = &first_relay {
        relay.abort();
    }
    writing.await.unwrap();
    assert_complete(&*store, &pool, 300, PATIENCE).await;
    let head = every_event(&*store).await.last().unwrap().position;
    assert_eq!(second.position(), head, "the standby took over");
    if relays {
        relayed(&*store, &pool, &config, 300).await;
        assert_eq!(
            messages(&js, &config).await.len(),
            300,
            "published once each"
        );
    }

    second_stop.send(true).unwrap();
    second_task.await.unwrap().unwrap();
    if let Some(relay) = second_relay {
        relay.abort();
    }
    delete_stream(&js, &config).await;
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_standby_worker_and_relay_take_over_from_killed_ones(pool: PgPool) {
    standbys_take_over(pool, Feed::JetStream).await;
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_standby_runner_takes_over_from_a_killed_one(pool: PgPool) {
    standbys_take_over(pool, Feed::Embedded).await;
}
