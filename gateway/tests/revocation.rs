//! Role and status changes take effect at once (issue 18, item 4), over real HTTP against
//! the real `Application`: the access tokens issued before a demotion, a suspension or
//! "log out everywhere" stop working on the next request, not when they expire.

mod common;

use std::time::{Duration, Instant};

use common::{
    json_call as call, with_shop, with_two_gateways, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE,
};
use reqwest::Client;
use serde_json::{json, Value};

async fn login(c: &Client, base: &str, email: &str, password: &str) -> Value {
    let (status, pair) = common::login(c, base, email, password).await;
    assert_eq!(status, 200, "{pair}");
    pair
}

fn access(pair: &Value) -> String {
    pair["access_token"].as_str().unwrap().to_owned()
}

/// An admin creates an account with `role` and answers its id.
async fn create(c: &Client, base: &str, admin: &str, email: &str, role: &str) -> String {
    let (status, user) = call(
        c,
        "POST",
        format!("{base}/users"),
        admin,
        Some(json!({ "email": email, "password": PASSWORD, "role": role })),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

const PASSWORD: &str = "violet kestrel under 9 lanterns";

/// Fails on the old code: the demoted admin's old token still created an admin (201).
#[tokio::test]
async fn a_demoted_admin_s_old_token_cannot_create_admins() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let root = access(&login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await);
        let eve = create(&c, &base, &root, "eve@example.com", "admin").await;
        let eve_token = access(&login(&c, &base, "eve@example.com", PASSWORD).await);
        let (status, _) = call(&c, "GET", format!("{base}/users"), &eve_token, None).await;
        assert_eq!(status, 200, "an admin's token works before the demotion");

        let (status, body) = call(
            &c,
            "PUT",
            format!("{base}/users/{eve}"),
            &root,
            Some(json!({ "role": "customer" })),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(
            &c,
            "POST",
            format!("{base}/users"),
            &eve_token,
            Some(json!({ "email": "mallory@example.com", "password": PASSWORD, "role": "admin" })),
        )
        .await;
        assert_eq!(status, 401, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("revoked"),
            "{body}"
        );
        // Signed in again, she holds what her role now allows.
        let eve_token = access(&login(&c, &base, "eve@example.com", PASSWORD).await);
        let (status, _) = call(
            &c,
            "POST",
            format!("{base}/users"),
            &eve_token,
            Some(json!({ "email": "mallory@example.com", "password": PASSWORD, "role": "admin" })),
        )
        .await;
        assert_eq!(status, 403);
        // The admin's own token was never touched.
        let (status, _) = call(&c, "GET", format!("{base}/users"), &root, None).await;
        assert_eq!(status, 200);
    })
    .await;
}

/// Fails on the old code: a suspended staff member's old token still read the outbox.
#[tokio::test]
async fn a_suspended_staff_member_s_old_token_cannot_read_notifications() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let root = access(&login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await);
        let sam = create(&c, &base, &root, "sam@example.com", "staff").await;
        let pair = login(&c, &base, "sam@example.com", PASSWORD).await;
        let sam_token = access(&pair);
        let (status, _) = call(&c, "GET", format!("{base}/notifications"), &sam_token, None).await;
        assert_eq!(status, 200);

        let (status, _) = call(&c, "DELETE", format!("{base}/users/{sam}"), &root, None).await;
        assert_eq!(status, 204);
        let (status, body) =
            call(&c, "GET", format!("{base}/notifications"), &sam_token, None).await;
        assert_eq!(status, 401, "{body}");
        // Nor does a refresh give him a new one.
        let r = c
            .post(format!("{base}/auth/refresh"))
            .json(&json!({ "refresh_token": pair["refresh_token"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    })
    .await;
}

/// "Log out everywhere" ends every session of the caller: each access token (the one it
/// was called with included) and each refresh token; other accounts keep theirs.
#[tokio::test]
async fn logging_out_everywhere_cuts_every_token_of_the_account() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let root = access(&login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await);
        create(&c, &base, &root, "ann@example.com", "customer").await;
        let phone = login(&c, &base, "ann@example.com", PASSWORD).await;
        let laptop = login(&c, &base, "ann@example.com", PASSWORD).await;
        for pair in [&phone, &laptop] {
            let (status, _) = call(
                &c,
                "GET",
                format!("{base}/auth/profile"),
                &access(pair),
                None,
            )
            .await;
            assert_eq!(status, 200);
        }

        let (status, body) = call(
            &c,
            "POST",
            format!("{base}/auth/logout-all"),
            &access(&phone),
            None,
        )
        .await;
        assert_eq!(status, 204, "{body}");
        for pair in [&phone, &laptop] {
            let (status, _) = call(
                &c,
                "GET",
                format!("{base}/auth/profile"),
                &access(pair),
                None,
            )
            .await;
            assert_eq!(status, 401);
            let r = c
                .post(format!("{base}/auth/refresh"))
                .json(&json!({ "refresh_token": pair["refresh_token"] }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        }
        let (status, _) = call(&c, "GET", format!("{base}/users"), &root, None).await;
        assert_eq!(status, 200, "another account's session is untouched");
        let again = login(&c, &base, "ann@example.com", PASSWORD).await;
        let (status, _) = call(
            &c,
            "GET",
            format!("{base}/auth/profile"),
            &access(&again),
            None,
        )
        .await;
        assert_eq!(status, 200, "a new sign-in works");
    })
    .await;
}

/// A suspension made through one gateway cuts the token on another, which had the
/// account's version cached: the second learns of it from the log, not from the request.
#[tokio::test]
async fn a_suspension_through_one_gateway_cuts_the_token_on_another() {
    with_two_gateways(|first, second| async move {
        let c = Client::new();
        let root = access(&login(&c, &first, ADMIN_EMAIL, ADMIN_PASSWORD).await);
        let sam = create(&c, &first, &root, "sam@example.com", "staff").await;
        let sam_token = access(&login(&c, &second, "sam@example.com", PASSWORD).await);
        let (status, _) = call(
            &c,
            "GET",
            format!("{second}/notifications"),
            &sam_token,
            None,
        )
        .await;
        assert_eq!(status, 200, "the second gateway now holds his version");

        let (status, _) = call(&c, "DELETE", format!("{first}/users/{sam}"), &root, None).await;
        assert_eq!(status, 204);
        let started = Instant::now();
        loop {
            let (status, _) = call(
                &c,
                "GET",
                format!("{second}/notifications"),
                &sam_token,
                None,
            )
            .await;
            if status == 401 {
                break;
            }
            assert_eq!(status, 200);
            assert!(
                started.elapsed() < PATIENCE,
                "the second gateway never cut the token"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        println!(
            "cut on the other gateway after {} ms",
            started.elapsed().as_millis()
        );
    })
    .await;
}
