//! The account use cases against the real PostgreSQL store: registration claims the
//! e-mail once and gives it back when the account cannot be written; the three doors
//! (register, create user, bootstrap admin) open accounts the same way.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use commands::accounts::account::EMAIL_KEY;
use commands::accounts::{self, Bootstrap, Credentials, NewAccount, RegisterError};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::store::postgres::PgEventStore;
use commands::store::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom,
    RecordedEvent, StoreError, StreamInfo, SubscriptionStream,
};
use commands::unique;
use domain::user::{Role, UserStatus};
use domain::value::Email;
use sqlx::PgPool;
use uuid::Uuid;

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

fn ann() -> NewAccount {
    NewAccount {
        email: Email::parse("Ann@Example.com").unwrap(),
        password_hash: "$argon2id$hash".into(),
        first_name: Some("Ann".into()),
        last_name: None,
    }
}

/// The event types of the e-mail's uniqueness stream, oldest first.
async fn claims(handlers: &Handlers, email: &str) -> Vec<String> {
    handlers
        .store
        .read_stream(
            &unique::stream_of(handlers, EMAIL_KEY, email).await.unwrap(),
            ReadFrom::End,
            Direction::Forwards,
            100,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// A store whose appends to user streams fail, as a store that goes away between the
/// claim and the registration would.
struct UsersUnavailable(PgEventStore);

#[async_trait]
impl EventStore for UsersUnavailable {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        if stream_id.starts_with("user-") {
            return Err(StoreError::Unavailable("injected".into()));
        }
        self.0.append(stream_id, expected, events).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.read_stream(stream_id, from, direction, limit).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.read_all(after, limit).await
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        self.0.subscribe_all(after).await
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        self.0.head_position().await
    }

    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        self.0.list_streams(prefix, after, limit).await
    }
}

/// A customer registers: the e-mail is claimed once, the account is pending with a
/// verification link issued, and a second registration of the address is refused
/// without touching the claim.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn register_claims_the_email_once(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool);
    let opened = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap();
    let a = &opened.account;
    assert_eq!(a.email.as_str(), "ann@example.com");
    assert_eq!((a.role, a.status), (Role::Customer, UserStatus::Pending));
    assert!(opened.position.is_some());
    let (state, _) = handlers
        .users
        .load(&accounts::account::stream(a.user_id.as_uuid()))
        .await
        .unwrap();
    assert!(
        state.tokens.latest_verification.is_some(),
        "a verification link is issued"
    );
    assert_eq!(
        unique::owner_of(&handlers, EMAIL_KEY, "ann@example.com")
            .await
            .unwrap(),
        Some(a.user_id.as_uuid())
    );

    let again = accounts::register(&handlers, &creds, ann(), meta()).await;
    assert!(matches!(again, Err(RegisterError::EmailTaken)), "{again:?}");
    let by_admin = accounts::create_user(&handlers, &creds, ann(), Role::Staff, meta()).await;
    assert!(
        matches!(by_admin, Err(RegisterError::EmailTaken)),
        "{by_admin:?}"
    );
    assert_eq!(
        claims(&handlers, "ann@example.com").await,
        ["UniqueKeyClaimed"]
    );
}

/// The account cannot be written after the claim: the claim is released, so the
/// address is free again and a later registration gets it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_failed_registration_gives_the_email_back(pool: PgPool) {
    let failing: Arc<dyn EventStore> = Arc::new(UsersUnavailable(PgEventStore::new(pool.clone())));
    let handlers = Handlers::new(&failing, test_keys(&pool), 100);
    let creds = Credentials::new(pool.clone());
    let failed = accounts::register(&handlers, &creds, ann(), meta()).await;
    assert!(
        matches!(
            failed,
            Err(RegisterError::Store(StoreError::Unavailable(_)))
        ),
        "{failed:?}"
    );
    assert_eq!(
        claims(&handlers, "ann@example.com").await,
        ["UniqueKeyClaimed", "UniqueKeyReleased"]
    );
    let failed = accounts::create_user(&handlers, &creds, ann(), Role::Admin, meta()).await;
    assert!(matches!(failed, Err(RegisterError::Store(_))), "{failed:?}");

    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool);
    let opened = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap();
    assert_eq!(
        unique::owner_of(&handlers, EMAIL_KEY, "ann@example.com")
            .await
            .unwrap(),
        Some(opened.account.user_id.as_uuid())
    );
}

/// An admin's account gets the role asked for and no link it did not ask for; the
/// domain's refusal (a name too long) releases the claim and drops the credential too.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn create_user_opens_an_account_with_a_role(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool);
    let refused = accounts::create_user(
        &handlers,
        &creds,
        NewAccount {
            first_name: Some("x".repeat(101)),
            ..ann()
        },
        Role::Vendor,
        meta(),
    )
    .await;
    assert!(
        matches!(refused, Err(RegisterError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(
        unique::owner_of(&handlers, EMAIL_KEY, "ann@example.com")
            .await
            .unwrap(),
        None
    );

    let created = accounts::create_user(&handlers, &creds, ann(), Role::Vendor, meta())
        .await
        .unwrap();
    assert_eq!(created.account.role, Role::Vendor);
    assert_eq!(created.account.status, UserStatus::Pending);
    let (state, _) = handlers
        .users
        .load(&accounts::account::stream(
            created.account.user_id.as_uuid(),
        ))
        .await
        .unwrap();
    assert_eq!(state.tokens.latest_verification, None);
}

/// The bootstrap admin is made once, verified, whatever the number of starts; an
/// address another account holds is left alone, and said to be no admin's.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_bootstrap_admin_is_made_once(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool);
    let email = Email::parse("root@example.com").unwrap();
    let first = accounts::bootstrap_admin(
        &handlers,
        &creds,
        email.clone(),
        "$argon2id$h".into(),
        Utc::now(),
    );
    assert_eq!(first.await.unwrap(), Bootstrap::Created);
    let again = accounts::bootstrap_admin(
        &handlers,
        &creds,
        email.clone(),
        "$argon2id$h".into(),
        Utc::now(),
    );
    assert_eq!(again.await.unwrap(), Bootstrap::Exists);
    let admin = accounts::find_by_email(&handlers, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(admin.email_verified);
    assert_eq!(admin.status, UserStatus::Active);

    let opened = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap();
    let taken = accounts::bootstrap_admin(
        &handlers,
        &creds,
        ann().email,
        "$argon2id$h".into(),
        Utc::now(),
    );
    assert_eq!(
        taken.await.unwrap(),
        Bootstrap::NotAnAdmin {
            owner: opened.account.user_id.as_uuid(),
            role: Some(Role::Customer),
            suspended: false
        }
    );
    let still = accounts::find_by_email(&handlers, &ann().email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.user_id, opened.account.user_id);
    assert_eq!(still.role, Role::Customer);
}

/// The password hash lives in the credentials table: no event of the account carries it,
/// the account names the row in force, and a reset puts a new one in force and drops the
/// old. A refused registration leaves no row behind.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn password_hashes_stay_out_of_the_log(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool.clone());
    let opened = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap();
    let user = opened.account.user_id.as_uuid();
    // The user's stream, not `$all`: other tests' transactions may hold `$all` back.
    let all = store
        .read_stream(
            &accounts::account::stream(user),
            ReadFrom::Revision(0),
            Direction::Forwards,
            100,
        )
        .await
        .unwrap();
    assert!(all.iter().all(|e| !e.data.to_string().contains("argon2")));
    let registered = all
        .iter()
        .find(|e| e.event_type == "UserRegistered")
        .unwrap();
    assert_eq!(registered.schema_version, 2);
    assert_eq!(
        creds
            .hash_of(&*store, &opened.account)
            .await
            .unwrap()
            .as_deref(),
        Some("$argon2id$hash")
    );

    // A reset: the new hash is in force, the old row is gone.
    let at = Utc::now();
    let token = domain::user::TokenId::new(Uuid::new_v4());
    let request = domain::user::UserCommand::RequestPasswordReset {
        token_id: token,
        expires_at: at + chrono::Duration::hours(1),
        at,
    };
    handlers
        .users
        .handle(&accounts::account::stream(user), request, meta())
        .await
        .unwrap();
    let reset = accounts::reset_password(
        &handlers,
        &creds,
        user,
        token,
        "$argon2id$new".into(),
        meta(),
    )
    .await
    .unwrap();
    assert_eq!(reset.account.security_version, 1);
    assert_eq!(
        creds
            .hash_of(&*store, &reset.account)
            .await
            .unwrap()
            .as_deref(),
        Some("$argon2id$new")
    );
    // Spent: a second use is refused, and its credential does not stay.
    let again = accounts::reset_password(
        &handlers,
        &creds,
        user,
        token,
        "$argon2id$3rd".into(),
        meta(),
    )
    .await;
    assert!(again.is_err());
    let rows: i64 = sqlx::query_scalar("select count(*) from accounts.credentials")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "only the credential in force stays");

    let refused = accounts::register(
        &handlers,
        &creds,
        NewAccount {
            email: Email::parse("bob@example.com").unwrap(),
            first_name: Some("x".repeat(101)),
            ..ann()
        },
        meta(),
    )
    .await;
    assert!(
        matches!(refused, Err(RegisterError::Rejected(_))),
        "{refused:?}"
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from accounts.credentials")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "a refused registration keeps no hash");
}

/// A log written before the table (v1 events carrying the hash) signs in unchanged: the
/// hash in force is found in the stream and copied into the table on first use.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_v1_account_s_hash_is_copied_from_the_log_on_first_use(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool.clone());
    let user = Uuid::new_v4();
    let v1 = |event_type: &str, data: serde_json::Value| NewEvent {
        id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        data,
        metadata: serde_json::json!({}),
    };
    let at = Utc::now();
    store
        .append(
            &accounts::account::stream(user),
            ExpectedVersion::NoStream,
            vec![
                v1(
                    "UserRegistered",
                    serde_json::json!({"user_id": user, "email": "old@example.com",
                        "password_hash": "$argon2id$first", "first_name": null,
                        "last_name": null, "role": "customer", "at": at}),
                ),
                v1(
                    "PasswordChanged",
                    serde_json::json!({"password_hash": "$argon2id$second", "reset": false, "at": at}),
                ),
            ],
        )
        .await
        .unwrap();
    let account = accounts::find(&handlers, user).await.unwrap().unwrap();
    assert_eq!(
        account.credential,
        domain::user::legacy_credential("$argon2id$second")
    );
    assert_eq!(account.security_version, 1);
    assert_eq!(
        creds.hash_of(&*store, &account).await.unwrap().as_deref(),
        Some("$argon2id$second")
    );
    let copied: Vec<String> =
        sqlx::query_scalar("select password_hash from accounts.credentials where user_id = $1")
            .bind(user)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(copied, ["$argon2id$second"]);
}

/// Data keys under a fixed master key: these tests read what they wrote through the same
/// handlers, which open it.
fn test_keys(pool: &PgPool) -> Arc<commands::privacy::DataKeys> {
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None))
}

/// An erasure gives the e-mail back: a new person registers with it and gets a new
/// account, and the uniqueness stream never held the address.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn an_erased_person_s_email_can_be_registered_again(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let handlers = Handlers::new(&store, test_keys(&pool), 100);
    let creds = Credentials::new(pool.clone());
    let ann_id = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap()
        .account
        .user_id
        .as_uuid();
    accounts::erase(
        &handlers,
        &creds,
        ann_id,
        domain::user::ErasedBy::Admin,
        meta(),
    )
    .await
    .unwrap();
    assert_eq!(
        unique::owner_of(&handlers, EMAIL_KEY, "ann@example.com")
            .await
            .unwrap(),
        None
    );

    let again = accounts::register(&handlers, &creds, ann(), meta())
        .await
        .unwrap();
    let new_id = again.account.user_id.as_uuid();
    assert_ne!(new_id, ann_id);
    assert_eq!(
        unique::owner_of(&handlers, EMAIL_KEY, "ann@example.com")
            .await
            .unwrap(),
        Some(new_id)
    );
    assert_eq!(
        claims(&handlers, "ann@example.com").await,
        ["UniqueKeyClaimed", "UniqueKeyReleased", "UniqueKeyClaimed"]
    );
    let unique_streams: Vec<String> = sqlx::query_scalar(
        "select stream_id || ' ' || data::text from store.events
          where stream_id like 'unique-%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(unique_streams.len(), 3);
    assert!(
        unique_streams.iter().all(|e| !e.contains("ann@example")),
        "{unique_streams:#?}"
    );
}

/// Two processes starting at once (two handler sets over one store, as two gateways) both
/// bootstrap the admin: neither fails, and there is one verified admin.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn two_starts_at_once_bootstrap_one_admin(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let keys = test_keys(&pool);
    let (one, two) = (
        Handlers::new(&store, keys.clone(), 100),
        Handlers::new(&store, keys, 100),
    );
    let creds = Credentials::new(pool);
    for round in 0..20 {
        let email = Email::parse(&format!("root{round}@example.com")).unwrap();
        let start = |handlers| {
            accounts::bootstrap_admin(
                handlers,
                &creds,
                email.clone(),
                "$argon2id$h".into(),
                Utc::now(),
            )
        };
        let (a, b) = tokio::join!(start(&one), start(&two));
        for outcome in [a, b] {
            let outcome = outcome.unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert!(
                matches!(outcome, Bootstrap::Created | Bootstrap::Exists),
                "{outcome:?}"
            );
        }
        let admin = accounts::find_by_email(&one, &email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (admin.role, admin.status),
            (Role::Admin, UserStatus::Active)
        );
    }
}
