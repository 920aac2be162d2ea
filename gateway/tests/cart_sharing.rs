//! Issue 21's cart items over real HTTP: lines saved for later and back, outside the
//! totals; a cart shared by a read-only link (no owner, no coupon), copied into a guest's
//! and a customer's cart within the limits, revoked; and the problems of bad input.

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

async fn register(c: &Client, base: &str, email: &str) -> String {
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": "customer password" }))
        .send()
        .await
        .unwrap();
    common::access_token(c, base, email, "customer password").await
}

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

/// `n` products on sale, priced 10.00, 10.01, ...: their ids.
async fn products(c: &Client, base: &str, n: usize) -> Vec<String> {
    let admin = common::access_token(c, base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
    let cat = send(
        c.post(format!("{base}/categories")).bearer_auth(&admin),
        Some(json!({ "name": "Things" })),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..n {
        let p = send(
            c.post(format!("{base}/products")).bearer_auth(&admin),
            Some(json!({
                "sku": format!("THING-{i}"), "name": format!("Thing {i}"),
                "category_id": cat.body["id"], "price": usd(1000 + i as i64)
            })),
        )
        .await;
        assert_eq!(p.status, 201, "{}", p.body);
        ids.push(p.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn add(c: &Client, base: &str, token: &str, product: &str, quantity: u32) -> Answer {
    let a = send(
        c.post(format!("{base}/cart/items")).bearer_auth(token),
        Some(json!({ "product_id": product, "quantity": quantity })),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a
}

/// `GET /cart` once the read model shows the command that answered `after`.
async fn read_cart(c: &Client, base: &str, token: &str, after: &Answer) -> Value {
    let mut r = c.get(format!("{base}/cart")).bearer_auth(token);
    if let Some(t) = after.header("x-consistency-token") {
        r = r.header("x-consistency-token", t);
    }
    let a = send(r, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

#[tokio::test]
async fn saved_lines_leave_the_totals_and_come_back() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let p = products(&c, &base, 2).await;
        let ann = register(&c, &base, "ann@example.com").await;
        add(&c, &base, &ann, &p[0], 2).await;
        let added = add(&c, &base, &ann, &p[1], 1).await;
        let mug = added.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["product_id"] == p[0].as_str())
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let saved = send(
            c.post(format!("{base}/cart/items/{mug}/save-for-later"))
                .bearer_auth(&ann),
            None,
        )
        .await;
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert_eq!(saved.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(saved.body["saved_items"][0]["id"], mug.as_str());
        assert_eq!(saved.body["saved_items"][0]["quantity"], 2);
        assert_eq!(
            (
                saved.body["subtotal"].clone(),
                saved.body["item_count"].clone()
            ),
            (usd(1001), json!(1)),
            "a saved line counts in no total"
        );
        let read = read_cart(&c, &base, &ann, &saved).await;
        assert_eq!(read["saved_items"], saved.body["saved_items"]);
        assert_eq!(
            (read["total"].clone(), read["item_count"].clone()),
            (usd(1001), json!(1))
        );

        // Bad input: a line not in the cart, a saved line that is not there.
        let unknown = "00000000-0000-0000-0000-00000000abcd";
        for (method, path) in [
            ("POST", format!("/cart/items/{unknown}/save-for-later")),
            ("POST", format!("/cart/saved/{unknown}/move-to-cart")),
            ("DELETE", format!("/cart/saved/{unknown}")),
            ("POST", format!("/cart/saved/{}/move-to-cart", p[1])),
        ] {
            let a = send(
                c.request(method.parse().unwrap(), format!("{base}{path}"))
                    .bearer_auth(&ann),
                None,
            )
            .await;
            assert_eq!(a.status, 404, "{method} {path}: {}", a.body);
            assert_eq!(
                a.header("content-type").as_deref(),
                Some("application/problem+json")
            );
        }
        let malformed = send(
            c.post(format!("{base}/cart/saved/not-a-uuid/move-to-cart"))
                .bearer_auth(&ann),
            None,
        )
        .await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);

        let back = send(
            c.post(format!("{base}/cart/saved/{mug}/move-to-cart"))
                .bearer_auth(&ann),
            None,
        )
        .await;
        assert_eq!(back.status, 200, "{}", back.body);
        assert_eq!(back.body["saved_items"], json!([]));
        assert_eq!(back.body["subtotal"], usd(2 * 1000 + 1001));
        let read = read_cart(&c, &base, &ann, &back).await;
        assert_eq!(
            (read["saved_items"].clone(), read["item_count"].clone()),
            (json!([]), json!(3))
        );

        // Saved again and dropped: gone from both lists.
        send(
            c.post(format!("{base}/cart/items/{mug}/save-for-later"))
                .bearer_auth(&ann),
            None,
        )
        .await;
        let dropped = send(
            c.delete(format!("{base}/cart/saved/{mug}"))
                .bearer_auth(&ann),
            None,
        )
        .await;
        assert_eq!(dropped.status, 200, "{}", dropped.body);
        assert_eq!(dropped.body["saved_items"], json!([]));
        assert_eq!(dropped.body["items"].as_array().unwrap().len(), 1);
        let read = read_cart(&c, &base, &ann, &dropped).await;
        assert_eq!(
            (read["saved_items"].clone(), read["item_count"].clone()),
            (json!([]), json!(1))
        );
    })
    .await;
}

#[tokio::test]
async fn a_shared_cart_is_read_and_copied_by_its_link_until_revoked() {
    with_shop(&[], |base, db| async move {
        let c = Client::new();
        let p = products(&c, &base, 101).await;
        let ann = register(&c, &base, "ann@example.com").await;
        let eve = register(&c, &base, "eve@example.com").await;

        let empty = send(c.post(format!("{base}/cart/share")).bearer_auth(&ann), None).await;
        assert_eq!(empty.status, 422, "an empty cart has nothing to share");
        assert_eq!(empty.body["code"], "cart_empty");

        add(&c, &base, &ann, &p[99], 2).await;
        add(&c, &base, &ann, &p[100], 1).await;
        let shared = send(c.post(format!("{base}/cart/share")).bearer_auth(&ann), None).await;
        assert_eq!(shared.status, 201, "{}", shared.body);
        let token = shared.body["token"].as_str().unwrap().to_owned();
        assert!(token.len() >= 40, "{token}");
        assert_eq!(shared.body["expires_at"], Value::Null);
        assert_eq!(
            shared.header("location").as_deref(),
            Some(format!("/api/v1/carts/shared/{token}").as_str())
        );

        // The token is a capability: the log holds its hash, never the token.
        let pool = sqlx::PgPool::connect(&db).await.unwrap();
        let in_log: i64 = sqlx::query_scalar(
            "select count(*) from store.events where data::text like '%' || $1 || '%'",
        )
        .bind(&token)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(in_log, 0, "the token itself never enters the log");
        let hashed: i64 = sqlx::query_scalar(
            "select count(*) from store.events where event_type = 'CartShared'
                and data->>'token_hash' = encode(sha256(convert_to($1, 'UTF8')), 'hex')",
        )
        .bind(&token)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(hashed, 1, "its SHA-256 is");

        // Anyone reads it, without a token: lines, quantities, prices; no owner, no coupon.
        let mut r = c.get(format!("{base}/carts/shared/{token}"));
        if let Some(t) = shared.header("x-consistency-token") {
            r = r.header("x-consistency-token", t);
        }
        let seen = send(r, None).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert_eq!(seen.body["item_count"], 3);
        assert_eq!(seen.body["subtotal"], usd(2 * 1099 + 1100));
        assert_eq!(seen.body["items"].as_array().unwrap().len(), 2);
        assert_eq!(seen.body["items"][0]["sku"], "THING-99");
        assert_eq!(seen.body["items"][0]["price"], usd(1099));
        for hidden in ["user_id", "id", "coupon", "discount"] {
            assert!(
                seen.body.get(hidden).is_none(),
                "{hidden} shown: {}",
                seen.body
            );
        }
        let unknown = send(c.get(format!("{base}/carts/shared/not-a-token")), None).await;
        assert_eq!(unknown.status, 404, "{}", unknown.body);

        // A guest copies it into a new cart of their own.
        let copied = send(
            c.post(format!("{base}/cart/copy")),
            Some(json!({ "token": token })),
        )
        .await;
        assert_eq!(copied.status, 200, "{}", copied.body);
        let guest = copied.header("x-guest-cart").expect("a new guest cart");
        assert_eq!(copied.body["user_id"], Value::Null);
        assert_eq!(copied.body["item_count"], 3);
        // Copying again adds up, line by SKU.
        let twice = send(
            c.post(format!("{base}/cart/copy"))
                .header("x-guest-cart", &guest),
            Some(json!({ "token": token })),
        )
        .await;
        assert_eq!(twice.status, 200, "{}", twice.body);
        assert_eq!(twice.body["items"].as_array().unwrap().len(), 2);
        assert_eq!(twice.body["item_count"], 6);

        // Bad input: an unknown token, the owner's own link, a body with other fields.
        let bogus = send(
            c.post(format!("{base}/cart/copy")).bearer_auth(&eve),
            Some(json!({ "token": "no-such-token" })),
        )
        .await;
        assert_eq!(bogus.status, 404, "{}", bogus.body);
        let own = send(
            c.post(format!("{base}/cart/copy")).bearer_auth(&ann),
            Some(json!({ "token": token })),
        )
        .await;
        assert_eq!(own.status, 422, "{}", own.body);
        let extra = send(
            c.post(format!("{base}/cart/copy")).bearer_auth(&eve),
            Some(json!({ "token": token, "owner": "me" })),
        )
        .await;
        assert_eq!(extra.status, 422, "{}", extra.body);

        // Eve's cart holds 99 lines: two more would pass the limit of 100, and the copy is
        // refused whole.
        let mut last = None;
        for product in &p[..99] {
            last = Some(add(&c, &base, &eve, product, 1).await);
        }
        let full = send(
            c.post(format!("{base}/cart/copy")).bearer_auth(&eve),
            Some(json!({ "token": token })),
        )
        .await;
        assert_eq!(full.status, 422, "{}", full.body);
        assert_eq!(full.body["code"], "cart_full");
        let eve_cart = read_cart(&c, &base, &eve, last.as_ref().unwrap()).await;
        assert_eq!(
            eve_cart["items"].as_array().unwrap().len(),
            99,
            "nothing half-copied"
        );

        // Revoked, the link is gone: reading and copying answer 404.
        let revoked = send(
            c.delete(format!("{base}/cart/share")).bearer_auth(&ann),
            None,
        )
        .await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        let mut r = c.get(format!("{base}/carts/shared/{token}"));
        if let Some(t) = revoked.header("x-consistency-token") {
            r = r.header("x-consistency-token", t);
        }
        assert_eq!(send(r, None).await.status, 404);
        let late = send(
            c.post(format!("{base}/cart/copy"))
                .header("x-guest-cart", &guest),
            Some(json!({ "token": token })),
        )
        .await;
        assert_eq!(late.status, 404, "{}", late.body);

        // Sharing again gives a new token; the old one stays dead.
        let again = send(c.post(format!("{base}/cart/share")).bearer_auth(&ann), None).await;
        assert_eq!(again.status, 201, "{}", again.body);
        assert_ne!(again.body["token"], token.as_str());
    })
    .await;
}

/// The running server's cart expiry, configured by its flags: a guest's cart idle past
/// `CART_TTL_GUEST` is emptied, a customer's (a longer window) is not.
#[tokio::test]
async fn an_idle_guest_cart_expires_in_the_running_server() {
    const FLAGS: &[&str] = &[
        "--cart-ttl-guest",
        "1s",
        "--cart-ttl-user",
        "1h",
        "--cart-expiry-interval",
        "1s",
    ];
    with_shop(FLAGS, |base, _| async move {
        let c = Client::new();
        let p = products(&c, &base, 1).await;
        let ann = register(&c, &base, "ann@example.com").await;
        add(&c, &base, &ann, &p[0], 1).await;
        let guest = send(
            c.post(format!("{base}/cart/items")),
            Some(json!({ "product_id": p[0], "quantity": 2 })),
        )
        .await;
        assert_eq!(guest.status, 201, "{}", guest.body);
        let token = guest.header("x-guest-cart").unwrap();
        // Both carts are in the read model first: an empty answer below is then an
        // expiry, not a read model that has not seen the cart yet (a guest's cart it has
        // not seen also answers no items).
        let mut r = c.get(format!("{base}/cart")).header("x-guest-cart", &token);
        if let Some(t) = guest.header("x-consistency-token") {
            r = r.header("x-consistency-token", t);
        }
        let seen = send(r, None).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        let ann_seen = read_cart(&c, &base, &ann, &guest).await;
        assert_eq!(ann_seen["item_count"], 1, "{ann_seen}");

        let deadline = std::time::Instant::now() + common::PATIENCE;
        loop {
            let cart = send(
                c.get(format!("{base}/cart")).header("x-guest-cart", &token),
                None,
            )
            .await;
            assert_eq!(cart.status, 200, "{}", cart.body);
            if cart.body["items"] == json!([]) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the guest's cart never expired"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let kept = send(c.get(format!("{base}/cart")).bearer_auth(&ann), None).await;
        assert_eq!(kept.body["item_count"], 1, "{}", kept.body);
    })
    .await;
}
