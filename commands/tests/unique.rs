//! Set uniqueness on the write side, against the real PostgreSQL store: one owner per key,
//! streams named by a keyed HMAC that survives a rotation of the master key, no e-mail in
//! the log, and claims of logs written before still honoured.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::privacy::{DataKeys, MasterKey, LOOKUP_SUBJECT};
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ExpectedVersion, NewEvent, ReadFrom, StoreError};
use commands::unique::{claim, owner_of, release, stream_of, Kind, UniqueError};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

const EMAIL: Kind = Kind::personal("email");
const SKU: Kind = Kind::public("sku");

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

fn keys_under(pool: &PgPool, master: [u8; 32], previous: Option<[u8; 32]>) -> Arc<DataKeys> {
    Arc::new(DataKeys::new(
        pool.clone(),
        MasterKey::from_bytes(master),
        previous.map(MasterKey::from_bytes),
    ))
}

fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    Handlers::new(&store, keys_under(pool, [7; 32], None), 100)
}

/// Every event of `stream` as the store holds it: (type, data).
async fn raw(pool: &PgPool, stream: &str) -> Vec<(String, serde_json::Value)> {
    PgEventStore::new(pool.clone())
        .read_stream(stream, ReadFrom::End, Direction::Forwards, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event_type, e.data))
        .collect()
}

/// Twenty owners race for one e-mail: exactly one gets it, the rest learn who has it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn one_owner_wins_a_race_for_a_key(options: PgPoolOptions, connect: PgConnectOptions) {
    common::on_threads(options, connect, one_owner_wins).await;
}

async fn one_owner_wins(pool: PgPool) {
    let h = handlers(&pool);
    let owners: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let tasks: Vec<_> = owners
        .iter()
        .map(|&owner| {
            let h = h.clone();
            tokio::spawn(async move {
                (
                    owner,
                    claim(&h, EMAIL, "ann@example.com", owner, &meta()).await,
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
    claim(&h, EMAIL, "ann@example.com", winners[0], &meta())
        .await
        .unwrap();
    let stream = stream_of(&h, EMAIL, "ann@example.com").await.unwrap();
    assert_eq!(raw(&pool, &stream).await.len(), 1);
    // Another kind with the same text is another key.
    claim(
        &h,
        Kind::public("slug"),
        "ann@example.com",
        owners[1],
        &meta(),
    )
    .await
    .unwrap();
}

/// A released key can be claimed by someone else; only the holder may release it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_released_key_can_be_claimed_again(pool: PgPool) {
    let h = handlers(&pool);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    claim(&h, SKU, "SKU-1", a, &meta()).await.unwrap();
    assert!(matches!(
        release(&h, SKU, "SKU-1", b, &meta()).await,
        Err(UniqueError::NotHeld { .. })
    ));
    assert!(matches!(
        claim(&h, SKU, "SKU-1", b, &meta()).await,
        Err(UniqueError::Taken { .. })
    ));
    release(&h, SKU, "SKU-1", a, &meta()).await.unwrap();
    claim(&h, SKU, "SKU-1", b, &meta()).await.unwrap();
    assert!(matches!(
        claim(&h, SKU, "SKU-1", a, &meta()).await,
        Err(UniqueError::Taken { owner, .. }) if owner == b
    ));
}

/// An e-mail's stream is named by a keyed HMAC, not by the UUIDv5 of the address that a
/// list of addresses would reverse, and its events hold no address; a SKU's events keep
/// the SKU, for the audit trail.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_email_claim_holds_no_address(pool: PgPool) {
    let h = handlers(&pool);
    let ann = Uuid::new_v4();
    claim(&h, EMAIL, "ann@example.com", ann, &meta())
        .await
        .unwrap();
    release(&h, EMAIL, "ann@example.com", ann, &meta())
        .await
        .unwrap();
    claim(&h, SKU, "TENT-1", ann, &meta()).await.unwrap();

    let plain = Uuid::new_v5(&Uuid::NAMESPACE_OID, b"email:ann@example.com");
    let stream = stream_of(&h, EMAIL, "ann@example.com").await.unwrap();
    assert!(stream.starts_with("unique-email-"), "{stream}");
    assert!(!stream.contains(&plain.to_string()));
    let log: Vec<String> = sqlx::query_scalar(
        "select stream_id || ' ' || data::text || ' ' || metadata::text from store.events",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|e| !e.to_lowercase().contains("ann@example")),
        "{log:#?}"
    );
    assert_eq!(
        raw(&pool, &stream).await,
        [
            (
                "UniqueKeyClaimed".into(),
                json!({"kind": "email", "owner": ann})
            ),
            (
                "UniqueKeyReleased".into(),
                json!({"kind": "email", "owner": ann})
            ),
        ]
    );
    let sku = stream_of(&h, SKU, "TENT-1").await.unwrap();
    assert_eq!(
        raw(&pool, &sku).await,
        [(
            "UniqueKeyClaimed".into(),
            json!({"kind": "sku", "key": "TENT-1", "owner": ann})
        )]
    );
}

/// The lookup key is a data key like any other: a rotation of the master key re-wraps it,
/// so every claim is found under the same name afterwards; and it cannot be erased.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn claims_outlive_a_master_key_rotation_and_the_lookup_key_is_never_erased(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let (old, new) = ([1; 32], [2; 32]);
    let before = Handlers::new(&store, keys_under(&pool, old, None), 100);
    let ann = Uuid::new_v4();
    claim(&before, EMAIL, "ann@example.com", ann, &meta())
        .await
        .unwrap();
    let name = stream_of(&before, EMAIL, "ann@example.com").await.unwrap();

    let rotating = keys_under(&pool, new, Some(old));
    assert!(rotating.rotate().await.unwrap() >= 1, "the lookup key too");
    let after = Handlers::new(&store, keys_under(&pool, new, None), 100);
    assert_eq!(
        stream_of(&after, EMAIL, "ann@example.com").await.unwrap(),
        name
    );
    assert_eq!(
        owner_of(&after, EMAIL, "ann@example.com").await.unwrap(),
        Some(ann)
    );
    assert!(matches!(
        claim(&after, EMAIL, "ann@example.com", Uuid::new_v4(), &meta()).await,
        Err(UniqueError::Taken { owner, .. }) if owner == ann
    ));

    let refused = after.keys.erase(LOOKUP_SUBJECT).await;
    assert!(
        matches!(refused, Err(StoreError::InvalidInput { .. })),
        "{refused:?}"
    );
    // Nor did the refusal leave a tombstone another process would read.
    let fresh = Handlers::new(&store, keys_under(&pool, new, None), 100);
    assert_eq!(
        owner_of(&fresh, EMAIL, "ann@example.com").await.unwrap(),
        Some(ann)
    );
}

/// A claim made before streams were named by HMAC, in `unique-<kind>-<uuidv5(kind:key)>`
/// with the key in its data: the key is held while that stream says so, is released
/// there, and once free is claimed in the HMAC-named stream.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_claim_in_a_legacy_stream_is_held_and_released_there(pool: PgPool) {
    let h = handlers(&pool);
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let legacy = format!(
        "unique-email-{}",
        Uuid::new_v5(&Uuid::NAMESPACE_OID, b"email:ann@example.com")
    );
    PgEventStore::new(pool.clone())
        .append(
            &legacy,
            ExpectedVersion::NoStream,
            vec![NewEvent {
                id: Uuid::new_v4(),
                event_type: "UniqueKeyClaimed".into(),
                schema_version: 1,
                data: json!({"kind": "email", "key": "ann@example.com", "owner": ann}),
                metadata: json!({}),
            }],
        )
        .await
        .unwrap();
    let stream = stream_of(&h, EMAIL, "ann@example.com").await.unwrap();

    assert_eq!(
        owner_of(&h, EMAIL, "ann@example.com").await.unwrap(),
        Some(ann)
    );
    assert!(matches!(
        claim(&h, EMAIL, "ann@example.com", bob, &meta()).await,
        Err(UniqueError::Taken { owner, .. }) if owner == ann
    ));
    claim(&h, EMAIL, "ann@example.com", ann, &meta())
        .await
        .unwrap();
    assert!(raw(&pool, &stream).await.is_empty(), "held: nothing moved");
    assert!(matches!(
        release(&h, EMAIL, "ann@example.com", bob, &meta()).await,
        Err(UniqueError::NotHeld { .. })
    ));

    release(&h, EMAIL, "ann@example.com", ann, &meta())
        .await
        .unwrap();
    let types: Vec<String> = raw(&pool, &legacy).await.into_iter().map(|e| e.0).collect();
    assert_eq!(types, ["UniqueKeyClaimed", "UniqueKeyReleased"]);
    assert_eq!(owner_of(&h, EMAIL, "ann@example.com").await.unwrap(), None);

    claim(&h, EMAIL, "ann@example.com", bob, &meta())
        .await
        .unwrap();
    assert_eq!(
        raw(&pool, &stream).await,
        [(
            "UniqueKeyClaimed".into(),
            json!({"kind": "email", "owner": bob})
        )]
    );
    assert_eq!(
        raw(&pool, &legacy).await.len(),
        2,
        "the old stream is left as it was"
    );
    assert_eq!(
        owner_of(&h, EMAIL, "ann@example.com").await.unwrap(),
        Some(bob)
    );
}
