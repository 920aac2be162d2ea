//! Catalog and stock commands over real HTTP: roles, uniqueness, validation, and the
//! consistency token on every command answer.

mod common;

use common::with_shop;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn staff_build_a_catalog_and_stock_it() {
    with_shop(&[], |base, _| async move { journey(&base).await }).await;
}

#[tokio::test]
async fn a_customer_orders_pays_and_staff_ship() {
    with_shop(&[], |base, _| async move { order_journey(&base).await }).await;
}

async fn call(
    c: &Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut r = c.request(method.parse().unwrap(), url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let token = r
        .headers()
        .get("x-consistency-token")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    (
        status,
        token,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
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

async fn journey(base: &str) {
    let c = Client::new();
    let admin = login(&c, base, "root@example.com", "a long admin password").await;
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": "cus@example.com", "password": "customer password" }))
        .send()
        .await
        .unwrap();
    let customer = login(&c, base, "cus@example.com", "customer password").await;

    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &customer,
        Some(json!({ "name": "Shoes" })),
    )
    .await;
    assert_eq!(status, 403, "customers do not edit the catalog");

    let (status, token, shoes) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Shoes & Boots" })),
    )
    .await;
    assert_eq!(status, 201, "{shoes}");
    assert_eq!(shoes["slug"], "shoes-boots");
    assert!(token.is_some(), "commands answer with a consistency token");
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Shoes & boots!" })),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["code"], "slug_taken");

    let product = json!({
        "sku": "shoe-red-42", "name": "Red shoe", "category_id": shoes["id"],
        "price": { "amount": 4999, "currency": "USD" }, "attributes": { "size": 42 },
        "description": "<script>alert(1)</script>"
    });
    let (status, _, shoe) = call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(product.clone()),
    )
    .await;
    assert_eq!(status, 201, "{shoe}");
    assert_eq!(shoe["sku"], "SHOE-RED-42");
    assert_eq!(shoe["status"], "active");
    assert_eq!(shoe["stock"]["available"], 0);
    assert_eq!(
        shoe["description"], "<script>alert(1)</script>",
        "stored verbatim"
    );
    // Staff may keep a new product a draft until they publish it.
    let (status, _, draft) = call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(json!({
            "sku": "shoe-blue-40", "name": "Blue shoe", "category_id": shoes["id"],
            "price": { "amount": 5999, "currency": "USD" }, "draft": true,
        })),
    )
    .await;
    assert_eq!(status, 201, "{draft}");
    assert_eq!(draft["status"], "draft", "{draft}");
    let (status, _, published) = call(
        &c,
        "POST",
        format!("{base}/products/{}/publish", draft["id"].as_str().unwrap()),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["status"], "active", "{published}");
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(product),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("sku_taken"))
    );

    let (status, _, p) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
        "sku": "X-1", "name": "X", "category_id": Uuid::new_v4(), "price": { "amount": 1, "currency": "USD" }
    }))).await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "category_id");
    let (status, _, _) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
        "sku": "X-2", "name": "X", "category_id": shoes["id"], "price": { "amount": 19.99, "currency": "USD" }
    }))).await;
    assert_eq!(status, 422, "no floats for money");

    let (status, _, stock) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/receive"),
        &admin,
        Some(json!({ "quantity": 10 })),
    )
    .await;
    assert_eq!(status, 200, "{stock}");
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["available"].as_i64()),
        (Some(10), Some(10))
    );
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/adjust"),
        &admin,
        Some(json!({ "delta": -11, "reason": "count" })),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_stock"))
    );
    let (status, _, stock) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/adjust"),
        &admin,
        Some(json!({ "delta": -3, "reason": "damaged" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(stock["available"], 7);
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/receive"),
        &customer,
        Some(json!({ "quantity": 1 })),
    )
    .await;
    assert_eq!(status, 403);

    let id = shoe["id"].as_str().unwrap();
    let (status, _, shoe) = call(
        &c,
        "PUT",
        format!("{base}/products/{id}"),
        &admin,
        Some(json!({ "price": { "amount": 3999, "currency": "USD" }, "name": "Red shoe, sale" })),
    )
    .await;
    assert_eq!(status, 200, "{shoe}");
    assert_eq!(
        (shoe["price"]["amount"].as_i64(), shoe["name"].as_str()),
        (Some(3999), Some("Red shoe, sale"))
    );
    assert_eq!(shoe["stock"]["available"], 7);
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/products/{}", Uuid::new_v4()),
        &admin,
        Some(json!({ "name": "ghost" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, token, _) =
        call(&c, "DELETE", format!("{base}/products/{id}"), &admin, None).await;
    assert_eq!(status, 204);
    assert!(token.is_some());
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/products/{id}"),
        &admin,
        Some(json!({ "name": "again" })),
    )
    .await;
    assert_eq!(status, 409, "an archived product is not edited");
}

async fn register(c: &Client, base: &str, email: &str) -> String {
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": "customer password" }))
        .send()
        .await
        .unwrap();
    login(c, base, email, "customer password").await
}

async fn order_journey(base: &str) {
    let c = Client::new();
    let admin = login(&c, base, "root@example.com", "a long admin password").await;
    let ann = register(&c, base, "ann@example.com").await;
    let eve = register(&c, base, "eve@example.com").await;
    let (_, _, cat) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Mugs" })),
    )
    .await;
    let (_, _, mug) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
        "sku": "MUG-1", "name": "Mug", "category_id": cat["id"], "price": { "amount": 1250, "currency": "USD" }
    }))).await;
    call(
        &c,
        "POST",
        format!("{base}/inventory/MUG-1/receive"),
        &admin,
        Some(json!({ "quantity": 3 })),
    )
    .await;

    let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "us" });
    let (status, token, order) = call(&c, "POST", format!("{base}/orders"), &ann, Some(json!({
        "items": [{ "product_id": mug["id"], "quantity": 2 }],
        "shipping_address": address, "payment_method": "card", "notes": "'; DROP TABLE orders;--"
    }))).await;
    assert_eq!(status, 202, "{order}");
    assert!(token.is_some());
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"], json!({ "amount": 2500, "currency": "USD" }));
    assert_eq!(order["items"][0]["subtotal"]["amount"], 2500);
    assert_eq!(order["shipping_address"]["country"], "US");
    assert_eq!(order["notes"], "'; DROP TABLE orders;--");
    let id = order["id"].as_str().unwrap().to_owned();

    // Someone else's order does not exist for them.
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/orders/{id}/payment"),
        &eve,
        Some(json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&c, "DELETE", format!("{base}/orders/{id}"), &eve, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/orders/{id}/status"),
        &ann,
        Some(json!({ "status": "shipped" })),
    )
    .await;
    assert_eq!(status, 403, "customers do not ship");

    // The saga reserves the stock; until then the order cannot be paid.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let declined = loop {
        let (status, _, body) = call(
            &c,
            "POST",
            format!("{base}/orders/{id}/payment"),
            &ann,
            Some(json!({ "method": "card", "token": "tok_chargeDeclined" })),
        )
        .await;
        if status != StatusCode::CONFLICT {
            break (status, body);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the order never became payable: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(declined.0, 402, "{}", declined.1);
    assert_eq!(declined.1["code"], "card_declined");
    let (status, _, paid) = call(
        &c,
        "POST",
        format!("{base}/orders/{id}/payment"),
        &ann,
        Some(json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["payment_status"], "captured");

    // Paid: the customer can no longer cancel; staff ship once the saga recorded the payment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let shipped = loop {
        let (status, _, body) = call(
            &c,
            "PUT",
            format!("{base}/orders/{id}/status"),
            &admin,
            Some(json!({ "status": "shipped", "tracking_number": "1Z999" })),
        )
        .await;
        if status == 200 {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never shippable: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["payment_status"], "captured");
    assert_eq!(shipped["tracking_number"], "1Z999");
    let (status, _, _) = call(&c, "DELETE", format!("{base}/orders/{id}"), &ann, None).await;
    assert_eq!(status, 409);

    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/orders/{id}/refund"),
        &admin,
        Some(json!({ "amount": { "amount": 9999, "currency": "USD" }, "reason": "broken" })),
    )
    .await;
    assert_eq!(status, 422, "{p}");
    let (status, _, refunded) = call(
        &c,
        "POST",
        format!("{base}/orders/{id}/refund"),
        &admin,
        Some(json!({ "amount": { "amount": 1250, "currency": "USD" }, "reason": "one broke" })),
    )
    .await;
    assert_eq!(status, 200, "{refunded}");
    assert_eq!(refunded["status"], "partially_refunded");

    // Queries read the read model; the consistency token makes them see the last change.
    let (status, token, _) = call(
        &c,
        "POST",
        format!("{base}/orders/{id}/refund"),
        &admin,
        Some(json!({ "amount": { "amount": 250, "currency": "USD" }, "reason": "late" })),
    )
    .await;
    assert_eq!(status, 200);
    let token = token.expect("a consistency token");
    let r = c
        .get(format!("{base}/orders/{id}"))
        .bearer_auth(&ann)
        .header("x-consistency-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let read: Value = r.json().await.unwrap();
    assert_eq!(read["status"], "partially_refunded", "{read}");
    assert_eq!(read["tracking_number"], "1Z999");
    assert_eq!(read["items"][0]["quantity"], 2);
    assert_eq!(read["total"], json!({ "amount": 2500, "currency": "USD" }));
    assert_eq!(read["notes"], "'; DROP TABLE orders;--");
    let r = c
        .get(format!("{base}/orders/{id}"))
        .bearer_auth(&eve)
        .header("x-consistency-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "another customer's order does not exist for them"
    );
    let mine: Value = c
        .get(format!("{base}/orders"))
        .bearer_auth(&ann)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            mine["total"].as_i64(),
            mine["limit"].as_i64(),
            mine["offset"].as_i64()
        ),
        (Some(1), Some(20), Some(0))
    );
    let theirs: Value = c
        .get(format!("{base}/orders"))
        .bearer_auth(&eve)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["total"], 0);

    // Staff export every order, as CSV for spreadsheets or NDJSON for tools.
    let csv = c
        .get(format!("{base}/orders/export?format=csv"))
        .bearer_auth(&admin)
        .header("x-consistency-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("order_id,user_id,status,payment_status,currency,subtotal"));
    let row = lines.next().expect("one order");
    assert!(row.starts_with(&format!("{id},")), "{row}");
    assert!(row.contains(",partially_refunded,"), "{row}");
    assert_eq!(lines.next(), None);
    let ndjson = c
        .get(format!("{base}/orders/export?format=ndjson"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let orders: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["order_id"], json!(id));
    assert_eq!(orders[0]["refunded"], 1250 + 250);
    for (who, query, status) in [
        (&ann, "format=csv", 403),
        (&admin, "format=xml", 400),
        (&admin, "", 400),
    ] {
        let r = c
            .get(format!("{base}/orders/export?{query}"))
            .bearer_auth(who)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{query}");
    }
    let all: Value = c
        .get(format!(
            "{base}/orders?status=partially_refunded&sort=-total"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 1);
    let r = c
        .get(format!("{base}/orders?sort=name"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .get(format!("{base}/orders?limit=1000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .get(format!("{base}/orders/{id}"))
        .bearer_auth(&ann)
        .header("x-consistency-token", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let ann_id = read["user_id"].as_str().unwrap();
    let timeline: Value = c
        .get(format!("{base}/orders/history/{ann_id}"))
        .bearer_auth(&ann)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec![
            "pending",
            "awaiting_payment",
            "awaiting_payment",
            "paid",
            "shipped",
            "partially_refunded",
            "partially_refunded"
        ]
    );
    let r = c
        .get(format!("{base}/orders/history/{ann_id}"))
        .bearer_auth(&eve)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Bad orders: an unknown product, no items, a hostile quantity type.
    let (status, _, p) = call(&c, "POST", format!("{base}/orders"), &ann, Some(json!({
        "items": [{ "product_id": Uuid::new_v4(), "quantity": 1 }], "shipping_address": address, "payment_method": "card"
    }))).await;
    assert_eq!(
        (status, p["errors"][0]["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("items[0].product_id")
        )
    );
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/orders"),
        &ann,
        Some(json!({ "items": [], "shipping_address": address, "payment_method": "card" })),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = call(&c, "POST", format!("{base}/orders"), &ann, Some(json!({
        "items": [{ "product_id": mug["id"], "quantity": "2; DROP" }], "shipping_address": address, "payment_method": "card"
    }))).await;
    assert_eq!(status, 422);
}
