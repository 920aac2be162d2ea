//! `eventstore` 4.0.0 installs a process-wide rustls crypto provider with `expect` when its
//! first client starts, and panics if another crate installed one first. These tests start
//! the EventStoreDB adapter in one process with a sqlx pool (and async-nats when a server
//! answers), as `ultramarket serve` runs them, and prove that nothing panics.
//!
//! The crate's panic would happen inside its own connection task, which Tokio catches: the
//! caller would only see an error. So besides the join handle, a panic hook records a panic on
//! any thread.
#![cfg(feature = "esdb")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::Duration;

use commands::store::esdb::EsdbEventStore;
use commands::store::{EventStore, StoreError};

static PANICKED: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

fn record_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Nothing listens on port 1: every call must fail with an error (or still be retrying when
/// the timeout ends), never panic. Two calls, so the second runs on the client the adapter
/// builds after the first one's connection task gave up.
async fn call_unreachable_store() {
    let attempt = tokio::spawn(async {
        let store = EsdbEventStore::connect("esdb://127.0.0.1:1?tls=false")
            .await
            .expect("a well-formed URL is accepted");
        let mut outcomes = Vec::new();
        for _ in 0..2 {
            outcomes
                .push(tokio::time::timeout(Duration::from_secs(20), store.head_position()).await);
        }
        outcomes
    });
    let outcomes = match attempt.await {
        Ok(outcomes) => outcomes,
        Err(join) => panic!("the EventStoreDB adapter panicked: {join}"),
    };
    for outcome in outcomes {
        match outcome {
            Ok(Err(StoreError::Unavailable(_))) | Err(_) => {}
            Ok(Err(e)) => panic!("expected the store to be unavailable, got {e:?}"),
            Ok(Ok(p)) => panic!("nothing listens on port 1, yet read {p}"),
        }
    }
}

#[tokio::test]
async fn the_esdb_client_starts_beside_sqlx_without_panicking() {
    record_panics();
    let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .expect("PostgreSQL answers on 127.0.0.1:5432");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);

    // async-nats is the other TLS-capable client in the engine. A plain connection does not
    // touch rustls, so it is only a bystander here; it is left out when no server answers.
    let nats_url =
        std::env::var("NATS_TEST_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let nats =
        match tokio::time::timeout(Duration::from_secs(5), async_nats::connect(&nats_url)).await {
            Ok(Ok(client)) => Some(client),
            _ => {
                eprintln!("no NATS server at {nats_url}: checking beside sqlx alone");
                None
            }
        };

    call_unreachable_store().await;

    assert!(
        !PANICKED.load(Ordering::SeqCst),
        "a thread panicked while the EventStoreDB client started (see the output above)"
    );
    // The pool still works once the client has started.
    let two: i32 = sqlx::query_scalar("select 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(two, 2);
    if let Some(nats) = nats {
        nats.flush().await.unwrap();
    }
}

#[tokio::test]
async fn a_malformed_url_is_refused_with_the_setting_named() {
    match EsdbEventStore::connect("http://not an esdb url").await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "EVENTSTORE_URL"),
        Err(e) => panic!("expected invalid input, got {e:?}"),
        Ok(_) => panic!("a malformed URL was accepted"),
    }
}
