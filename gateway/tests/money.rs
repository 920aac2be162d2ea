//! The bounds of money over real HTTP (issue 18, item 9). Before them, a product priced at
//! 2^62 was created (201), four of it made a cart total of 0 (2^64 wrapped), and checkout
//! answered 500. Now every step answers 422 naming the field.

mod common;

use common::{access_token as login, json_call as call, with_shop};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// 2^62 minor units: the price of the attack.
const HUGE: i64 = 1 << 62;
/// `domain::money::MAX_PRICE`.
const MAX_PRICE: i64 = 1_000_000_000;

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

/// The field the problem names first.
fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_price_or_total_past_the_bounds_is_a_422_naming_the_field() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = login(&c, &base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        c.post(format!("{base}/auth/register"))
            .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
            .send()
            .await
            .unwrap();
        let ann = login(&c, &base, "ann@example.com", "customer password").await;
        let (_, cat) = call(&c, "POST", format!("{base}/categories"), &admin, Some(json!({ "name": "Gold" }))).await;
        let product = |sku: &str, price: i64| {
            json!({ "sku": sku, "name": sku, "category_id": cat["id"], "price": usd(price) })
        };

        // The attack's product is refused, not created.
        let (status, problem) = call(&c, "POST", format!("{base}/products"), &admin, Some(product("GOLD-HUGE", HUGE))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(field(&problem), "price.amount", "{problem}");

        // The largest price is taken; a change of price past it is refused.
        let (status, bar) = call(&c, "POST", format!("{base}/products"), &admin, Some(product("GOLD-BAR", MAX_PRICE))).await;
        assert_eq!(status, StatusCode::CREATED, "{bar}");
        let bar_id = bar["id"].as_str().unwrap().to_owned();
        let (status, problem) = call(&c, "PUT", format!("{base}/products/{bar_id}"), &admin, Some(json!({ "price": usd(HUGE) }))).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "price.amount"), "{problem}");
        let (_, coin) = call(&c, "POST", format!("{base}/products"), &admin, Some(product("GOLD-COIN", 1))).await;

        // A cart may reach the total bound (1,000 bars: 10^12) and not pass it.
        let (status, problem) = call(&c, "POST", format!("{base}/cart/items"), &ann, Some(json!({ "product_id": bar_id, "quantity": 10_000 }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!((problem["code"].as_str(), field(&problem)), (Some("total_too_large"), "quantity"));
        let (status, cart) = call(&c, "POST", format!("{base}/cart/items"), &ann, Some(json!({ "product_id": bar_id, "quantity": 1_000 }))).await;
        assert_eq!(status, StatusCode::CREATED, "{cart}");
        assert_eq!(cart["subtotal"], usd(1_000_000_000_000));
        let (status, problem) = call(&c, "POST", format!("{base}/cart/items"), &ann, Some(json!({ "product_id": coin["id"], "quantity": 1 }))).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("total_too_large")), "{problem}");
        let item = cart["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, problem) = call(&c, "PUT", format!("{base}/cart/items/{item}"), &ann, Some(json!({ "quantity": 1_001 }))).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "quantity"), "{problem}");

        // An order names the item that crosses the bound, even when it repeats a product.
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let (status, problem) = call(&c, "POST", format!("{base}/orders"), &ann, Some(json!({
            "items": [{ "product_id": bar_id, "quantity": 600 }, { "product_id": bar_id, "quantity": 600 }],
            "shipping_address": address, "payment_method": "card"
        }))).await;
        assert_eq!((status, field(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, "items[1].quantity"), "{problem}");

        // A cart exactly at the bound checks out (its stock is missing, which the saga
        // answers later): money is not what stops it.
        let (status, order) = call(&c, "POST", format!("{base}/cart/checkout"), &ann, Some(json!({
            "shipping_address": address, "payment_method": "card"
        }))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{order}");
        assert_eq!(order["total"], usd(1_000_000_000_000));
    })
    .await;
}
