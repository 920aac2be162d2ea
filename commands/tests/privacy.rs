//! Data keys against the real PostgreSQL (issue 20, ADR 0005): made once per subject
//! whatever the races, opened by every process of a deployment, destroyed by an erasure
//! for good, re-wrapped by a rotation without changing what they open.

use commands::privacy::{associated_data, open, seal, DataKeys, MasterKey};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_subject_gets_one_key_which_an_erasure_destroys_for_good(pool: PgPool) {
    let master = MasterKey::embedded(&pool).await.unwrap();
    assert_eq!(
        MasterKey::embedded(&pool).await.unwrap().id(),
        master.id(),
        "every process of the deployment finds the same embedded key"
    );
    let here = DataKeys::new(pool.clone(), master.clone(), None);
    let there = DataKeys::new(pool.clone(), master.clone(), None);
    let ann = Uuid::new_v4();
    assert_eq!(here.for_opening(ann).await.unwrap(), None, "not made yet");

    // Two processes seal at once: one key wins, and both use it.
    let (a, b) = tokio::join!(here.for_sealing(ann), there.for_sealing(ann));
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_eq!(a, b);
    let aad = associated_data(Uuid::new_v4(), "/email");
    let envelope = seal(&a, ann, &aad, &json!("ann@example.com"));
    let key = there.for_opening(ann).await.unwrap().unwrap();
    assert_eq!(
        open(&key, &envelope, &aad).unwrap(),
        json!("ann@example.com")
    );

    assert!(here.erase(ann).await.unwrap(), "a live key was destroyed");
    assert!(
        !here.erase(ann).await.unwrap(),
        "erasing twice destroys nothing more"
    );
    assert_eq!(here.for_opening(ann).await.unwrap(), None);
    assert_eq!(
        here.for_sealing(ann).await.unwrap(),
        None,
        "no new key, ever"
    );
    let fresh = DataKeys::new(pool.clone(), master, None);
    assert_eq!(fresh.for_opening(ann).await.unwrap(), None);
    let wrapped: Option<Vec<u8>> =
        sqlx::query_scalar("select wrapped from privacy.data_keys where subject_id = $1")
            .bind(ann)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(wrapped, None, "nothing of the key is left in the table");

    // A subject never seen can be erased too (an account with no personal data yet).
    let bob = Uuid::new_v4();
    assert!(!here.erase(bob).await.unwrap());
    assert_eq!(here.for_sealing(bob).await.unwrap(), None);
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_rotation_rewraps_the_keys_and_they_open_what_they_sealed(pool: PgPool) {
    let old = MasterKey::from_bytes([1; 32]);
    let new = MasterKey::from_bytes([2; 32]);
    let before = DataKeys::new(pool.clone(), old.clone(), None);
    let subjects: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let aad = associated_data(Uuid::new_v4(), "/first_name");
    let mut sealed = Vec::new();
    for s in &subjects {
        let key = before.for_sealing(*s).await.unwrap().unwrap();
        sealed.push(seal(&key, *s, &aad, &json!("Ann")));
    }
    before.erase(subjects[2]).await.unwrap();

    // The new key alone cannot open keys the old one wraps: it says which key it needs.
    let unconfigured = DataKeys::new(pool.clone(), new.clone(), None);
    let refused = unconfigured.for_opening(subjects[0]).await.unwrap_err();
    assert!(refused.to_string().contains(old.id()), "{refused}");

    let rotating = DataKeys::new(pool.clone(), new.clone(), Some(old.clone()));
    assert_eq!(
        rotating.status().await.unwrap().live,
        [(old.id().to_owned(), 2)]
    );
    assert_eq!(rotating.rotate().await.unwrap(), 2);
    assert_eq!(rotating.rotate().await.unwrap(), 0);
    let status = rotating.status().await.unwrap();
    assert_eq!(
        (status.live, status.erased),
        (vec![(new.id().to_owned(), 2)], 1)
    );

    let after = DataKeys::new(pool.clone(), new, None);
    for (s, envelope) in subjects.iter().zip(&sealed).take(2) {
        let key = after.for_opening(*s).await.unwrap().unwrap();
        assert_eq!(open(&key, envelope, &aad).unwrap(), json!("Ann"));
    }
    assert_eq!(after.for_opening(subjects[2]).await.unwrap(), None);
}
