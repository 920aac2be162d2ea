//! `umctl` as staff run it: the real binary against a real PostgreSQL store.

use std::process::{Command, Output};

use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// The URL of the database `pool` is connected to (each `#[sqlx::test]` has its own).
async fn url_of(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

fn umctl(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umctl"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("EVENTSTORE_URL")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn fill(store: &PgEventStore) {
    for (stream, n) in [("order-1", 3), ("order-2", 2), ("cart-9", 4)] {
        let events = (0..n)
            .map(|i| NewEvent {
                id: Uuid::new_v4(),
                event_type: format!("Step{i}"),
                schema_version: 1,
                data: json!({ "i": i, "stream": stream, "text": "grüße 🛒" }),
                metadata: json!({ "actor_role": "staff", "correlation_id": Uuid::new_v4() }),
            })
            .collect();
        store
            .append(stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
}

/// `streams` lists by category with versions; `read` prints a stream forwards, backwards
/// and as JSON.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn streams_and_read(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool)).await;

    let out = umctl(&db, &["streams", "--category", "order", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<(&str, u64)> = listed
        .iter()
        .map(|s| {
            (
                s["stream_id"].as_str().unwrap(),
                s["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids, vec![("order-1", 2), ("order-2", 1)]);

    let out = umctl(
        &db,
        &[
            "read", "cart-9", "--from", "1", "--limit", "2", "--format", "json",
        ],
    );
    assert!(out.status.success());
    let events: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let revisions: Vec<u64> = events
        .iter()
        .map(|e| e["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(revisions, vec![1, 2]);
    assert_eq!(events[0]["data"]["text"], "grüße 🛒");

    let out = umctl(
        &db,
        &["read", "cart-9", "--backwards", "--format", "ndjson"],
    );
    let revisions: Vec<u64> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["revision"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(revisions, vec![3, 2, 1, 0]);

    let out = umctl(&db, &["read", "order-1"]);
    let table = stdout(&out);
    assert!(table.lines().next().unwrap().contains("revision"));
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.contains("Step2") && table.contains("staff"));
}

/// Clear errors and documented exit codes: missing stream 3, bad position 2, no store 4.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn errors_have_exit_codes(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool)).await;

    let out = umctl(&db, &["read", "order-404"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    let out = umctl(&db, &["read", "order-1", "--from", "10"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("last revision is 2"));

    let out = umctl(&db, &["tail", "--from", "yesterday", "--count", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid position"));

    let out = umctl("postgres://postgres@127.0.0.1:1/nowhere", &["streams"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:1"));

    let help = umctl(&db, &["--help"]);
    assert!(stdout(&help).contains("Exit codes"));
}

/// `tail --from start` replays the log filtered by type and category.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn tail_filters(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool)).await;
    let out = umctl(
        &db,
        &[
            "tail",
            "--from",
            "start",
            "--category",
            "order",
            "--type",
            "Step1",
            "--count",
            "2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streams: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["stream_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(streams, vec!["order-1", "order-2"]);
}

/// Export, import into a fresh database, export again: the same events, ids and order.
#[sqlx::test(migrator = "commands::store::postgres::MIGRATOR")]
async fn export_import_round_trip(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool.clone())).await;
    let first = umctl(&db, &["export"]);
    assert!(first.status.success());
    let file = std::env::temp_dir().join(format!("umctl-{}.ndjson", Uuid::new_v4()));
    std::fs::write(&file, &first.stdout).unwrap();

    let target = format!("umctl_import_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("create database {target}"))
        .execute(&pool)
        .await
        .unwrap();
    let (server, _) = db.rsplit_once('/').unwrap();
    let target_url = format!("{server}/{target}");

    let out = umctl(&target_url, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 9 events"));
    // A second import into the now non-empty store is refused.
    let again = umctl(&target_url, &["import", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));

    let second = umctl(&target_url, &["export"]);
    let strip = |o: &Output| -> Vec<Value> {
        stdout(o)
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                // Positions and record times belong to the store that holds the copy.
                v.as_object_mut().unwrap().remove("position");
                v.as_object_mut().unwrap().remove("recorded_at");
                v
            })
            .collect()
    };
    assert_eq!(strip(&first).len(), 9);
    assert_eq!(strip(&first), strip(&second));
    std::fs::remove_file(&file).ok();
    // Leave no database behind; the store's listener may hold a connection a moment.
    sqlx::query(&format!("drop database {target} with (force)"))
        .execute(&pool)
        .await
        .unwrap();
}
