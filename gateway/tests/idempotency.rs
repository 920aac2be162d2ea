//! `Idempotency-Key` over real HTTP: a retry replays the first answer and creates nothing
//! new, another request under the same key is refused, a concurrent duplicate never runs
//! twice, keys are per caller, and without a key nothing changes.

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

    // Anonymous calls are scoped by client IP: a replayed registration answers 201 again,
    // where running it again would be 409 (the e-mail is taken).
    let register = json!({ "email": "ann@example.com", "password": "customer password" });
    let first = send(
        c.post(format!("{base}/auth/register"))
            .header("idempotency-key", "reg-1"),
        Some(register.clone()),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let replay = send(
        c.post(format!("{base}/auth/register"))
            .header("idempotency-key", "reg-1"),
        Some(register.clone()),
    )
    .await;
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.body, first.body);
    let unkeyed = send(c.post(format!("{base}/auth/register")), Some(register)).await;
    assert_eq!(unkeyed.status, 409, "without a key the command runs again");

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
