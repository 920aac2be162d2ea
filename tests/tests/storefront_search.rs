//! The rest of the storefront core (issue 21) against the real binary: a shopper finds a
//! product through faceted search and suggestions, buys one of its variants (and is
//! refused without one, or with another product's), and checks out to an address whose
//! tax the order records per line and charges exactly; staff read the search log.

use e2e::{eventually, send, usd, Server};
use serde_json::{json, Value};

#[tokio::test]
async fn a_shopper_finds_a_variant_buys_it_and_is_taxed_per_line() {
    let s = Server::start_with(&["--search-log-interval", "1s"]).await;
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Kitchenware" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let category_id = category.body["id"].clone();

    // A mug sold in two colours, and a kettle of another brand without variants.
    let mug = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "SMUG", "name": "Stoneware mug", "category_id": category_id,
        "price": usd(1_299), "attributes": { "brand": "Potter & Co" },
    })))
    .await;
    assert_eq!(mug.status, 201, "{}", mug.text);
    let mug_id = mug.body["id"].as_str().unwrap().to_owned();
    let mut colours = Vec::new();
    for (sku, colour, stock) in [("SMUG-RED", "red", 5), ("SMUG-BLUE", "blue", 0)] {
        let v = send(
            s.post(&format!("/api/v1/products/{mug_id}/variants"))
                .bearer_auth(&admin)
                .json(&json!({
                    "sku": sku, "name": format!("Stoneware mug, {colour}"), "price": usd(1_299),
                    "attributes": { "color": colour }, "stock": stock,
                })),
        )
        .await;
        assert_eq!(v.status, 201, "{}", v.text);
        colours.push(v.body["id"].as_str().unwrap().to_owned());
    }
    let kettle = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "KETTLE-1", "name": "Copper kettle", "category_id": category_id,
        "price": usd(4_500), "attributes": { "brand": "Acme" },
    })))
    .await;
    assert_eq!(kettle.status, 201, "{}", kettle.text);
    let kettle_variant = send(
        s.post(&format!(
            "/api/v1/products/{}/variants",
            kettle.body["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .json(&json!({ "sku": "KETTLE-1-L", "name": "Copper kettle, 2 l", "price": usd(4_900) })),
    )
    .await;
    assert_eq!(kettle_variant.status, 201, "{}", kettle_variant.text);
    let rate = send(
        s.put("/api/v1/tax-rates/US-NY")
            .bearer_auth(&admin)
            .json(&json!({ "rate_ppm": 88_750, "name": "NY sales tax" })),
    )
    .await;
    assert_eq!(rate.status, 200, "{}", rate.text);

    // Faceted search: the brand and colour facets count what the query matches.
    let found = send(
        s.get("/api/v1/search?q=stoneware")
            .header("x-consistency-token", kettle_variant.consistency()),
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert_eq!(found.body["items"][0]["id"], json!(mug_id));
    let colours_facet: Vec<(&str, i64)> = found.body["facets"]["attr.color"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap(), v["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(colours_facet, [("blue", 1), ("red", 1)], "{}", found.text);
    assert_eq!(
        found.body["facets"]["brand"]["values"],
        json!([{ "value": "Potter & Co", "count": 1 }])
    );
    let by_brand = send(s.get("/api/v1/search?brand=Acme")).await;
    assert_eq!(by_brand.body["total"], 1, "{}", by_brand.text);
    let bad = send(s.get("/api/v1/search?limit=0")).await;
    assert_eq!(bad.problem(400)["code"], "invalid_query");

    // Suggestions complete names, brands and categories by prefix.
    let suggested = send(s.get("/api/v1/search/suggestions?q=Cop")).await;
    assert_eq!(suggested.status, 200, "{}", suggested.text);
    assert!(
        suggested.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["term"] == "Copper kettle" && t["kind"] == "product"),
        "{}",
        suggested.text
    );
    let missing = send(s.get("/api/v1/search/suggestions")).await;
    assert_eq!(missing.problem(400)["code"], "invalid_query");

    // The mug is bought as a colour: without one, or with the kettle's, it is refused.
    let (_, ann) = s.customer("ann.search@example.com").await;
    let add = |variant: Value| {
        s.post("/api/v1/cart/items")
            .bearer_auth(&ann)
            .json(&json!({ "product_id": mug_id, "variant_id": variant, "quantity": 3 }))
    };
    let none = send(add(Value::Null)).await;
    assert_eq!(
        none.problem(422)["code"],
        "variant_required",
        "{}",
        none.text
    );
    let other = send(add(kettle_variant.body["id"].clone())).await;
    assert_eq!(
        other.problem(422)["code"],
        "unknown_variant",
        "{}",
        other.text
    );
    let added = send(add(json!(colours[0]))).await;
    assert_eq!(added.status, 201, "{}", added.text);

    // Checkout to New York: 3 × 12.99 = 38.97, taxed once at 8.875% = 3.46 (3.4585...).
    let placed = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&ann)
            .json(&json!({
                "shipping_address": {
                    "line1": "1 Main St", "city": "New York", "region": "NY",
                    "postal_code": "10001", "country": "US"
                },
                "payment_method": "card",
            })),
    )
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    let line = &placed.body["items"][0];
    assert_eq!(line["variant_id"], json!(colours[0]), "{}", placed.text);
    assert_eq!(line["sku"], "SMUG-RED");
    assert_eq!(line["tax"]["amount"], usd(346), "{}", placed.text);
    assert_eq!(line["tax"]["rate_ppm"], 88_750);
    assert_eq!(line["tax_rate"], "8.875");
    assert_eq!(placed.body["tax"], usd(346));
    assert_eq!(placed.body["total"], usd(3_897 + 346));

    // The red mug's stock is held for the order; the blue's is untouched.
    eventually("the red mug's stock is reserved", || async {
        let p = send(s.get(&format!("/api/v1/products/{mug_id}"))).await;
        let variants = p.body["variants"].as_array()?.clone();
        let held: Vec<(String, i64)> = variants
            .iter()
            .map(|v| {
                (
                    v["sku"].as_str().unwrap_or_default().to_owned(),
                    v["stock"]["available"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        (held == [("SMUG-RED".to_owned(), 2), ("SMUG-BLUE".to_owned(), 0)]).then_some(())
    })
    .await;

    // The search log counts the searches once a gateway's interval has passed.
    eventually("the search log shows the query", || async {
        let q = send(s.get("/api/v1/search/queries?kind=top").bearer_auth(&admin)).await;
        q.body["items"]
            .as_array()?
            .iter()
            .any(|i| i["query"] == "stoneware" && i["searches"] == 1)
            .then_some(())
    })
    .await;
    let anonymous = send(s.get("/api/v1/search/queries")).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);

    // A category moved under its own child is refused, naming the field.
    let child = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Teaware", "parent_id": category_id })),
    )
    .await;
    assert_eq!(child.status, 201, "{}", child.text);
    let cycle = send(
        s.put(&format!(
            "/api/v1/categories/{}",
            category_id.as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .json(&json!({ "parent_id": child.body["id"] })),
    )
    .await;
    assert_eq!(
        cycle.problem(422)["code"],
        "category_cycle",
        "{}",
        cycle.text
    );

    // A coupon past its window is refused: it applies now, and no longer once it ends.
    let ends = chrono::Utc::now() + chrono::Duration::seconds(2);
    let coupon = send(s.post("/api/v1/coupons").bearer_auth(&admin).json(&json!({
        "code": "BRIEF-E2E", "discount": { "kind": "percent", "basis_points": 500 },
        "valid_until": ends.to_rfc3339(),
    })))
    .await;
    assert_eq!(coupon.status, 201, "{}", coupon.text);
    let mug_again = send(add(json!(colours[0]))).await;
    assert_eq!(mug_again.status, 201, "{}", mug_again.text);
    let apply = || {
        s.post("/api/v1/cart/coupon")
            .bearer_auth(&ann)
            .json(&json!({ "code": "BRIEF-E2E" }))
    };
    let applied = send(apply()).await;
    assert_eq!(applied.status, 200, "{}", applied.text);
    let expired = eventually("the coupon's window ends", || async {
        let a = send(apply()).await;
        (a.status == 422).then_some(a)
    })
    .await;
    assert_eq!(
        expired.problem(422)["code"],
        "invalid_coupon",
        "{}",
        expired.text
    );
    assert!(
        chrono::Utc::now() >= ends,
        "refused only once the window ended"
    );
}
