//! Staff retrying a notification whose delivery was given up, over real HTTP: the real
//! `Application` with its read models and the notification worker, on a database of its
//! own, delivering to an SMTP peer on a local port that refuses every message until the
//! test lets it accept. A message given up is retried (`POST /admin/outbox/{id}/retry`),
//! delivered in the new round, and the retry is on its stream with who asked and why; a
//! sent one, an unknown one, a customer, a read-only console and a message whose content
//! retention dropped are refused.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::Utc;
use common::{
    access_token, json_call, server_url, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, PATIENCE,
};
use gateway::config::Config;
use gateway::startup::Application;
use projections::notifications::NotifierSettings;
use projections::retention::Retention;
use reqwest::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

/// An SMTP peer on a local port: while `accepting` is false it greets every connection
/// with a permanent refusal, as a relay that will not take mail; then it takes each
/// message (EHLO, MAIL, RCPT, DATA, QUIT) and counts it in `taken`.
async fn smtp_peer(accepting: Arc<AtomicBool>, taken: Arc<std::sync::atomic::AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let (accepting, taken) = (accepting.clone(), taken.clone());
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                if !accepting.load(Ordering::SeqCst) {
                    let _ = write
                        .write_all(b"554 5.3.2 peer is not accepting mail\r\n")
                        .await;
                    return;
                }
                let mut read = BufReader::new(read);
                let _ = write.write_all(b"220 peer ESMTP\r\n").await;
                loop {
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-peer\r\n250 8BITMIME\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            loop {
                                let mut l = String::new();
                                if read.read_line(&mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == ".\r\n" {
                                    break;
                                }
                            }
                            taken.fetch_add(1, Ordering::SeqCst);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 not implemented\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "ultramarket",
        "--database-url",
        url,
        "--bind",
        "127.0.0.1:0",
        "--consistency-wait-ms",
        "30000",
        "--jwt-secret",
        JWT_SECRET,
        "--bootstrap-admin-email",
        ADMIN_EMAIL,
        "--bootstrap-admin-password",
        ADMIN_PASSWORD,
    ];
    args.extend_from_slice(extra);
    args
}

/// The outbox's one message to `to`, once `done` says it is as wanted.
async fn message(
    c: &Client,
    base: &str,
    token: &str,
    to: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (status, page) = json_call(
            c,
            "GET",
            format!("{base}/notifications?to={to}"),
            token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        if let Some(m) = page["items"].as_array().and_then(|i| i.first()) {
            if done(m) {
                return m.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the message to {to} stayed {m}"
            );
        } else {
            assert!(std::time::Instant::now() < deadline, "no message to {to}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn register(c: &Client, base: &str, email: &str) {
    let r = c
        .post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": "customer password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_failed_notification_retried_by_staff_is_delivered() {
    let name = format!("um_outbox_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let accepting = Arc::new(AtomicBool::new(false));
        let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let port = smtp_peer(accepting.clone(), taken.clone()).await;
        let config = Config::from_args_ignoring_env(args(&url, &[])).unwrap();
        let app = Application::build(config)
            .await
            .unwrap()
            .with_projections()
            .with_notifier(NotifierSettings {
                public_url: "https://shop.example".into(),
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                mail_from: "UltraMarket <no-reply@shop.example>".into(),
                // One attempt a round: the first refusal gives the delivery up.
                notify_max_attempts: 1,
                notify_poll_ms: 50,
            })
            .unwrap();
        let pool = app.state().pool.clone();
        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        // A read-only console on the same database.
        let config = Config::from_args_ignoring_env(args(&url, &["--console-read-only"])).unwrap();
        let read_only = Application::build(config).await.unwrap();
        let read_only_base = format!("http://{}/api/v1", read_only.local_addr());
        let (stop_read_only, read_only_stopped) = oneshot::channel::<()>();
        let read_only_running = tokio::spawn(read_only.run_until_stopped(async {
            let _ = read_only_stopped.await;
        }));

        let c = Client::new();
        let admin = access_token(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        register(&c, &base, "ann@example.com").await;
        register(&c, &base, "bob@example.com").await;
        let failed = |m: &Value| m["status"] == "failed";
        let ann = message(&c, &base, &admin, "ann@example.com", failed).await;
        let bob = message(&c, &base, &admin, "bob@example.com", failed).await;
        assert_eq!(ann["attempts"], 1, "{ann}");
        assert!(
            ann["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not accepting")),
            "{ann}"
        );
        let id = ann["id"].as_str().unwrap().to_owned();
        let retry = |base: &str, id: &str| format!("{base}/admin/outbox/{id}/retry");
        let why = json!({ "reason": "the relay is back" });

        // Refused: a customer, a read-only console, an unknown message, no reason.
        let customer = access_token(&c, &base, "ann@example.com", "customer password").await;
        let (status, body) =
            json_call(&c, "POST", retry(&base, &id), &customer, Some(why.clone())).await;
        assert_eq!(
            (status.as_u16(), &body["code"]),
            (403, &json!("forbidden")),
            "{body}"
        );
        let (status, body) = json_call(
            &c,
            "POST",
            retry(&read_only_base, &id),
            &admin,
            Some(why.clone()),
        )
        .await;
        assert_eq!(
            (status.as_u16(), &body["code"]),
            (403, &json!("read_only")),
            "{body}"
        );
        let unknown = Uuid::new_v4().to_string();
        let (status, body) = json_call(
            &c,
            "POST",
            retry(&base, &unknown),
            &admin,
            Some(why.clone()),
        )
        .await;
        assert_eq!(status, 404, "{body}");
        let (status, body) = json_call(
            &c,
            "POST",
            retry(&base, &id),
            &admin,
            Some(json!({ "reason": " " })),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(taken.load(Ordering::SeqCst), 0, "nothing was delivered yet");

        // The relay takes mail again: the retry opens round 2, and the worker delivers it.
        accepting.store(true, Ordering::SeqCst);
        let r = c
            .post(retry(&base, &id))
            .bearer_auth(&admin)
            .json(&why)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let token = r
            .headers()
            .get("x-consistency-token")
            .expect("a consistency token")
            .to_str()
            .unwrap()
            .to_owned();
        let done: Value = r.json().await.unwrap();
        assert_eq!(done, json!({ "id": id, "round": 2, "status": "pending" }));
        // Read with the token, the outbox has the retry in: no longer failed.
        let page: Value = c
            .get(format!("{base}/notifications?to=ann@example.com"))
            .bearer_auth(&admin)
            .header("X-Consistency-Token", &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let now = &page["items"][0];
        assert!(
            now["status"] == "pending" || now["status"] == "sent",
            "{now}"
        );
        let sent = message(&c, &base, &admin, "ann@example.com", |m| {
            m["status"] == "sent"
        })
        .await;
        assert_eq!(sent["attempts"], 1, "the first attempt of round 2: {sent}");
        assert!(sent["sent_at"].is_string(), "{sent}");
        assert_eq!(taken.load(Ordering::SeqCst), 1);

        // On the stream: given up, retried by the admin for their reason, then sent.
        let (status, stream) = json_call(
            &c,
            "GET",
            format!("{base}/admin/streams/notification-{id}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(status, 200, "{stream}");
        let types: Vec<&str> = stream["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "DeliveryStarted",
                "NotificationFailed",
                "NotificationRetried",
                "DeliveryStarted",
                "NotificationSent"
            ]
        );
        let retried = &stream["items"][2];
        assert_eq!(retried["data"]["round"], 2, "{retried}");
        assert_eq!(retried["metadata"]["actor_role"], "admin", "{retried}");
        assert_eq!(
            retried["metadata"]["reason"], "the relay is back",
            "{retried}"
        );

        // Sent: nothing to retry.
        let (status, body) =
            json_call(&c, "POST", retry(&base, &id), &admin, Some(why.clone())).await;
        assert_eq!(
            (status.as_u16(), &body["code"]),
            (409, &json!("already_sent")),
            "{body}"
        );

        // Past retention's window, Bob's message keeps no content: nothing left to send.
        projections::retention::pass(
            &pool,
            Retention::DEFAULT,
            Utc::now() + chrono::Duration::days(31),
        )
        .await
        .unwrap();
        let bob_id = bob["id"].as_str().unwrap();
        let (status, body) =
            json_call(&c, "POST", retry(&base, bob_id), &admin, Some(why.clone())).await;
        assert_eq!(
            (status.as_u16(), &body["code"]),
            (409, &json!("content_dropped")),
            "{body}"
        );
        let (_, stream) = json_call(
            &c,
            "GET",
            format!("{base}/admin/streams/notification-{bob_id}"),
            &admin,
            None,
        )
        .await;
        let last = stream["items"].as_array().unwrap().last().unwrap();
        assert_eq!(
            last["event_type"], "NotificationFailed",
            "no retry: {stream}"
        );

        stop_read_only.send(()).unwrap();
        read_only_running.await.unwrap().unwrap();
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
