//! The `eventstore` crate installs a process-wide rustls crypto provider and panics if one
//! is already installed. This proves the adapter starts in one process with sqlx and
//! async-nats, as `ultramarket serve` runs them, without panicking.
#![cfg(feature = "esdb")]

use std::time::Duration;

use commands::store::esdb::EsdbEventStore;
use commands::store::{EventStore, StoreError};

#[tokio::test]
async fn esdb_adapter_coexists_with_sqlx_and_async_nats() {
    let pool = sqlx::PgPool::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .expect("PostgreSQL answers on 5432");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    let nats_url =
        std::env::var("NATS_TEST_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let nats = async_nats::connect(&nats_url).await.expect("NATS answers");
    nats.flush().await.unwrap();

    // Nothing listens on port 1: the client must fail with an error, not a panic.
    let attempt = tokio::spawn(async {
        let store = EsdbEventStore::connect("esdb://127.0.0.1:1?tls=false")
            .await
            .expect("a well-formed URL is accepted");
        tokio::time::timeout(Duration::from_secs(20), store.head_position()).await
    });
    match attempt.await {
        Err(join) => panic!("the EventStoreDB client panicked: {join}"),
        Ok(Ok(Ok(p))) => panic!("nothing listens on port 1, yet read {p}"),
        Ok(Ok(Err(e))) => assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}"),
        Ok(Err(_elapsed)) => {} // still retrying the connection: no panic either
    }
    // sqlx and NATS still work after the client started.
    let two: i32 = sqlx::query_scalar("select 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(two, 2);
    nats.flush().await.unwrap();
}

#[tokio::test]
async fn a_malformed_url_is_refused_with_the_setting_named() {
    match EsdbEventStore::connect("http://not an esdb url").await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "EVENTSTORE_URL"),
        Err(e) => panic!("expected invalid input, got {e:?}"),
        Ok(_) => panic!("a malformed URL was accepted"),
    }
}
