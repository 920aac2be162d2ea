//! `umctl keys` (issue 20, ADR 0005): the status of the data keys, and a rotation from the
//! embedded default to a configured master key that re-wraps every key, leaves what they
//! open unchanged, and deletes the embedded key.

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use commands::privacy::{DataKeys, MasterKey};
use sqlx::PgPool;
use support::{stderr, stdout, umctl, url_of};
use uuid::Uuid;

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn keys_rotate_from_the_embedded_default_to_master_key(pool: PgPool) {
    let db = url_of(&pool).await;
    let out = umctl(&db, &["keys", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("none yet"), "{}", stdout(&out));

    let embedded = MasterKey::embedded(&pool).await.unwrap();
    let keys = DataKeys::new(pool.clone(), embedded.clone(), None);
    let (ann, bob, eve) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let ann_key = keys.for_sealing(ann).await.unwrap().unwrap();
    keys.for_sealing(bob).await.unwrap();
    keys.erase(eve).await.unwrap();

    let status = stdout(&umctl(&db, &["keys", "status"]));
    assert!(
        status.contains(&format!(
            "master key: {} (embedded in the database)",
            embedded.id()
        )),
        "{status}"
    );
    assert!(status.contains("erased subjects: 1"), "{status}");

    let out = umctl(&db, &["keys", "rotate"]);
    assert_eq!(out.status.code(), Some(2), "a rotation needs the new key");
    let new_text = STANDARD.encode([9u8; 32]);
    let new = MasterKey::from_base64(&new_text).unwrap();
    let out = umctl(&db, &["keys", "rotate", "--master-key", &new_text]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("re-wrapped 2 data keys"), "{said}");
    assert!(said.contains("deleted the embedded key"), "{said}");
    assert_eq!(
        MasterKey::embedded_if_any(&pool)
            .await
            .unwrap()
            .map(|k| k.id().to_owned()),
        None
    );

    let after = DataKeys::new(pool.clone(), new.clone(), None);
    assert_eq!(after.for_opening(ann).await.unwrap(), Some(ann_key));
    assert_eq!(after.for_opening(eve).await.unwrap(), None);
    let status = stdout(&umctl(&db, &["keys", "status", "--master-key", &new_text]));
    assert!(
        status.contains(&format!("{} ", new.id())) && status.contains("in force"),
        "{status}"
    );
    let again = stdout(&umctl(&db, &["keys", "rotate", "--master-key", &new_text]));
    assert!(again.contains("nothing to rotate"), "{again}");
    let bad = umctl(&db, &["keys", "status", "--master-key", "short"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
