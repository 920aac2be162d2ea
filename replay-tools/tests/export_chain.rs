//! Issue 18 item 8: an export carries a hash chain, so an edited, shortened or cut export
//! is found by `umctl verify --export` (exit 5, naming the line) and refused whole by
//! `umctl import`.

mod support;

use std::path::PathBuf;

use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use serde_json::json;
use sqlx::PgPool;
use support::{fill, settle, stderr, stdout, umctl, url_of, Scratch};
use uuid::Uuid;

/// Nine events, then a `UserRegistered` whose role an attacker would like to change.
async fn exported(pool: &PgPool) -> Vec<String> {
    let store = PgEventStore::new(pool.clone());
    fill(&store).await;
    let user = NewEvent {
        id: Uuid::new_v4(),
        event_type: "UserRegistered".into(),
        schema_version: 1,
        data: json!({ "email": "mallory@example.com", "role": "customer" }),
        metadata: json!({}),
    };
    store
        .append("user-1", ExpectedVersion::NoStream, vec![user])
        .await
        .unwrap();
    settle(pool, 10).await;
    let out = umctl(&url_of(pool).await, &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

fn write(lines: &[String]) -> PathBuf {
    let file = std::env::temp_dir().join(format!("umctl-chain-{}.ndjson", Uuid::new_v4()));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    file
}

/// Runs `verify --export` and `import` (into a fresh database) on `lines`; answers both
/// outputs and how many events the import left in the store.
async fn verify_and_import(
    pool: &PgPool,
    lines: &[String],
    extra: &[&str],
) -> (String, String, i32, i64) {
    let file = write(lines);
    let path = file.to_str().unwrap();
    let db = url_of(pool).await;
    let mut args = vec!["verify", "--export", path];
    args.extend(extra.iter().filter(|a| !a.starts_with("--allow")));
    let verified = umctl(&db, &args);
    assert_eq!(verified.status.code(), Some(5), "{}", stdout(&verified));
    let target = Scratch::create(pool, "umctl_chain").await;
    let mut args = vec!["import", path];
    args.extend(extra);
    let imported = umctl(&target.url, &args);
    let tables = target.tables().await;
    let events = if tables.iter().any(|t| t == "store.events") {
        let copy = PgPool::connect(&target.url).await.unwrap();
        let n = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&copy)
            .await
            .unwrap();
        copy.close().await;
        n
    } else {
        0
    };
    target.drop_with(pool).await;
    std::fs::remove_file(&file).ok();
    (
        stderr(&verified),
        stderr(&imported),
        imported.status.code().unwrap(),
        events,
    )
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_edited_field_is_found_and_the_import_refused_whole(pool: PgPool) {
    let mut lines = exported(&pool).await;
    // header, nine events, the user on line 11, trailer.
    assert_eq!(lines.len(), 12);
    assert!(lines[10].contains(r#""role":"customer""#));
    lines[10] = lines[10].replace(r#""role":"customer""#, r#""role":"admin""#);
    let (verified, imported, code, events) = verify_and_import(&pool, &lines, &[]).await;
    assert!(
        verified.contains("line 11: the hash chain breaks here"),
        "{verified}"
    );
    assert_eq!(code, 5, "{imported}");
    assert!(
        imported.contains("nothing imported") && imported.contains("line 11"),
        "{imported}"
    );
    assert_eq!(
        events, 0,
        "all or nothing: the ten lines before the edit stay out too"
    );
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_removed_line_is_found(pool: PgPool) {
    let export = exported(&pool).await;
    let mut lines = export.clone();
    lines.remove(5);
    let (verified, imported, code, events) = verify_and_import(&pool, &lines, &[]).await;
    assert!(
        verified.contains("line 6: the hash chain breaks here"),
        "{verified}"
    );
    assert_eq!((code, events), (5, 0), "{imported}");

    // The last event gone: the trailer's count and head say so.
    let mut lines = export;
    lines.remove(10);
    let (verified, _, code, events) = verify_and_import(&pool, &lines, &[]).await;
    assert!(
        verified.contains("it counts 10 events, the file holds 9"),
        "{verified}"
    );
    assert_eq!((code, events), (5, 0));
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_cut_or_missing_trailer_is_found(pool: PgPool) {
    let export = exported(&pool).await;
    let mut lines = export.clone();
    lines.pop();
    let (verified, imported, code, events) = verify_and_import(&pool, &lines, &[]).await;
    assert!(
        verified.contains("no trailer after line 11: the export is truncated"),
        "{verified}"
    );
    assert_eq!((code, events), (5, 0), "{imported}");

    let mut lines = export;
    let trailer = lines.pop().unwrap();
    lines.push(trailer[..trailer.len() - 10].to_owned());
    let (verified, _, code, events) = verify_and_import(&pool, &lines, &[]).await;
    assert!(
        verified.contains("line 12: an unreadable trailer"),
        "{verified}"
    );
    assert_eq!((code, events), (5, 0));
}

/// An export of the first format (no header, no chain, no trailer) is refused; with
/// `--allow-unchained` it imports, with a warning.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_unchained_export_needs_allow_unchained(pool: PgPool) {
    let lines = exported(&pool).await;
    let old: Vec<String> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("chain");
            v.to_string()
        })
        .collect();
    let (verified, imported, code, events) = verify_and_import(&pool, &old, &[]).await;
    assert!(verified.contains("has no hash chain"), "{verified}");
    assert_eq!((code, events), (5, 0), "{imported}");

    let file = write(&old);
    let target = Scratch::create(&pool, "umctl_unchained").await;
    let out = umctl(
        &target.url,
        &["import", file.to_str().unwrap(), "--allow-unchained"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("WARNING") && stderr(&out).contains("imported 10 events"));
    target.drop_with(&pool).await;
    std::fs::remove_file(&file).ok();
}

/// With a key, the chain is an HMAC: it checks only with that key, and a chain
/// recomputed without the key after an edit is refused by a key holder.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_keyed_export_checks_only_with_its_key(pool: PgPool) {
    let db = url_of(&pool).await;
    fill(&PgEventStore::new(pool.clone())).await;
    settle(&pool, 9).await;
    let key = "export key, sixteen bytes or more";
    let out = umctl(&db, &["export", "--key", key]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = write(&stdout(&out).lines().map(str::to_owned).collect::<Vec<_>>());
    let path = file.to_str().unwrap();

    let ok = umctl(&db, &["verify", "--export", path, "--key", key]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("ok: 9 events; the keyed hash chain"),
        "{}",
        stdout(&ok)
    );
    let keyless = umctl(&db, &["verify", "--export", path]);
    assert_eq!(keyless.status.code(), Some(2));
    assert!(stderr(&keyless).contains("give its key"));
    let wrong = umctl(
        &db,
        &[
            "verify",
            "--export",
            path,
            "--key",
            "another key of 16+ bytes",
        ],
    );
    assert_eq!(wrong.status.code(), Some(5));
    assert!(stderr(&wrong).contains("line 2") && stderr(&wrong).contains("key"));

    let unkeyed = umctl(&db, &["export"]);
    let forged = write(
        &stdout(&unkeyed)
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    );
    let refused = umctl(
        &db,
        &["verify", "--export", forged.to_str().unwrap(), "--key", key],
    );
    assert_eq!(refused.status.code(), Some(5));
    assert!(stderr(&refused).contains("not keyed"));
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&forged).ok();
}
