//! E-mail verification and password reset over real HTTP, end to end: the real
//! `Application` with the notifications read model and the worker, on a database of its
//! own. A link is read by rendering the delivered row with the server's key, as the
//! worker rendered it for the mail (the outbox API withholds it; `tests/tests/mail_secrets.rs`
//! reads it from the log, as a developer would).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::accounts::email_tokens::EmailTokens;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use domain::notification::{link_of, token_of};
use domain::user::{Role, TokenId, TokenPurpose, User, UserCommand};
use domain::value::Email;
use gateway::config::Config;
use gateway::startup::Application;
use gateway::state::AppState;
use projections::notifications::{render, NotificationsProjection, NotifierSettings, OutboxRow};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

const SECRET: &str = "an email-flows test secret, long enough";
const PUBLIC_URL: &str = "https://shop.example";

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

#[tokio::test]
async fn verification_and_reset_go_through_the_outbox() {
    let name = format!("um_email_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--jwt-secret",
            SECRET,
        ])
        .unwrap();
        let app = Application::build(config).await.unwrap();
        let state = app.state().clone();
        let runner = projections::Runner::new(
            state.store.clone(),
            state.pool.clone(),
            Arc::new(NotificationsProjection::default()),
        )
        .with_keys(state.handlers.keys.clone());
        let app = app
            .with_task("notifications projection", move |stop| runner.run(stop))
            .with_notifier(NotifierSettings {
                public_url: PUBLIC_URL.into(),
                smtp_url: None,
                mail_from: "UltraMarket <no-reply@shop.example>".into(),
                notify_max_attempts: 3,
                notify_poll_ms: 50,
            })
            .unwrap();
        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let c = Client::new();
        verification(&c, &base, &state).await;
        an_expired_link_is_refused(&c, &base, &state).await;
        reset(&c, &base, &state).await;
        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn post(c: &Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn profile(c: &Client, base: &str, access: &str) -> Value {
    c.get(format!("{base}/auth/profile"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn login(c: &Client, base: &str, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        c,
        format!("{base}/auth/login"),
        json!({ "email": email, "password": password }),
    )
    .await
}

/// Waits for the worker to deliver a `template` message to `to`, and answers the token
/// of the link it carries.
async fn delivered_token(state: &AppState, to: &str, template: &str, nth: usize) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let rows: Vec<(OutboxRow, String)> =
            sqlx::query_as::<_, (Uuid, String, String, String, Value, String)>(
                "select notification_id, recipient, template, subject, payload, status
               from notifications.notifications where recipient = $1 and template = $2
              order by created_at",
            )
            .bind(to)
            .bind(template)
            .fetch_all(&state.pool)
            .await
            .unwrap()
            .into_iter()
            .map(
                |(notification_id, recipient, template, subject, payload, status)| {
                    (
                        OutboxRow {
                            notification_id,
                            recipient,
                            template,
                            subject,
                            payload,
                        },
                        status,
                    )
                },
            )
            .collect();
        if let Some((row, status)) = rows.get(nth) {
            if status == "sent" {
                let message =
                    render(row, &EmailTokens::new(SECRET.as_bytes()), PUBLIC_URL).unwrap();
                let link = link_of(&message.body).expect("the message carries a link");
                assert!(link.starts_with(PUBLIC_URL), "{link}");
                return token_of(link).unwrap().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no delivered {template} message #{nth} to {to}");
}

/// Register → a verification link in the outbox → verify → the profile shows it; the
/// link works once; a forged token is refused.
async fn verification(c: &Client, base: &str, state: &AppState) {
    let (status, user) = post(
        c,
        format!("{base}/auth/register"),
        json!({ "email": "ann@example.com", "password": "correct horse battery", "first_name": "Ann" }),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["email_verified"], false);
    let (_, pair) = login(c, base, "ann@example.com", "correct horse battery").await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(profile(c, base, &access).await["email_verified"], false);

    let token = delivered_token(state, "ann@example.com", "verify_email", 0).await;
    let r = c
        .post(format!("{base}/auth/verify-email"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-consistency-token"));
    let verified: Value = r.json().await.unwrap();
    assert_eq!(verified["email_verified"], true);
    let me = profile(c, base, &access).await;
    assert_eq!(
        (me["email_verified"].clone(), me["status"].clone()),
        (json!(true), json!("active"))
    );

    let (status, problem) = post(
        c,
        format!("{base}/auth/verify-email"),
        json!({ "token": token }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].clone()),
        (StatusCode::CONFLICT, json!("token_used"))
    );

    // A token signed with another secret.
    let forged = EmailTokens::new(b"not the server's").issue(
        TokenPurpose::VerifyEmail,
        serde_json::from_value(user["id"].clone()).unwrap(),
        TokenId::new(Uuid::new_v4()),
    );
    let (status, problem) = post(
        c,
        format!("{base}/auth/verify-email"),
        json!({ "token": forged }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "token");

    // Verified: no new link.
    let r = c
        .post(format!("{base}/auth/resend-verification"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

/// A link presented after its expiry is refused with its own code.
async fn an_expired_link_is_refused(c: &Client, base: &str, state: &AppState) {
    let user = Uuid::new_v4();
    let stream = CommandHandler::<User>::stream_id(user);
    let meta = || {
        let id = Uuid::new_v4();
        CommandMeta::new(id, id, Actor::system(), Utc::now())
    };
    let now = Utc::now();
    state
        .handlers
        .users
        .handle(
            &stream,
            UserCommand::Register {
                user_id: user.into(),
                email: Email::parse("late@example.com").unwrap(),
                credential: domain::id::CredentialId::new(Uuid::new_v4()),
                first_name: None,
                last_name: None,
                role: Role::Customer,
                at: now - chrono::Duration::hours(30),
            },
            meta(),
        )
        .await
        .unwrap();
    let token_id = TokenId::new(Uuid::new_v4());
    state
        .handlers
        .users
        .handle(
            &stream,
            UserCommand::RequestEmailVerification {
                token_id,
                expires_at: now - chrono::Duration::hours(6),
                at: now - chrono::Duration::hours(30),
            },
            meta(),
        )
        .await
        .unwrap();
    let token =
        EmailTokens::new(SECRET.as_bytes()).issue(TokenPurpose::VerifyEmail, user.into(), token_id);
    let (status, problem) = post(
        c,
        format!("{base}/auth/verify-email"),
        json!({ "token": token }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].clone()),
        (StatusCode::CONFLICT, json!("token_expired"))
    );
}

/// Forgot → reset: the old password and the old sessions stop working, the new password
/// works, the link works once; an unknown address gets the same answer and no message.
async fn reset(c: &Client, base: &str, state: &AppState) {
    let (_, pair) = login(c, base, "ann@example.com", "correct horse battery").await;
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(profile(c, base, &access).await["email"], "ann@example.com");

    let unknown = post(
        c,
        format!("{base}/auth/forgot-password"),
        json!({ "email": "nobody@example.com" }),
    )
    .await;
    let known = post(
        c,
        format!("{base}/auth/forgot-password"),
        json!({ "email": "ann@example.com" }),
    )
    .await;
    assert_eq!(known.0, 202);
    assert_eq!(
        unknown, known,
        "the answer does not tell which e-mails exist"
    );

    let token = delivered_token(state, "ann@example.com", "password_reset", 0).await;
    let (status, problem) = post(
        c,
        format!("{base}/auth/reset-password"),
        json!({ "token": token, "password": "short" }),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "password");
    // A verification token is no reset token.
    let (status, _) = post(
        c,
        format!("{base}/auth/reset-password"),
        json!({ "token": delivered_token(state, "ann@example.com", "verify_email", 0).await, "password": "a brand new password" }),
    )
    .await;
    assert_eq!(status, 422);

    let (status, body) = post(
        c,
        format!("{base}/auth/reset-password"),
        json!({ "token": token, "password": "a brand new password" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        login(c, base, "ann@example.com", "correct horse battery")
            .await
            .0,
        401
    );
    assert_eq!(
        login(c, base, "ann@example.com", "a brand new password")
            .await
            .0,
        200
    );
    let (status, _) = post(
        c,
        format!("{base}/auth/refresh"),
        json!({ "refresh_token": refresh }),
    )
    .await;
    assert_eq!(status, 401, "sessions from before the reset are revoked");
    let answer = c
        .get(format!("{base}/auth/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        401,
        "an access token from before the reset is cut at once"
    );
    let (status, problem) = post(
        c,
        format!("{base}/auth/reset-password"),
        json!({ "token": token, "password": "yet another password" }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].clone()),
        (StatusCode::CONFLICT, json!("token_used"))
    );

    // By now the unknown address's request has long been handled: it left no row.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows: i64 = sqlx::query_scalar(
        "select count(*) from notifications.notifications where recipient = 'nobody@example.com'",
    )
    .fetch_one(&state.pool)
    .await
    .unwrap();
    assert_eq!(rows, 0);
}
