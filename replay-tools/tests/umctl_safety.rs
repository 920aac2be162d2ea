//! Issue 18 item 14: `umctl` keeps secrets out of `--help`, never migrates a database from
//! a read-only command, and carries the event schemas `verify` needs in its binary.

mod support;

use std::process::Command;
use std::sync::Arc;

use chrono::Utc;
use clap::CommandFactory;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::inventory::{Inventory, InventoryCommand};
use domain::value::Sku;
use replay_tools::cli::Cli;
use sqlx::PgPool;
use support::{settle, stderr, stdout, umctl, url_of, Scratch};
use uuid::Uuid;

/// `umctl --help` and every subcommand's help name the variables but not their values.
#[test]
fn help_never_prints_a_secret() {
    let secrets = [
        (
            "DATABASE_URL",
            "postgres://ops:Pg-SeCrEt-7@db.internal:5432/shop",
        ),
        (
            "EVENTSTORE_URL",
            "esdb://admin:Esdb-SeCrEt-7@esdb:2113?tls=false",
        ),
        ("UMCTL_EXPORT_KEY", "Export-Key-SeCrEt-7"),
        ("MASTER_KEY", "Master-Key-SeCrEt-7"),
        ("MASTER_KEY_PREVIOUS", "Previous-Key-SeCrEt-7"),
    ];
    let mut invocations = vec![vec!["--help".to_owned()]];
    for sub in Cli::command().get_subcommands() {
        invocations.push(vec![sub.get_name().to_owned(), "--help".into()]);
        invocations.push(vec!["help".into(), sub.get_name().to_owned()]);
    }
    for args in invocations {
        let out = Command::new(env!("CARGO_BIN_EXE_umctl"))
            .args(&args)
            .envs(secrets)
            .output()
            .unwrap();
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "{args:?}: {text}");
        assert!(
            !text.contains("SeCrEt"),
            "{args:?} prints a secret:\n{text}"
        );
        if args[0] == "--help" {
            assert!(text.contains("DATABASE_URL"), "{text}");
        }
    }
}

/// A read-only command pointed at an empty database (a typo in its name, say) fails
/// clearly and leaves it empty: no store tables, no `_sqlx_migrations`.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn read_only_commands_never_migrate(pool: PgPool) {
    let empty = Scratch::create(&pool, "umctl_empty").await;
    let commands: [&[&str]; 12] = [
        &["streams"],
        &["read", "order-1"],
        &["tail", "--from", "start", "--count", "1"],
        &["state", "order-1"],
        &["diff", "order-1", "0", "1"],
        &["audit"],
        &["verify"],
        &["verify", "--log-only"],
        &["export"],
        &["audit", "--format", "csv"],
        &["keys", "status"],
        &[
            "keys",
            "rotate",
            "--master-key",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ],
    ];
    for args in commands {
        let out = umctl(&empty.url, args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("holds no UltraMarket event store"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(empty.tables().await, Vec::<String>::new());
    empty.drop_with(&pool).await;
}

/// `verify` checks events against the schemas built into the binary: a copy of umctl run
/// from an empty directory, with the repository's `schemas/` hidden, still verifies.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn verify_needs_no_repository_around(pool: PgPool) {
    let db = url_of(&pool).await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let inventory: CommandHandler<Inventory> = CommandHandler::new(store, 10);
    let receive = InventoryCommand::ReceiveStock {
        sku: Sku::parse("SKU-1").unwrap(),
        warehouse: "main".into(),
        quantity: 5,
    };
    let id = Uuid::new_v4();
    let actor = Actor {
        user_id: Some(Uuid::new_v4()),
        role: "staff".into(),
    };
    inventory
        .handle(
            "inventory-SKU-1",
            receive,
            CommandMeta::new(id, id, actor, Utc::now()),
        )
        .await
        .unwrap();
    settle(&pool, 1).await;

    let dir = std::env::temp_dir().join(format!("umctl-alone-{}", Uuid::new_v4()));
    std::fs::create_dir(&dir).unwrap();
    let binary = dir.join("umctl");
    std::fs::copy(env!("CARGO_BIN_EXE_umctl"), &binary).unwrap();
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    // A private mount namespace hides the repository's schemas from this process only;
    // where one cannot be made (no privilege), the copy still runs from elsewhere.
    let hidden = Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut command = if hidden {
        let mut c = Command::new("unshare");
        c.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs none '{schemas}' && exec \"$0\" \"$@\""
            ))
            .arg(&binary);
        c
    } else {
        eprintln!(
            "NOTICE: cannot make a mount namespace here; the repository's schemas stay visible"
        );
        Command::new(&binary)
    };
    let out = command
        .args(["verify", "--log-only"])
        .current_dir(&dir)
        .env("DATABASE_URL", &db)
        .env_remove("EVENTSTORE_URL")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let report = stdout(&out);
    assert!(report.contains("(built into umctl)"), "{report}");
    assert!(
        report.contains("events:   1") && report.contains("ok: every event fits"),
        "{report}"
    );
}
