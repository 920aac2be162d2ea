//! `umctl` over a log whose personal data is sealed (issue 20, ADR 0005): what prints
//! events shows it encrypted unless revealed, `verify` checks the log before and after an
//! erasure, and `rebuild` opens what it replays.

mod support;

use std::process::Output;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::privacy::{DataKeys, MasterKey};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::id::{CredentialId, UserId};
use domain::user::{ErasedBy, Role, UserCommand};
use domain::value::Email;
use serde_json::Value;
use sqlx::PgPool;
use support::{settle, stderr, stdout, umctl, url_of};
use uuid::Uuid;

const EMAIL: &str = "ann@example.com";
const IP: &str = "203.0.113.7";

fn meta(ann: Uuid) -> CommandMeta {
    let mut meta = CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(ann),
            role: "customer".into(),
        },
        Utc::now(),
    );
    meta.client_ip = Some(IP.into());
    meta.user_agent = Some("Firefox/ann".into());
    meta
}

/// Ann registers through the command side, which seals her e-mail, name and IP.
async fn register(handlers: &Handlers, ann: Uuid) {
    let command = UserCommand::Register {
        user_id: UserId::new(ann),
        email: Email::parse(EMAIL).unwrap(),
        credential: CredentialId::new(Uuid::new_v4()),
        first_name: Some("Annabel".into()),
        last_name: None,
        role: Role::Customer,
        at: Utc::now(),
    };
    handlers
        .users
        .handle(&format!("user-{ann}"), command, meta(ann))
        .await
        .unwrap();
}

/// What `commands::accounts::erase` does to the log and the keys (its claim release and
/// credentials aside): `UserErased`, then the key destroyed.
async fn erase(handlers: &Handlers, ann: Uuid) {
    let command = UserCommand::Erase {
        by: ErasedBy::Admin,
        at: Utc::now(),
    };
    handlers
        .users
        .handle(&format!("user-{ann}"), command, meta(ann))
        .await
        .unwrap();
    handlers.keys.erase(ann).await.unwrap();
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
    stdout(o)
}

async fn users_email(pool: &PgPool, ann: Uuid) -> String {
    sqlx::query_scalar("select email from users.users where user_id = $1")
        .bind(ann)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// With the engine's embedded key (the default deployment): `read`, `tail`, `audit` and
/// `state` show Ann's data encrypted, `--reveal` opens it, and after her erasure shows it
/// erased; `verify` passes before and after; `rebuild` gives the plain e-mail, then the
/// erased one.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_sealed_log_shows_encrypted_reveals_and_replays(pool: PgPool) {
    let db = url_of(&pool).await;
    let keys = DataKeys::new(
        pool.clone(),
        MasterKey::embedded(&pool).await.unwrap(),
        None,
    );
    let log: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&log, Arc::new(keys), 10);
    let ann = Uuid::new_v4();
    let stream = format!("user-{ann}");
    register(&handlers, ann).await;
    settle(&pool, 1).await;

    let encrypted = format!("[encrypted for {ann}]");
    for args in [
        vec!["read", stream.as_str()],
        vec!["read", stream.as_str(), "--format", "json"],
        vec!["tail", "--from", "start", "--count", "1"],
        vec!["audit", "--format", "ndjson"],
        vec!["audit", "--format", "csv"],
    ] {
        let shown = ok(&umctl(&db, &args));
        // The table cuts long data short.
        assert!(shown.contains("[encrypted for "), "{args:?}: {shown}");
        for secret in [EMAIL, "Annabel", IP, "Firefox"] {
            assert!(!shown.contains(secret), "{args:?} shows {secret}: {shown}");
        }
    }
    let read = |reveal: bool| -> Value {
        let mut args = vec!["read", stream.as_str(), "--format", "json"];
        if reveal {
            args.push("--reveal");
        }
        let events: Vec<Value> = serde_json::from_str(&ok(&umctl(&db, &args))).unwrap();
        events[0].clone()
    };
    let sealed = read(false);
    assert_eq!(sealed["data"]["email"], encrypted);
    assert_eq!(sealed["data"]["role"], "customer", "what is not personal");
    assert_eq!(sealed["metadata"]["client_ip"], encrypted);
    let revealed = read(true);
    assert_eq!(revealed["data"]["email"], EMAIL);
    assert_eq!(revealed["data"]["first_name"], "Annabel");
    assert_eq!(revealed["metadata"]["client_ip"], IP);
    let audit = ok(&umctl(&db, &["audit", "--format", "csv", "--reveal"]));
    assert!(audit.contains(IP), "{audit}");

    let state = ok(&umctl(&db, &["state", &stream]));
    assert!(
        state.contains("note: 2 sealed personal fields") && !state.contains(EMAIL),
        "{state}"
    );
    let state = ok(&umctl(&db, &["state", &stream, "--reveal"]));
    assert!(state.contains(EMAIL) && !state.contains("note:"), "{state}");

    let rebuilt = ok(&umctl(&db, &["rebuild", "users"]));
    assert!(
        rebuilt.contains("users: rebuilt from 1 events"),
        "{rebuilt}"
    );
    assert_eq!(users_email(&pool, ann).await, EMAIL);
    let verified = ok(&umctl(&db, &["verify"]));
    assert!(
        verified.contains("sealed:   2 personal fields")
            && verified.contains("ok: every event fits its schema"),
        "{verified}"
    );
    assert!(!verified.contains("DIFFER"), "{verified}");

    erase(&handlers, ann).await;
    settle(&pool, 2).await;
    let erased = read(true);
    assert_eq!(erased["data"]["email"], "erased@erased.invalid");
    assert_eq!(erased["data"]["first_name"], Value::Null);
    assert_eq!(erased["metadata"].get("client_ip"), None);
    assert_eq!(
        read(false)["data"]["email"],
        encrypted,
        "the log is unchanged"
    );

    ok(&umctl(&db, &["rebuild", "users"]));
    assert_eq!(users_email(&pool, ann).await, "erased@erased.invalid");
    let verified = ok(&umctl(&db, &["verify"]));
    assert!(!verified.contains("DIFFER"), "{verified}");

    // The export is the log as it is: ciphertext, which its chain covers.
    let export = ok(&umctl(&db, &["export"]));
    assert!(
        export.contains(&format!("um:enc:1:{ann}:")) && !export.contains(&encrypted),
        "{export}"
    );
    let file = std::env::temp_dir().join(format!("umctl-sealed-{}.ndjson", Uuid::new_v4()));
    std::fs::write(&file, &export).unwrap();
    ok(&umctl(&db, &["verify", "--export", file.to_str().unwrap()]));
    std::fs::remove_file(&file).ok();
}

/// Under a configured `MASTER_KEY` that umctl is not given: the log still verifies, but
/// revealing or replaying it is a clear error; given the key, both work.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn without_the_master_key_nothing_is_opened(pool: PgPool) {
    let db = url_of(&pool).await;
    let master = STANDARD.encode([5u8; 32]);
    let keys = DataKeys::new(pool.clone(), MasterKey::from_base64(&master).unwrap(), None);
    let log: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&log, Arc::new(keys), 10);
    let ann = Uuid::new_v4();
    let stream = format!("user-{ann}");
    register(&handlers, ann).await;
    settle(&pool, 1).await;

    let refused = umctl(&db, &["read", &stream, "--reveal"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("MASTER_KEY"),
        "{}",
        stderr(&refused)
    );
    let refused = umctl(&db, &["rebuild", "users"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("sealed personal data: set MASTER_KEY"),
        "{}",
        stderr(&refused)
    );
    let wrong = STANDARD.encode([6u8; 32]);
    let refused = umctl(&db, &["read", &stream, "--reveal", "--master-key", &wrong]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("neither MASTER_KEY"),
        "{}",
        stderr(&refused)
    );
    ok(&umctl(&db, &["verify", "--log-only"]));

    let shown = ok(&umctl(
        &db,
        &["read", &stream, "--reveal", "--master-key", &master],
    ));
    assert!(shown.contains(EMAIL), "{shown}");
    ok(&umctl(&db, &["rebuild", "users", "--master-key", &master]));
    assert_eq!(users_email(&pool, ann).await, EMAIL);
}
