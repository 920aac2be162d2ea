//! `X-Consistency-Token` cannot be turned against the server: a token beyond every write
//! the store has is refused at once (400), not waited on; a token a command answered still
//! reads its write, even one whose event is committed but not yet readable.

mod common;

use std::time::Duration;

use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

async fn send(r: RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn admin(c: &Client, base: &str) -> String {
    let (status, _, pair) = send(
        c.post(format!("{base}/auth/login"))
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    pair["access_token"].as_str().unwrap().to_owned()
}

/// The harness waits 30 s for a token before answering 503; a token nobody was given
/// must not buy that wait. Every query route answers 400 instead of waiting it out.
#[tokio::test]
async fn a_token_beyond_the_stores_head_is_refused_at_once() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = admin(&c, &base).await;
        let (status, headers, _) = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .json(&json!({ "name": "Mugs" })),
        )
        .await;
        assert_eq!(status, 201);
        let written: commands::store::Position = headers["x-consistency-token"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let forged = commands::store::Position::new(written.commit + 1_000_000, 0).to_string();
        for path in ["/products", "/categories", "/cart", "/orders", "/audit"] {
            let (status, headers, problem) = send(
                c.get(format!("{base}{path}"))
                    .bearer_auth(&admin)
                    .header("x-consistency-token", &forged),
            )
            .await;
            assert_eq!(
                (status, problem["code"].as_str()),
                (400, Some("invalid_consistency_token")),
                "{path}: {problem}"
            );
            assert_eq!(headers["content-type"], "application/problem+json");
        }
    })
    .await;
}

/// A category created while an older transaction is open is committed but hidden from
/// readers of `$all` until that transaction ends. Its token is still one the store gave:
/// the read waits for it (it answers neither 400 nor anything else while hidden) and then
/// reads the write.
#[tokio::test]
async fn a_token_for_a_write_not_yet_readable_is_waited_on_then_reads_it() {
    with_shop(&[], |base, database_url| async move {
        let c = Client::new();
        let admin = admin(&c, &base).await;
        let db = sqlx::PgPool::connect(&database_url).await.unwrap();
        let mut older = db.begin().await.unwrap();
        sqlx::query("select pg_current_xact_id()")
            .execute(&mut *older)
            .await
            .unwrap();
        let (status, headers, created) = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .json(&json!({ "name": "Hidden mugs" })),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let token = headers["x-consistency-token"].to_str().unwrap().to_owned();
        let path = format!("{base}/categories/{}", created["id"].as_str().unwrap());
        let read = || {
            send(
                c.get(&path)
                    .bearer_auth(&admin)
                    .header("x-consistency-token", &token),
            )
        };
        // While the event is hidden no answer is right: a 400 would call the token forged,
        // a 200 would not show the write.
        let early = tokio::time::timeout(Duration::from_secs(2), read()).await;
        assert!(early.is_err(), "answered while hidden: {early:?}");
        older.commit().await.unwrap();
        let (status, _, category) = read().await;
        assert_eq!(status, 200, "{category}");
        assert_eq!(category["name"], "Hidden mugs");
        db.close().await;
    })
    .await;
}
