//! Retention against a real store: the pass clears client data and delivered messages'
//! content past their windows and keeps what is younger, reports exact counts (and nothing
//! the second time), and a rebuild from the log gives back the same tables, never what
//! the pass removed.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::id::{CredentialId, OrderId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::notification::{Notification, NotificationCommand};
use domain::order::{Order, OrderCommand, OrderLine, PlaceOrder};
use domain::user::{Role, User, UserCommand};
use domain::value::{Email, Sku};
use projections::audit::AuditProjection;
use projections::notifications::NotificationsProjection;
use projections::rebuild::{checksums, rebuild};
use projections::retention::{self, Removed, Retention};
use projections::{Projection, Runner};
use sqlx::PgPool;
use uuid::Uuid;

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - TimeDelta::days(days)
}

/// A request from a browser at `ip`, made `at` (the command's time, which events carry).
fn from_browser(user: Uuid, ip: &str, at: DateTime<Utc>) -> CommandMeta {
    let mut meta = CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(user),
            role: "customer".into(),
        },
        at,
    );
    meta.client_ip = Some(ip.into());
    meta.user_agent = Some("Mozilla/5.0 (retention test)".into());
    meta
}

/// A policy that keeps everything the tests make, to fill tables the pass then clears.
fn keep_all() -> Retention {
    Retention::from_days(retention::MAX_DAYS, retention::MAX_DAYS).unwrap()
}

/// Registers a customer; answers their id and the events appended.
async fn register(users: &CommandHandler<User>, email: &str, meta: CommandMeta) -> (Uuid, usize) {
    let id = Uuid::new_v4();
    let register = UserCommand::Register {
        user_id: UserId::new(id),
        email: Email::parse(email).unwrap(),
        credential: CredentialId::new(Uuid::new_v4()),
        first_name: Some("Ada".into()),
        last_name: None,
        role: Role::Customer,
        at: Utc::now(),
    };
    let handled = users
        .handle(&CommandHandler::<User>::stream_id(id), register, meta)
        .await
        .unwrap();
    (id, handled.events.len())
}

/// `(actor, ip, user agent)` of each audited registration, oldest first (the e-mail
/// itself shows as personal data).
async fn client_data(pool: &PgPool) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "select user_id::text, host(ip_address), user_agent from audit.audit_logs
          where action = 'UserRegistered' order by occurred_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Creates every read model's tables, as the engine does at start.
async fn read_models(pool: &PgPool) {
    for projection in projections::all() {
        projections::runtime::ensure_schema(pool, &*projection)
            .await
            .unwrap();
    }
}

async fn table_checksums(pool: &PgPool, schema: &str) -> Vec<projections::rebuild::TableChecksum> {
    let mut conn = pool.acquire().await.unwrap();
    checksums(&mut conn, schema, &[]).await.unwrap()
}

/// Three sign-ups, 100, 10 and 0 days old: the pass nulls the oldest one's address and
/// browser only, counts it once, finds nothing the second time, records both runs per
/// table, and a rebuild of `audit` (under the policy `projections::all` hands it) writes
/// the same rows: the old address stays gone.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn old_client_data_is_removed_counted_and_not_restored_by_a_rebuild(pool: PgPool) {
    read_models(&pool).await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let users: CommandHandler<User> = CommandHandler::new(store.clone(), 100);
    let mut appended = 0;
    let mut people = Vec::new();
    for (email, ip, age) in [
        ("a-old@example.com", "203.0.113.7", 100),
        ("b-recent@example.com", "198.51.100.9", 10),
        ("c-new@example.com", "2001:db8::1", 0),
    ] {
        let user = Uuid::new_v4();
        people.push(user.to_string());
        appended += register(&users, email, from_browser(user, ip, days_ago(age)))
            .await
            .1;
    }
    let events = common::all_events(&*store, appended).await;
    let audit = Runner::new(
        store.clone(),
        pool.clone(),
        Arc::new(AuditProjection::new(keep_all())),
    );
    assert_eq!(audit.apply_batch(&events).await.unwrap(), appended);
    let browser = Some("Mozilla/5.0 (retention test)".to_owned());
    assert!(client_data(&pool)
        .await
        .iter()
        .all(|(_, ip, ua)| ip.is_some() && *ua == browser));

    let now = Utc::now();
    let removed = retention::pass(&pool, Retention::DEFAULT, now)
        .await
        .unwrap();
    assert_eq!(
        removed,
        Removed {
            audit_logs: 1,
            notifications: 0
        }
    );
    let kept = vec![
        (people[0].clone(), None, None),
        (
            people[1].clone(),
            Some("198.51.100.9".to_owned()),
            browser.clone(),
        ),
        (
            people[2].clone(),
            Some("2001:db8::1".to_owned()),
            browser.clone(),
        ),
    ];
    assert_eq!(client_data(&pool).await, kept);

    // Idempotent: the second pass finds nothing and says so.
    let again = retention::pass(&pool, Retention::DEFAULT, Utc::now())
        .await
        .unwrap();
    assert_eq!(again, Removed::default());
    let runs: Vec<(String, i64, i64)> = sqlx::query_as(
        "select table_name, count(*), sum(removed)::int8 from privacy.retention_runs
          group by table_name order by table_name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        runs,
        vec![
            ("audit.audit_logs".to_owned(), 2, 1),
            ("notifications.notifications".to_owned(), 2, 0)
        ]
    );
    let cutoff: DateTime<Utc> = sqlx::query_scalar(
        "select kept_since from privacy.retention_runs
          where table_name = 'audit.audit_logs' order by retention_run_id limit 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        cutoff.timestamp_micros(),
        (now - TimeDelta::days(90)).timestamp_micros()
    );

    // The same result from the log: the rebuilt rows equal the live ones.
    let live = table_checksums(&pool, "audit").await;
    let audit = projections::by_name("audit").unwrap();
    rebuild(store.clone(), &pool, audit, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(client_data(&pool).await, kept);
    assert_eq!(table_checksums(&pool, "audit").await, live);
}

fn place(order_id: Uuid, user: Uuid) -> OrderCommand {
    OrderCommand::Place(Box::new(PlaceOrder {
        order_id: OrderId::new(order_id),
        user_id: UserId::new(user),
        lines: vec![OrderLine {
            product_id: ProductId::new(Uuid::new_v4()),
            variant_id: None,
            sku: Sku::parse("MUG-1").unwrap(),
            quantity: 1,
            unit_price: Money::new(1250, Currency::USD),
            price_rules: Vec::new(),
            vendor_id: None,
        }],
        shipping_address: serde_json::from_value(serde_json::json!({
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
        }))
        .unwrap(),
        billing_address: None,
        payment_method: "card".into(),
        notes: None,
        coupon_code: None,
        discount: Money::zero(Currency::USD),
        discount_over: None,
        tax: domain::order::TaxTerms {
            rate_ppm: 0,
            inclusive: false,
        },
        shipping: Money::zero(Currency::USD),
        shipping_method: None,
        at: Utc::now(),
    }))
}

/// `(order id, recipient, payload kept, last error, status)` of each order confirmation.
type Outbox = Vec<(Option<String>, Option<String>, bool, Option<String>, String)>;

async fn outbox(pool: &PgPool) -> Outbox {
    sqlx::query_as(
        "select payload->>'order_id', recipient, payload is not null, last_error, status
           from notifications.notifications order by created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Three order confirmations: one sent 40 days ago, one that failed for good 40 days ago,
/// one sent yesterday, and one still pending since then. The pass clears the content of
/// the two finished longer ago than 30 days only, and a rebuild of `notifications`
/// under the same policy gives the same rows.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn delivered_messages_lose_their_content_after_the_window(pool: PgPool) {
    read_models(&pool).await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let users: CommandHandler<User> = CommandHandler::new(store.clone(), 100);
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let notifications: CommandHandler<Notification> = CommandHandler::new(store.clone(), 100);
    let meta = || {
        let id = Uuid::new_v4();
        CommandMeta::new(id, id, Actor::system(), Utc::now())
    };
    let (ada, mut appended) = register(&users, "ada@example.com", meta()).await;
    let mut order_ids = Vec::new();
    for _ in 0..4 {
        let id = Uuid::new_v4();
        let handled = orders
            .handle(
                &CommandHandler::<Order>::stream_id(id),
                place(id, ada),
                meta(),
            )
            .await
            .unwrap();
        appended += handled.events.len();
        order_ids.push(id.to_string());
    }
    let keeping: Arc<dyn Projection> = Arc::new(NotificationsProjection::new(keep_all()));
    let runner = Runner::new(store.clone(), pool.clone(), keeping);
    runner
        .apply_batch(&common::all_events(&*store, appended).await)
        .await
        .unwrap();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select notification_id from notifications.notifications order by created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(ids.len(), 4);

    // Sent 40 days ago, failed for good 40 days ago, sent yesterday; the last is pending.
    let deliver = |id: Uuid, at: DateTime<Utc>, sent: bool| {
        let notifications = &notifications;
        let (start_meta, outcome_meta) = (meta(), meta());
        async move {
            let stream = CommandHandler::<Notification>::stream_id(id);
            let start = NotificationCommand::StartDelivery {
                max_attempts: 1,
                lease_until: at + TimeDelta::minutes(1),
                at,
            };
            notifications
                .handle(&stream, start, start_meta)
                .await
                .unwrap();
            let outcome = if sent {
                NotificationCommand::RecordSent { attempt: 1, at }
            } else {
                NotificationCommand::RecordFailure {
                    attempt: 1,
                    error: "550 <ada@example.com>: mailbox unavailable".into(),
                    retry_at: None,
                    at,
                }
            };
            notifications
                .handle(&stream, outcome, outcome_meta)
                .await
                .unwrap();
        }
    };
    deliver(ids[0], days_ago(40), true).await;
    deliver(ids[1], days_ago(40), false).await;
    deliver(ids[2], days_ago(1), true).await;
    runner
        .apply_batch(&common::all_events(&*store, appended + 6).await)
        .await
        .unwrap();
    let ada_email = Some("ada@example.com".to_owned());
    let before = outbox(&pool).await;
    assert!(before
        .iter()
        .all(|(_, to, payload, ..)| *to == ada_email && *payload));
    // A transport's refusal quotes the address: it goes with the content.
    let rejected = Some("550 <ada@example.com>: mailbox unavailable".to_owned());
    assert_eq!(
        (before[1].3.clone(), before[1].4.as_str()),
        (rejected, "failed")
    );

    let removed = retention::pass(&pool, Retention::DEFAULT, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        removed,
        Removed {
            audit_logs: 0,
            notifications: 2
        }
    );
    // Rows stay, in the order created; the two finished 40 days ago lose their content.
    let expected: Vec<(Option<String>, bool, Option<String>, &str)> = vec![
        (None, false, None, "sent"),
        (None, false, None, "failed"),
        (ada_email.clone(), true, None, "sent"),
        (ada_email.clone(), true, None, "pending"),
    ];
    let seen = |rows: Outbox| -> Vec<(Option<String>, bool, Option<String>, String)> {
        rows.into_iter()
            .map(|(_, to, payload, error, status)| (to, payload, error, status))
            .collect()
    };
    let after = seen(outbox(&pool).await);
    assert_eq!(
        after,
        expected
            .iter()
            .map(|(to, p, e, s)| (to.clone(), *p, e.clone(), (*s).to_owned()))
            .collect::<Vec<_>>()
    );
    let kept_orders: Vec<String> = outbox(&pool)
        .await
        .into_iter()
        .filter_map(|(order, ..)| order)
        .collect();
    assert_eq!(kept_orders, order_ids[2..]);
    assert_eq!(
        retention::pass(&pool, Retention::DEFAULT, Utc::now())
            .await
            .unwrap(),
        Removed::default()
    );

    let live = table_checksums(&pool, "notifications").await;
    rebuild(
        store.clone(),
        &pool,
        Arc::new(NotificationsProjection::new(Retention::DEFAULT)),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(table_checksums(&pool, "notifications").await, live);
}

/// A database whose read models were never created (a bare store that `umctl` points at)
/// has nothing to clear: the pass removes nothing and records no table it did not see.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_pass_without_read_models_removes_nothing(pool: PgPool) {
    let removed = retention::pass(&pool, Retention::DEFAULT, Utc::now())
        .await
        .unwrap();
    assert_eq!(removed, Removed::default());
    let runs: i64 = sqlx::query_scalar("select count(*) from privacy.retention_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, 0);
}
