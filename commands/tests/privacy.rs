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

fn keys_of(pool: &PgPool) -> std::sync::Arc<DataKeys> {
    std::sync::Arc::new(DataKeys::new(
        pool.clone(),
        MasterKey::from_bytes([3; 32]),
        None,
    ))
}

fn meta_from(actor: Option<Uuid>) -> commands::handler::CommandMeta {
    let actor = match actor {
        Some(id) => commands::handler::Actor {
            user_id: Some(id),
            role: "customer".into(),
        },
        None => commands::handler::Actor::anonymous(),
    };
    let mut meta = commands::handler::CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        actor,
        chrono::Utc::now(),
    );
    meta.client_ip = Some("198.51.100.23".into());
    meta.user_agent = Some("SealTest/1.0".into());
    meta
}

/// Through the handlers, the log holds ciphertext in every declared field and in the
/// metadata, the aggregate reads plain values, and after an erasure the stream still
/// loads, with the person erased; the erasure's own event records no address.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_log_holds_ciphertext_and_an_erasure_leaves_it_loadable(pool: PgPool) {
    use commands::store::{postgres::PgEventStore, Direction, EventStore, ReadFrom};
    use domain::id::{CredentialId, UserId};
    use domain::user::{ErasedBy, Role, UserCommand, UserStatus};

    let log: std::sync::Arc<dyn EventStore> = std::sync::Arc::new(PgEventStore::new(pool.clone()));
    let handlers = commands::handlers::Handlers::new(&log, keys_of(&pool), 100);
    let credentials = commands::accounts::Credentials::new(pool.clone());
    let id = Uuid::new_v4();
    let stream = commands::accounts::account::stream(id);
    let register = UserCommand::Register {
        user_id: UserId::new(id),
        email: domain::value::Email::parse("sealed.sam@example.com").unwrap(),
        credential: CredentialId::new(Uuid::new_v4()),
        first_name: Some("Samwise".into()),
        last_name: None,
        role: Role::Customer,
        at: chrono::Utc::now(),
    };
    handlers
        .users
        .handle(&stream, register, meta_from(None))
        .await
        .unwrap();

    let raw = log
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, 10)
        .await
        .unwrap();
    let text = format!("{} {}", raw[0].data, raw[0].metadata);
    for plain in [
        "sealed.sam@example.com",
        "Samwise",
        "198.51.100.23",
        "SealTest",
    ] {
        assert!(!text.contains(plain), "{plain} in the log: {text}");
    }
    assert!(raw[0].data["email"]
        .as_str()
        .unwrap()
        .starts_with("um:enc:1:"));
    assert!(raw[0].metadata["client_ip"]
        .as_str()
        .unwrap()
        .starts_with("um:enc:1:"));
    let opened = handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, 10)
        .await
        .unwrap();
    assert_eq!(opened[0].data["email"], "sealed.sam@example.com");
    assert_eq!(opened[0].metadata["client_ip"], "198.51.100.23");

    commands::accounts::erase(
        &handlers,
        &credentials,
        id,
        ErasedBy::Subject,
        meta_from(Some(id)),
    )
    .await
    .unwrap();
    let raw = log
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, 10)
        .await
        .unwrap();
    let erasure = raw.last().unwrap();
    assert_eq!(erasure.event_type, "UserErased");
    assert!(
        erasure.metadata.get("client_ip").is_none() && erasure.metadata.get("user_agent").is_none(),
        "the erasure records no address: {}",
        erasure.metadata
    );
    // A fresh handler, as after a restart: it replays the whole stream.
    let fresh = commands::handlers::Handlers::new(&log, keys_of(&pool), 100);
    let account = commands::accounts::account::get(&fresh, id).await.unwrap();
    assert_eq!(account.status, UserStatus::Erased);
    assert_eq!(account.email.as_str(), "erased@erased.invalid");
    assert_eq!(account.first_name, None);
    let reread = fresh
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, 10)
        .await
        .unwrap();
    assert_eq!(reread[0].data["email"], "erased@erased.invalid");
    assert!(reread[0].metadata.get("client_ip").is_none());
    // Erasing again finishes nothing more and appends nothing.
    let again =
        commands::accounts::erase(&fresh, &credentials, id, ErasedBy::Admin, meta_from(None))
            .await
            .unwrap();
    assert_eq!(again, None);
}

/// A request nobody signed in to, on a stream that is nobody's (a guest's cart, say),
/// records no address: no key could ever forget it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_anonymous_request_on_nobody_s_stream_records_no_address(pool: PgPool) {
    let keys = keys_of(&pool);
    let mut metadata = meta_from(None).metadata(1);
    let sealed =
        commands::privacy::seal_metadata(&keys, "cart", None, Uuid::new_v4(), &mut metadata)
            .await
            .unwrap();
    assert_eq!(sealed, 0);
    assert!(metadata.get("client_ip").is_none() && metadata.get("user_agent").is_none());
    assert_eq!(metadata["actor_role"], "anonymous", "the rest stays");
}

/// Keys asked for at once are made together, each once: every subject gets its key, a
/// subject asked for twice gets the same one, and a later ask reads it back.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn keys_asked_for_at_once_are_made_together_and_each_once(pool: PgPool) {
    let keys = keys_of(&pool);
    let subjects: Vec<Uuid> = (0..40).map(|_| Uuid::new_v4()).collect();
    let asks = subjects
        .iter()
        .chain(&subjects[..10])
        .map(|s| {
            let (keys, s) = (keys.clone(), *s);
            tokio::spawn(async move { (s, keys.for_sealing(s).await.unwrap().unwrap()) })
        })
        .collect::<Vec<_>>();
    let mut made = std::collections::HashMap::new();
    for ask in asks {
        let (subject, key) = ask.await.unwrap();
        if let Some(first) = made.insert(subject, key.clone()) {
            assert_eq!(first, key, "one key per subject");
        }
    }
    assert_eq!(made.len(), 40);
    let rows: i64 = sqlx::query_scalar("select count(*) from privacy.data_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 40);
    let again = keys_of(&pool);
    for (subject, key) in made {
        assert_eq!(again.for_opening(subject).await.unwrap(), Some(key));
    }
}
