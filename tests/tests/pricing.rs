//! Dynamic pricing (issue 24) against the real binary. A shopper puts a lamp in the cart
//! at its list price. A flash sale ends at an exact second between another shopper's cart
//! and his checkout, which refuses the price he did not see. Staff schedule a sale that
//! starts at an exact second: the product answer shows the sale price from that second,
//! and the lowest price of the 30 days before it (Omnibus: the flash sale's) with the
//! window ending at that very second; the scheduler records the start; checkout refuses
//! the price the first shopper did not see until she accepts it, and the order line
//! records the rule and its version. At the end `umctl verify` finds every read model, the
//! price history included, equal to a replay of the log.

use std::process::Command;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use e2e::{eventually, send, umctl, usd, Server};
use serde_json::json;

#[tokio::test]
async fn a_scheduled_sale_prices_the_lamp_from_its_second_and_checkout_asks_first() {
    // The scheduler sweeps every second here (a minute by default).
    let s = Server::start_with(&["--price-schedule-interval", "1s"]).await;
    let admin = s.admin().await;
    let (_, ann) = s.customer("ann.pricing@example.com").await;

    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lighting" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let lamp = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-E2E", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(2_000),
    })))
    .await;
    assert_eq!(lamp.status, 201, "{}", lamp.text);
    let lamp_id = lamp.body["id"].as_str().unwrap().to_owned();
    let received = send(
        s.post("/api/v1/inventory/LAMP-E2E/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 10 })),
    )
    .await;
    assert!(received.status < 300, "{}", received.text);

    // Two lamps in the cart at the list price.
    let added = send(
        s.post("/api/v1/cart/items")
            .bearer_auth(&ann)
            .json(&json!({ "product_id": lamp_id, "quantity": 2 })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let cart = send(
        s.get("/api/v1/cart")
            .bearer_auth(&ann)
            .header("x-consistency-token", added.consistency()),
    )
    .await;
    assert_eq!(cart.body["subtotal"], usd(4_000), "{}", cart.text);

    // A flash sale of 10% on the lamp, live at once and over at an exact second: Bob's
    // cart sees 18.00, and by the time he checks out the sale has expired.
    let (_, bob) = s.customer("bob.pricing@example.com").await;
    let flash_end = (Utc::now() + TimeDelta::seconds(6)).trunc_subsecs(0);
    let flash = send(
        s.post("/api/v1/pricing/rules")
            .bearer_auth(&admin)
            .json(&json!({
                "name": "Flash", "scope": { "kind": "product", "product_id": lamp_id },
                "adjustment": { "kind": "percent_off", "basis_points": 1_000 },
                "ends_at": flash_end, "enabled": true,
            })),
    )
    .await;
    assert_eq!(flash.status, 201, "{}", flash.text);
    let product_path = format!("/api/v1/products/{lamp_id}");
    let price_is = |amount: i64| {
        let path = product_path.clone();
        let s = &s;
        async move {
            let a = send(s.get(&path)).await;
            (a.body["pricing"]["price"] == usd(amount)).then_some(())
        }
    };
    eventually("the flash sale prices the lamp", || price_is(1_800)).await;
    let added = send(
        s.post("/api/v1/cart/items")
            .bearer_auth(&bob)
            .json(&json!({ "product_id": lamp_id, "quantity": 1 })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert!(
        Utc::now() < flash_end,
        "the cart was filled during the flash sale"
    );
    eventually("the flash sale is over", || price_is(2_000)).await;
    assert!(Utc::now() >= flash_end, "never before its end");
    let address = json!({
        "line1": "1 Lamp Lane", "city": "Boulder", "postal_code": "80302", "country": "US"
    });
    let expired = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&bob)
            .json(&json!({ "shipping_address": address, "payment_method": "card" })),
    )
    .await;
    let problem = expired.problem(409);
    assert_eq!(problem["code"], "price_changed", "{}", expired.text);
    assert_eq!(problem["changes"][0]["was"], usd(1_800));
    assert_eq!(problem["changes"][0]["now"], usd(2_000));

    // A 25% sale from an exact second a little ahead.
    let start = (Utc::now() + TimeDelta::seconds(3)).trunc_subsecs(0);
    let rule = send(
        s.post("/api/v1/pricing/rules")
            .bearer_auth(&admin)
            .json(&json!({
                "name": "Lighting week",
                "scope": { "kind": "category", "category_id": category.body["id"] },
                "adjustment": { "kind": "percent_off", "basis_points": 2_500 },
                "starts_at": start,
                "enabled": true,
            })),
    )
    .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    assert_eq!(rule.body["status"], "scheduled");
    let rule_id = rule.body["id"].as_str().unwrap().to_owned();

    // From the start's second the product answer is at the sale price, with the prior
    // price: the flash sale's 18.00, the lowest of the 30 days that end at that second.
    let shown = eventually("the sale prices the lamp, with its prior price", || async {
        let a = send(s.get(&product_path)).await;
        (a.body["pricing"]["price"] == usd(1_500)
            && a.body["pricing"]["lowest_30_days"]["price"] == usd(1_800))
        .then_some(a)
    })
    .await;
    assert!(Utc::now() >= start, "never before the window opens");
    let prior = &shown.body["pricing"]["lowest_30_days"];
    let window_to: DateTime<Utc> = prior["window_to"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        window_to, start,
        "the window ends when the sale began: {prior}"
    );
    assert_eq!(prior["discount"], usd(300));
    assert_eq!(prior["discount_percent"], 17, "3.00 of 18.00, rounded");
    assert_eq!(shown.body["price"], usd(2_000), "the list price stays");

    // The scheduler records the start.
    let rule_path = format!("/api/v1/pricing/rules/{rule_id}");
    eventually("the scheduler records the sale's start", || async {
        let a = send(s.get(&rule_path).bearer_auth(&admin)).await;
        (a.body["status"] == "active").then_some(())
    })
    .await;

    // Checkout: Ann's cart saw 20.00 a lamp, the price is 15.00 now: asked first.
    let refused = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&ann)
            .json(&json!({ "shipping_address": address, "payment_method": "card" })),
    )
    .await;
    let problem = refused.problem(409);
    assert_eq!(problem["code"], "price_changed", "{}", refused.text);
    assert_eq!(problem["changes"][0]["was"], usd(2_000));
    assert_eq!(problem["changes"][0]["now"], usd(1_500));
    assert_eq!(problem["subtotal"], usd(3_000));
    let placed = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&ann)
            .json(&json!({
                "shipping_address": address, "payment_method": "card", "accept_price_changes": true,
            })),
    )
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    assert_eq!(placed.body["subtotal"], usd(3_000), "{}", placed.text);
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let line = eventually("the order has its line", || async {
        let a = send(
            s.get(&format!("/api/v1/orders/{order}"))
                .bearer_auth(&ann)
                .header("x-consistency-token", placed.consistency()),
        )
        .await;
        a.body["items"].get(0).cloned()
    })
    .await;
    assert_eq!(line["price"], usd(2_000), "the list price: {line}");
    assert_eq!(line["price_rules"][0]["rule_id"], rule_id.as_str());
    assert_eq!(line["price_rules"][0]["rule_version"], 1);
    assert_eq!(line["price_rules"][0]["amount_off"], 1_000);

    // Every read model, as the server built it, equals a replay of the store.
    let out = Command::new(umctl())
        .arg("verify")
        .env("DATABASE_URL", &s.database_url)
        .env_remove("EVENTSTORE_URL")
        .output()
        .expect("umctl runs");
    assert!(
        out.status.success(),
        "umctl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
