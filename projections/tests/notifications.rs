//! The notifications read model and its worker against a real store: the outbox is derived
//! from events, two workers racing for it send each message once, failures are recorded
//! and bounded, and a rebuild from the store gives the same rows, delivery state included.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::accounts::email_tokens::EmailTokens;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position, RecordedEvent};
use domain::id::{OrderId, ProductId, UserId};
use domain::inventory::{Inventory, InventoryCommand};
use domain::money::{Currency, Money};
use domain::order::{ChangedBy, Order, OrderCommand, OrderLine, PlaceOrder};
use domain::user::{Role, TokenId, TokenPurpose, User, UserCommand};
use domain::value::{Email, Sku};
use projections::notifications::{
    LogTransport, NotificationsProjection, Notifier, NotifierSettings, Smtp,
};
use projections::Runner;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

struct World {
    store: Arc<dyn EventStore>,
    users: CommandHandler<User>,
    orders: CommandHandler<Order>,
    inventory: CommandHandler<Inventory>,
    /// Events appended so far, to know when `$all` shows them all.
    appended: usize,
}

impl World {
    fn new(pool: &PgPool) -> Self {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        World {
            users: CommandHandler::new(store.clone(), 100),
            orders: CommandHandler::new(store.clone(), 100),
            inventory: CommandHandler::new(store.clone(), 100),
            store,
            appended: 0,
        }
    }

    async fn user(&mut self, c: UserCommand, id: Uuid) {
        let h = self
            .users
            .handle(&CommandHandler::<User>::stream_id(id), c, meta())
            .await
            .unwrap();
        self.appended += h.events.len();
    }

    async fn register(&mut self, email: &str, first_name: Option<&str>, role: Role) -> Uuid {
        let id = Uuid::new_v4();
        let c = UserCommand::Register {
            user_id: UserId::new(id),
            email: Email::parse(email).unwrap(),
            credential: domain::id::CredentialId::new(Uuid::new_v4()),
            first_name: first_name.map(Into::into),
            last_name: None,
            role,
            at: Utc::now(),
        };
        self.user(c, id).await;
        id
    }

    async fn order(&mut self, id: Uuid, c: OrderCommand) {
        let h = self
            .orders
            .handle(&CommandHandler::<Order>::stream_id(id), c, meta())
            .await
            .unwrap();
        self.appended += h.events.len();
    }

    async fn place(&mut self, user: Uuid) -> Uuid {
        let id = Uuid::new_v4();
        let place = PlaceOrder {
            order_id: OrderId::new(id),
            user_id: UserId::new(user),
            lines: vec![OrderLine {
                product_id: ProductId::new(Uuid::new_v4()),
                variant_id: None,
                sku: Sku::parse("MUG-1").unwrap(),
                quantity: 2,
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
        };
        self.order(id, OrderCommand::Place(Box::new(place))).await;
        id
    }

    async fn all_events(&self) -> Vec<RecordedEvent> {
        // $all shows a commit once older transactions of the cluster have ended.
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            let events = self.store.read_all(Position::START, 10_000).await.unwrap();
            if events.len() >= self.appended {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "$all did not show {} events within {PATIENCE:?}",
            self.appended
        );
    }
}

fn settings(max_attempts: u32) -> NotifierSettings {
    NotifierSettings {
        public_url: "https://shop.example".into(),
        smtp_url: None,
        mail_from: "UltraMarket <no-reply@shop.example>".into(),
        notify_max_attempts: max_attempts,
        notify_poll_ms: 50,
    }
}

async fn rows(pool: &PgPool) -> Vec<Value> {
    sqlx::query_scalar(
        "select to_jsonb(n) from notifications.notifications n order by notification_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Every kind of message lands in the outbox for the right person, with no secret in it;
/// two workers racing send each once; the read model learns delivery from events, and a
/// rebuild from the store reproduces it row for row.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn the_outbox_is_derived_delivered_once_and_rebuilt_identically(pool: PgPool) {
    let mut w = World::new(&pool);
    let ann = w
        .register("ann@example.com", Some("Ann"), Role::Customer)
        .await;
    let sam = w.register("sam@example.com", None, Role::Staff).await;
    let token_id = TokenId::new(Uuid::new_v4());
    let now = Utc::now();
    w.user(
        UserCommand::RequestEmailVerification {
            token_id,
            expires_at: now + chrono::Duration::hours(24),
            at: now,
        },
        ann,
    )
    .await;
    w.user(
        UserCommand::RequestPasswordReset {
            token_id: TokenId::new(Uuid::new_v4()),
            expires_at: now + chrono::Duration::hours(1),
            at: now,
        },
        ann,
    )
    .await;
    let order = w.place(ann).await;
    w.order(order, OrderCommand::MarkStockReserved { at: now })
        .await;
    w.order(
        order,
        OrderCommand::MarkPaid {
            amount: Money::new(2500, Currency::USD),
            payment_reference: "ch_1".into(),
            at: now,
        },
    )
    .await;
    w.order(
        order,
        OrderCommand::Ship {
            tracking_number: Some("1Z999".into()),
            note: None,
            by: ChangedBy {
                user_id: Some(UserId::new(sam)),
                role: "staff".into(),
            },
            at: now,
        },
    )
    .await;
    // Nobody this model knows: no message.
    w.place(Uuid::new_v4()).await;
    let sku = Sku::parse("MUG-1").unwrap();
    let stock = CommandHandler::<Inventory>::stream_id(Uuid::new_v4());
    for c in [
        InventoryCommand::ReceiveStock {
            sku: sku.clone(),
            warehouse: "main".into(),
            quantity: 3,
        },
        InventoryCommand::SetLowStockThreshold { threshold: 5 },
    ] {
        w.appended += w
            .inventory
            .handle(&stock, c, meta())
            .await
            .unwrap()
            .events
            .len();
    }

    let runner = Runner::new(
        w.store.clone(),
        pool.clone(),
        Arc::new(NotificationsProjection::default()),
    );
    runner.apply_batch(&w.all_events().await).await.unwrap();

    let outbox: Vec<(String, String, String, String)> = sqlx::query_as(
        "select recipient, template, subject, status from notifications.notifications
          order by recipient, template",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let short = order.simple().to_string()[..8].to_uppercase();
    assert_eq!(
        outbox,
        vec![
            (
                "ann@example.com".into(),
                "order_confirmation".into(),
                format!("Your UltraMarket order {short} is confirmed"),
                "pending".into()
            ),
            (
                "ann@example.com".into(),
                "order_shipped".into(),
                format!("Your UltraMarket order {short} has shipped"),
                "pending".into()
            ),
            (
                "ann@example.com".into(),
                "password_reset".into(),
                "Reset your UltraMarket password".into(),
                "pending".into()
            ),
            (
                "ann@example.com".into(),
                "verify_email".into(),
                "Confirm your e-mail address".into(),
                "pending".into()
            ),
            (
                "sam@example.com".into(),
                "low_stock".into(),
                "Low stock: MUG-1 (3 left)".into(),
                "pending".into()
            ),
        ]
    );
    // The outbox names the token; the token itself exists only in the rendered message.
    let secret = b"a server secret of enough length!";
    let token =
        EmailTokens::new(secret).issue(TokenPurpose::VerifyEmail, UserId::new(ann), token_id);
    let stored = serde_json::to_string(&rows(&pool).await).unwrap();
    assert!(stored.contains(&token_id.to_string()));
    assert!(!stored.contains(&token), "no secret in the read model");

    // Two workers with their own handlers, as two processes would have.
    let worker = || {
        Notifier::new(
            w.store.clone(),
            pool.clone(),
            EmailTokens::new(secret),
            Arc::new(LogTransport),
            settings(3),
        )
    };
    let (a, b) = (worker(), worker());
    let (ra, rb) = tokio::join!(a.try_next(), b.try_next());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        ra.sent + rb.sent,
        5,
        "each message sent once: {ra:?} {rb:?}"
    );
    assert_eq!(ra.failed + rb.failed, 0);
    // The read model has not seen the outcome yet; the streams refuse a second send.
    let again = a.try_next().await.unwrap();
    assert_eq!((again.sent, again.skipped), (0, 5));

    // DeliveryStarted + NotificationSent per message.
    w.appended += 10;
    runner.apply_batch(&w.all_events().await).await.unwrap();
    let settled: Vec<(String, i32, bool)> = sqlx::query_as(
        "select status, attempts, sent_at is not null from notifications.notifications",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(settled, vec![("sent".to_owned(), 1, true); 5]);
    assert!(
        a.try_next().await.unwrap().is_idle(),
        "nothing left to send"
    );

    let live = rows(&pool).await;
    projections::rebuild::rebuild(
        w.store.clone(),
        &pool,
        Arc::new(NotificationsProjection::default()),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rows(&pool).await, live, "a rebuild gives the same outbox");

    // Event by event, each a batch of its own that reads what the ones before wrote.
    for reset in [
        "truncate notifications.notifications, notifications.recipients,
                  notifications.order_recipients",
        "update projections.checkpoints set commit_position = 0, prepare_position = 0
          where projection = 'notifications'",
    ] {
        sqlx::query(reset).execute(&pool).await.unwrap();
    }
    for event in w.all_events().await {
        runner.apply_batch(&[event]).await.unwrap();
    }
    assert_eq!(
        rows(&pool).await,
        live,
        "one event at a time, the same outbox"
    );
}

/// A transport that refuses (a real connection to a closed port) is retried with a backoff
/// and then given up; the read model shows the error and the attempts.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn failed_deliveries_are_recorded_and_bounded(pool: PgPool) {
    let mut w = World::new(&pool);
    let bob = w.register("bob@example.com", None, Role::Customer).await;
    let now = Utc::now();
    w.user(
        UserCommand::RequestEmailVerification {
            token_id: TokenId::new(Uuid::new_v4()),
            expires_at: now + chrono::Duration::hours(1),
            at: now,
        },
        bob,
    )
    .await;
    let runner = Runner::new(
        w.store.clone(),
        pool.clone(),
        Arc::new(NotificationsProjection::default()),
    );
    runner.apply_batch(&w.all_events().await).await.unwrap();

    // Nothing listens on port 1.
    let refused = Arc::new(Smtp::from_url("smtp://127.0.0.1:1", "a@shop.example").unwrap());
    let worker = |max| {
        Notifier::new(
            w.store.clone(),
            pool.clone(),
            EmailTokens::new(b"k"),
            refused.clone(),
            settings(max),
        )
    };
    let first = worker(2).try_next().await.unwrap();
    assert_eq!((first.sent, first.failed), (0, 1));
    w.appended += 2;
    runner.apply_batch(&w.all_events().await).await.unwrap();
    let (status, attempts, error, due): (String, i32, Option<String>, bool) = sqlx::query_as(
        "select status, attempts, last_error, next_attempt_at > now() + interval '20 seconds'
           from notifications.notifications",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("127.0.0.1:1"));
    assert!(due, "the retry waits out its backoff");
    assert!(worker(2).try_next().await.unwrap().is_idle(), "not due yet");

    // With one attempt allowed, the failure is final.
    let mut w2 = World::new(&pool);
    let cat = w2.register("cat@example.com", None, Role::Customer).await;
    w2.user(
        UserCommand::RequestEmailVerification {
            token_id: TokenId::new(Uuid::new_v4()),
            expires_at: now + chrono::Duration::hours(1),
            at: now,
        },
        cat,
    )
    .await;
    w2.appended += w.appended;
    runner.apply_batch(&w2.all_events().await).await.unwrap();
    let gave_up = worker(1).try_next().await.unwrap();
    assert_eq!(gave_up.failed, 1);
    w2.appended += 2;
    runner.apply_batch(&w2.all_events().await).await.unwrap();
    let status: String = sqlx::query_scalar(
        "select status from notifications.notifications where recipient = 'cat@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(status, "failed");
}

/// What an in-process SMTP peer heard: the command lines, then the DATA it received.
#[derive(Debug, Default)]
struct Heard {
    commands: Vec<String>,
    data: String,
}

/// A real SMTP peer on a local port, speaking enough of the protocol for one message
/// (greeting, EHLO advertising AUTH PLAIN, AUTH, MAIL, RCPT, DATA, QUIT), without TLS.
async fn smtp_peer() -> (u16, tokio::task::JoinHandle<Heard>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut read = BufReader::new(read);
        let mut heard = Heard::default();
        write.write_all(b"220 peer ESMTP\r\n").await.unwrap();
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await.unwrap() == 0 {
                return heard;
            }
            let line = line.trim_end().to_owned();
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_uppercase();
            heard.commands.push(line);
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-peer\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
                "AUTH" => b"235 2.7.0 authenticated\r\n",
                "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                "DATA" => {
                    write.write_all(b"354 go ahead\r\n").await.unwrap();
                    loop {
                        let mut l = String::new();
                        assert!(read.read_line(&mut l).await.unwrap() > 0, "DATA cut short");
                        if l == ".\r\n" {
                            break;
                        }
                        heard.data.push_str(&l);
                    }
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    return heard;
                }
                _ => b"502 not implemented\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (port, peer)
}

fn message() -> projections::notifications::Message {
    projections::notifications::Message {
        to: "Ann <ann@example.com>".into(),
        subject: "Confirm your e-mail address".into(),
        body: "Hello Ann,\n.a line that starts with a dot\nbye\n".into(),
    }
}

/// `smtp://host:port` speaks plain SMTP to a local relay, with no AUTH; the message keeps
/// its headers, and a body line starting with "." is dot-stuffed, not the end of DATA.
#[tokio::test]
async fn smtp_delivers_to_a_local_relay_without_auth() {
    use projections::notifications::Transport;
    let (port, peer) = smtp_peer().await;
    let smtp = Smtp::from_url(
        &format!("smtp://127.0.0.1:{port}"),
        "UltraMarket <no-reply@shop.example>",
    )
    .unwrap();
    smtp.send(&message()).await.unwrap();
    let heard = peer.await.unwrap();
    let verbs: Vec<&str> = heard
        .commands
        .iter()
        .map(|c| c.split([' ', ':']).next().unwrap())
        .collect();
    assert_eq!(verbs, ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"], "{heard:?}");
    assert_eq!(heard.commands[0], "EHLO ultramarket");
    assert!(heard.commands[1].starts_with("MAIL FROM:<no-reply@shop.example>"));
    assert!(heard.commands[2].starts_with("RCPT TO:<ann@example.com>"));
    for header in [
        "From: UltraMarket <no-reply@shop.example>\r\n",
        "To: Ann <ann@example.com>\r\n",
        "Subject: Confirm your e-mail address\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
    ] {
        assert!(heard.data.contains(header), "{header:?} in {}", heard.data);
    }
    assert!(
        heard
            .data
            .contains("\r\n..a line that starts with a dot\r\n"),
        "{}",
        heard.data
    );
}

/// With credentials in the URL the transport authenticates (AUTH PLAIN, the password
/// percent-decoded) before MAIL FROM.
#[tokio::test]
async fn smtp_sends_auth_when_credentials_are_given() {
    use base64::Engine;
    use projections::notifications::Transport;
    let (port, peer) = smtp_peer().await;
    let smtp = Smtp::from_url(
        &format!("smtp://mailer:p%40ss@127.0.0.1:{port}"),
        "no-reply@shop.example",
    )
    .unwrap();
    smtp.send(&message()).await.unwrap();
    let heard = peer.await.unwrap();
    let plain = base64::engine::general_purpose::STANDARD.encode("\0mailer\0p@ss");
    let auth = heard
        .commands
        .iter()
        .position(|c| *c == format!("AUTH PLAIN {plain}"))
        .unwrap_or_else(|| panic!("no AUTH PLAIN for mailer in {:?}", heard.commands));
    let mail = heard
        .commands
        .iter()
        .position(|c| c.starts_with("MAIL FROM:"))
        .unwrap();
    assert!(
        auth < mail,
        "AUTH comes before MAIL FROM: {:?}",
        heard.commands
    );
}

/// An event written by an older engine might carry a token or a whole link in its data.
/// The outbox keeps only the fields it knows, so neither the read model, built live or
/// rebuilt, nor the message as the outbox API shows it holds them; the mail alone has a
/// link, the one the worker signs.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn tokens_in_old_events_never_reach_the_outbox(pool: PgPool) {
    use commands::store::{ExpectedVersion, NewEvent};
    use projections::notifications::{preview, render, OutboxRow};

    let mut w = World::new(&pool);
    let ann = w
        .register("ann@example.com", Some("Ann"), Role::Customer)
        .await;
    let now = Utc::now();
    let leaked = "LEAKED-TOKEN-FROM-AN-OLD-ENGINE";
    let data = serde_json::json!({
        "token_id": Uuid::new_v4(),
        "expires_at": now + chrono::Duration::hours(1),
        "at": now,
        "token": leaked,
        "link": format!("https://shop.example/reset-password?token={leaked}"),
    });
    let id = Uuid::new_v4();
    w.store
        .append(
            &CommandHandler::<User>::stream_id(ann),
            ExpectedVersion::Any,
            vec![NewEvent {
                id,
                event_type: "PasswordResetRequested".into(),
                schema_version: 1,
                data,
                metadata: meta().metadata(1),
            }],
        )
        .await
        .unwrap();
    w.appended += 1;
    let runner = Runner::new(
        w.store.clone(),
        pool.clone(),
        Arc::new(NotificationsProjection::default()),
    );
    runner.apply_batch(&w.all_events().await).await.unwrap();
    projections::rebuild::rebuild(
        w.store.clone(),
        &pool,
        Arc::new(NotificationsProjection::default()),
        &mut |_| {},
    )
    .await
    .unwrap();
    let stored = serde_json::to_string(&rows(&pool).await).unwrap();
    assert!(stored.contains("password_reset"), "{stored}");
    assert!(!stored.contains(leaked), "{stored}");

    let row: OutboxRow = sqlx::query_as(
        "select notification_id, recipient, template, subject, payload
           from notifications.notifications where template = 'password_reset'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let shown = preview(&row, "https://shop.example").unwrap();
    assert!(!shown.body.contains(leaked), "{}", shown.body);
    assert!(!shown.body.contains("?token="), "{}", shown.body);
    let sent = render(&row, &EmailTokens::new(b"k"), "https://shop.example").unwrap();
    assert!(!sent.body.contains(leaked), "{}", sent.body);
    assert!(sent
        .body
        .contains("https://shop.example/reset-password?token="));
}

/// Issue 23 item 7: the customer whose whole order arrived is invited to review it, once,
/// and a rebuild finds the same row.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_delivered_order_invites_its_customer_to_review(pool: PgPool) {
    let mut w = World::new(&pool);
    let ann = w
        .register("ann@example.com", Some("Ann"), Role::Customer)
        .await;
    let order = w.place(ann).await;
    let now = Utc::now();
    let staff = ChangedBy {
        user_id: None,
        role: "staff".into(),
    };
    for c in [
        OrderCommand::MarkStockReserved { at: now },
        OrderCommand::MarkPaid {
            amount: Money::new(2500, Currency::USD),
            payment_reference: "ch_1".into(),
            at: now,
        },
        OrderCommand::Ship {
            tracking_number: None,
            note: None,
            by: staff.clone(),
            at: now,
        },
    ] {
        w.order(order, c).await;
    }
    let runner = Runner::new(
        w.store.clone(),
        pool.clone(),
        Arc::new(NotificationsProjection::default()),
    );
    let invitations = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, String, Value)>(
            "select recipient, subject, payload from notifications.notifications
              where template = 'review_invitation'",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    runner.apply_batch(&w.all_events().await).await.unwrap();
    assert!(
        invitations(pool.clone()).await.is_empty(),
        "shipped, not arrived"
    );

    w.order(
        order,
        OrderCommand::Deliver {
            note: None,
            by: staff,
            at: now,
        },
    )
    .await;
    let events = w.all_events().await;
    runner
        .apply_batch(&events[events.len() - 1..])
        .await
        .unwrap();
    let found = invitations(pool.clone()).await;
    let short = order.simple().to_string()[..8].to_uppercase();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        (
            "ann@example.com",
            format!("How is your UltraMarket order {short}?").as_str()
        )
    );
    assert_eq!(found[0].2["order_id"], order.to_string());
    let body = domain::notification::Template::ReviewInvitation
        .body(
            &found[0].2,
            "https://shop.example",
            domain::notification::Links::Withheld,
        )
        .unwrap();
    assert!(body.starts_with("Hello Ann,"), "{body}");
    assert!(
        body.contains(&format!("https://shop.example/orders/{order}")),
        "{body}"
    );
    // The same event again changes nothing.
    runner
        .apply_batch(&events[events.len() - 1..])
        .await
        .unwrap();
    assert_eq!(invitations(pool.clone()).await.len(), 1);
}
