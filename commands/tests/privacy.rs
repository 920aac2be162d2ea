//! Data keys against the real PostgreSQL (issue 20, ADR 0005): made once per subject
//! whatever the races, opened by every process of a deployment, destroyed by an erasure
//! for good, re-wrapped by a rotation without changing what they open.

use commands::privacy::{associated_data, open, seal, DataKeys, MasterKey};
use serde_json::{json, Value};
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

/// A registration's personal fields are sealed before the append and read back whole; once
/// the person is erased, the same event reads as erased and still decodes, and what is
/// recorded about them afterwards is recorded erased.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_event_s_personal_fields_are_sealed_and_read_back_or_as_erased(pool: PgPool) {
    use commands::privacy::{open_data, seal_data};
    use domain::aggregate::DomainEvent;
    use domain::user::UserEvent;

    let keys = DataKeys::new(
        pool.clone(),
        MasterKey::embedded(&pool).await.unwrap(),
        None,
    );
    let (ann, event_id) = (Uuid::new_v4(), Uuid::new_v4());
    let plain = json!({
        "user_id": ann, "email": "ann@example.com", "credential": Uuid::new_v4(),
        "first_name": "Ann", "last_name": null, "role": "customer",
        "at": "2026-12-05T12:00:00Z",
    });
    let mut data = plain.clone();
    let sealed = seal_data(
        &keys,
        "user",
        "UserRegistered",
        Some(ann),
        event_id,
        &mut data,
    )
    .await
    .unwrap();
    assert_eq!(
        sealed, 2,
        "e-mail and first name; the absent last name stays null"
    );
    let text = data.to_string();
    assert!(
        !text.contains("ann@example.com") && !text.contains("Ann\""),
        "{text}"
    );
    assert_eq!(data["role"], "customer", "what is not personal stays plain");
    assert_eq!(data["last_name"], Value::Null);
    let again = seal_data(
        &keys,
        "user",
        "UserRegistered",
        Some(ann),
        event_id,
        &mut data,
    )
    .await
    .unwrap();
    assert_eq!(again, 0, "a retried append seals nothing twice");

    let mut opened = data.clone();
    open_data(&keys, "user", "UserRegistered", event_id, &mut opened)
        .await
        .unwrap();
    assert_eq!(opened, plain);
    // Moved to another event, the envelope does not open.
    let mut moved = data.clone();
    let refused = open_data(&keys, "user", "UserRegistered", Uuid::new_v4(), &mut moved).await;
    assert!(refused.is_err());

    keys.erase(ann).await.unwrap();
    let mut erased = data.clone();
    open_data(&keys, "user", "UserRegistered", event_id, &mut erased)
        .await
        .unwrap();
    assert_eq!(erased["email"], "erased@erased.invalid");
    assert_eq!(erased["first_name"], Value::Null);
    let event = UserEvent::from_data("UserRegistered", 2, erased).unwrap();
    assert!(matches!(
        event,
        UserEvent::UserRegistered {
            first_name: None,
            ..
        }
    ));

    // A later event about her is recorded erased: no key is made for her again.
    let mut later = json!({"first_name": "Ann", "last_name": "Lee", "at": "2026-12-05T13:00:00Z"});
    seal_data(
        &keys,
        "user",
        "ProfileUpdated",
        Some(ann),
        Uuid::new_v4(),
        &mut later,
    )
    .await
    .unwrap();
    assert_eq!(
        (&later["first_name"], &later["last_name"]),
        (&Value::Null, &Value::Null)
    );
}
