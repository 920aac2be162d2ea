//! Variants bought and orders taxed over real HTTP (issue 21 items 2 and 7, ADR 0006): a
//! variant goes into the cart at its own price and SKU, two variants are two lines; the
//! checkout taxes each line at the shipping address's rate (exclusive and inclusive
//! prices); the order answer shows each line's variant, discount and tax, its totals are
//! their sum, and the payment charges the recorded total. A missing, unknown or other
//! product's variant is refused with a clear problem, and nothing is added.

mod common;

use std::time::{Duration, Instant};

use common::{access_token, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}

struct Shop {
    c: Client,
    base: String,
    admin: String,
    ann: String,
}

impl Shop {
    async fn open(base: String) -> Shop {
        let c = Client::new();
        let admin = access_token(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        c.post(format!("{base}/auth/register"))
            .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
            .send()
            .await
            .unwrap();
        let ann = access_token(&c, &base, "ann@example.com", "customer password").await;
        Shop {
            c,
            base,
            admin,
            ann,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, body) =
            json_call(&self.c, method, format!("{}{path}", self.base), token, body).await;
        (status.as_u16(), body)
    }

    /// A product (with `variants` of SKU, price and stock): its id and its variants' ids.
    async fn product(
        &self,
        sku: &str,
        price: i64,
        variants: &[(&str, i64, u32)],
    ) -> (String, Vec<String>) {
        let (status, cat) = self
            .call(
                "POST",
                "/categories",
                &self.admin,
                Some(json!({ "name": format!("cat {sku}") })),
            )
            .await;
        assert_eq!(status, 201, "{cat}");
        let (status, p) = self
            .call(
                "POST",
                "/products",
                &self.admin,
                Some(json!({
                    "sku": sku, "name": format!("product {sku}"), "category_id": cat["id"],
                    "price": usd(price),
                })),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        let id = p["id"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for (vsku, vprice, stock) in variants {
            let (status, v) = self
                .call(
                    "POST",
                    &format!("/products/{id}/variants"),
                    &self.admin,
                    Some(json!({
                        "sku": vsku, "name": vsku, "price": usd(*vprice), "stock": stock,
                    })),
                )
                .await;
            assert_eq!(status, 201, "{v}");
            ids.push(v["id"].as_str().unwrap().to_owned());
        }
        (id, ids)
    }

    async fn order_until(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, order) = self
                .call("GET", &format!("/orders/{id}"), &self.ann, None)
                .await;
            if order["status"] == status {
                return order;
            }
            assert!(Instant::now() < deadline, "never {status}: {order}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn item<'a>(order: &'a Value, sku: &str) -> &'a Value {
    order["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == sku)
        .unwrap_or_else(|| panic!("no {sku} in {order}"))
}

/// The order's totals are the sums of its lines, as ADR 0006 folds them.
fn folds(order: &Value) {
    let sum = |f: &dyn Fn(&Value) -> i64| -> i64 {
        order["items"].as_array().unwrap().iter().map(f).sum()
    };
    let subtotal = sum(&|i| i["subtotal"]["amount"].as_i64().unwrap());
    let discount = sum(&|i| i["discount"]["amount"].as_i64().unwrap());
    let tax = sum(&|i| i["tax"]["amount"]["amount"].as_i64().unwrap());
    let added = sum(&|i| {
        if i["tax"]["inclusive"] == true {
            0
        } else {
            i["tax"]["amount"]["amount"].as_i64().unwrap()
        }
    });
    assert_eq!(order["subtotal"], usd(subtotal), "{order}");
    assert_eq!(order["discount"], usd(discount), "{order}");
    assert_eq!(order["tax"], usd(tax), "{order}");
    assert_eq!(
        order["total"],
        usd(subtotal - discount + added + order["shipping"]["amount"].as_i64().unwrap()),
        "{order}"
    );
}

#[tokio::test]
async fn variants_are_bought_and_each_line_is_taxed() {
    with_shop(&[], |base, db| async move { journey(base, db).await }).await;
}

async fn journey(base: String, db: String) {
    let s = Shop::open(base).await;
    let (status, _) = s
        .call(
            "PUT",
            "/tax-rates/US-NY",
            &s.admin,
            Some(json!({ "rate_ppm": 88_750, "name": "NY sales tax" })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .call(
            "PUT",
            "/tax-rates/DE",
            &s.admin,
            Some(json!({ "rate_ppm": 190_000, "name": "MwSt" })),
        )
        .await;
    assert_eq!(status, 200);
    let (tee, variants) = s
        .product("TEE", 1_000, &[("TEE-S", 1_999, 10), ("TEE-L", 2_499, 10)])
        .await;
    let (_, other_variants) = s.product("CAP", 900, &[("CAP-1", 900, 1)]).await;
    let (mug, _) = s.product("MUG", 1_250, &[]).await;
    let (status, r) = s
        .call(
            "POST",
            "/inventory/MUG/receive",
            &s.admin,
            Some(json!({ "quantity": 1000 })),
        )
        .await;
    assert!(status < 300, "{r}");

    // Bad input: no variant for a product sold as variants, one it does not have, another
    // product's, one for a product without variants. Nothing joins the cart.
    for (body, code) in [
        (
            json!({ "product_id": tee, "quantity": 1 }),
            "variant_required",
        ),
        (
            json!({ "product_id": tee, "variant_id": Uuid::new_v4(), "quantity": 1 }),
            "unknown_variant",
        ),
        (
            json!({ "product_id": tee, "variant_id": other_variants[0], "quantity": 1 }),
            "unknown_variant",
        ),
        (
            json!({ "product_id": mug, "variant_id": variants[0], "quantity": 1 }),
            "product_has_no_variants",
        ),
    ] {
        let (status, p) = s
            .call("POST", "/cart/items", &s.ann, Some(body.clone()))
            .await;
        assert_eq!(
            (status, p["code"].as_str()),
            (422, Some(code)),
            "{body}: {p}"
        );
        assert_eq!(p["errors"][0]["field"], "variant_id", "{p}");
    }
    let (_, cart) = s.call("GET", "/cart", &s.ann, None).await;
    assert_eq!(cart["items"], json!([]), "nothing was added");
    let ny = json!({ "line1": "1 Main St", "city": "New York", "region": "NY", "postal_code": "10001", "country": "US" });
    for (items, code) in [
        (
            json!([{ "product_id": tee, "quantity": 1 }]),
            "variant_required",
        ),
        (
            json!([{ "product_id": mug, "quantity": 1 }, { "product_id": tee, "variant_id": other_variants[0], "quantity": 1 }]),
            "unknown_variant",
        ),
    ] {
        let (status, p) = s
            .call(
                "POST",
                "/orders",
                &s.ann,
                Some(json!({ "items": items, "shipping_address": ny, "payment_method": "card" })),
            )
            .await;
        assert_eq!((status, p["code"].as_str()), (422, Some(code)), "{p}");
    }
    let (_, mine) = s.call("GET", "/orders", &s.ann, None).await;
    assert_eq!(mine["total"], 0, "no order was placed: {mine}");

    // Two variants of one product are two lines, at their own prices and SKUs; the same
    // variant again adds to its line.
    for (v, q) in [(&variants[0], 2), (&variants[1], 1), (&variants[0], 1)] {
        let (status, c) = s
            .call(
                "POST",
                "/cart/items",
                &s.ann,
                Some(json!({ "product_id": tee, "variant_id": v, "quantity": q })),
            )
            .await;
        assert_eq!(status, 201, "{c}");
    }
    let (status, cart) = s
        .call(
            "POST",
            "/cart/items",
            &s.ann,
            Some(json!({ "product_id": mug, "quantity": 1000 })),
        )
        .await;
    assert_eq!(status, 201, "{cart}");
    assert_eq!(cart["items"].as_array().unwrap().len(), 3, "{cart}");
    let small = item(&cart, "TEE-S");
    assert_eq!(
        (
            small["variant_id"].as_str(),
            small["quantity"].as_i64(),
            small["price"].clone()
        ),
        (Some(variants[0].as_str()), Some(3), usd(1_999))
    );
    assert_eq!(item(&cart, "TEE-L")["price"], usd(2_499));
    assert_eq!(item(&cart, "MUG")["variant_id"], Value::Null);

    // Exclusive prices, New York (8.875%), one rounding per line: 59.97 → 5.32, 24.99 →
    // 2.22, 1000 × 12.50 = 12500.00 → 1109.38 (never per unit).
    let (status, order) = s
        .call(
            "POST",
            "/cart/checkout",
            &s.ann,
            Some(json!({ "shipping_address": ny, "payment_method": "card" })),
        )
        .await;
    assert_eq!(status, 202, "{order}");
    for (sku, taxable, amount) in [
        ("TEE-S", 5_997, 532),
        ("TEE-L", 2_499, 222),
        ("MUG", 1_250_000, 110_938),
    ] {
        let line = item(&order, sku);
        assert_eq!(
            line["tax"],
            json!({ "amount": usd(amount), "inclusive": false, "rate_ppm": 88_750, "rounding": "half_up", "taxable": usd(taxable) }),
            "{sku}: {order}"
        );
        assert_eq!(
            (line["tax_rate"].as_str(), line["discount"].clone()),
            (Some("8.875"), usd(0))
        );
    }
    assert_eq!(item(&order, "TEE-L")["variant_id"], variants[1].as_str());
    assert_eq!(order["tax"], usd(532 + 222 + 110_938));
    assert_eq!(
        order["total"],
        usd(5_997 + 2_499 + 1_250_000 + 532 + 222 + 110_938)
    );
    folds(&order);
    let id = order["id"].as_str().unwrap().to_owned();

    // The read model answers the same lines; the payment charges the recorded total.
    let payable = s.order_until(&id, "awaiting_payment").await;
    assert_eq!(payable["items"], order["items"], "the read model's lines");
    assert_eq!(payable["total"], order["total"]);
    let (status, paid) = s
        .call(
            "POST",
            &format!("/orders/{id}/payment"),
            &s.ann,
            Some(json!({ "method": "card", "token": "tok_visa" })),
        )
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["amount"], order["total"]);
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let charged: i64 = sqlx::query_scalar(
        "select amount from payment.test_charges where order_id = $1 and outcome->>'outcome' = 'captured'",
    )
    .bind(Uuid::parse_str(&id).unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(usd(charged), order["total"], "charged what was recorded");
    // The variant's stock is held under its own SKU: 3 of TEE-S's 10, 1 of TEE-L's.
    for (sku, reserved) in [("TEE-S", 3), ("TEE-L", 1)] {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, stock) = s
                .call("GET", &format!("/inventory/{sku}"), &s.admin, None)
                .await;
            if stock["reserved"] == reserved {
                assert_eq!(stock["on_hand"], 10, "{stock}");
                break;
            }
            assert!(Instant::now() < deadline, "{sku}: {stock}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Inclusive prices, Germany (19%), an order placed directly: 2 × 24.99 = 49.98 holds
    // 7.98 of tax (49.98 × 0.19 / 1.19 = 7.98), and the total is the prices'.
    let (status, _) = s
        .call(
            "PUT",
            "/tax-settings",
            &s.admin,
            Some(json!({ "prices_include_tax": true })),
        )
        .await;
    assert_eq!(status, 200);
    let berlin = json!({ "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE" });
    let (status, order) = s
        .call(
            "POST",
            "/orders",
            &s.ann,
            Some(json!({
                "items": [{ "product_id": tee, "variant_id": variants[1], "quantity": 2 }],
                "shipping_address": berlin, "payment_method": "card",
            })),
        )
        .await;
    assert_eq!(status, 202, "{order}");
    let line = item(&order, "TEE-L");
    assert_eq!(
        line["tax"],
        json!({ "amount": usd(798), "inclusive": true, "rate_ppm": 190_000, "rounding": "half_up", "taxable": usd(4_998) })
    );
    assert_eq!(line["tax_rate"], "19");
    assert_eq!(
        (order["tax"].clone(), order["total"].clone()),
        (usd(798), usd(4_998))
    );
    folds(&order);
    let id = order["id"].as_str().unwrap().to_owned();
    s.order_until(&id, "awaiting_payment").await;
    let (status, paid) = s
        .call(
            "POST",
            &format!("/orders/{id}/payment"),
            &s.ann,
            Some(json!({ "method": "card", "token": "tok_visa" })),
        )
        .await;
    assert_eq!(
        (status, paid["amount"].clone()),
        (200, usd(4_998)),
        "{paid}"
    );
}
