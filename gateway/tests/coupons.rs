//! Coupons over real HTTP: staff create, list, read, change, deactivate and reactivate
//! them, and bad input is refused with a clear problem; at the cart and checkout an
//! expired coupon, one past its limit and one with no line in its scope are refused, and
//! a cancelled order gives its use back.

mod common;

use std::time::Instant;

use common::{access_token, call, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};
use reqwest::Client;
use serde_json::{json, Value};

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

async fn customer(c: &Client, base: &str, email: &str) -> String {
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": "customer password" }))
        .send()
        .await
        .unwrap();
    access_token(c, base, email, "customer password").await
}

/// The first field an error names.
fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn staff_manage_coupons_and_bad_terms_are_refused() {
    with_shop(&[], |base, _| async move { manage(&base).await }).await;
}

async fn manage(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ann = customer(&c, base, "ann@example.com").await;
    let coupons = format!("{base}/coupons");
    let spring = json!({
        "code": "spring-10",
        "discount": { "kind": "percent", "basis_points": 1000 },
        "max_uses": 100,
        "max_uses_per_customer": 1,
        "min_order": usd(2000),
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2099-01-01T00:00:00Z"
    });

    // Customers neither create nor list coupons.
    let (status, p) = json_call(&c, "POST", coupons.clone(), &ann, Some(spring.clone())).await;
    assert_eq!(status, 403, "{p}");
    let (status, _) = json_call(&c, "GET", coupons.clone(), &ann, None).await;
    assert_eq!(status, 403);

    let created = call(
        &c,
        "POST",
        coupons.clone(),
        &admin,
        Some(spring.clone()),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["code"], "SPRING-10");
    assert_eq!(
        created.body["discount"],
        json!({ "kind": "percent", "basis_points": 1000 })
    );
    assert_eq!(
        (
            created.body["uses"].clone(),
            created.body["remaining"].clone()
        ),
        (json!(0), json!(100))
    );
    assert_eq!(created.body["active"], true);
    assert_eq!(
        created.body["scope"],
        json!({ "category_ids": [], "product_ids": [] })
    );

    let (status, p) = json_call(&c, "POST", coupons.clone(), &admin, Some(spring.clone())).await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (409, Some("code_taken"))
    );

    let mut bad = spring.clone();
    bad["code"] = json!("BAD");
    bad["discount"] = json!({ "kind": "percent", "basis_points": 10001 });
    let (status, p) = json_call(&c, "POST", coupons.clone(), &admin, Some(bad.clone())).await;
    assert_eq!(
        (status.as_u16(), field(&p)),
        (422, "discount.basis_points"),
        "{p}"
    );
    bad["discount"] = json!({ "kind": "percent", "basis_points": 1000 });
    bad["valid_until"] = json!("2025-01-01T00:00:00Z");
    let (status, p) = json_call(&c, "POST", coupons.clone(), &admin, Some(bad.clone())).await;
    assert_eq!((status.as_u16(), field(&p)), (422, "valid_until"), "{p}");
    bad["valid_until"] = json!(null);
    bad["discount"] = json!({ "kind": "fixed", "amount": usd(-5) });
    let (status, p) = json_call(&c, "POST", coupons.clone(), &admin, Some(bad.clone())).await;
    assert_eq!(
        (status.as_u16(), field(&p)),
        (422, "discount.amount"),
        "{p}"
    );
    bad["discount"] = json!({ "kind": "percent", "basis_points": 1000 });
    bad["scope"] = json!({ "product_ids": ["5f0c1a3e-0000-4000-8000-000000000001"] });
    let (status, p) = json_call(&c, "POST", coupons.clone(), &admin, Some(bad.clone())).await;
    assert_eq!(
        (status.as_u16(), field(&p)),
        (422, "scope.product_ids[0]"),
        "{p}"
    );
    bad["scope"] = json!({ "products": [] });
    let (status, _) = json_call(&c, "POST", coupons.clone(), &admin, Some(bad)).await;
    assert_eq!(status, 422, "an unknown field");
    // Nothing refused was written: only SPRING-10 exists, and `BAD` is still free.
    let mut free = spring.clone();
    free["code"] = json!("BAD");
    let other = call(&c, "POST", coupons.clone(), &admin, Some(free), None).await;
    assert_eq!(other.status, 201, "{}", other.body);

    let (status, p) = json_call(&c, "GET", format!("{coupons}/NOPE"), &admin, None).await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (404, Some("not_found"))
    );
    let read = call(
        &c,
        "GET",
        format!("{coupons}/spring-10"),
        &admin,
        None,
        created.consistency.as_deref(),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body, created.body,
        "the read model shows what was decided"
    );

    // New terms: a fixed amount, no minimum; the code stays and cannot change.
    let mut terms = json!({
        "discount": { "kind": "fixed", "amount": usd(500) },
        "max_uses": 5
    });
    let changed = call(
        &c,
        "PUT",
        format!("{coupons}/Spring-10"),
        &admin,
        Some(terms.clone()),
        None,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["code"], "SPRING-10");
    assert_eq!(
        changed.body["discount"],
        json!({ "kind": "fixed", "amount": usd(500) })
    );
    assert_eq!(changed.body["min_order"], Value::Null);
    assert_eq!(changed.body["remaining"], 5);
    terms["code"] = json!("SUMMER");
    let (status, p) = json_call(
        &c,
        "PUT",
        format!("{coupons}/SPRING-10"),
        &admin,
        Some(terms.clone()),
    )
    .await;
    assert_eq!((status.as_u16(), field(&p)), (422, "code"), "{p}");
    let (status, _) = json_call(
        &c,
        "PUT",
        format!("{coupons}/NOPE"),
        &admin,
        Some(json!({
            "discount": { "kind": "percent", "basis_points": 500 }
        })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_call(
        &c,
        "PUT",
        format!("{coupons}/SPRING-10"),
        &ann,
        Some(json!({
            "discount": { "kind": "percent", "basis_points": 500 }
        })),
    )
    .await;
    assert_eq!(status, 403);

    let off = call(
        &c,
        "POST",
        format!("{coupons}/SPRING-10/deactivate"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(
        (off.status.as_u16(), off.body["active"].clone()),
        (200, json!(false))
    );
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{coupons}/NOPE/deactivate"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{coupons}/SPRING-10/deactivate"),
        &ann,
        None,
    )
    .await;
    assert_eq!(status, 403);

    let inactive = call(
        &c,
        "GET",
        format!("{coupons}?active=false"),
        &admin,
        None,
        off.consistency.as_deref(),
    )
    .await;
    assert_eq!(inactive.status, 200, "{}", inactive.body);
    assert_eq!(inactive.body["total"], 1);
    assert_eq!(inactive.body["items"][0]["code"], "SPRING-10");
    assert_eq!(inactive.body["items"][0]["discount"]["amount"], usd(500));
    let (_, by_prefix) = json_call(&c, "GET", format!("{coupons}?q=ba"), &admin, None).await;
    assert_eq!(
        (
            by_prefix["total"].clone(),
            by_prefix["items"][0]["code"].clone()
        ),
        (json!(1), json!("BAD"))
    );
    let (_, page) = json_call(
        &c,
        "GET",
        format!("{coupons}?limit=1&offset=1"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (
            page["total"].clone(),
            page["limit"].clone(),
            page["offset"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(page["items"][0]["code"], "SPRING-10", "by code");
    let (status, _) = json_call(&c, "GET", format!("{coupons}?limit=0"), &admin, None).await;
    assert_eq!(status, 422);
    let (status, _) = json_call(&c, "GET", format!("{coupons}?colour=red"), &admin, None).await;
    assert_eq!(status, 400);

    let on = call(
        &c,
        "POST",
        format!("{coupons}/SPRING-10/reactivate"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(
        (on.status.as_u16(), on.body["active"].clone()),
        (200, json!(true))
    );
}

#[tokio::test]
async fn coupons_are_refused_at_the_cart_and_checkout_and_a_cancellation_gives_a_use_back() {
    with_shop(&[], |base, _| async move { at_checkout(&base).await }).await;
}

/// The coupon `code` as staff read it once its use is `uses` (the saga and the read
/// model follow the log).
async fn wait_for_uses(c: &Client, base: &str, admin: &str, code: &str, uses: i64) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) =
            json_call(c, "GET", format!("{base}/coupons/{code}"), admin, None).await;
        assert_eq!(status, 200, "{body}");
        if body["uses"] == uses {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{code} never reached {uses} uses: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn at_checkout(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, mugs) = json_call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Mugs" })),
    )
    .await;
    let (_, books) = json_call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Books" })),
    )
    .await;
    let (status, mug) = json_call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(json!({
            "sku": "MUG-1", "name": "Mug", "category_id": mugs["id"], "price": usd(1000)
        })),
    )
    .await;
    assert_eq!(status, 201, "{mug}");
    let (_, book) = json_call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(json!({
            "sku": "BOOK-1", "name": "Book", "category_id": books["id"], "price": usd(3000)
        })),
    )
    .await;
    for sku in ["MUG-1", "BOOK-1"] {
        let (status, s) = json_call(
            &c,
            "POST",
            format!("{base}/inventory/{sku}/receive"),
            &admin,
            Some(json!({ "quantity": 10 })),
        )
        .await;
        assert_eq!(status, 200, "{s}");
    }
    let coupon = |code: &str, extra: Value| {
        let mut body =
            json!({ "code": code, "discount": { "kind": "percent", "basis_points": 1000 } });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for body in [
        coupon(
            "OLD",
            json!({ "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z" }),
        ),
        coupon("ONE", json!({ "max_uses": 1 })),
        coupon("MUGS", json!({ "scope": { "category_ids": [mugs["id"]] } })),
    ] {
        let (status, p) =
            json_call(&c, "POST", format!("{base}/coupons"), &admin, Some(body)).await;
        assert_eq!(status, 201, "{p}");
    }
    let ann = customer(&c, base, "ann@example.com").await;
    let bob = customer(&c, base, "bob@example.com").await;
    let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
    let checkout = json!({ "shipping_address": address, "payment_method": "card" });
    for who in [&ann, &bob] {
        let (status, cart) = json_call(
            &c,
            "POST",
            format!("{base}/cart/items"),
            who,
            Some(json!({ "product_id": book["id"], "quantity": 1 })),
        )
        .await;
        assert_eq!(status, 201, "{cart}");
    }

    // An expired coupon is refused when applied.
    let (status, p) = json_call(
        &c,
        "POST",
        format!("{base}/cart/coupon"),
        &ann,
        Some(json!({ "code": "old" })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("invalid_coupon")),
        "{p}"
    );

    // A coupon for mugs on a cart of books: the preview is nothing, and checkout refuses
    // it rather than use it up for nothing.
    let applied = call(
        &c,
        "POST",
        format!("{base}/cart/coupon"),
        &ann,
        Some(json!({ "code": "mugs" })),
        None,
    )
    .await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.body["discount"], usd(0));
    let (status, p) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &ann,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("coupon_not_applicable")),
        "{p}"
    );
    // With a mug beside the book, a tenth of the mug comes off, in the read model too.
    let with_mug = call(
        &c,
        "POST",
        format!("{base}/cart/items"),
        &ann,
        Some(json!({ "product_id": mug["id"], "quantity": 2 })),
        None,
    )
    .await;
    assert_eq!(with_mug.body["discount"], usd(200), "{}", with_mug.body);
    let read = call(
        &c,
        "GET",
        format!("{base}/cart"),
        &ann,
        None,
        with_mug.consistency.as_deref(),
    )
    .await;
    assert_eq!(read.body["discount"], usd(200), "{}", read.body);
    let (status, order) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &ann,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(
        (status.as_u16(), order["discount"].clone()),
        (202, usd(200)),
        "{order}"
    );
    wait_for_uses(&c, base, &admin, "MUGS", 1).await;

    // ONE is used once: Ann's order takes it, Bob is refused until she cancels hers.
    for who in [&ann, &bob] {
        json_call(
            &c,
            "POST",
            format!("{base}/cart/items"),
            who,
            Some(json!({ "product_id": book["id"], "quantity": 1 })),
        )
        .await;
        let (status, p) = json_call(
            &c,
            "POST",
            format!("{base}/cart/coupon"),
            who,
            Some(json!({ "code": "ONE" })),
        )
        .await;
        assert_eq!(status, 200, "{p}");
    }
    let (status, anns) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &ann,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(status, 202, "{anns}");
    let (status, p) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &bob,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("invalid_coupon")),
        "{p}"
    );
    assert!(
        p["detail"].as_str().unwrap().contains("used its 1 times"),
        "{p}"
    );
    let used = wait_for_uses(&c, base, &admin, "ONE", 1).await;
    assert_eq!(used["remaining"], 0);
    let id = anns["id"].as_str().unwrap();
    let (status, cancelled) =
        json_call(&c, "DELETE", format!("{base}/orders/{id}"), &ann, None).await;
    assert_eq!(status, 200, "{cancelled}");
    wait_for_uses(&c, base, &admin, "ONE", 0).await;
    let (status, p) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &bob,
        Some(checkout.clone()),
    )
    .await;
    assert_eq!(status, 202, "the use Ann gave back is Bob's now: {p}");

    // A coupon that expires after it was applied is refused at checkout.
    json_call(
        &c,
        "POST",
        format!("{base}/cart/items"),
        &bob,
        Some(json!({ "product_id": book["id"], "quantity": 1 })),
    )
    .await;
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{base}/cart/coupon"),
        &bob,
        Some(json!({ "code": "MUGS" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, p) = json_call(
        &c,
        "PUT",
        format!("{base}/coupons/MUGS"),
        &admin,
        Some(json!({
            "discount": { "kind": "percent", "basis_points": 1000 },
            "valid_until": "2021-01-01T00:00:00Z"
        })),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    let (status, p) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &bob,
        Some(checkout),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("invalid_coupon")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
}
