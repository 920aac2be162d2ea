//! Set uniqueness on the write side, against the real PostgreSQL store.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use commands::unique::{claim, release, UniqueError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

/// Twenty owners race for one e-mail: exactly one gets it, the rest learn who has it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn one_owner_wins_a_race_for_a_key(options: PgPoolOptions, connect: PgConnectOptions) {
    common::on_threads(options, connect, one_owner_wins).await;
}

async fn one_owner_wins(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool));
    let owners: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let tasks: Vec<_> = owners
        .iter()
        .map(|&owner| {
            let store = store.clone();
            tokio::spawn(async move {
                (
                    owner,
                    claim(&*store, "email", "ann@example.com", owner, &meta()).await,
                )
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut told = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (owner, Ok(())) => winners.push(owner),
            (_, Err(UniqueError::Taken { owner, .. })) => told.push(owner),
            (_, Err(e)) => panic!("{e}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(told.len(), 19);
    assert!(
        told.iter().all(|&o| o == winners[0]),
        "the losers are told the winner"
    );
    // The winner claiming again is fine and writes nothing.
    claim(&*store, "email", "ann@example.com", winners[0], &meta())
        .await
        .unwrap();
    // Another kind with the same text is another key.
    claim(&*store, "slug", "ann@example.com", owners[1], &meta())
        .await
        .unwrap();
}

/// A released key can be claimed by someone else; only the holder may release it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_released_key_can_be_claimed_again(pool: PgPool) {
    let store = PgEventStore::new(pool);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    claim(&store, "sku", "SKU-1", a, &meta()).await.unwrap();
    assert!(matches!(
        release(&store, "sku", "SKU-1", b, &meta()).await,
        Err(UniqueError::NotHeld { .. })
    ));
    assert!(matches!(
        claim(&store, "sku", "SKU-1", b, &meta()).await,
        Err(UniqueError::Taken { .. })
    ));
    release(&store, "sku", "SKU-1", a, &meta()).await.unwrap();
    claim(&store, "sku", "SKU-1", b, &meta()).await.unwrap();
    assert!(matches!(
        claim(&store, "sku", "SKU-1", a, &meta()).await,
        Err(UniqueError::Taken { owner, .. }) if owner == b
    ));
}
