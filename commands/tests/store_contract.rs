//! The contract every `EventStore` adapter keeps.
//!
//! Each test is written once against `&dyn EventStore` and run against PostgreSQL (a fresh
//! database per test, `#[sqlx::test]`) and EventStoreDB. The EventStoreDB tests are
//! `#[ignore]`d, so a default run lists them as ignored rather than passing them unrun; with
//! a server, run them with
//!
//! ```text
//! docker compose up -d eventstore
//! EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' \
//!     cargo test -p commands --test store_contract -- --include-ignored
//! ```
//!
//! (`.ci/run` does so when `EVENTSTORE_URL` is set.)
//! EventStoreDB is shared between tests and runs, so every test names its streams under a
//! prefix of its own and looks at `$all` only through that prefix.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use commands::store::postgres::PgEventStore;
use commands::store::{
    ActualVersion, Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom,
    RecordedEvent, StoreError, MAX_STREAM_ID_LEN,
};
use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition or an awaited event may take before the test fails: nothing
/// when all is well, and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

struct Ctx {
    store: Arc<dyn EventStore>,
    prefix: String,
}

impl Ctx {
    fn pg(pool: PgPool) -> Self {
        Ctx {
            store: Arc::new(PgEventStore::new(pool)),
            prefix: format!("t{}", &Uuid::new_v4().simple().to_string()[..8]),
        }
    }

    /// Only the ignored `eventstoredb` tests call this: asked for them, a missing server is
    /// a failure, not a skip.
    #[cfg(feature = "esdb")]
    async fn esdb() -> Self {
        let url = std::env::var("EVENTSTORE_URL").expect(
            "the EventStoreDB contract needs EVENTSTORE_URL \
             (docker compose up -d eventstore; EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false)",
        );
        let store = commands::store::esdb::EsdbEventStore::connect(&url)
            .await
            .expect("EVENTSTORE_URL is set but the store does not connect");
        Ctx {
            store: Arc::new(store),
            prefix: format!("t{}", &Uuid::new_v4().simple().to_string()[..8]),
        }
    }

    fn stream(&self, name: &str) -> String {
        format!("{}_{name}", self.prefix)
    }

    fn ours(&self, events: Vec<RecordedEvent>) -> Vec<RecordedEvent> {
        events
            .into_iter()
            .filter(|e| e.stream_id.starts_with(&self.prefix))
            .collect()
    }

    /// All of this test's events in `$all`, paging `page` at a time.
    async fn read_all_ours(&self, page: usize) -> Vec<RecordedEvent> {
        let mut after = Position::START;
        let mut out = Vec::new();
        loop {
            let batch = self.store.read_all(after, page).await.unwrap();
            let Some(last) = batch.last() else { break };
            after = last.position;
            out.extend(self.ours(batch));
        }
        out
    }

    /// This test's events in `$all` once at least `n` are readable. On PostgreSQL `$all`
    /// shows a commit only once every older transaction in the cluster has ended, and
    /// other tests run beside this one with transactions of their own.
    async fn read_all_at_least(&self, n: usize, page: usize) -> Vec<RecordedEvent> {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let events = self.read_all_ours(page).await;
            if events.len() >= n || std::time::Instant::now() > deadline {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn event(n: usize) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        event_type: "ThingHappened".into(),
        schema_version: 1,
        data: json!({ "n": n }),
        metadata: json!({ "correlation_id": Uuid::new_v4() }),
    }
}

fn events(range: std::ops::Range<usize>) -> Vec<NewEvent> {
    range.map(event).collect()
}

async fn read_forwards(ctx: &Ctx, stream: &str) -> Vec<RecordedEvent> {
    ctx.store
        .read_stream(stream, ReadFrom::End, Direction::Forwards, usize::MAX)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The contract. Each function is one test, run per adapter by `contract!` below.

/// An append answers the new revision, and the stream reads back exactly what was written.
async fn append_and_read_back(ctx: Ctx) {
    let s = ctx.stream("order-1");
    let batch = events(0..3);
    let r = ctx
        .store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(r.revision, 2);
    let read = read_forwards(&ctx, &s).await;
    assert_eq!(read.len(), 3);
    for (i, (got, sent)) in read.iter().zip(&batch).enumerate() {
        assert_eq!(got.id, sent.id);
        assert_eq!(got.revision, i as u64);
        assert_eq!(got.stream_id, s);
        assert_eq!(got.event_type, sent.event_type);
        assert_eq!(got.schema_version, 1);
        assert_eq!(got.data, sent.data);
        assert_eq!(got.metadata, sent.metadata);
    }
    // Positions come from `$all`: EventStoreDB gives none on stream reads.
    let all = ctx.read_all_at_least(3, 100).await;
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[2].position, r.position,
        "append answers the last event's position"
    );
    assert!(all[0].position < all[1].position && all[1].position < all[2].position);
}

/// Every kind of expected version is checked, and a refusal names the actual version.
async fn expected_versions_are_enforced(ctx: Ctx) {
    let s = ctx.stream("order-2");
    let missing = ctx.stream("order-missing");

    let err = ctx
        .store
        .append(&missing, ExpectedVersion::StreamExists, events(0..1))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::WrongExpectedVersion {
            actual: ActualVersion::NoStream,
            ..
        }
    ));
    let err = ctx
        .store
        .append(&missing, ExpectedVersion::Exact(0), events(0..1))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::WrongExpectedVersion {
            actual: ActualVersion::NoStream,
            ..
        }
    ));

    ctx.store
        .append(&s, ExpectedVersion::NoStream, events(0..2))
        .await
        .unwrap();
    let err = ctx
        .store
        .append(&s, ExpectedVersion::NoStream, events(2..3))
        .await
        .unwrap_err();
    match err {
        StoreError::WrongExpectedVersion {
            stream,
            expected,
            actual,
        } => {
            assert_eq!(stream, s);
            assert_eq!(expected, ExpectedVersion::NoStream);
            assert_eq!(actual, ActualVersion::Revision(1));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let err = ctx
        .store
        .append(&s, ExpectedVersion::Exact(0), events(2..3))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::WrongExpectedVersion {
            actual: ActualVersion::Revision(1),
            ..
        }
    ));

    let r = ctx
        .store
        .append(&s, ExpectedVersion::Exact(1), events(2..3))
        .await
        .unwrap();
    assert_eq!(r.revision, 2);
    let r = ctx
        .store
        .append(&s, ExpectedVersion::StreamExists, events(3..4))
        .await
        .unwrap();
    assert_eq!(r.revision, 3);
    let r = ctx
        .store
        .append(&s, ExpectedVersion::Any, events(4..6))
        .await
        .unwrap();
    assert_eq!(r.revision, 5);
    let r = ctx
        .store
        .append(&missing, ExpectedVersion::Any, events(0..1))
        .await
        .unwrap();
    assert_eq!(r.revision, 0);
    assert_eq!(
        read_forwards(&ctx, &s).await.len(),
        6,
        "refused appends wrote nothing"
    );
}

/// A retried append (same ids) writes nothing and answers as the first one did, even with
/// the expected version it was first sent with.
async fn retried_append_is_idempotent(ctx: Ctx) {
    let s = ctx.stream("cart-1");
    let batch = events(0..3);
    let first = ctx
        .store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    ctx.store
        .append(&s, ExpectedVersion::Exact(2), events(3..4))
        .await
        .unwrap();
    let again = ctx
        .store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(again, first);
    let again = ctx
        .store
        .append(&s, ExpectedVersion::Any, batch)
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(read_forwards(&ctx, &s).await.len(), 4);
}

/// An id already used in another stream, or a retry that does not match the first append,
/// is refused.
async fn reused_ids_are_refused(ctx: Ctx) {
    let a = ctx.stream("user-a");
    let b = ctx.stream("user-b");
    let batch = events(0..2);
    ctx.store
        .append(&a, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let err = ctx
        .store
        .append(&b, ExpectedVersion::Any, vec![batch[0].clone()])
        .await
        .unwrap_err();
    match err {
        StoreError::DuplicateEventId {
            event_id,
            existing_stream,
        } => {
            assert_eq!(event_id, batch[0].id);
            assert_eq!(existing_stream, a);
        }
        other => panic!("expected a duplicate id, got {other:?}"),
    }
    // The first id matches but the second is new: not a retry of the same command.
    let mut mixed = batch.clone();
    mixed[1] = event(9);
    let err = ctx
        .store
        .append(&a, ExpectedVersion::Any, mixed)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::DuplicateEventId { .. }),
        "{err:?}"
    );
    assert!(read_forwards(&ctx, &b).await.is_empty());
    assert_eq!(read_forwards(&ctx, &a).await.len(), 2);
}

/// Malformed requests are refused with the field that is wrong, and nothing is written.
async fn bad_input_is_refused(ctx: Ctx) {
    let long = "x".repeat(MAX_STREAM_ID_LEN + 1);
    let cases: Vec<(String, Vec<NewEvent>, &str)> = vec![
        (String::new(), events(0..1), "stream_id"),
        (long.clone(), events(0..1), "stream_id"),
        ("$system".into(), events(0..1), "stream_id"),
        (ctx.stream("ok-1"), vec![], "events"),
        (
            ctx.stream("ok-1"),
            vec![NewEvent {
                data: json!([1, 2, 3]),
                ..event(0)
            }],
            "data",
        ),
        (
            ctx.stream("ok-1"),
            vec![NewEvent {
                data: json!("text"),
                ..event(0)
            }],
            "data",
        ),
        (
            ctx.stream("ok-1"),
            vec![NewEvent {
                metadata: Value::Null,
                ..event(0)
            }],
            "metadata",
        ),
        (
            ctx.stream("ok-1"),
            vec![NewEvent {
                event_type: String::new(),
                ..event(0)
            }],
            "event_type",
        ),
        (
            ctx.stream("ok-1"),
            {
                let e = event(0);
                vec![e.clone(), e]
            },
            "id",
        ),
        // One good event and one bad one: the good one must not be written either.
        (
            ctx.stream("ok-1"),
            vec![
                event(0),
                NewEvent {
                    data: json!(null),
                    ..event(1)
                },
            ],
            "data",
        ),
    ];
    for (stream, batch, field) in cases {
        match ctx.store.append(&stream, ExpectedVersion::Any, batch).await {
            Err(StoreError::InvalidInput { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{stream:?}: expected invalid {field}, got {other:?}"),
        }
    }
    for bad in ["", long.as_str()] {
        let err = ctx
            .store
            .read_stream(bad, ReadFrom::End, Direction::Forwards, 10)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::InvalidInput {
                field: "stream_id",
                ..
            }
        ));
    }
    assert!(
        ctx.read_all_ours(100).await.is_empty(),
        "nothing was written"
    );
}

/// Unicode survives in stream ids, types and data; a 1 MiB event round-trips intact.
async fn unicode_and_large_events(ctx: Ctx) {
    let s = ctx.stream("product-Ünïcødé-商品-🛒");
    let text = "ä ß ✓ 漢字 עברית 🧾 \u{200d} \"quoted\" \\ back";
    let big = "0123456789abcdef".repeat(64 * 1024);
    assert_eq!(big.len(), 1 << 20);
    let batch = vec![
        NewEvent {
            event_type: "ProduktGeändert".into(),
            data: json!({ "name": text, "tags": [text] }),
            ..event(0)
        },
        NewEvent {
            data: json!({ "blob": big }),
            ..event(1)
        },
    ];
    ctx.store
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let read = read_forwards(&ctx, &s).await;
    assert_eq!(read[0].stream_id, s);
    assert_eq!(read[0].event_type, "ProduktGeändert");
    assert_eq!(read[0].data, batch[0].data);
    assert_eq!(read[1].data["blob"].as_str().map(str::len), Some(1 << 20));
    assert_eq!(read[1].data, batch[1].data);
}

/// A 10,000-event stream pages forwards and backwards with nothing lost or repeated, and
/// `$all` pages the same events in append order.
async fn paging_through_a_long_stream(ctx: Ctx) {
    const N: usize = 10_000;
    let s = ctx.stream("inventory-SKU1");
    for chunk in 0..N / 500 {
        ctx.store
            .append(
                &s,
                ExpectedVersion::Any,
                events(chunk * 500..(chunk + 1) * 500),
            )
            .await
            .unwrap();
    }

    let mut seen = Vec::with_capacity(N);
    let mut from = ReadFrom::Revision(0);
    loop {
        let page = ctx
            .store
            .read_stream(&s, from, Direction::Forwards, 137)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        from = ReadFrom::Revision(last.revision + 1);
        seen.extend(
            page.iter()
                .map(|e| (e.revision, e.data["n"].as_u64().unwrap())),
        );
    }
    assert_eq!(seen.len(), N);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, &(r, n))| r == i as u64 && n == i as u64));

    let mut back = Vec::with_capacity(N);
    let mut from = ReadFrom::End;
    loop {
        let page = ctx
            .store
            .read_stream(&s, from, Direction::Backwards, 250)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        back.extend(page.iter().map(|e| e.revision));
        if last.revision == 0 {
            break;
        }
        from = ReadFrom::Revision(last.revision - 1);
    }
    assert_eq!(back, (0..N as u64).rev().collect::<Vec<_>>());

    let all = ctx.read_all_at_least(N, 333).await;
    assert_eq!(all.len(), N);
    assert!(all.iter().enumerate().all(|(i, e)| e.revision == i as u64));
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
    let head = ctx.store.head_position().await.unwrap();
    assert!(head >= all[N - 1].position);
}

/// A subscription delivers what is stored after its start position, then what is appended
/// later, each once, in `$all` order.
async fn subscription_catches_up_then_follows(ctx: Ctx) {
    let s = ctx.stream("order-sub");
    ctx.store
        .append(&s, ExpectedVersion::NoStream, events(0..5))
        .await
        .unwrap();
    let stored = ctx.read_all_at_least(5, 100).await;
    // Start after the second event: the first two must not come again.
    let mut sub = ctx.store.subscribe_all(stored[1].position).await.unwrap();
    let store = ctx.store.clone();
    let s2 = s.clone();
    let writer = tokio::spawn(async move {
        for i in 5..10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            store
                .append(&s2, ExpectedVersion::Any, events(i..i + 1))
                .await
                .unwrap();
        }
    });
    let mut got = Vec::new();
    while got.len() < 8 {
        let e = tokio::time::timeout(PATIENCE, sub.next())
            .await
            .expect("subscription stalled")
            .expect("subscription ended")
            .unwrap();
        if e.stream_id.starts_with(&ctx.prefix) {
            got.push(e.data["n"].as_u64().unwrap());
        }
    }
    writer.await.unwrap();
    assert_eq!(got, (2..10).collect::<Vec<_>>());
}

/// Stream listing pages by id under a prefix, with each stream's last revision.
async fn streams_are_listed(ctx: Ctx) {
    for (name, n) in [("order-b", 2), ("order-a", 1), ("cart-z", 3)] {
        ctx.store
            .append(&ctx.stream(name), ExpectedVersion::NoStream, events(0..n))
            .await
            .unwrap();
    }
    let prefix = ctx.stream("order-");
    let page = ctx.store.list_streams(&prefix, None, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].stream_id, ctx.stream("order-a"));
    assert_eq!(page[0].revision, 0);
    let page = ctx
        .store
        .list_streams(&prefix, Some(&page[0].stream_id), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].stream_id, ctx.stream("order-b"));
    assert_eq!(page[0].revision, 1);
    let all = ctx.store.list_streams(&ctx.prefix, None, 10).await.unwrap();
    assert_eq!(all.len(), 3);
}

/// Concurrent appends to one stream with the same expected version: exactly one wins.
async fn one_winner_per_expected_version(ctx: Ctx) {
    let s = ctx.stream("inventory-HOT");
    ctx.store
        .append(&s, ExpectedVersion::NoStream, events(0..1))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = ctx.store.clone();
            let s = s.clone();
            tokio::spawn(async move {
                store
                    .append(&s, ExpectedVersion::Exact(0), events(i..i + 1))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.revision, 1);
                won += 1;
            }
            Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                assert_eq!(actual, ActualVersion::Revision(1));
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(read_forwards(&ctx, &s).await.len(), 2);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        // On several threads: some of the contract is about concurrent callers.
        mod postgres {
            $(
                #[sqlx::test(migrator = "commands::database::MIGRATOR")]
                async fn $name(
                    options: sqlx::postgres::PgPoolOptions,
                    connect: sqlx::postgres::PgConnectOptions,
                ) {
                    crate::common::on_threads(options, connect, |pool| async move {
                        super::$name(super::Ctx::pg(pool)).await
                    })
                    .await
                }
            )*
        }

        #[cfg(feature = "esdb")]
        mod eventstoredb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                #[ignore = "needs EVENTSTORE_URL (docker compose up -d eventstore)"]
                async fn $name() {
                    super::$name(super::Ctx::esdb().await).await
                }
            )*
        }
    };
}

contract!(
    append_and_read_back,
    expected_versions_are_enforced,
    retried_append_is_idempotent,
    bad_input_is_refused,
    unicode_and_large_events,
    paging_through_a_long_stream,
    subscription_catches_up_then_follows,
    streams_are_listed,
    one_winner_per_expected_version,
);

// EventStoreDB keeps no index of event ids across streams, so this part of the contract is
// PostgreSQL's alone (see the esdb module docs).
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn postgres_refuses_ids_used_in_another_stream(pool: PgPool) {
    reused_ids_are_refused(Ctx::pg(pool)).await
}

/// jsonb cannot hold U+0000; the append is refused as bad data, not as a storage failure.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn postgres_refuses_nul_characters(pool: PgPool) {
    let ctx = Ctx::pg(pool);
    let err = ctx
        .store
        .append(
            &ctx.stream("x-1"),
            ExpectedVersion::Any,
            vec![NewEvent {
                data: json!({ "s": "a\u{0}b" }),
                ..event(0)
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidInput { field: "data", .. }),
        "{err:?}"
    );
    assert!(ctx.read_all_ours(10).await.is_empty());
}

/// Invariant 4. Writers whose transactions take their ids, insert and commit in random
/// order; a subscriber following `$all` meanwhile must see every event exactly once, and a
/// second read of `$all` afterwards must give the order the subscriber saw.
///
/// Each writer opens a transaction, takes a transaction id, waits, appends through the
/// store's own function, waits again and commits, so sequence order, transaction id order
/// and commit order all disagree. A reader that followed the sequence number (or that read
/// above the oldest open transaction) skips events here.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn all_never_skips_events_committed_out_of_order(
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
) {
    common::on_threads(options, connect, out_of_order).await;
}

async fn out_of_order(pool: PgPool) {
    const WRITERS: usize = 10;
    const PER_WRITER: usize = 40;
    let store = PgEventStore::new(pool.clone());
    let mut sub = store.subscribe_all(Position::START).await.unwrap();
    // The subscriber follows while the writers write: that is where skips happen.
    let subscriber = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < WRITERS * PER_WRITER {
            let e = tokio::time::timeout(Duration::from_secs(20), sub.next())
                .await
                .expect("subscriber stalled before seeing every event")
                .expect("subscription ended")
                .unwrap();
            seen.push(e);
        }
        // Anything more would be a duplicate.
        if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await
        {
            panic!("delivered past the last event: {extra:?}");
        }
        seen
    });

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..PER_WRITER {
                    let jitter = || Duration::from_micros(rand::random::<u64>() % 8_000);
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("select pg_current_xact_id()")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tokio::time::sleep(jitter()).await;
                    let e = event(w * 1000 + i);
                    let (outcome,): (String,) = sqlx::query_as(
                        "select outcome from store.append_events($1, -1, $2, $3, $4, $5, $6)",
                    )
                    .bind(format!("w-{}", i % 3))
                    .bind(vec![e.id])
                    .bind(vec![e.event_type.clone()])
                    .bind(vec![1i32])
                    .bind(vec![e.data.clone()])
                    .bind(vec![e.metadata.clone()])
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                    assert_eq!(outcome, "appended");
                    tokio::time::sleep(jitter()).await;
                    tx.commit().await.unwrap();
                    // These appends bypass the adapter, so announce them as another
                    // process's would be.
                    sqlx::query("select pg_notify('um_store_events', '')")
                        .execute(&pool)
                        .await
                        .unwrap();
                    ids.push(e.id);
                }
                ids
            })
        })
        .collect();

    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }

    let seen = subscriber.await.unwrap();
    let seen_ids: Vec<Uuid> = seen.iter().map(|e| e.id).collect();
    let distinct: HashSet<Uuid> = seen_ids.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen_ids.len(),
        "an event was delivered twice"
    );
    assert_eq!(distinct, written, "the subscriber skipped events");
    assert!(seen.windows(2).all(|w| w[0].position < w[1].position));

    let mut again = Vec::new();
    let mut after = Position::START;
    loop {
        let page = store.read_all(after, 64).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        again.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(again, seen_ids, "a second read of $all gave another order");
}

/// Reads `n` events from `sub`, failing if it stalls.
async fn take(mut sub: commands::store::SubscriptionStream, n: usize) -> Vec<Uuid> {
    let mut seen = Vec::with_capacity(n);
    while seen.len() < n {
        let e = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("subscriber stalled")
            .expect("subscription ended")
            .unwrap();
        seen.push(e.id);
    }
    seen
}

/// Subscriptions share the store's tail, which keeps only the latest 8,192 events. One
/// that starts at the beginning while the tail starts at the end, one that joins half-way,
/// and one that starts after more than the tail keeps has been written each see `$all`
/// exactly: all of it after their start, once, in order.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn subscriptions_behind_the_shared_tail_catch_up(pool: PgPool) {
    const APPENDS: usize = 101;
    const PER_APPEND: usize = 100;
    let store = PgEventStore::new(pool.clone());
    let append = |i: usize| {
        let store = store.clone();
        async move {
            store
                .append(
                    &format!("t-{}", i % 7),
                    ExpectedVersion::Any,
                    events(i * PER_APPEND..(i + 1) * PER_APPEND),
                )
                .await
                .unwrap();
        }
    };
    append(0).await;
    let early = tokio::spawn(take(
        store.subscribe_all(Position::START).await.unwrap(),
        APPENDS * PER_APPEND,
    ));
    let mut midway = None;
    for i in 1..APPENDS {
        append(i).await;
        if i == APPENDS / 2 {
            // Whatever `$all` shows by now: the subscription starts from its end. Other
            // tests' open transactions can hide every event for a while (the horizon is
            // the server's), so it waits for `$all` to show some.
            let head = tokio::time::timeout(PATIENCE, async {
                loop {
                    let head = store.head_position().await.unwrap();
                    if head > Position::START {
                        return head;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await
            .expect("$all showed none of the events appended");
            let mut before = 0;
            let mut after = Position::START;
            loop {
                let page = store.read_all(after, 1_000).await.unwrap();
                let n = page.iter().filter(|e| e.position <= head).count();
                before += n;
                if n == 0 || n < page.len() {
                    break;
                }
                after = page[n - 1].position;
            }
            let sub = store.subscribe_all(head).await.unwrap();
            midway = Some((
                before,
                tokio::spawn(take(sub, APPENDS * PER_APPEND - before)),
            ));
        }
    }
    let late = tokio::spawn(take(
        store.subscribe_all(Position::START).await.unwrap(),
        APPENDS * PER_APPEND,
    ));

    let mut all = Vec::new();
    let mut after = Position::START;
    while all.len() < APPENDS * PER_APPEND {
        let page = store.read_all(after, 1_000).await.unwrap();
        match page.last() {
            Some(last) => after = last.position,
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
        all.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(
        early.await.unwrap(),
        all,
        "from the start, before the writes"
    );
    let (before, midway) = midway.unwrap();
    assert!(before > 0);
    assert_eq!(midway.await.unwrap(), all[before..], "from half-way");
    assert_eq!(late.await.unwrap(), all, "from the start, after the writes");
}
