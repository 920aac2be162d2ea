//! Who may do what, against the real binary: refresh-token rotation with reuse detection,
//! customers fenced off from each other's orders and from staff routes, and anonymous
//! callers refused.

use e2e::{eventually, send, usd, Server};
use serde_json::json;

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_its_family() {
    let s = Server::start().await;
    s.register("rita.e2e@example.com", "rita's long password")
        .await;
    let first = s
        .login("rita.e2e@example.com", "rita's long password")
        .await;
    let refresh = |token: &str| {
        send(
            s.post("/api/v1/auth/refresh")
                .json(&json!({ "refresh_token": token })),
        )
    };

    let rotated = refresh(&first.refresh).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_eq!(rotated.body["token_type"], "Bearer");
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first.refresh, "the refresh token rotates");
    let access = rotated.body["access_token"].as_str().unwrap();
    let me = send(s.get("/api/v1/auth/profile").bearer_auth(access)).await;
    assert_eq!(me.status, 200, "the new access token works: {}", me.text);
    assert_eq!(me.body["email"], "rita.e2e@example.com");

    // The rotated-out token again: someone copied it. Refused, and the family revoked…
    let reused = refresh(&first.refresh).await;
    assert_eq!(reused.problem(401)["code"], "unauthenticated");
    // …so the newer token, never used, is refused too.
    let newer = refresh(&second).await;
    newer.problem(401);

    // Another sign-in starts a family of its own, which rotates normally.
    let again = s
        .login("rita.e2e@example.com", "rita's long password")
        .await;
    let fresh = refresh(&again.refresh).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let garbage = refresh("not-a-refresh-token").await;
    garbage.problem(401);

    // Logging out ends the session's family.
    let fresh_refresh = fresh.body["refresh_token"].as_str().unwrap().to_owned();
    let out = send(
        s.post("/api/v1/auth/logout")
            .json(&json!({ "refresh_token": fresh_refresh })),
    )
    .await;
    assert_eq!(out.status, 204, "{}", out.text);
    refresh(&fresh_refresh).await.problem(401);
}

#[tokio::test]
async fn customers_reach_only_their_own_orders_and_no_staff_route() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-E2E", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(4_500),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-E2E/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);

    let (ann_id, ann) = s.customer("ann.access@example.com").await;
    let (bob_id, bob) = s.customer("bob.access@example.com").await;
    let address =
        json!({ "line1": "2 Elm St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB" });
    let placed = send(s.post("/api/v1/orders").bearer_auth(&ann).json(&json!({
        "items": [{ "product_id": product.body["id"], "quantity": 1 }],
        "shipping_address": address, "payment_method": "card",
    })))
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let token = placed.consistency();
    let order_path = format!("/api/v1/orders/{order}");
    // Ann sees her order: the refusals below are about Bob, not a missing order.
    let own = send(
        s.get(&order_path)
            .bearer_auth(&ann)
            .header("x-consistency-token", &token),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.text);
    eventually("the order awaits payment", || {
        let r = s.get(&order_path).bearer_auth(&ann);
        async move { (send(r).await.body["status"] == "awaiting_payment").then_some(()) }
    })
    .await;

    // Bob learns nothing of Ann's order and cannot act on it.
    let hidden = [404, 403];
    let read = send(
        s.get(&order_path)
            .bearer_auth(&bob)
            .header("x-consistency-token", &token),
    )
    .await;
    assert!(hidden.contains(&read.status), "{}", read.text);
    read.problem(read.status);
    let pay = send(
        s.post(&format!("{order_path}/payment"))
            .bearer_auth(&bob)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert!(hidden.contains(&pay.status), "{}", pay.text);
    let cancel = send(s.delete(&order_path).bearer_auth(&bob)).await;
    assert!(hidden.contains(&cancel.status), "{}", cancel.text);
    for path in [
        format!("/api/v1/orders/user/{ann_id}"),
        format!("/api/v1/orders/history/{ann_id}"),
    ] {
        let a = send(s.get(&path).bearer_auth(&bob)).await;
        assert!(hidden.contains(&a.status), "{path}: {}", a.text);
    }
    let bobs = send(
        s.get("/api/v1/orders")
            .bearer_auth(&bob)
            .header("x-consistency-token", &token),
    )
    .await;
    assert_eq!(bobs.status, 200, "{}", bobs.text);
    assert_eq!(bobs.body["total"], 0, "only his own: {}", bobs.text);
    let own_list = send(
        s.get(&format!("/api/v1/orders/user/{bob_id}"))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(own_list.status, 200, "{}", own_list.text);

    // Staff routes refuse a customer with 403.
    let product_id = product.body["id"].as_str().unwrap();
    let staff_only = [
        s.post("/api/v1/categories")
            .json(&json!({ "name": "Mine" })),
        s.post("/api/v1/products").json(&json!({
            "sku": "BOB-1", "name": "Bob's", "category_id": category.body["id"], "price": usd(1)
        })),
        s.put(&format!("/api/v1/products/{product_id}"))
            .json(&json!({ "name": "Bob's lamp" })),
        s.delete(&format!("/api/v1/products/{product_id}")),
        s.post("/api/v1/inventory/LAMP-E2E/receive")
            .json(&json!({ "quantity": 1000 })),
        s.post("/api/v1/inventory/LAMP-E2E/adjust")
            .json(&json!({ "delta": -5, "reason": "mine now" })),
        s.get("/api/v1/inventory/LAMP-E2E"),
        s.put(&format!("{order_path}/status"))
            .json(&json!({ "status": "shipped" })),
        s.post(&format!("{order_path}/refund"))
            .json(&json!({ "reason": "because" })),
    ];
    for request in staff_only {
        let a = send(request.bearer_auth(&bob)).await;
        assert_eq!(a.problem(403)["code"], "forbidden", "{}", a.text);
    }

    // Nobody signed in: 401 wherever an account is needed.
    for request in [
        s.get("/api/v1/orders"),
        s.get(&order_path),
        s.get("/api/v1/auth/profile"),
        s.post("/api/v1/categories")
            .json(&json!({ "name": "Anon" })),
        s.post(&format!("{order_path}/payment"))
            .json(&json!({ "method": "card", "token": "tok_visa" })),
        s.put(&format!("{order_path}/status"))
            .json(&json!({ "status": "shipped" })),
    ] {
        send(request).await.problem(401);
    }

    // None of it changed anything: the order still awaits Ann's payment, stock as it was.
    let after = send(s.get(&order_path).bearer_auth(&admin)).await;
    assert_eq!(after.body["status"], "awaiting_payment", "{}", after.text);
    // The saga's reservation is not covered by any answer's token: poll for it.
    let stock = eventually("the catalog shows the reservation", || {
        let r = s.get("/api/v1/inventory/LAMP-E2E").bearer_auth(&admin);
        async move {
            let a = send(r).await;
            (a.body["reserved"] == 1).then_some(a)
        }
    })
    .await;
    assert_eq!(stock.body["on_hand"], 5, "{}", stock.text);
    let product_now = send(s.get(&format!("/api/v1/products/{product_id}"))).await;
    assert_eq!(product_now.body["name"], "Desk lamp");
}

/// `{"alg":"none","typ":"JWT"}` and its case variants, base64url without padding: an
/// unsigned token names no key, and a verifier that trusts the header would accept it.
const UNSIGNED_HEADERS: [(&str, &str); 3] = [
    ("none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"),
    ("None", "eyJhbGciOiJOb25lIiwidHlwIjoiSldUIn0"),
    ("NONE", "eyJhbGciOiJOT05FIiwidHlwIjoiSldUIn0"),
];

#[tokio::test]
async fn an_unsigned_token_claiming_admin_is_refused() {
    let s = Server::start().await;
    let admin = s.admin().await;
    // The admin's own claims, which the server just issued: only the signature is missing.
    let claims = admin.split('.').nth(1).expect("a JWT has three parts");
    let create = |token: &str, name: &str| {
        send(
            s.post("/api/v1/categories")
                .bearer_auth(token)
                .json(&json!({ "name": name })),
        )
    };
    for (alg, header) in UNSIGNED_HEADERS {
        for unsigned in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
            let forged = create(&unsigned, &format!("Forged {alg}")).await;
            assert_eq!(
                forged.problem(401)["code"],
                "unauthenticated",
                "alg {alg}: {}",
                forged.text
            );
            let profile = send(s.get("/api/v1/auth/profile").bearer_auth(&unsigned)).await;
            profile.problem(401);
        }
    }
    // The same claims, signed, are an admin's: the refusals above are the signature's.
    let genuine = create(&admin, "Genuine").await;
    assert_eq!(genuine.status, 201, "{}", genuine.text);
    // The write side holds the only category created.
    let created: Vec<String> = sqlx::query_scalar(
        "select data->>'name' from store.events where event_type = 'CategoryCreated'",
    )
    .fetch_all(&s.db)
    .await
    .unwrap();
    assert_eq!(created, ["Genuine"], "an unsigned token created a category");
}
