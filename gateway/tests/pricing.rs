//! Price rules over real HTTP (issue 24, ADR 0008): staff manage rules and bad terms are
//! refused; the live rules price product answers, `GET /products/{id}/price` explains them
//! rule by rule (overlapping rules, stacking on and off, a tier boundary, an expired and a
//! scheduled rule, a segment), and checkout refuses a price the shopper did not see unless
//! they accept it, the order recording each rule with its version.

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

/// Reads `url` (with `token`, when given) until `done` holds for the answer; fails after
/// [`PATIENCE`] with the last answer.
async fn until(
    c: &Client,
    url: String,
    token: Option<&str>,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let mut r = c.get(&url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let body: Value = r.send().await.unwrap().json().await.unwrap_or(Value::Null);
        if done(&body) {
            return body;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "never came true: {url} answered {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `GET url` without credentials: the status and the body.
async fn anon(c: &Client, url: String) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn create(c: &Client, base: &str, admin: &str, body: Value) -> Value {
    let (status, rule) = json_call(
        c,
        "POST",
        format!("{base}/pricing/rules"),
        admin,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    rule
}

/// The first field an error names.
fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn staff_manage_price_rules_and_bad_terms_are_refused() {
    with_shop(&[], |base, _| async move { manage(&base).await }).await;
}

async fn manage(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ann = customer(&c, base, "ann@example.com").await;
    let rules = format!("{base}/pricing/rules");
    let sale = json!({
        "name": "Winter sale",
        "scope": { "kind": "store" },
        "adjustment": { "kind": "percent_off", "basis_points": 1500 },
        "priority": 5
    });

    let (status, _) = json_call(&c, "POST", rules.clone(), &ann, Some(sale.clone())).await;
    assert_eq!(status, 403, "a customer writes no rules");
    let (status, _) = json_call(&c, "GET", rules.clone(), &ann, None).await;
    assert_eq!(status, 403);

    let draft = create(&c, base, &admin, sale.clone()).await;
    assert_eq!(
        (
            draft["status"].as_str(),
            draft["version"].as_u64(),
            draft["enabled"].as_bool()
        ),
        (Some("draft"), Some(1), Some(false)),
        "{draft}"
    );
    let id = draft["id"].as_str().unwrap().to_owned();

    // Bad terms, each named by its field; nothing is created.
    for (bad, named) in [
        (
            json!({ "adjustment": { "kind": "percent_off", "basis_points": 0 } }),
            "adjustment.basis_points",
        ),
        (
            json!({ "adjustment": { "kind": "percent_off", "basis_points": 10001 } }),
            "adjustment.basis_points",
        ),
        (json!({ "name": " " }), "name"),
        (
            json!({ "starts_at": "2027-01-02T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z" }),
            "window",
        ),
        (
            json!({ "scope": { "kind": "product", "product_id": "00000000-0000-0000-0000-000000000001" } }),
            "scope",
        ),
        (
            json!({ "adjustment": { "kind": "tiered", "tiers": [{ "min_quantity": 5, "basis_points": 100 }, { "min_quantity": 5, "basis_points": 200 }] } }),
            "adjustment.tiers",
        ),
        (
            json!({ "segment": { "kind": "rfm", "name": "Big Spenders!" } }),
            "segment.name",
        ),
    ] {
        let mut body = sale.clone();
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (status, p) = json_call(&c, "POST", rules.clone(), &admin, Some(body)).await;
        assert_eq!((status.as_u16(), field(&p)), (422, named), "{p}");
    }
    let (status, p) = json_call(
        &c,
        "POST",
        rules.clone(),
        &admin,
        Some(json!({ "name": "x", "scope": { "kind": "galaxy" }, "adjustment": { "kind": "percent_off", "basis_points": 1 } })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("invalid_body")),
        "{p}"
    );

    // Changing the terms raises the version; enabling makes it active (no window).
    let mut changed = sale.clone();
    changed["adjustment"] = json!({ "kind": "amount_off", "amount": usd(250) });
    let (status, updated) =
        json_call(&c, "PUT", format!("{rules}/{id}"), &admin, Some(changed)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(
        updated["adjustment"],
        json!({ "kind": "amount_off", "amount": usd(250) })
    );
    let enabled = call(
        &c,
        "POST",
        format!("{rules}/{id}/enable"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["status"], "active");

    // A rule whose window is over is expired; one that starts later is scheduled.
    let mut old = sale.clone();
    old["name"] = json!("Last year");
    old["enabled"] = json!(true);
    old["starts_at"] = json!("2020-01-01T00:00:00Z");
    old["ends_at"] = json!("2020-02-01T00:00:00.750Z");
    let old = create(&c, base, &admin, old).await;
    assert_eq!(old["status"], "expired");
    assert_eq!(
        old["ends_at"], "2020-02-01T00:00:00Z",
        "windows are cut to whole seconds"
    );
    let mut later = sale.clone();
    later["name"] = json!("Next year");
    later["enabled"] = json!(true);
    later["starts_at"] = json!("2099-01-01T00:00:00Z");
    let later = create(&c, base, &admin, later).await;
    assert_eq!(later["status"], "scheduled");
    assert_ne!(later["id"], old["id"]);

    // The list reads the read model: the enabled rule shows as active once it caught up.
    let listed = call(
        &c,
        "GET",
        format!("{rules}?status=active"),
        &admin,
        None,
        enabled.consistency.as_deref(),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()], "{}", listed.body);
    assert_eq!(listed.body["total"], 1);
    let (status, p) = json_call(&c, "GET", format!("{rules}?status=sleeping"), &admin, None).await;
    assert_eq!((status.as_u16(), field(&p)), (422, "status"), "{p}");

    // Disabling takes it back to a draft; unknown rules are 404.
    let disabled = call(
        &c,
        "POST",
        format!("{rules}/{id}/disable"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(disabled.body["status"], "draft");
    let (status, got) = json_call(&c, "GET", format!("{rules}/{id}"), &admin, None).await;
    assert_eq!(
        (status.as_u16(), got["status"].as_str()),
        (200, Some("draft"))
    );
    for url in [
        format!("{rules}/00000000-0000-0000-0000-000000000009"),
        format!("{rules}/not-a-uuid"),
    ] {
        let (status, _) = json_call(&c, "GET", url, &admin, None).await;
        assert_eq!(status, 404);
    }
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{rules}/00000000-0000-0000-0000-000000000009/enable"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn rules_price_products_and_checkout_refuses_an_unseen_price_change() {
    with_shop(&[], |base, _| async move { priced(&base).await }).await;
}

fn step<'a>(price: &'a Value, rule: &Value) -> &'a Value {
    price["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rule_id"] == rule["id"])
        .unwrap_or_else(|| panic!("no step for {} in {price}", rule["id"]))
}

async fn priced(base: &str) {
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
    let (_, tea) = json_call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Tea mugs", "parent_id": mugs["id"] })),
    )
    .await;
    let (status, mug) = json_call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(
            json!({ "sku": "MUG-1", "name": "Mug", "category_id": tea["id"], "price": usd(1000) }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{mug}");
    let (status, book) = json_call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(json!({ "sku": "BOOK-1", "name": "Book", "category_id": books["id"], "price": usd(3000) })),
    )
    .await;
    assert_eq!(status, 201, "{book}");
    for sku in ["MUG-1", "BOOK-1"] {
        let (status, s) = json_call(
            &c,
            "POST",
            format!("{base}/inventory/{sku}/receive"),
            &admin,
            Some(json!({ "quantity": 50 })),
        )
        .await;
        assert_eq!(status, 200, "{s}");
    }
    let mug_url = format!("{base}/products/{}", mug["id"].as_str().unwrap());
    let book_url = format!("{base}/products/{}", book["id"].as_str().unwrap());

    // Prices are kept per second: the mug's list price must have been in force for one
    // before the sale, for it to be the lowest of the 30 days before.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // A category rule covers the subcategory's mug: 10% off, shown on the product answer.
    let category = create(
        &c,
        base,
        &admin,
        json!({
            "name": "Mugs 10% off", "scope": { "kind": "category", "category_id": mugs["id"] },
            "adjustment": { "kind": "percent_off", "basis_points": 1000 }, "enabled": true
        }),
    )
    .await;
    let shown = until(&c, mug_url.clone(), None, |p| {
        p["pricing"]["price"] == usd(900)
    })
    .await;
    assert_eq!(shown["price"], usd(1000), "the list price stays");
    assert_eq!(shown["pricing"]["list_price"], usd(1000));
    assert_eq!(shown["pricing"]["discount"], usd(100));
    assert_eq!(shown["pricing"]["rules"][0]["rule_id"], category["id"]);
    assert_eq!(shown["pricing"]["rules"][0]["rule_name"], "Mugs 10% off");
    // The lowest price of the 30 days before the sale began (Omnibus), and the discount
    // against it, once the price history has the sale.
    let shown = until(&c, mug_url.clone(), None, |p| {
        p["pricing"]["lowest_30_days"]["price"] == usd(1000)
    })
    .await;
    let prior = &shown["pricing"]["lowest_30_days"];
    assert_eq!(prior["discount"], usd(100), "{prior}");
    assert_eq!(prior["discount_percent"], 10);
    let from: chrono::DateTime<chrono::Utc> =
        prior["window_from"].as_str().unwrap().parse().unwrap();
    let to: chrono::DateTime<chrono::Utc> = prior["window_to"].as_str().unwrap().parse().unwrap();
    assert_eq!(to - from, chrono::TimeDelta::days(30));
    assert!(
        to <= chrono::Utc::now(),
        "the window ends when the sale began"
    );

    // Overlapping rules: a product rule of higher priority that does not stack takes the
    // line, and the category rule is not combinable with it.
    let product = create(
        &c,
        base,
        &admin,
        json!({
            "name": "Mug 1.00 off", "scope": { "kind": "product", "product_id": mug["id"] },
            "adjustment": { "kind": "amount_off", "amount": usd(100) }, "priority": 20,
            "enabled": true
        }),
    )
    .await;
    let price = until(&c, format!("{mug_url}/price?quantity=3"), None, |p| {
        p["steps"].as_array().is_some_and(|s| s.len() == 2)
    })
    .await;
    assert_eq!(price["list_total"], usd(3000), "{price}");
    assert_eq!(price["total"], usd(2700));
    assert_eq!(step(&price, &product)["outcome"], "applied");
    assert_eq!(step(&price, &product)["amount_off"], 300);
    assert_eq!(step(&price, &category)["outcome"], "not_combinable");
    assert_eq!(
        price["steps"][0]["rule_id"], product["id"],
        "higher priority first"
    );

    // Stacking on: both apply, the category's 10% on what the product rule left.
    for rule in [&product, &category] {
        let mut terms = rule.clone();
        for k in ["id", "version", "status", "updated_at", "enabled"] {
            terms.as_object_mut().unwrap().remove(k);
        }
        terms["stacks"] = json!(true);
        let (status, r) = json_call(
            &c,
            "PUT",
            format!("{base}/pricing/rules/{}", rule["id"].as_str().unwrap()),
            &admin,
            Some(terms),
        )
        .await;
        assert_eq!(
            (status.as_u16(), r["version"].as_u64()),
            (200, Some(2)),
            "{r}"
        );
    }
    let price = until(&c, format!("{mug_url}/price"), None, |p| {
        p["total"] == usd(810)
    })
    .await;
    assert_eq!(step(&price, &category)["amount_off"], 90, "{price}");
    assert_eq!(step(&price, &product)["rule_version"], 2);

    // A tier boundary: 2 or more books are 20% off, 1 is not.
    let tier = create(
        &c,
        base,
        &admin,
        json!({
            "name": "Two books", "scope": { "kind": "product", "product_id": book["id"] },
            "adjustment": { "kind": "tiered", "tiers": [{ "min_quantity": 2, "basis_points": 2000 }] },
            "priority": 50, "enabled": true
        }),
    )
    .await;
    let two = until(&c, format!("{book_url}/price?quantity=2"), None, |p| {
        p["total"] == usd(4800)
    })
    .await;
    assert_eq!(step(&two, &tier)["amount_off"], 1200, "{two}");
    let (_, one) = anon(&c, format!("{book_url}/price?quantity=1")).await;
    assert_eq!(one["total"], usd(3000), "{one}");
    assert_eq!(step(&one, &tier)["outcome"], "nothing_off");

    // An expired rule and a scheduled one take part in no price: the scheduled one shows
    // as not live, the expired one is not even considered.
    let mut dated = Vec::new();
    for (name, starts, ends) in [
        ("Gone", "2020-01-01T00:00:00Z", Some("2021-01-01T00:00:00Z")),
        ("Soon", "2099-01-01T00:00:00Z", None),
    ] {
        dated.push(
            create(
                &c,
                base,
                &admin,
                json!({
                    "name": name, "scope": { "kind": "product", "product_id": book["id"] },
                    "adjustment": { "kind": "percent_off", "basis_points": 9000 },
                    "starts_at": starts, "ends_at": ends, "priority": 99, "enabled": true
                }),
            )
            .await,
        );
    }
    let scheduled = until(&c, format!("{book_url}/price"), None, |p| {
        p["steps"].as_array().is_some_and(|s| s.len() == 2)
    })
    .await;
    assert_eq!(scheduled["total"], usd(3000), "{scheduled}");
    assert_eq!(step(&scheduled, &dated[1])["outcome"], "not_live");
    assert!(
        !scheduled["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["rule_id"] == dated[0]["id"]),
        "{scheduled}"
    );

    // A segment: new customers get 5% off books; a guest does not.
    let welcome = create(
        &c,
        base,
        &admin,
        json!({
            "name": "Welcome", "scope": { "kind": "product", "product_id": book["id"] },
            "adjustment": { "kind": "percent_off", "basis_points": 500 },
            "segment": { "kind": "new_customers" }, "stacks": true, "enabled": true
        }),
    )
    .await;
    let ann = customer(&c, base, "ann@example.com").await;
    let theirs = until(&c, format!("{book_url}/price"), Some(&ann), |p| {
        p["total"] == usd(2850)
    })
    .await;
    assert_eq!(step(&theirs, &welcome)["outcome"], "applied", "{theirs}");
    let (_, guest) = anon(&c, format!("{book_url}/price")).await;
    assert_eq!(
        step(&guest, &welcome)["outcome"],
        "not_for_customer",
        "{guest}"
    );

    // Bad input.
    for (url, status) in [
        (format!("{mug_url}/price?quantity=0"), 422),
        (format!("{mug_url}/price?quantity=many"), 400),
        (
            format!("{mug_url}/price?variant=00000000-0000-0000-0000-000000000001"),
            422,
        ),
        (
            format!("{base}/products/00000000-0000-0000-0000-000000000001/price"),
            404,
        ),
    ] {
        let (got, p) = anon(&c, url.clone()).await;
        assert_eq!(got, status, "{url}: {p}");
    }

    // The cart keeps the price the shopper saw (8.10); staff then end the product rule, so
    // the mug costs 9.00: checkout refuses, saying so, and places nothing.
    let (status, cart) = json_call(
        &c,
        "POST",
        format!("{base}/cart/items"),
        &ann,
        Some(json!({ "product_id": mug["id"], "quantity": 2 })),
    )
    .await;
    assert_eq!(status, 201, "{cart}");
    assert_eq!(cart["items"][0]["price"], usd(810), "{cart}");
    let off = call(
        &c,
        "POST",
        format!(
            "{base}/pricing/rules/{}/disable",
            product["id"].as_str().unwrap()
        ),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(off.status, 200);
    until(&c, format!("{mug_url}/price"), None, |p| {
        p["total"] == usd(900)
    })
    .await;
    let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
    let checkout = json!({ "shipping_address": address, "payment_method": "card" });
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
        (409, Some("price_changed")),
        "{p}"
    );
    assert_eq!(p["changes"][0]["was"], usd(810), "{p}");
    assert_eq!(p["changes"][0]["now"], usd(900));
    assert_eq!(p["subtotal"], usd(1800));
    let (_, cart) = json_call(&c, "GET", format!("{base}/cart"), &ann, None).await;
    assert_eq!(
        cart["item_count"], 2,
        "nothing was placed, the cart is whole: {cart}"
    );

    // Accepted, the order records the list price, each rule with its version, and the
    // final price; its subtotal is at the prices after the rules.
    let mut accepting = checkout.clone();
    accepting["accept_price_changes"] = json!(true);
    let (status, order) = json_call(
        &c,
        "POST",
        format!("{base}/cart/checkout"),
        &ann,
        Some(accepting),
    )
    .await;
    assert_eq!(status, 202, "{order}");
    let line = &order["items"][0];
    assert_eq!(line["price"], usd(1000), "{order}");
    assert_eq!(line["subtotal"], usd(2000));
    assert_eq!(
        line["price_rules"],
        json!([{ "rule_id": category["id"], "rule_version": 2, "amount_off": 200 }])
    );
    assert_eq!(line["final_price"], usd(1800));
    assert_eq!(order["subtotal"], usd(1800));

    // The orders read model answers the same lines.
    let id = order["id"].as_str().unwrap();
    let stored = until(&c, format!("{base}/orders/{id}"), Some(&ann), |o| {
        o["items"][0]["final_price"] == usd(1800)
    })
    .await;
    assert_eq!(stored["items"][0]["price_rules"], line["price_rules"]);
    assert_eq!(stored["subtotal"], usd(1800));
}
