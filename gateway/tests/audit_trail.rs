//! The audit trail cannot be steered by a client: correlation ids are the server's, the
//! client's `X-Request-Id` is kept beside them as `client_request_id`, and a password reset
//! asked for by someone not signed in does not name the account's owner as its actor.

mod common;

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

async fn login(c: &Client, base: &str, email: &str, password: &str) -> String {
    let (status, _, pair) = send(
        c.post(format!("{base}/auth/login"))
            .json(&json!({ "email": email, "password": password })),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    pair["access_token"].as_str().unwrap().to_owned()
}

/// The audit entries for `query`, once the trail covers `token`.
async fn audit(c: &Client, base: &str, admin: &str, query: &str, token: &str) -> Vec<Value> {
    let (status, _, page) = send(
        c.get(format!("{base}/audit?{query}"))
            .bearer_auth(admin)
            .header("x-consistency-token", token),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_client_request_id_labels_events_but_never_joins_trails() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, _, ann) = send(
            c.post(format!("{base}/auth/register"))
                .json(&json!({ "email": "ann@example.com", "password": "customer password" })),
        )
        .await;
        assert_eq!(status, 201, "{ann}");
        let ann_id = ann["id"].as_str().unwrap().to_owned();
        let ann = login(&c, &base, "ann@example.com", "customer password").await;

        // A customer reuses the id an admin's request went out with.
        let shared = "trace-shared-42";
        let (status, admin_headers, _) = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .header("x-request-id", shared)
                .json(&json!({ "name": "Staff picks" })),
        )
        .await;
        assert_eq!(status, 201);
        let address = json!({
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
        });
        let (status, ann_headers, body) = send(
            c.post(format!("{base}/users/{ann_id}/addresses"))
                .bearer_auth(&ann)
                .header("x-request-id", shared)
                .json(&address),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        // The header contract stands: the client's id is echoed.
        for h in [&admin_headers, &ann_headers] {
            assert_eq!(h["x-request-id"], shared);
        }

        let token =
            |h: &reqwest::header::HeaderMap| h["x-consistency-token"].to_str().unwrap().to_owned();
        let admins = audit(
            &c,
            &base,
            &admin,
            &format!("client_request_id={shared}&action=CategoryCreated"),
            &token(&admin_headers),
        )
        .await;
        let anns = audit(
            &c,
            &base,
            &admin,
            &format!("client_request_id={shared}&actor={ann_id}"),
            &token(&ann_headers),
        )
        .await;
        assert!(
            !admins.is_empty() && !anns.is_empty(),
            "{admins:?} {anns:?}"
        );
        for e in admins.iter().chain(&anns) {
            assert_eq!(e["client_request_id"], shared, "{e}");
        }
        let admin_correlation = admins[0]["correlation_id"].as_str().unwrap();
        let ann_correlation = anns[0]["correlation_id"].as_str().unwrap();
        assert_ne!(
            admin_correlation, ann_correlation,
            "one client id, two requests, two trails"
        );
        // Following the admin's request finds only the admin's events.
        let trail = audit(
            &c,
            &base,
            &admin,
            &format!("correlation_id={admin_correlation}"),
            &token(&ann_headers),
        )
        .await;
        assert!(!trail.is_empty());
        assert!(
            trail.iter().all(|e| e["user_id"] != ann_id.as_str()),
            "{trail:?}"
        );

        // Without a client id the echoed one is the correlation id itself.
        let (status, headers, body) = send(
            c.post(format!("{base}/users/{ann_id}/addresses"))
                .bearer_auth(&ann)
                .json(&address),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let made = headers["x-request-id"].to_str().unwrap().to_owned();
        let mine = audit(
            &c,
            &base,
            &admin,
            &format!("correlation_id={made}"),
            &token(&headers),
        )
        .await;
        assert!(!mine.is_empty());
        assert!(mine.iter().all(|e| e["client_request_id"].is_null()));
    })
    .await;
}

#[tokio::test]
async fn forgot_password_is_recorded_as_anonymous_not_as_the_owner() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, headers, ann) = send(
            c.post(format!("{base}/auth/register"))
                .json(&json!({ "email": "ann@example.com", "password": "customer password" })),
        )
        .await;
        assert_eq!(status, 201, "{ann}");
        let registered = headers["x-consistency-token"].to_str().unwrap().to_owned();
        let (status, _, _) = send(
            c.post(format!("{base}/auth/forgot-password"))
                .header("x-request-id", "forgot-1")
                .json(&json!({ "email": "ann@example.com" })),
        )
        .await;
        assert_eq!(status, 202);
        // The request is handled after the answer, so there is no token to wait on: look
        // until the trail has it.
        let look = async {
            loop {
                let found = audit(
                    &c,
                    &base,
                    &admin,
                    "action=PasswordResetRequested",
                    &registered,
                )
                .await;
                if let Some(e) = found.into_iter().next() {
                    break e;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        // Only a guard against a hang; a slow machine takes far less.
        let entry = tokio::time::timeout(std::time::Duration::from_secs(60), look)
            .await
            .expect("the reset request reached the trail");
        assert_eq!(entry["resource_id"], ann["id"], "{entry}");
        assert_eq!(entry["user_id"], Value::Null, "{entry}");
        assert_eq!(entry["role"], "anonymous", "{entry}");
        assert_eq!(entry["client_request_id"], "forgot-1", "{entry}");
    })
    .await;
}
