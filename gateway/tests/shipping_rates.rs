//! Shipping methods and rates over real HTTP (issue 22, item 3): staff set a zone with a
//! method by weight and one by order value (refused: a customer, brackets out of order, a
//! country another zone has, a basis of no kind); a cart is quoted to a destination; and
//! checkout charges the method chosen (or the cheapest), refusing an unknown method, one
//! that does not serve the address, and an address no zone serves, with nothing written.

mod common;

use common::{access_token as login, json_call as call, with_shop};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct Shop {
    c: Client,
    base: String,
    admin: String,
    customer: String,
    mug: Value,
}

impl Shop {
    /// A shop with one product, a mug of 400 g at 12.50, and a customer.
    async fn open(base: &str) -> Shop {
        let c = Client::new();
        let admin = login(&c, base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        c.post(format!("{base}/auth/register"))
            .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
            .send()
            .await
            .unwrap();
        let customer = login(&c, base, "ann@example.com", "customer password").await;
        let (_, cat) = call(
            &c,
            "POST",
            format!("{base}/categories"),
            &admin,
            Some(json!({ "name": "Mugs" })),
        )
        .await;
        let (status, mug) = call(
            &c,
            "POST",
            format!("{base}/products"),
            &admin,
            Some(json!({
                "sku": "MUG-1", "name": "Mug", "category_id": cat["id"],
                "price": { "amount": 1250, "currency": "USD" },
                "attributes": { "weight_grams": 400 }
            })),
        )
        .await;
        assert_eq!(status, 201, "{mug}");
        let (status, _) = call(
            &c,
            "POST",
            format!("{base}/inventory/MUG-1/receive"),
            &admin,
            Some(json!({ "quantity": 50 })),
        )
        .await;
        assert!(status.is_success());
        Shop {
            c,
            base: base.to_owned(),
            admin,
            customer,
            mug: mug["id"].clone(),
        }
    }

    async fn staff(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        call(&self.c, method, url, &self.admin, body).await
    }

    async fn customer(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        call(&self.c, method, url, &self.customer, body).await
    }

    async fn add_mugs(&self, quantity: u32) {
        let (status, cart) = self
            .customer(
                "POST",
                "/cart/items",
                Some(json!({ "product_id": self.mug, "quantity": quantity })),
            )
            .await;
        assert!(status.is_success(), "{cart}");
    }

    async fn check_out(&self, country: &str, method: Option<&str>) -> (StatusCode, Value) {
        let mut body = json!({
            "shipping_address": address(country),
            "payment_method": "card",
        });
        if let Some(m) = method {
            body["shipping_method"] = json!(m);
        }
        self.customer("POST", "/cart/checkout", Some(body)).await
    }
}

fn address(country: &str) -> Value {
    json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": country })
}

/// The US: `standard` by weight (5.00 to 1 kg, 9.00 to 5 kg), free from 50.00;
/// `express` by order value (15.00 whatever the value).
fn us_zone() -> Value {
    json!({
        "name": "United States",
        "currency": "USD",
        "areas": ["US"],
        "methods": [
            { "code": "standard", "name": "Standard", "carrier": "test", "service_level": "standard",
              "basis": "weight",
              "rates": [{ "up_to": 1000, "fee": 500 }, { "up_to": 5000, "fee": 900 }],
              "free_over": 5000 },
            { "code": "express", "name": "Express", "carrier": "test", "service_level": "express",
              "basis": "order_value", "rates": [{ "up_to": null, "fee": 1500 }], "free_over": null }
        ]
    })
}

#[tokio::test]
async fn staff_set_zones_and_the_rules_name_what_they_refuse() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(&base).await;
        let (status, _) = shop
            .customer("PUT", "/shipping/zones/us", Some(us_zone()))
            .await;
        assert_eq!(status, 403);
        let (status, zone) = shop
            .staff("PUT", "/shipping/zones/us", Some(us_zone()))
            .await;
        assert_eq!(status, 200, "{zone}");
        assert_eq!(zone["code"], "us");
        assert_eq!(zone["areas"], json!(["US"]));
        assert_eq!(
            zone["methods"][0]["rates"][1],
            json!({ "up_to": 5000, "fee": 900 })
        );

        // Brackets out of order, named by their path.
        let mut bad = us_zone();
        bad["methods"][0]["rates"] =
            json!([{ "up_to": 5000, "fee": 900 }, { "up_to": 1000, "fee": 500 }]);
        let (status, problem) = shop.staff("PUT", "/shipping/zones/us", Some(bad)).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "methods[0].rates[1].up_to");
        // A country another zone ships to.
        let mut other = us_zone();
        other["areas"] = json!(["CA", "US"]);
        let (status, problem) = shop
            .staff("PUT", "/shipping/zones/north-america", Some(other))
            .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "areas[1]");
        // A basis of no kind, and a code the rules refuse.
        let mut bad = us_zone();
        bad["methods"][1]["basis"] = json!("volume");
        let (status, problem) = shop.staff("PUT", "/shipping/zones/us", Some(bad)).await;
        assert_eq!(
            (status.as_u16(), problem["errors"][0]["field"].as_str()),
            (422, Some("methods[1].basis"))
        );
        let (status, problem) = shop
            .staff("PUT", "/shipping/zones/U%20S", Some(us_zone()))
            .await;
        assert_eq!(
            (status.as_u16(), problem["errors"][0]["field"].as_str()),
            (422, Some("code"))
        );

        // Nothing of the refusals was written: the zone is as set.
        let (status, zones) = shop.staff("GET", "/shipping/zones", None).await;
        assert_eq!(status, 200);
        assert_eq!(zones.as_array().unwrap().len(), 1, "{zones}");
        assert_eq!(zones[0]["methods"][0]["rates"][0]["up_to"], 1000);

        let (status, _) = shop.staff("DELETE", "/shipping/zones/us", None).await;
        assert_eq!(status, 204);
        let (status, _) = shop.staff("GET", "/shipping/zones/us", None).await;
        assert_eq!(status, 404);
        let (status, _) = shop.staff("DELETE", "/shipping/zones/us", None).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn a_cart_is_quoted_and_checkout_charges_the_method_chosen() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(&base).await;
        // Before any zone: an order ships free, as before there were rates.
        shop.add_mugs(1).await;
        let (status, order) = shop.check_out("US", None).await;
        assert_eq!(status, 202, "{order}");
        assert_eq!(order["shipping"]["amount"], 0);

        let (status, _) = shop
            .staff("PUT", "/shipping/zones/us", Some(us_zone()))
            .await;
        assert_eq!(status, 200);
        // Three mugs: 1,200 g and 37.50.
        shop.add_mugs(3).await;
        let (status, quote) = shop
            .customer("GET", "/shipping/quote?country=us", None)
            .await;
        assert_eq!(status, 200, "{quote}");
        assert_eq!(quote["weight_grams"], 1200);
        assert_eq!(quote["value"]["amount"], 3750);
        let offered: Vec<(String, i64)> = quote["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["method"].as_str().unwrap().to_owned(),
                    m["fee"]["amount"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            offered,
            vec![("standard".into(), 900), ("express".into(), 1500)]
        );
        // Nowhere served: no methods; a country of no shape: 400.
        let (status, none) = shop
            .customer("GET", "/shipping/quote?country=FR", None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(none["methods"], json!([]));
        let (status, problem) = shop
            .customer("GET", "/shipping/quote?country=USA", None)
            .await;
        assert_eq!(status, 400, "{problem}");
        // A guest without a cart has nothing to quote.
        let r = shop
            .c
            .get(format!("{}/shipping/quote?country=US", shop.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        // An unknown method, one that does not serve France, and France without a method:
        // each refused with its code, and the cart keeps its lines.
        let (status, problem) = shop.check_out("US", Some("teleport")).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "unknown_shipping_method");
        assert_eq!(problem["errors"][0]["field"], "shipping_method");
        let (status, problem) = shop.check_out("FR", Some("standard")).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "shipping_method_unavailable");
        let (status, problem) = shop.check_out("FR", None).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "shipping_unavailable");
        let deadline = std::time::Instant::now() + common::PATIENCE;
        loop {
            let (_, cart) = shop.customer("GET", "/cart", None).await;
            if cart["items"][0]["quantity"] == 3 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the cart lost its lines: {cart}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        // Express, as quoted: the total includes the fee.
        let (status, order) = shop.check_out("US", Some("express")).await;
        assert_eq!(status, 202, "{order}");
        assert_eq!(order["shipping"]["amount"], 1500);
        assert_eq!(order["subtotal"]["amount"], 3750);
        assert_eq!(order["total"]["amount"], 3750 + 1500);

        // Placing an order without a method takes the cheapest: standard; five mugs
        // (62.50) pass the threshold and ship free.
        let place = |quantity: u32| {
            json!({
                "items": [{ "product_id": shop.mug, "quantity": quantity }],
                "shipping_address": address("US"), "payment_method": "card"
            })
        };
        let (status, order) = shop.customer("POST", "/orders", Some(place(2))).await;
        assert_eq!(status, 202, "{order}");
        assert_eq!(order["shipping"]["amount"], 500);
        assert_eq!(order["total"]["amount"], 2500 + 500);
        let (status, order) = shop.customer("POST", "/orders", Some(place(5))).await;
        assert_eq!(status, 202, "{order}");
        assert_eq!(order["shipping"]["amount"], 0);
        // Thirteen mugs weigh 5.2 kg: too heavy for standard, which is refused by name.
        let mut heavy = place(13);
        heavy["shipping_method"] = json!("standard");
        let (status, problem) = shop.customer("POST", "/orders", Some(heavy)).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "shipping_method_unavailable");
    })
    .await;
}
