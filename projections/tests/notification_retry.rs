//! Staff retrying a delivery the worker gave up, against a real store: the outbox row is
//! pending again with the new round's attempts, the worker sends it, a retry made after
//! retention's window changes nothing, and a rebuild gives the same rows.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use commands::accounts::email_tokens::EmailTokens;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position, RecordedEvent};
use domain::id::UserId;
use domain::notification::{Notification, NotificationCommand, NotificationEvent};
use domain::user::{Role, TokenId, User, UserCommand};
use domain::value::Email;
use projections::notifications::{
    due, LogTransport, NotificationsProjection, Notifier, NotifierSettings, Smtp, Transport,
};
use projections::Runner;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const PATIENCE: Duration = Duration::from_secs(60);

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

/// `$all` once it shows at least `n` events.
async fn all_events(store: &Arc<dyn EventStore>, n: usize) -> Vec<RecordedEvent> {
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let events = store.read_all(Position::START, 10_000).await.unwrap();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("$all did not show {n} events within {PATIENCE:?}");
}

/// A customer who asked to verify their address: one message in the outbox.
async fn customer(store: &Arc<dyn EventStore>, email: &str) {
    let users = CommandHandler::<User>::new(store.clone(), 10);
    let id = Uuid::new_v4();
    let stream = CommandHandler::<User>::stream_id(id);
    let now = Utc::now();
    for c in [
        UserCommand::Register {
            user_id: UserId::new(id),
            email: Email::parse(email).unwrap(),
            credential: domain::id::CredentialId::new(Uuid::new_v4()),
            first_name: None,
            last_name: None,
            role: Role::Customer,
            at: now,
        },
        UserCommand::RequestEmailVerification {
            token_id: TokenId::new(Uuid::new_v4()),
            expires_at: now + chrono::Duration::hours(1),
            at: now,
        },
    ] {
        users.handle(&stream, c, meta()).await.unwrap();
    }
}

fn worker(store: &Arc<dyn EventStore>, pool: &PgPool, transport: Arc<dyn Transport>) -> Notifier {
    Notifier::new(
        store.clone(),
        pool.clone(),
        EmailTokens::new(b"k"),
        transport,
        NotifierSettings {
            public_url: "https://shop.example".into(),
            smtp_url: None,
            mail_from: "UltraMarket <no-reply@shop.example>".into(),
            notify_max_attempts: 1,
            notify_poll_ms: 50,
        },
    )
}

async fn row(pool: &PgPool, to: &str) -> (Uuid, String, i32, Option<String>) {
    sqlx::query_as(
        "select notification_id, status, attempts, last_error
           from notifications.notifications where recipient = $1",
    )
    .bind(to)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn rows(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar(
        "select to_jsonb(n) from notifications.notifications n order by notification_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn retry(store: &Arc<dyn EventStore>, id: Uuid, at: DateTime<Utc>) -> Vec<NotificationEvent> {
    CommandHandler::<Notification>::new(store.clone(), 10)
        .handle(
            &CommandHandler::<Notification>::stream_id(id),
            NotificationCommand::Retry { at },
            meta(),
        )
        .await
        .unwrap()
        .events
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_retried_failure_is_sent_in_a_fresh_round_and_rebuilt_alike(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let runner = Runner::new(
        store.clone(),
        pool.clone(),
        Arc::new(NotificationsProjection::default()),
    );
    customer(&store, "ann@example.com").await;
    customer(&store, "bob@example.com").await;
    let mut appended = 4;
    runner
        .apply_batch(&all_events(&store, appended).await)
        .await
        .unwrap();

    // Nothing listens on port 1: with one attempt allowed, both are given up.
    let refused = Arc::new(Smtp::from_url("smtp://127.0.0.1:1", "a@shop.example").unwrap());
    let gave_up = worker(&store, &pool, refused).try_next().await.unwrap();
    assert_eq!(gave_up.failed, 2);
    appended += 4;
    runner
        .apply_batch(&all_events(&store, appended).await)
        .await
        .unwrap();
    let (ann, status, attempts, error) = row(&pool, "ann@example.com").await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    let refusal = error.expect("the transport's refusal");

    // Retried: pending and due at once, the new round's attempts at 0, the last error kept.
    let events = retry(&store, ann, Utc::now()).await;
    assert!(matches!(
        events[..],
        [NotificationEvent::NotificationRetried { round: 2, .. }]
    ));
    appended += 1;
    runner
        .apply_batch(&all_events(&store, appended).await)
        .await
        .unwrap();
    assert_eq!(
        row(&pool, "ann@example.com").await,
        (ann, "pending".into(), 0, Some(refusal))
    );
    let due: Vec<Uuid> = due(&pool, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.notification_id)
        .collect();
    assert_eq!(due, [ann], "only the retried message is due");

    // A retry made once retention's window (30 days by default) had passed since the
    // failure is recorded, and changes nothing: the content is gone.
    let (bob, ..) = row(&pool, "bob@example.com").await;
    retry(&store, bob, Utc::now() + chrono::Duration::days(31)).await;
    appended += 1;

    let sent = worker(&store, &pool, Arc::new(LogTransport))
        .try_next()
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.failed), (1, 0));
    appended += 2;
    runner
        .apply_batch(&all_events(&store, appended).await)
        .await
        .unwrap();
    let (_, status, attempts, _) = row(&pool, "ann@example.com").await;
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    assert_eq!(row(&pool, "bob@example.com").await.1, "failed");

    let live = rows(&pool).await;
    projections::rebuild::rebuild(
        store.clone(),
        &pool,
        Arc::new(NotificationsProjection::default()),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rows(&pool).await, live, "a rebuild gives the same outbox");
}
