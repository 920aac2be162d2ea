//! Sign-in security over real HTTP against the real `Application`: the failed-login limit
//! holds under a parallel flood and follows its per-address policy; sign-ins, failures,
//! logouts and revoked families reach the audit trail with address and user agent; token
//! answers are never cached; weak passwords are refused; a session has an absolute
//! lifetime; expired session rows are pruned.

mod common;

use std::time::Duration;

use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Strong enough for the policy, and the same everywhere in this file.
const PASSWORD: &str = "violet kestrel under 9 lanterns";

async fn post(c: &Client, url: String, body: Value, ip: Option<&str>) -> (StatusCode, Value) {
    let mut r = c.post(url).json(&body);
    if let Some(ip) = ip {
        r = r.header("x-forwarded-for", ip);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn register(c: &Client, base: &str, email: &str) -> Value {
    let (status, user) = post(
        c,
        format!("{base}/auth/register"),
        json!({ "email": email, "password": PASSWORD }),
        None,
    )
    .await;
    assert_eq!(status, 201, "{user}");
    user
}

async fn login(
    c: &Client,
    base: &str,
    email: &str,
    password: &str,
    ip: Option<&str>,
) -> (StatusCode, Value) {
    post(
        c,
        format!("{base}/auth/login"),
        json!({ "email": email, "password": password }),
        ip,
    )
    .await
}

/// Fails on the old check-then-insert: 200 parallel guesses passed the count 127 times.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_check_at_most_the_limit() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        register(&c, &base, "flood@example.com").await;
        let guesses = (0..200).map(|i| {
            let (c, base) = (c.clone(), base.clone());
            tokio::spawn(async move {
                let password = format!("guess number {i} of many");
                login(&c, &base, "flood@example.com", &password, None).await
            })
        });
        let (mut checked, mut refused) = (0, 0);
        for answer in futures::future::join_all(guesses).await {
            let (status, body) = answer.unwrap();
            match status.as_u16() {
                401 => checked += 1,
                429 => {
                    assert_eq!(body["code"], "too_many_login_failures", "{body}");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert!(
            (1..=10).contains(&checked),
            "at most LOGIN_FAILURES_LIMIT (10) passwords are checked, {checked} were"
        );
        assert_eq!(checked + refused, 200);
        // The limit holds for the right password too, from this address.
        let (status, _) = login(&c, &base, "flood@example.com", PASSWORD, None).await;
        assert_eq!(status, 429);
    })
    .await;
}

/// The policy: failures count per account and address (3 here), with a ceiling per
/// account from all addresses (5 here); a lockout lasts 15 minutes from the oldest
/// counted failure, never longer.
#[tokio::test]
async fn a_flood_from_one_address_does_not_lock_the_owner_out_elsewhere() {
    const FLAGS: &[&str] = &[
        "--trust-forwarded-for",
        "--login-failures-limit",
        "3",
        "--login-failures-account-limit",
        "5",
    ];
    with_shop(FLAGS, |base, db| async move {
        let c = Client::new();
        register(&c, &base, "owner@example.com").await;
        let attacker = Some("203.0.113.66");
        for _ in 0..3 {
            let (status, _) = login(
                &c,
                &base,
                "owner@example.com",
                "not the password at all",
                attacker,
            )
            .await;
            assert_eq!(status, 401);
        }
        let (status, body) = login(&c, &base, "owner@example.com", PASSWORD, attacker).await;
        assert_eq!(status, 429, "the attacking address is locked out: {body}");
        assert_eq!(body["code"], "too_many_login_failures");

        // The owner, from home, is not.
        let (status, pair) = login(
            &c,
            &base,
            "owner@example.com",
            PASSWORD,
            Some("198.51.100.7"),
        )
        .await;
        assert_eq!(status, 200, "{pair}");
        // A right password gives its attempt back: it never counts against the owner.
        let (status, _) = login(
            &c,
            &base,
            "owner@example.com",
            PASSWORD,
            Some("198.51.100.7"),
        )
        .await;
        assert_eq!(status, 200);

        // Addresses that rotate reach the account's ceiling: then every address waits,
        // and is told for how long (no more than the 15-minute window).
        for ip in ["203.0.113.1", "203.0.113.2"] {
            let (status, _) = login(
                &c,
                &base,
                "owner@example.com",
                "not the password at all",
                Some(ip),
            )
            .await;
            assert_eq!(status, 401);
        }
        let r = c
            .post(format!("{base}/auth/login"))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({ "email": "owner@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait > 0 && wait <= 15 * 60, "{wait}");

        // Once the failures are older than the window, the lockout is over.
        let pool = PgPool::connect(&db).await.unwrap();
        sqlx::query("update auth.login_failures set failed_at = now() - interval '16 minutes'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let (status, _) = login(&c, &base, "owner@example.com", PASSWORD, attacker).await;
        assert_eq!(status, 200, "even the attacking address may try again");
    })
    .await;
}

/// The audit entries of `user`'s session stream, once there are `n` of them.
async fn session_trail(c: &Client, base: &str, admin: &str, user: &str, n: usize) -> Vec<Value> {
    for _ in 0..300 {
        let page: Value = c
            .get(format!("{base}/audit?resource=session:{user}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the audit trail of session:{user} never reached {n} entries");
}

#[tokio::test]
async fn sign_ins_failures_logouts_and_revocations_are_audited() {
    with_shop(&["--trust-forwarded-for"], |base, _| async move {
        let c = Client::builder()
            .user_agent("audit-probe/1.0")
            .build()
            .unwrap();
        let user = register(&c, &base, "ann@example.com").await;
        let id = user["id"].as_str().unwrap().to_owned();
        let ip = Some("198.51.100.23");

        let (status, _) = login(&c, &base, "ann@example.com", "not the password at all", ip).await;
        assert_eq!(status, 401);
        let (status, first) = login(&c, &base, "ann@example.com", PASSWORD, ip).await;
        assert_eq!(status, 200);
        let stolen = first["refresh_token"].as_str().unwrap().to_owned();
        let (status, _) = post(
            &c,
            format!("{base}/auth/refresh"),
            json!({ "refresh_token": stolen }),
            ip,
        )
        .await;
        assert_eq!(status, 200);
        // The spent token again: a copy; its family is revoked.
        let (status, _) = post(
            &c,
            format!("{base}/auth/refresh"),
            json!({ "refresh_token": stolen }),
            ip,
        )
        .await;
        assert_eq!(status, 401);
        let (_, second) = login(&c, &base, "ann@example.com", PASSWORD, ip).await;
        let r = c
            .post(format!("{base}/auth/logout"))
            .header("x-forwarded-for", "198.51.100.23")
            .json(&json!({ "refresh_token": second["refresh_token"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);

        let (_, admin) = login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
        let admin = admin["access_token"].as_str().unwrap().to_owned();
        let trail = session_trail(&c, &base, &admin, &id, 5).await;
        let mut actions: Vec<&str> = trail
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        actions.reverse();
        assert_eq!(
            actions,
            [
                "SignInFailed",
                "SignedIn",
                "SessionRevoked",
                "SignedIn",
                "SignedOut"
            ],
            "{trail:#?}"
        );
        for entry in &trail {
            assert_eq!(entry["ip_address"], "198.51.100.23", "{entry}");
            assert_eq!(entry["user_agent"], "audit-probe/1.0", "{entry}");
            assert_eq!(entry["resource"], "session");
        }
        let failed = trail
            .iter()
            .find(|e| e["action"] == "SignInFailed")
            .unwrap();
        assert_eq!(failed["details"]["reason"], "wrong_password");
        assert_eq!(
            failed["user_id"],
            Value::Null,
            "the guesser is not the owner"
        );
        let signed_in = trail.iter().find(|e| e["action"] == "SignedIn").unwrap();
        assert_eq!(signed_in["user_id"], id.as_str());
        let revoked = trail
            .iter()
            .find(|e| e["action"] == "SessionRevoked")
            .unwrap();
        assert_eq!(revoked["details"]["reason"], "refresh_token_reused");
        // No secret travels with them.
        let text = serde_json::to_string(&trail).unwrap();
        for secret in [PASSWORD, &stolen, second["refresh_token"].as_str().unwrap()] {
            assert!(!text.contains(secret), "{secret} in the trail");
        }
    })
    .await;
}

#[tokio::test]
async fn token_and_personal_answers_are_never_cached() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let user = register(&c, &base, "cache@example.com").await;
        let id = user["id"].as_str().unwrap();
        let r = c
            .post(format!("{base}/auth/login"))
            .json(&json!({ "email": "cache@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        let pair: Value = r.json().await.unwrap();
        let access = pair["access_token"].as_str().unwrap();
        for path in [
            "/auth/profile".to_owned(),
            format!("/users/{id}/addresses"),
            "/orders".into(),
        ] {
            let r = c
                .get(format!("{base}{path}"))
                .bearer_auth(access)
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        }
        let r = c
            .post(format!("{base}/auth/refresh"))
            .json(&json!({ "refresh_token": pair["refresh_token"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
    })
    .await;
}

#[tokio::test]
async fn weak_passwords_are_refused_with_advice() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        for (email, password) in [
            ("weak@example.com", "password1234"),
            ("weak@example.com", "qwertyuiop123"),
            // Long and odd, but made of the account's own address.
            ("annabelle.lindqvist@example.com", "annabelle.lindqvist2024"),
        ] {
            let (status, problem) = post(
                &c,
                format!("{base}/auth/register"),
                json!({ "email": email, "password": password }),
                None,
            )
            .await;
            assert_eq!(status, 422, "{password}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "password");
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(message.starts_with("is too easy to guess"), "{message}");
        }
        // Admins creating accounts are held to the same policy.
        let (_, admin) = login(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
        let r = c
            .post(format!("{base}/users"))
            .bearer_auth(admin["access_token"].as_str().unwrap())
            .json(&json!({ "email": "staffer@example.com", "password": "password1234", "role": "staff" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "password");
    })
    .await;
}

/// A family ends `REFRESH_FAMILY_LIFETIME` after its login however often it is rotated.
#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime() {
    with_shop(
        &["--refresh-family-lifetime", "1h"],
        |base, db| async move {
            let c = Client::new();
            register(&c, &base, "long@example.com").await;
            let (_, pair) = login(&c, &base, "long@example.com", PASSWORD, None).await;
            let (status, rotated) = post(
                &c,
                format!("{base}/auth/refresh"),
                json!({ "refresh_token": pair["refresh_token"] }),
                None,
            )
            .await;
            assert_eq!(status, 200);
            let pool = PgPool::connect(&db).await.unwrap();
            // No token of the family outlives its first login by more than the lifetime.
            let beyond: i64 = sqlx::query_scalar(
                "select count(*) from auth.refresh_tokens
              where expires_at > family_started_at + interval '1 hour'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(beyond, 0);
            // A family that began longer ago than that cannot be continued.
            sqlx::query(
                "update auth.refresh_tokens set family_started_at = now() - interval '2 hours',
                    issued_at = now() - interval '2 hours'",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
            let (status, problem) = post(
                &c,
                format!("{base}/auth/refresh"),
                json!({ "refresh_token": rotated["refresh_token"] }),
                None,
            )
            .await;
            assert_eq!(status, 401, "{problem}");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("absolute lifetime"),
                "{problem}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn pruning_removes_expired_session_rows_and_keeps_live_ones() {
    with_shop(&[], |_, db| async move {
        let pool = PgPool::connect(&db).await.unwrap();
        sqlx::query(
            "insert into auth.login_failures (email, failed_at) values
                 ('old@example.com', now() - interval '1 hour'),
                 ('new@example.com', now())",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into auth.refresh_tokens (token_hash, family_id, user_id, expires_at) values
                 ('\\x01', gen_random_uuid(), gen_random_uuid(), now() - interval '1 minute'),
                 ('\\x02', gen_random_uuid(), gen_random_uuid(), now() + interval '1 day')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into idempotency.responses (scope, idempotency_key, fingerprint, expires_at) values
                 ('ip:1', 'old', '\\x00', now() - interval '1 minute'),
                 ('ip:1', 'new', '\\x00', now() + interval '1 day')",
        )
        .execute(&pool)
        .await
        .unwrap();

        let pruned = gateway::pruning::prune(&pool, gateway::auth::LOGIN_FAILURE_WINDOW)
            .await
            .unwrap();
        assert_eq!(
            (pruned.login_failures, pruned.refresh_tokens, pruned.idempotency_responses),
            (1, 1, 1)
        );
        let left: (String, i64, String) = sqlx::query_as(
            "select (select string_agg(email, ',') from auth.login_failures),
                    (select count(*) from auth.refresh_tokens where expires_at > now()),
                    (select string_agg(idempotency_key, ',') from idempotency.responses)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(left, ("new@example.com".into(), 1, "new".into()));
        pool.close().await;
    })
    .await;
}
