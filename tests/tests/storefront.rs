//! The storefront core (issue 21) against the real binary: staff give a product variants
//! and an image and a coupon limited to one use; a shopper saves a line for later, shares
//! the cart with a friend who copies it, checks out with the coupon and cancels, which
//! gives the coupon's use back; a low-stock threshold raises an alert; the tax table is
//! kept by staff and read by anyone.

use e2e::{eventually, send, usd, Server};
use serde_json::{json, Value};

#[tokio::test]
async fn staff_stock_the_storefront_and_a_shopper_uses_it() {
    let s = Server::start().await;
    let admin = s.admin().await;

    // A category, a T-shirt with two sizes and an image, and a mug.
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Merch" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let category_id = category.body["id"].clone();
    let tee = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "TEE-E2E", "name": "Logo tee", "category_id": category_id, "price": usd(2_000),
        "meta_title": "The logo tee",
    })))
    .await;
    assert_eq!(tee.status, 201, "{}", tee.text);
    let tee_id = tee.body["id"].as_str().unwrap().to_owned();
    let mut sizes_ids = Vec::new();
    for (sku, size, stock) in [("TEE-E2E-S", "S", 3), ("TEE-E2E-M", "M", 0)] {
        let v = send(
            s.post(&format!("/api/v1/products/{tee_id}/variants"))
                .bearer_auth(&admin)
                .json(&json!({
                    "sku": sku, "name": format!("Logo tee, {size}"), "price": usd(2_100),
                    "attributes": { "size": size }, "stock": stock,
                })),
        )
        .await;
        assert_eq!(v.status, 201, "{}", v.text);
        sizes_ids.push(v.body["id"].clone());
    }
    let taken = send(
        s.post(&format!("/api/v1/products/{tee_id}/variants"))
            .bearer_auth(&admin)
            .json(&json!({ "sku": "TEE-E2E-S", "name": "again", "price": usd(1) })),
    )
    .await;
    assert_eq!(taken.problem(409)["code"], "sku_taken");
    let image = send(
        s.post(&format!("/api/v1/products/{tee_id}/images"))
            .bearer_auth(&admin)
            .json(&json!({ "url": "https://img.example.com/tee.png", "alt": "The tee" })),
    )
    .await;
    assert_eq!(image.status, 201, "{}", image.text);
    let shown = send(
        s.get(&format!("/api/v1/products/{tee_id}"))
            .header("x-consistency-token", image.consistency()),
    )
    .await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    // In the order they were added.
    let sizes: Vec<(&str, &Value)> = shown.body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["sku"].as_str().unwrap(), &v["stock"]["available"]))
        .collect();
    assert_eq!(
        sizes,
        [("TEE-E2E-S", &json!(3)), ("TEE-E2E-M", &json!(0))],
        "{}",
        shown.text
    );
    assert_eq!(
        shown.body["images"][0]["url"],
        "https://img.example.com/tee.png"
    );
    assert_eq!(shown.body["meta_title"], "The logo tee");

    let mug = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "MUG-E2E", "name": "Logo mug", "category_id": category_id, "price": usd(1_000),
    })))
    .await;
    assert_eq!(mug.status, 201, "{}", mug.text);
    let mug_id = mug.body["id"].as_str().unwrap().to_owned();
    let stocked = send(
        s.post("/api/v1/inventory/MUG-E2E/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);

    // A coupon good for one order of 10% off.
    let coupon = send(s.post("/api/v1/coupons").bearer_auth(&admin).json(&json!({
        "code": "once-e2e", "discount": { "kind": "percent", "basis_points": 1000 },
        "max_uses": 1,
    })))
    .await;
    assert_eq!(coupon.status, 201, "{}", coupon.text);

    // Ann fills a cart, saves the tee for later and shares the cart; Bob copies it.
    let (_, ann) = s.customer("ann.storefront@example.com").await;
    let (_, bob) = s.customer("bob.storefront@example.com").await;
    // The tee is sold as its sizes: the line names one.
    for (product, variant, quantity) in [
        (&mug_id, Value::Null, 2),
        (&tee_id, sizes_ids[0].clone(), 1),
    ] {
        let added =
            send(s.post("/api/v1/cart/items").bearer_auth(&ann).json(
                &json!({ "product_id": product, "variant_id": variant, "quantity": quantity }),
            ))
            .await;
        assert_eq!(added.status, 201, "{}", added.text);
    }
    let cart = send(s.get("/api/v1/cart").bearer_auth(&ann)).await;
    let tee_line = cart.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == json!(tee_id))
        .map(|l| l["id"].as_str().unwrap().to_owned());
    let tee_line = match tee_line {
        Some(id) => id,
        // The read model had not caught up: wait for it.
        None => {
            eventually("the cart shows the tee", || async {
                let c = send(s.get("/api/v1/cart").bearer_auth(&ann)).await;
                c.body["items"]
                    .as_array()?
                    .iter()
                    .find(|l| l["product_id"] == json!(tee_id))
                    .map(|l| l["id"].as_str().unwrap().to_owned())
            })
            .await
        }
    };
    let saved = send(
        s.post(&format!("/api/v1/cart/items/{tee_line}/save-for-later"))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let shared = send(s.post("/api/v1/cart/share").bearer_auth(&ann)).await;
    assert_eq!(shared.status, 201, "{}", shared.text);
    let link = shared.body["token"].as_str().unwrap().to_owned();
    let seen = send(
        s.get(&format!("/api/v1/carts/shared/{link}"))
            .header("x-consistency-token", shared.consistency()),
    )
    .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(!seen.text.contains("ann.storefront"), "{}", seen.text);
    let copied = send(
        s.post("/api/v1/cart/copy")
            .bearer_auth(&bob)
            .json(&json!({ "token": link })),
    )
    .await;
    assert_eq!(copied.status, 200, "{}", copied.text);
    assert_eq!(copied.body["item_count"], 2, "{}", copied.text);
    let unknown = send(
        s.post("/api/v1/cart/copy")
            .bearer_auth(&bob)
            .json(&json!({ "token": "not-a-share-token" })),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    // Ann checks out with the coupon: the saved tee stays behind, the mugs are 10% off.
    let applied = send(
        s.post("/api/v1/cart/coupon")
            .bearer_auth(&ann)
            .json(&json!({ "code": "ONCE-E2E" })),
    )
    .await;
    assert_eq!(applied.status, 200, "{}", applied.text);
    let address = json!({
        "line1": "1 Harbour St", "city": "Portland", "postal_code": "04101", "country": "US"
    });
    let placed = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&ann)
            .json(&json!({ "shipping_address": address, "payment_method": "card" })),
    )
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    assert_eq!(placed.body["subtotal"], usd(2_000));
    assert_eq!(placed.body["discount"], usd(200));
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    let used = send(
        s.get("/api/v1/coupons/once-e2e")
            .bearer_auth(&admin)
            .header("x-consistency-token", placed.consistency()),
    )
    .await;
    assert_eq!(
        (used.body["uses"].clone(), used.body["remaining"].clone()),
        (json!(1), json!(0))
    );
    let after = send(
        s.get("/api/v1/cart")
            .bearer_auth(&ann)
            .header("x-consistency-token", placed.consistency()),
    )
    .await;
    assert_eq!(after.body["items"], json!([]), "{}", after.text);
    assert_eq!(after.body["saved_items"][0]["product_id"], json!(tee_id));

    // Bob cannot use it too; Ann cancels, and the use comes back.
    let refused = send(
        s.post("/api/v1/cart/coupon")
            .bearer_auth(&bob)
            .json(&json!({ "code": "ONCE-E2E" })),
    )
    .await;
    if refused.status == 200 {
        // Applying only checks what can be checked now; checkout enforces the limit.
        let bob_checkout = send(
            s.post("/api/v1/cart/checkout")
                .bearer_auth(&bob)
                .json(&json!({ "shipping_address": address, "payment_method": "card" })),
        )
        .await;
        assert_eq!(bob_checkout.status, 422, "{}", bob_checkout.text);
    }
    let order_path = format!("/api/v1/orders/{order_id}");
    eventually("the order awaits payment", || async {
        let o = send(s.get(&order_path).bearer_auth(&ann)).await;
        (o.body["status"] == "awaiting_payment").then_some(())
    })
    .await;
    let cancelled = send(s.delete(&order_path).bearer_auth(&ann)).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    eventually("the coupon's use is given back", || async {
        let c = send(s.get("/api/v1/coupons/once-e2e").bearer_auth(&admin)).await;
        (c.body["uses"] == 0).then_some(())
    })
    .await;

    // A threshold above what is available raises an alert; a negative one is refused.
    let threshold = send(
        s.put("/api/v1/inventory/MUG-E2E/threshold")
            .bearer_auth(&admin)
            .json(&json!({ "threshold": 10 })),
    )
    .await;
    assert_eq!(threshold.status, 200, "{}", threshold.text);
    assert_eq!(threshold.body["low_stock"], true, "{}", threshold.text);
    let negative = send(
        s.put("/api/v1/inventory/MUG-E2E/threshold")
            .bearer_auth(&admin)
            .json(&json!({ "threshold": -1 })),
    )
    .await;
    assert_eq!(negative.status, 422, "{}", negative.text);
    let alerts = send(
        s.get("/api/v1/inventory/alerts")
            .bearer_auth(&admin)
            .header("x-consistency-token", threshold.consistency()),
    )
    .await;
    assert_eq!(alerts.status, 200, "{}", alerts.text);
    assert!(
        alerts.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["sku"] == "MUG-E2E"),
        "{}",
        alerts.text
    );

    // The tax table: staff set New York's rate; anyone reads how prices are taxed.
    let rate = send(
        s.put("/api/v1/tax-rates/US-NY")
            .bearer_auth(&admin)
            .json(&json!({ "rate_ppm": 88_750, "name": "NY sales tax" })),
    )
    .await;
    assert_eq!(rate.status, 200, "{}", rate.text);
    assert_eq!(rate.body["rate_percent"], "8.875");
    let settings = send(s.get("/api/v1/tax-settings")).await;
    assert_eq!(settings.body, json!({ "prices_include_tax": false }));
}
