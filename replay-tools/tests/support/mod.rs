//! What the `umctl` tests share: running the real binary against a test's own database.
#![allow(dead_code)]

use std::process::{Command, Output};

use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// The URL of the database `pool` is connected to (each `#[sqlx::test]` has its own).
pub async fn url_of(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

pub fn umctl(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_umctl"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("EVENTSTORE_URL")
        .env_remove("UMCTL_EXPORT_KEY")
        .env_remove("MASTER_KEY")
        .env_remove("MASTER_KEY_PREVIOUS")
        .output()
        .unwrap()
}

/// Waits until `$all` shows `n` events: PostgreSQL's `$all` shows a commit once every older
/// transaction in the cluster has ended, and other tests run beside this one.
pub async fn settle(pool: &PgPool, n: usize) {
    let store = PgEventStore::new(pool.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let seen = store
            .read_all(commands::store::Position::START, 10_000)
            .await
            .unwrap()
            .len();
        if seen >= n || std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Nine events in three streams.
pub async fn fill(store: &PgEventStore) {
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

/// A database of its own beside the test's, empty (not migrated); dropped by
/// [`Scratch::drop_with`].
pub struct Scratch {
    pub name: String,
    pub url: String,
}

impl Scratch {
    pub async fn create(pool: &PgPool, prefix: &str) -> Scratch {
        let db = url_of(pool).await;
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(pool)
            .await
            .unwrap();
        let (server, _) = db.rsplit_once('/').unwrap();
        Scratch {
            url: format!("{server}/{name}"),
            name,
        }
    }

    /// Leaves no database behind; the store's listener may hold a connection a moment.
    pub async fn drop_with(self, pool: &PgPool) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database {} with (force)",
            self.name
        )))
        .execute(pool)
        .await
        .unwrap();
    }

    /// The tables in the scratch database outside PostgreSQL's own schemas.
    pub async fn tables(&self) -> Vec<String> {
        let pool = PgPool::connect(&self.url).await.unwrap();
        let tables = sqlx::query_scalar(
            "select table_schema || '.' || table_name from information_schema.tables
             where table_schema not in ('pg_catalog', 'information_schema') order by 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        tables
    }
}
