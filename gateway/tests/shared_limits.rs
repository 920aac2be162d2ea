//! Two gateways on one database keep one set of limits: the per-IP rate limit and the
//! failed-login count are in PostgreSQL, not in either process. And the rate limit's rows
//! are pruned once the client's allowance is whole again.

mod common;

use common::{with_shop, with_two_gateways_and};
use reqwest::{Client, StatusCode};
use serde_json::json;
use sqlx::PgPool;

async fn get_status(c: &Client, url: &str) -> reqwest::Response {
    c.get(url).send().await.unwrap()
}

/// Six a minute across both: three requests through each gateway spend it all, and the
/// next one is refused by either. Fails with `RATE_LIMIT_STORE=memory`, where each gateway
/// would let six through (the second test shows).
#[tokio::test]
async fn the_rate_limit_is_one_limit_across_gateways() {
    with_two_gateways_and(
        &["--rate-limit-per-minute", "6"],
        |first, second| async move {
            let c = Client::new();
            for base in [&first, &second, &first, &second, &first, &second] {
                let answer = get_status(&c, &format!("{base}/openapi.json")).await;
                assert_eq!(answer.status(), StatusCode::OK, "within the allowance");
            }
            for base in [&first, &second] {
                let refused = get_status(&c, &format!("{base}/openapi.json")).await;
                assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
                let retry_after: u64 = refused.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                // Six a minute: the next one fits 10 s after the first.
                assert!((1..=10).contains(&retry_after), "{retry_after}");
                let body: serde_json::Value = refused.json().await.unwrap();
                assert_eq!(body["code"], "rate_limited", "{body}");
            }
            // Probes are never limited.
            let health = first.trim_end_matches("/api/v1");
            assert_eq!(
                get_status(&c, &format!("{health}/health")).await.status(),
                StatusCode::OK
            );
        },
    )
    .await;
}

/// What the shared limit is for: with `memory`, each gateway counts alone.
#[tokio::test]
async fn in_memory_each_gateway_counts_alone() {
    with_two_gateways_and(
        &[
            "--rate-limit-per-minute",
            "3",
            "--rate-limit-store",
            "memory",
        ],
        |first, second| async move {
            let c = Client::new();
            for base in [&first, &second] {
                for _ in 0..3 {
                    let answer = get_status(&c, &format!("{base}/openapi.json")).await;
                    assert_eq!(answer.status(), StatusCode::OK);
                }
                let refused = get_status(&c, &format!("{base}/openapi.json")).await;
                assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
            }
        },
    )
    .await;
}

/// The failed-login count is one count: two wrong passwords through each gateway reach a
/// limit of four, and then even the right password is refused through either.
#[tokio::test]
async fn failed_logins_count_across_gateways() {
    with_two_gateways_and(
        &["--login-failures-limit", "4"],
        |first, second| async move {
            let c = Client::new();
            let email = "roaming@example.com";
            let password = "violet kestrel under 9 lanterns";
            let registered = c
                .post(format!("{first}/auth/register"))
                .json(&json!({ "email": email, "password": password }))
                .send()
                .await
                .unwrap();
            assert_eq!(registered.status(), StatusCode::CREATED);
            let login = |base: String, password: &'static str| {
                let c = c.clone();
                async move {
                    c.post(format!("{base}/auth/login"))
                        .json(&json!({ "email": email, "password": password }))
                        .send()
                        .await
                        .unwrap()
                }
            };
            for base in [&first, &second, &first, &second] {
                let answer = login(base.clone(), "not the password at all").await;
                assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
            }
            for base in [&first, &second] {
                let refused = login(base.clone(), password).await;
                assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
                let body: serde_json::Value = refused.json().await.unwrap();
                assert_eq!(body["code"], "too_many_login_failures", "{body}");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn pruning_removes_rate_limit_rows_of_whole_allowances() {
    with_shop(&[], |_, db| async move {
        let pool = PgPool::connect(&db).await.unwrap();
        sqlx::query(
            "insert into rate_limit.clients (client_key, tat, admitted) values
                 ('192.0.2.1', now() - interval '1 second', true),
                 ('192.0.2.2', now() + interval '30 seconds', true)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let pruned = gateway::pruning::prune(&pool, gateway::auth::LOGIN_FAILURE_WINDOW)
            .await
            .unwrap();
        assert_eq!(pruned.rate_limit_clients, 1);
        let left: Vec<String> = sqlx::query_scalar("select client_key from rate_limit.clients")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(left, ["192.0.2.2"]);
        pool.close().await;
    })
    .await;
}
