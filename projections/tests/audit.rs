//! The audit read model against a real store: one row per event of every category, with
//! the actor, client and request ids the command carried, and no secret in `details`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{
    Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom, RecordedEvent,
};
use domain::id::{CredentialId, OrderId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::order::{Order, OrderCommand, OrderLine, PlaceOrder};
use domain::user::{Role, User, UserCommand};
use domain::value::{Email, Sku};
use projections::audit::{redact, AuditProjection, REDACTED};
use projections::rebuild::{checksums, rebuild};
use projections::Runner;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

fn from_browser(user: Uuid, correlation: Uuid, ip: &str) -> CommandMeta {
    let mut meta = CommandMeta::new(
        Uuid::new_v4(),
        correlation,
        Actor {
            user_id: Some(user),
            role: "customer".into(),
        },
        Utc::now(),
    );
    meta.client_ip = Some(ip.into());
    meta.user_agent = Some("Mozilla/5.0 (audit test)".into());
    meta.client_request_id = Some("browser-req-1".into());
    meta
}

/// The first `n` events of `$all`, once it shows them (it shows a commit only once older
/// transactions of the whole cluster have ended).
async fn log(store: &dyn EventStore, n: usize) -> Vec<RecordedEvent> {
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
        shipping_address: serde_json::from_value(json!({
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

/// A registration and a password change from one browser request flow, an order from
/// another address, the engine's reaction to it, and an event appended by hand with
/// credentials in odd places: every one becomes a row with its actor, client and ids, and
/// no password hash or token survives into `details`.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn every_event_is_audited_with_its_actor_and_without_secrets(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let users: CommandHandler<User> = CommandHandler::new(store.clone(), 100);
    let orders: CommandHandler<Order> = CommandHandler::new(store.clone(), 100);
    let (user, signup) = (Uuid::new_v4(), Uuid::new_v4());
    let user_stream = CommandHandler::<User>::stream_id(user);

    let register = UserCommand::Register {
        user_id: UserId::new(user),
        email: Email::parse("ada@example.com").unwrap(),
        credential: CredentialId::new(Uuid::new_v4()),
        first_name: Some("Ada".into()),
        last_name: None,
        role: Role::Customer,
        at: Utc::now(),
    };
    users
        .handle(
            &user_stream,
            register,
            from_browser(user, signup, "203.0.113.7"),
        )
        .await
        .unwrap();
    let change = UserCommand::ChangePassword {
        credential: CredentialId::new(Uuid::new_v4()),
        reset: false,
        at: Utc::now(),
    };
    users
        .handle(
            &user_stream,
            change,
            from_browser(user, signup, "203.0.113.7"),
        )
        .await
        .unwrap();

    // From a proxy that passes the address with its port.
    let (order, checkout) = (Uuid::new_v4(), Uuid::new_v4());
    let order_stream = CommandHandler::<Order>::stream_id(order);
    let placed = orders
        .handle(
            &order_stream,
            place(order, user),
            from_browser(user, checkout, "[2001:db8::1]:443"),
        )
        .await
        .unwrap();
    assert_eq!(placed.events.len(), 1);
    let placed_event = store
        .read_stream(
            &order_stream,
            ReadFrom::Revision(0),
            Direction::Forwards,
            10,
        )
        .await
        .unwrap()
        .remove(0);
    // The saga's reaction: same flow, caused by the event, no user behind it.
    orders
        .handle(
            &order_stream,
            OrderCommand::MarkStockReserved { at: Utc::now() },
            CommandMeta::caused_by(placed_event.id, checkout, "reserve", Utc::now()),
        )
        .await
        .unwrap();

    // Appended outside the handler: no actor, an address that is none, secrets nested.
    let hook = Uuid::new_v4();
    store
        .append(
            &format!("webhook-{hook}"),
            ExpectedVersion::NoStream,
            vec![NewEvent {
                id: Uuid::new_v4(),
                event_type: "ProviderCalledBack".into(),
                schema_version: 1,
                data: json!({
                    "headers": {"Authorization": "Bearer abc.def", "X-Request-Id": "r-1"},
                    "attempts": [{"card_token": "tok_visa"}, {"note": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}],
                    "email": "ada@example.com",
                    "amount": 1250
                }),
                metadata: json!({"client_ip": "not an address"}),
            }],
        )
        .await
        .unwrap();

    let events = log(&*store, 5).await;
    assert_eq!(events.len(), 5);
    let runner = Runner::new(
        store.clone(),
        pool.clone(),
        Arc::new(AuditProjection::default()),
    );
    assert_eq!(runner.apply_batch(&events).await.unwrap(), 5);
    assert_eq!(runner.apply_batch(&events).await.unwrap(), 0);

    let rows: i64 = sqlx::query_scalar("select count(*) from audit.audit_logs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 5);

    type Row = (
        Option<Uuid>,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<Uuid>,
        serde_json::Value,
        Option<String>,
    );
    let registered: Row = sqlx::query_as(
        "select user_id, role, resource, resource_id, host(ip_address), user_agent,
                correlation_id, details, client_request_id
           from audit.audit_logs where action = 'UserRegistered'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(registered.0, Some(user));
    assert_eq!(
        (registered.1.as_str(), registered.2.as_str()),
        ("customer", "user")
    );
    assert_eq!(registered.3, user.to_string());
    assert_eq!(registered.4.as_deref(), Some("203.0.113.7"));
    assert_eq!(registered.5.as_deref(), Some("Mozilla/5.0 (audit test)"));
    assert_eq!(registered.6, Some(signup));
    assert!(
        registered.7.get("password_hash").is_none(),
        "v2 carries no hash"
    );
    assert!(registered.7["credential"].is_string());
    assert_eq!(
        registered.7["email"], "[personal data]",
        "a declared personal field is the person's, not the auditors'"
    );
    assert_eq!(registered.8.as_deref(), Some("browser-req-1"));

    // No hash anywhere in the trail, under any key.
    let leaked: i64 = sqlx::query_scalar(
        "select count(*) from audit.audit_logs where details::text like '%argon2%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);

    // By correlation: the sign-up flow's two events, in log order.
    let flow: Vec<String> = sqlx::query_scalar(
        "select action from audit.audit_logs where correlation_id = $1
          order by commit_position, prepare_position",
    )
    .bind(signup)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(flow, ["UserRegistered", "PasswordChanged"]);

    let reserved: (
        Option<Uuid>,
        String,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
    ) = sqlx::query_as(
        "select user_id, role, causation_id, correlation_id, host(ip_address)
               from audit.audit_logs where action = 'OrderStockReserved'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        reserved,
        (
            None,
            "system".into(),
            Some(placed_event.id),
            Some(checkout),
            None
        )
    );
    let placed_ip: Option<String> = sqlx::query_scalar(
        "select host(ip_address) from audit.audit_logs where action = 'OrderPlaced'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(placed_ip.as_deref(), Some("2001:db8::1"));

    // Where each row sits in the log is the event's own.
    for e in &events {
        let at: (String, i64, i64, i64) = sqlx::query_as(
            "select stream_id, stream_version, commit_position, prepare_position
               from audit.audit_logs where event_id = $1",
        )
        .bind(e.id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            at,
            (
                e.stream_id.clone(),
                e.revision as i64,
                e.position.commit as i64,
                e.position.prepare as i64
            )
        );
    }

    let hook_row: (
        Option<Uuid>,
        String,
        String,
        Option<String>,
        serde_json::Value,
    ) = sqlx::query_as(
        "select user_id, role, resource, host(ip_address), details
               from audit.audit_logs where action = 'ProviderCalledBack'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (
            hook_row.0,
            hook_row.1.as_str(),
            hook_row.2.as_str(),
            hook_row.3
        ),
        (None, "unknown", "webhook", None)
    );
    assert_eq!(
        hook_row.4,
        json!({
            "headers": {"Authorization": REDACTED, "X-Request-Id": "r-1"},
            "attempts": [{"card_token": REDACTED}, {"note": REDACTED}],
            "email": "ada@example.com",
            "amount": 1250
        })
    );

    // A rebuild from the log writes the same trail, row for row.
    let mut conn = pool.acquire().await.unwrap();
    let live = checksums(&mut conn, "audit", &[]).await.unwrap();
    drop(conn);
    rebuild(
        store.clone(),
        &pool,
        Arc::new(AuditProjection::default()),
        &mut |_| {},
    )
    .await
    .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    assert_eq!(checksums(&mut conn, "audit", &[]).await.unwrap(), live);
    assert_eq!(live[0].rows, 5);
}

/// What `redact` takes out and what it leaves: secrets by key and by shape, and the key of
/// a uniqueness claim on a secret; ids, slugs and SKUs stay.
#[test]
fn redaction_takes_secrets_and_leaves_facts() {
    let mut v = json!({
        "password": "hunter2",
        "reset-token": "abc",
        "token_id": "3f1c0c7e-8d5a-4a8e-9f0e-2b1d7c9a6e11",
        "api_key": null,
        "cvv": "123",
        "company": "ACME",
        "slug": "a-very-long-product-slug-with-many-words-2024",
        "sku": "MUG-1",
        "reference": "sk_test_51H8x",
        "claim": {"kind": "refresh_token", "key": "opaque", "owner": "u-1"},
        "email_claim": {"kind": "email", "key": "ada@example.com"},
        "hashes": ["$2b$12$abcdefghijklmnopqrstuv", "plain words"]
    });
    redact(&mut v);
    assert_eq!(
        v,
        json!({
            "password": REDACTED,
            "reset-token": REDACTED,
            "token_id": REDACTED,
            "api_key": null,
            "cvv": REDACTED,
            "company": "ACME",
            "slug": "a-very-long-product-slug-with-many-words-2024",
            "sku": "MUG-1",
            "reference": REDACTED,
            "claim": {"kind": "refresh_token", "key": REDACTED, "owner": "u-1"},
            "email_claim": {"kind": "email", "key": "ada@example.com"},
            "hashes": [REDACTED, "plain words"]
        })
    );
}
