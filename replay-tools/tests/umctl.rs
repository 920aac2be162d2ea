//! `umctl` as staff run it: the real binary against a real PostgreSQL store.

use std::process::Output;

#[path = "../../projections/tests/common/mod.rs"]
mod common;
mod support;

use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use serde_json::Value;
use sqlx::PgPool;
use support::{fill, settle, stdout, umctl, url_of, Scratch};
use uuid::Uuid;

/// `streams` lists by category with versions; `read` prints a stream forwards, backwards
/// and as JSON.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
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
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
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
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn tail_filters(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool.clone())).await;
    settle(&pool, 9).await;
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

/// Export, import into a fresh database, export again: the same events, ids and order,
/// between a chain's header and its trailer.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn export_import_round_trip(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool.clone())).await;
    settle(&pool, 9).await;
    let first = umctl(&db, &["export"]);
    assert!(first.status.success());
    let file = std::env::temp_dir().join(format!("umctl-{}.ndjson", Uuid::new_v4()));
    std::fs::write(&file, &first.stdout).unwrap();
    let verified = umctl(&db, &["verify", "--export", file.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", support::stderr(&verified));

    let target = Scratch::create(&pool, "umctl_import").await;
    let out = umctl(&target.url, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert!(support::stderr(&out).contains("imported 9 events"));
    // A second import into the now non-empty store is refused.
    let again = umctl(&target.url, &["import", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));

    // `$all` shows events below the server's oldest open transaction, and other tests'
    // transactions hold that horizon too: an export at once can find the copy empty.
    let copy = PgPool::connect(&target.url).await.unwrap();
    settle(&copy, 9).await;
    copy.close().await;
    let second = umctl(&target.url, &["export"]);
    let strip = |o: &Output| -> Vec<Value> {
        let lines: Vec<Value> = stdout(o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(lines[0].get("header").is_some() && lines.last().unwrap().get("trailer").is_some());
        lines[1..lines.len() - 1]
            .iter()
            .cloned()
            .map(|mut v| {
                // Positions and record times belong to the store that holds the copy, and
                // the chain covers them.
                for field in ["position", "recorded_at", "chain"] {
                    v.as_object_mut().unwrap().remove(field);
                }
                v
            })
            .collect()
    };
    assert_eq!(strip(&first).len(), 9);
    assert_eq!(strip(&first), strip(&second));
    std::fs::remove_file(&file).ok();
    target.drop_with(&pool).await;
}

mod flows {
    //! `state`, `diff`, `audit`, `verify` and `rebuild` over a store filled by the domain's
    //! own flows.

    use super::*;
    use chrono::Utc;
    use commands::handler::{Actor, CommandHandler, CommandMeta};
    use domain::id::OrderId;
    use domain::inventory::{Inventory, InventoryCommand};
    use domain::value::Sku;
    use std::sync::Arc;

    async fn fill(pool: &PgPool, staff: Uuid, correlation: Uuid) {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let inventory: CommandHandler<Inventory> = CommandHandler::new(store, 10);
        let sku = Sku::parse("SKU-9").unwrap();
        let commands = [
            InventoryCommand::ReceiveStock {
                sku: sku.clone(),
                warehouse: "main".into(),
                quantity: 10,
            },
            InventoryCommand::AdjustStock {
                sku: sku.clone(),
                warehouse: "main".into(),
                delta: -2,
                reason: "damaged, \"crushed\" box".into(),
            },
            InventoryCommand::ReserveStock {
                sku: sku.clone(),
                order_id: OrderId::new(Uuid::new_v4()),
                quantity: 3,
            },
        ];
        for (i, c) in commands.into_iter().enumerate() {
            let id = Uuid::new_v4();
            let actor = Actor {
                user_id: Some(if i < 2 { staff } else { Uuid::new_v4() }),
                role: if i < 2 {
                    "staff".into()
                } else {
                    "customer".into()
                },
            };
            let meta =
                CommandMeta::new(id, if i == 1 { correlation } else { id }, actor, Utc::now());
            inventory.handle("inventory-SKU-9", c, meta).await.unwrap();
        }
        settle(pool, 3).await;
    }

    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn state_and_diff_travel_in_time(pool: PgPool) {
        let db = url_of(&pool).await;
        fill(&pool, Uuid::new_v4(), Uuid::new_v4()).await;

        let first = umctl(&db, &["state", "inventory-SKU-9", "--at-version", "0"]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let first = stdout(&first);
        assert!(first.contains("at version 0"), "{first}");
        assert!(first.contains("\"main\": 10"), "{first}");
        assert!(first.contains("reservations: {}"), "{first}");

        let now = stdout(&umctl(&db, &["state", "inventory-SKU-9"]));
        assert!(
            now.contains("at version 2") && now.contains("\"main\": 8"),
            "{now}"
        );

        let before = umctl(
            &db,
            &[
                "state",
                "inventory-SKU-9",
                "--at-time",
                "2000-01-01T00:00:00Z",
            ],
        );
        assert_eq!(before.status.code(), Some(3));
        let bad = umctl(
            &db,
            &["state", "inventory-SKU-9", "--at-time", "last tuesday"],
        );
        assert_eq!(bad.status.code(), Some(2));
        let beyond = umctl(&db, &["state", "inventory-SKU-9", "--at-version", "7"]);
        assert_eq!(beyond.status.code(), Some(3));

        let diff = stdout(&umctl(&db, &["diff", "inventory-SKU-9", "0", "2"]));
        assert!(diff.contains("-        \"main\": 10"), "{diff}");
        assert!(diff.contains("+        \"main\": 8"), "{diff}");
        assert!(
            diff.contains("StockAdjusted") && diff.contains("StockReserved"),
            "{diff}"
        );
    }

    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn audit_answers_who_did_what(pool: PgPool) {
        let db = url_of(&pool).await;
        let (staff, correlation) = (Uuid::new_v4(), Uuid::new_v4());
        fill(&pool, staff, correlation).await;

        let out = umctl(
            &db,
            &["audit", "--actor", &staff.to_string(), "--format", "csv"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = stdout(&out);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("occurred_at,actor_id,actor_role,action"));
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[1].contains("StockReceived") && lines[2].contains("StockAdjusted"));

        let out = stdout(&umctl(
            &db,
            &[
                "audit",
                "--correlation",
                &correlation.to_string(),
                "--format",
                "ndjson",
            ],
        ));
        let rows: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["action"], "StockAdjusted");
        assert_eq!(rows[0]["details"]["reason"], "damaged, \"crushed\" box");

        let none = stdout(&umctl(
            &db,
            &[
                "audit",
                "--type",
                "StockReserved",
                "--to",
                "2000-01-01T00:00:00Z",
                "--format",
                "csv",
            ],
        ));
        assert_eq!(none.lines().count(), 1, "only the header");
    }

    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn verify_passes_a_sound_log_and_finds_a_broken_one(pool: PgPool) {
        let db = url_of(&pool).await;
        fill(&pool, Uuid::new_v4(), Uuid::new_v4()).await;
        let ok = umctl(&db, &["verify"]);
        assert!(
            ok.status.success(),
            "{}{}",
            stdout(&ok),
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(stdout(&ok).contains("ok: every event fits its schema"));

        // An event that does not fit its schema, and a stream with a hole, written behind
        // the store's back.
        sqlx::query(
            "insert into store.events (event_id, stream_id, stream_revision, event_type, schema_version, data, metadata)
             values ($1, 'inventory-SKU-9', 3, 'StockReceived', 1, '{\"sku\": \"SKU-9\", \"warehouse\": \"main\", \"quantity\": \"lots\"}', '{}'),
                    ($2, 'inventory-SKU-8', 1, 'LowStockThresholdSet', 1, '{\"sku\": \"SKU-8\", \"threshold\": 3}', '{}')",
        )
        .bind(Uuid::new_v4())
        .bind(Uuid::new_v4())
        .execute(&pool)
        .await
        .unwrap();
        settle(&pool, 5).await;
        let bad = umctl(&db, &["verify"]);
        assert_eq!(bad.status.code(), Some(5));
        let report = stdout(&bad);
        assert!(report.contains("does not fit its schema"), "{report}");
        assert!(
            report.contains("inventory-SKU-8: revision 1 follows -1"),
            "{report}"
        );
    }

    /// `rebuild` builds and swaps read models; `verify` compares them with a fresh replay,
    /// and the replay's checksums are the same in a store made by export and import.
    #[sqlx::test(migrator = "commands::database::MIGRATOR")]
    async fn rebuild_verify_and_checksums_across_stores(pool: PgPool) {
        let db = url_of(&pool).await;
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let orders = CommandHandler::new(store.clone(), 100);
        for n in 0..20 {
            common::order_story(&orders, n).await;
        }
        fill(&pool, Uuid::new_v4(), Uuid::new_v4()).await;
        let committed: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&pool)
            .await
            .unwrap();
        let events = common::all_events(&*store, committed as usize).await.len();

        let usage = umctl(&db, &["rebuild"]);
        assert_eq!(usage.status.code(), Some(2));
        let unknown = umctl(&db, &["rebuild", "nope"]);
        assert_eq!(unknown.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("there are: orders"));

        let rebuilt = umctl(&db, &["rebuild", "orders"]);
        assert!(
            rebuilt.status.success(),
            "{}",
            String::from_utf8_lossy(&rebuilt.stderr)
        );
        assert!(
            stdout(&rebuilt).contains(&format!("orders: rebuilt from {events} events")),
            "{}",
            stdout(&rebuilt)
        );
        let placed: i64 = sqlx::query_scalar("select count(*) from orders.orders")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(placed, 20);
        assert!(umctl(&db, &["rebuild", "--all"]).status.success());

        let ok = umctl(&db, &["verify"]);
        assert!(ok.status.success(), "{}", stdout(&ok));
        assert!(
            stdout(&ok).contains("live tables match a fresh replay"),
            "{}",
            stdout(&ok)
        );
        let checksums = |o: &Output| -> Vec<String> {
            stdout(o)
                .lines()
                .filter(|l| l.starts_with("  ") && l.contains("checksum"))
                .map(str::to_owned)
                .collect()
        };
        assert!(checksums(&ok)
            .iter()
            .any(|l| l.contains("orders.orders") && l.contains(" 20 rows")));

        // The same log in another store gives the same read models.
        let export = umctl(&db, &["export"]);
        let file = std::env::temp_dir().join(format!("umctl-{}.ndjson", Uuid::new_v4()));
        std::fs::write(&file, &export.stdout).unwrap();
        let target = Scratch::create(&pool, "umctl_verify").await;
        let target_url = target.url.clone();
        assert!(umctl(&target_url, &["import", file.to_str().unwrap()])
            .status
            .success());
        // Without live tables verify replays to the head `$all` shows, which trails
        // commits while other tests' transactions are open.
        let copied = PgPool::connect(&target_url).await.unwrap();
        settle(&copied, events).await;
        copied.close().await;
        let copy = umctl(&target_url, &["verify"]);
        assert!(copy.status.success(), "{}", stdout(&copy));
        assert!(stdout(&copy).contains("no live tables here"));
        assert_eq!(checksums(&copy), checksums(&ok));
        std::fs::remove_file(&file).ok();
        target.drop_with(&pool).await;

        // A live row that no longer matches the log.
        sqlx::query("update orders.orders set total = total + 1 where order_id in (select order_id from orders.orders limit 1)")
            .execute(&pool)
            .await
            .unwrap();
        let bad = umctl(&db, &["verify"]);
        assert_eq!(bad.status.code(), Some(5));
        assert!(
            stdout(&bad).contains("LIVE TABLES DIFFER"),
            "{}",
            stdout(&bad)
        );
        assert!(stdout(&bad).contains("orders.orders"));
    }
}
