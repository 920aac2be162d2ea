//! The console's outbox in a real browser: a message the worker gave up (the SMTP relay
//! refused it) shows failed with the relay's error; staff retry it through the confirm
//! step once the relay takes mail again, see it pending, then sent. A read-only console
//! offers no retry.

mod console_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use console_support::{browser, screenshot, sign_in, wait_for, ConsoleSession};
use e2e::{eventually, send, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::Locator;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// An SMTP relay on a local port that refuses every connection with a permanent error
/// while `accepting` is false, and takes each message once it is true.
async fn relay(accepting: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let accepting = accepting.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                if !accepting.load(Ordering::SeqCst) {
                    let _ = write
                        .write_all(b"554 5.3.2 relay is not accepting mail\r\n")
                        .await;
                    return;
                }
                let mut read = BufReader::new(read);
                let _ = write.write_all(b"220 relay ESMTP\r\n").await;
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
                        "EHLO" => b"250-relay\r\n250 8BITMIME\r\n",
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

/// The outbox's message to `to`, once `wanted` holds of it.
async fn message(s: &Server, admin: &str, to: &str, wanted: &str) -> Value {
    eventually(&format!("the message to {to} is {wanted}"), || async {
        let page = send(
            s.get(&format!("/api/v1/notifications?to={to}"))
                .bearer_auth(admin),
        )
        .await;
        let m = page.body["items"][0].clone();
        (m["status"] == wanted).then_some(m)
    })
    .await
}

#[tokio::test]
async fn staff_retry_a_failed_notification() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let accepting = Arc::new(AtomicBool::new(false));
    let smtp_url = format!("smtp://127.0.0.1:{}", relay(accepting.clone()).await);
    let s = Server::start_with(&["--smtp-url", &smtp_url, "--notify-max-attempts", "1"]).await;
    let admin = s.admin().await;
    s.register("otto.outbox@example.com", "a customer's password")
        .await;
    let failed = message(&s, &admin, "otto.outbox@example.com", "failed").await;
    let id = failed["id"].as_str().unwrap().to_owned();

    // Staff find it failed, with the relay's refusal.
    c.goto(&format!("{}/admin/outbox?status=failed", s.origin))
        .await
        .unwrap();
    sign_in(c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let row = wait_for(c, &format!("#message-{id}")).await;
    let shown = row.text().await.unwrap();
    assert!(shown.contains("not accepting mail"), "{shown}");
    assert_eq!(
        row.attr("data-status").await.unwrap().as_deref(),
        Some("failed")
    );
    screenshot(c, "outbox-failed").await;

    // The relay is back; staff retry, through the confirm step.
    accepting.store(true, Ordering::SeqCst);
    row.find(Locator::Css("a.retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = wait_for(c, "#message-error").await.text().await.unwrap();
    assert!(error.contains("not accepting mail"), "{error}");
    c.find(Locator::Css("#reason"))
        .await
        .unwrap()
        .send_keys("the relay takes mail again")
        .await
        .unwrap();
    screenshot(c, "outbox-retry-confirm").await;
    c.find(Locator::Css("#confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let outcome = wait_for(c, "#outcome").await;
    let said = outcome.text().await.unwrap();
    assert_eq!(
        outcome.attr("data-outcome").await.unwrap().as_deref(),
        Some("retried"),
        "{said}"
    );
    // Pending once the outbox has the retry, or sent already if the worker was quick.
    let now = c
        .find(Locator::Css("#message-status"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(now == "pending" || now == "sent", "{said}");
    screenshot(c, "outbox-retried").await;

    // The worker delivers it; the outbox shows it sent, with no retry offered.
    message(&s, &admin, "otto.outbox@example.com", "sent").await;
    c.find(Locator::Css("#back"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = wait_for(c, &format!("#message-{id}[data-status=sent]")).await;
    assert!(row.find(Locator::Css("a.retry")).await.is_err());

    // Sent, it cannot be retried: the refusal is shown, not swallowed.
    let session = ConsoleSession::open(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let again = session
        .post(
            &format!("/admin/outbox/{id}/retry"),
            &[("reason", "once more")],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.html);
    assert!(again.html.contains("already_sent") || again.html.contains("already sent"));
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_read_only_console_offers_no_retry() {
    let accepting = Arc::new(AtomicBool::new(false));
    let smtp_url = format!("smtp://127.0.0.1:{}", relay(accepting).await);
    let s = Server::start_with(&[
        "--smtp-url",
        &smtp_url,
        "--notify-max-attempts",
        "1",
        "--console-read-only",
    ])
    .await;
    let admin = s.admin().await;
    s.register("rita.outbox@example.com", "a customer's password")
        .await;
    let failed = message(&s, &admin, "rita.outbox@example.com", "failed").await;
    let id = failed["id"].as_str().unwrap();
    let session = ConsoleSession::open(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = session.get("/admin/outbox").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains(&format!("message-{id}")),
        "{}",
        page.html
    );
    assert!(page.html.contains("read-only"), "{}", page.html);
    assert!(!page.html.contains("a class=\"retry\""), "{}", page.html);
    assert!(!page.html.contains("Retry…"), "{}", page.html);
    let confirm = session.get(&format!("/admin/outbox/{id}/retry")).await;
    assert_eq!(confirm.status, 403, "{}", confirm.html);
    let posted = session
        .post(&format!("/admin/outbox/{id}/retry"), &[("reason", "try")])
        .await;
    assert_eq!(posted.status, 403, "{}", posted.html);
}
