//! `Idempotency-Key` over real HTTP: a retry replays the first answer and creates nothing
//! new, another request under the same key is refused, a concurrent duplicate never runs
//! twice, keys are per caller (user or guest cart), and without a key nothing changes.
//! `/auth/*` is never kept (so a spent refresh token stays spent), refusals are not
//! replayed, and each caller keeps a bounded number of answers.

mod common;

use common::with_shop;

use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

async fn send(r: RequestBuilder, body: Option<Value>) -> Answer {
    let r = match body {
        Some(b) => r.json(&b),
        None => r,
    };
    let r = r.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn login(c: &Client, base: &str, email: &str, password: &str) -> String {
    let pair: Value = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"].as_str().expect("logged in").to_owned()
}

// On several threads: the burst of copies below is a race the server must win.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_keys_replay_refuse_and_scope() {
    with_shop(&[], |base, _| async move { journey(&base).await }).await;
}

const ADDRESS: &str =
    r#"{"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}"#;

fn order(product: &str, quantity: u32) -> Value {
    json!({
        "items": [{ "product_id": product, "quantity": quantity }],
        "shipping_address": serde_json::from_str::<Value>(ADDRESS).unwrap(),
        "payment_method": "card",
    })
}

/// How many orders `token`'s owner has, once the read model shows `consistency`.
async fn orders_of(c: &Client, base: &str, token: &str, consistency: &str) -> u64 {
    let list = send(
        c.get(format!("{base}/orders"))
            .bearer_auth(token)
            .header("x-consistency-token", consistency),
        None,
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.body["total"].as_u64().unwrap()
}

async fn journey(base: &str) {
    let c = Client::new();
    let admin = login(&c, base, "root@example.com", "a long admin password").await;
    let cat = send(
        c.post(format!("{base}/categories")).bearer_auth(&admin),
        Some(json!({ "name": "Mugs" })),
    )
    .await;
    let mug = send(c.post(format!("{base}/products")).bearer_auth(&admin), Some(json!({
        "sku": "MUG-1", "name": "Mug", "category_id": cat.body["id"], "price": { "amount": 1250, "currency": "USD" }
    }))).await;
    let mug = mug.body["id"].as_str().unwrap().to_owned();

    let registered = send(
        c.post(format!("{base}/auth/register")),
        Some(json!({ "email": "ann@example.com", "password": "customer password" })),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let ann = login(&c, base, "ann@example.com", "customer password").await;
    let first = send(
        c.post(format!("{base}/orders"))
            .bearer_auth(&ann)
            .header("idempotency-key", "order-1"),
        Some(order(&mug, 2)),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.body);
    let consistency = first.header("x-consistency-token").unwrap();
    // Same key, same body with its keys in another order and other spacing: the same request.
    let retried = c
        .post(format!("{base}/orders"))
        .bearer_auth(&ann)
        .header("idempotency-key", "order-1")
        .header("content-type", "application/json")
        .body(format!(
            r#"{{ "payment_method": "card", "shipping_address": {ADDRESS}, "items": [{{"quantity": 2, "product_id": "{mug}"}}] }}"#
        ));
    let replay = send(retried, None).await;
    assert_eq!(replay.status, 202);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.body, first.body, "the identical answer");
    assert_eq!(
        replay.header("x-consistency-token").as_deref(),
        Some(consistency.as_str())
    );
    assert_eq!(replay.header("content-type"), first.header("content-type"));
    assert_eq!(
        orders_of(&c, base, &ann, &consistency).await,
        1,
        "one order, not two"
    );

    let other = send(
        c.post(format!("{base}/orders"))
            .bearer_auth(&ann)
            .header("idempotency-key", "order-1"),
        Some(order(&mug, 3)),
    )
    .await;
    assert_eq!(
        (other.status, other.body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        ),
        "{}",
        other.body
    );
    assert_eq!(
        other.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let elsewhere = send(
        c.post(format!("{base}/cart/items"))
            .bearer_auth(&ann)
            .header("idempotency-key", "order-1"),
        Some(order(&mug, 2)),
    )
    .await;
    assert_eq!(
        elsewhere.status, 422,
        "a key names one request, path included"
    );

    // Keys are per user: Eve's "order-1" is hers.
    send(
        c.post(format!("{base}/auth/register")),
        Some(json!({ "email": "eve@example.com", "password": "customer password" })),
    )
    .await;
    let eve = login(&c, base, "eve@example.com", "customer password").await;
    let hers = send(
        c.post(format!("{base}/orders"))
            .bearer_auth(&eve)
            .header("idempotency-key", "order-1"),
        Some(order(&mug, 2)),
    )
    .await;
    assert_eq!(hers.status, 202);
    assert_eq!(hers.header("idempotent-replayed"), None);
    assert_ne!(hers.body["id"], first.body["id"]);
    assert_eq!(hers.body["user_id"], eve_id(&c, base, &eve).await);

    // Eight copies at once: one runs, the others are refused while it runs or replay it.
    let burst: Vec<_> = (0..8)
        .map(|_| {
            send(
                c.post(format!("{base}/orders"))
                    .bearer_auth(&ann)
                    .header("idempotency-key", "burst"),
                Some(order(&mug, 1)),
            )
        })
        .collect();
    let answers = futures::future::join_all(burst).await;
    let fresh: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 202 && a.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(fresh.len(), 1, "exactly one copy ran");
    for a in &answers {
        match a.status.as_u16() {
            202 => assert_eq!(a.body, fresh[0].body),
            409 => assert_eq!(a.body["code"], "idempotency_key_in_flight"),
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    let consistency = fresh[0].header("x-consistency-token").unwrap();
    assert_eq!(orders_of(&c, base, &ann, &consistency).await, 2);

    // Without a key, two calls are two orders.
    let a = send(
        c.post(format!("{base}/orders")).bearer_auth(&ann),
        Some(order(&mug, 1)),
    )
    .await;
    let b = send(
        c.post(format!("{base}/orders")).bearer_auth(&ann),
        Some(order(&mug, 1)),
    )
    .await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (202, 202));
    assert_ne!(a.body["id"], b.body["id"]);
    let consistency = b.header("x-consistency-token").unwrap();
    assert_eq!(orders_of(&c, base, &ann, &consistency).await, 4);

    let long = send(
        c.post(format!("{base}/orders"))
            .bearer_auth(&ann)
            .header("idempotency-key", "k".repeat(256)),
        Some(order(&mug, 1)),
    )
    .await;
    assert_eq!(
        (long.status, long.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_idempotency_key"))
    );
    // A GET is a query: the header changes nothing.
    let query = send(
        c.get(format!("{base}/orders"))
            .bearer_auth(&ann)
            .header("idempotency-key", "order-1"),
        None,
    )
    .await;
    assert_eq!(query.status, 200);
    assert_eq!(query.header("idempotent-replayed"), None);
}

async fn eve_id(c: &Client, base: &str, token: &str) -> Value {
    send(
        c.get(format!("{base}/auth/profile")).bearer_auth(token),
        None,
    )
    .await
    .body["id"]
        .clone()
}

/// Every kept answer, as text: scope, key, headers and body.
async fn kept_rows(database_url: &str) -> Vec<String> {
    let db = sqlx::PgPool::connect(database_url).await.unwrap();
    type Row = (String, String, Option<String>, Option<Vec<u8>>);
    let rows: Vec<Row> = sqlx::query_as(
        "select scope, idempotency_key, headers::text, body from idempotency.responses",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    rows.into_iter()
        .map(|(scope, key, headers, body)| {
            format!(
                "{scope} {key} {} {}",
                headers.unwrap_or_default(),
                String::from_utf8_lossy(&body.unwrap_or_default())
            )
        })
        .collect()
}

/// A refresh sent twice under one key is a reuse of a spent token (401, its family
/// revoked), not a replay of the first pair; no answer of `/auth/*` is kept, so no row
/// holds a token.
#[tokio::test]
async fn auth_answers_are_never_kept_and_a_spent_refresh_token_stays_spent() {
    with_shop(&[], |base, db| async move {
        let c = Client::new();
        let registered = send(
            c.post(format!("{base}/auth/register"))
                .header("idempotency-key", "register-1"),
            Some(json!({ "email": "ann@example.com", "password": "customer password" })),
        )
        .await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        let credentials = json!({ "email": "ann@example.com", "password": "customer password" });
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let pair = send(
                c.post(format!("{base}/auth/login"))
                    .header("idempotency-key", "login-1"),
                Some(credentials.clone()),
            )
            .await;
            assert_eq!(pair.status, 200, "{}", pair.body);
            assert_eq!(pair.header("idempotent-replayed"), None);
            tokens.push(pair.body);
        }
        assert_ne!(
            tokens[0]["refresh_token"], tokens[1]["refresh_token"],
            "two sign-ins, two sessions"
        );
        let spent = json!({ "refresh_token": tokens[0]["refresh_token"] });
        let rotated = send(
            c.post(format!("{base}/auth/refresh"))
                .header("idempotency-key", "refresh-1"),
            Some(spent.clone()),
        )
        .await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        let again = send(
            c.post(format!("{base}/auth/refresh"))
                .header("idempotency-key", "refresh-1"),
            Some(spent),
        )
        .await;
        assert_eq!(again.status, 401, "a reuse, not a replay: {}", again.body);
        assert_eq!(again.header("idempotent-replayed"), None);
        // The reuse revoked the family: the pair the first refresh gave is dead too.
        let successor = send(
            c.post(format!("{base}/auth/refresh")),
            Some(json!({ "refresh_token": rotated.body["refresh_token"] })),
        )
        .await;
        assert_eq!(successor.status, 401, "{}", successor.body);
        tokens.push(rotated.body);

        let rows = kept_rows(&db).await;
        for pair in &tokens {
            for name in ["access_token", "refresh_token"] {
                let token = pair[name].as_str().unwrap();
                assert!(
                    rows.iter().all(|r| !r.contains(token)),
                    "a kept answer holds a {name}: {rows:?}"
                );
            }
        }
        assert!(rows.is_empty(), "nothing of /auth is kept: {rows:?}");
    })
    .await;
}

/// Two guests behind one address, one key: each gets the answer to their own request.
/// Their keys are scoped by their cart tokens, which the table holds only as hashes.
#[tokio::test]
async fn guests_behind_one_address_keep_their_own_answers() {
    with_shop(&[], |base, db| async move {
        let c = Client::new();
        let admin = login(&c, &base, "root@example.com", "a long admin password").await;
        let cat = send(
            c.post(format!("{base}/categories")).bearer_auth(&admin),
            Some(json!({ "name": "Mugs" })),
        )
        .await;
        let mug = send(c.post(format!("{base}/products")).bearer_auth(&admin), Some(json!({
            "sku": "MUG-1", "name": "Mug", "category_id": cat.body["id"], "price": { "amount": 1250, "currency": "USD" }
        }))).await;
        let line = json!({ "product_id": mug.body["id"], "quantity": 1 });
        let mut guests = Vec::new();
        for _ in 0..2 {
            // A first line, with a key: no cart token yet, so nothing to scope it by.
            let first = send(
                c.post(format!("{base}/cart/items"))
                    .header("idempotency-key", "first"),
                Some(line.clone()),
            )
            .await;
            assert_eq!(first.status, 201, "{}", first.body);
            assert_eq!(first.header("idempotent-replayed"), None);
            guests.push(first.header("x-guest-cart").unwrap());
        }
        assert_ne!(guests[0], guests[1], "two guests, two carts");
        let mut answers = Vec::new();
        for token in &guests {
            let more = send(
                c.post(format!("{base}/cart/items"))
                    .header("x-guest-cart", token)
                    .header("idempotency-key", "same"),
                Some(line.clone()),
            )
            .await;
            assert_eq!(more.status, 201, "{}", more.body);
            assert_eq!(more.header("idempotent-replayed"), None, "{}", more.body);
            assert_eq!(more.body["item_count"], 2, "{}", more.body);
            answers.push(more);
        }
        assert_ne!(answers[0].body["id"], answers[1].body["id"]);
        // Each guest's retry replays their own answer.
        let retry = send(
            c.post(format!("{base}/cart/items"))
                .header("x-guest-cart", &guests[1])
                .header("idempotency-key", "same"),
            Some(line.clone()),
        )
        .await;
        assert_eq!(
            retry.header("idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(retry.body, answers[1].body);
        let rows = kept_rows(&db).await;
        assert_eq!(rows.len(), 2, "{rows:?}");
        for token in &guests {
            assert!(rows.iter().all(|r| !r.contains(token.as_str())), "{rows:?}");
        }
    })
    .await;
}

/// A refusal is not kept: once the state changes, the same request under the same key
/// runs and succeeds.
#[tokio::test]
async fn a_refusal_is_not_replayed() {
    with_shop(&[], |base, db| async move {
        let c = Client::new();
        let admin = login(&c, &base, "root@example.com", "a long admin password").await;
        let category = json!({ "name": "Mugs" });
        let first = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .header("idempotency-key", "cat-1"),
            Some(json!({ "name": "" })),
        )
        .await;
        assert!(first.status.is_client_error(), "{}", first.body);
        let again = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .header("idempotency-key", "cat-1"),
            Some(json!({ "name": "" })),
        )
        .await;
        assert_eq!(again.status, first.status, "{}", again.body);
        assert_eq!(again.header("idempotent-replayed"), None, "ran again");
        // A refusal lets go of its key after answering, off the request's path.
        let deadline = std::time::Instant::now() + common::PATIENCE;
        while !kept_rows(&db).await.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the refusal's key is held"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // The key is free: another request may take it.
        let made = send(
            c.post(format!("{base}/categories"))
                .bearer_auth(&admin)
                .header("idempotency-key", "cat-1"),
            Some(category),
        )
        .await;
        assert_eq!(made.status, 201, "{}", made.body);
    })
    .await;
}

/// Each caller keeps at most `IDEMPOTENCY_QUOTA` answers: a new key beyond it is refused
/// with a problem and `Retry-After`, while kept keys still replay and unkeyed commands run.
#[tokio::test]
async fn a_caller_keeps_at_most_its_quota_of_answers() {
    with_shop(&["--idempotency-quota", "2"], |base, _| async move {
        let c = Client::new();
        let admin = login(&c, &base, "root@example.com", "a long admin password").await;
        let create = |key: Option<&str>, name: &str| {
            let mut r = c.post(format!("{base}/categories")).bearer_auth(&admin);
            if let Some(key) = key {
                r = r.header("idempotency-key", key);
            }
            send(r, Some(json!({ "name": name })))
        };
        let first = create(Some("q-1"), "One").await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(create(Some("q-2"), "Two").await.status, 201);
        let over = create(Some("q-3"), "Three").await;
        assert_eq!(
            (over.status, over.body["code"].as_str()),
            (
                StatusCode::TOO_MANY_REQUESTS,
                Some("idempotency_quota_exceeded")
            ),
            "{}",
            over.body
        );
        assert_eq!(
            over.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let retry_after: u64 = over.header("retry-after").unwrap().parse().unwrap();
        assert!(retry_after > 0);
        let replay = create(Some("q-1"), "One").await;
        assert_eq!(
            (
                replay.status,
                replay.header("idempotent-replayed").as_deref()
            ),
            (StatusCode::CREATED, Some("true"))
        );
        assert_eq!(replay.body, first.body);
        assert_eq!(create(None, "Four").await.status, 201);
    })
    .await;
}

/// A key claimed by a request that never answered (its gateway killed mid-request) is in
/// flight for a while (409), and then taken to have died: the retry runs the command.
#[tokio::test]
async fn a_claim_whose_gateway_died_is_taken_over_after_its_lease() {
    with_shop(&[], |base, database_url| async move {
        let c = Client::new();
        let token = login(&c, &base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        let me = common::call(
            &c,
            "GET",
            format!("{base}/auth/profile"),
            &token,
            None,
            None,
        )
        .await;
        let id = me.body["id"].as_str().unwrap().to_owned();
        let rename = || {
            c.put(format!("{base}/users/{id}"))
                .bearer_auth(&token)
                .header("idempotency-key", "dead-gateway")
                .json(&json!({ "first_name": "Root" }))
        };
        let first = rename().send().await.unwrap();
        assert_eq!(first.status(), 200);
        let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
        // What a gateway killed mid-request leaves: the claim, with no answer.
        let orphan = |age_secs: f64| {
            sqlx::query(
                "update idempotency.responses
                    set status = null, headers = null, body = null,
                        created_at = now() - make_interval(secs => $1)
                  where idempotency_key = 'dead-gateway'",
            )
            .bind(age_secs)
        };
        orphan(5.0).execute(&pool).await.unwrap();
        let r = rename().send().await.unwrap();
        assert_eq!(r.status(), 409, "still within its lease");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "idempotency_key_in_flight");
        orphan(31.0).execute(&pool).await.unwrap();
        let r = rename().send().await.unwrap();
        assert_eq!(r.status(), 200, "past its lease the retry runs");
        assert!(r.headers().get("idempotent-replayed").is_none());
        let again = rename().send().await.unwrap();
        assert_eq!(
            again
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap()),
            Some("true"),
            "and its answer is kept like any other"
        );
        pool.close().await;
    })
    .await;
}
