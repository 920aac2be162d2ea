//! The tax table over real HTTP: staff set, list, read and remove rates by zone and say
//! whether prices include tax; customers cannot change them; bad zones, rates, names and
//! bodies are refused with a clear problem and change nothing.

mod common;

use common::{access_token, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Client;
use serde_json::{json, Value};

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn staff_keep_the_tax_table_and_bad_input_is_refused() {
    with_shop(&[], |base, _| async move { tax_table(&base).await }).await;
}

async fn tax_table(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
        .send()
        .await
        .unwrap();
    let ann = access_token(&c, base, "ann@example.com", "customer password").await;
    let rates = format!("{base}/tax-rates");

    let ny = json!({ "rate_ppm": 88_750, "name": "NY sales tax" });
    let (status, p) = json_call(&c, "PUT", format!("{rates}/US-NY"), &ann, Some(ny.clone())).await;
    assert_eq!(status, 403, "{p}");
    let (status, _) = json_call(&c, "GET", rates.clone(), &ann, None).await;
    assert_eq!(status, 403);

    // A region's rate, named in any case, reads back exactly.
    let (status, rate) = json_call(&c, "PUT", format!("{rates}/us-ny"), &admin, Some(ny)).await;
    assert_eq!(status, 200, "{rate}");
    assert_eq!(
        rate,
        json!({
            "zone": "US-NY", "country": "US", "region": "NY", "rate_ppm": 88_750,
            "rate_percent": "8.875", "name": "NY sales tax"
        })
    );
    let de = json!({ "rate_ppm": 190_000, "name": "MwSt" });
    let (status, _) = json_call(&c, "PUT", format!("{rates}/DE"), &admin, Some(de)).await;
    assert_eq!(status, 200);
    let us = json!({ "rate_ppm": 0, "name": "no federal sales tax" });
    let (status, _) = json_call(&c, "PUT", format!("{rates}/US"), &admin, Some(us)).await;
    assert_eq!(status, 200);

    // Countries before their regions; a filter and a page.
    let (status, page) = json_call(&c, "GET", rates.clone(), &admin, None).await;
    assert_eq!(status, 200);
    let zones: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones, ["DE", "US", "US-NY"]);
    assert_eq!(page["total"], 3);
    let (_, page) = json_call(
        &c,
        "GET",
        format!("{rates}?country=us&limit=1&offset=1"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (page["total"].clone(), page["items"][0]["zone"].clone()),
        (json!(2), json!("US-NY"))
    );
    let (status, one) = json_call(&c, "GET", format!("{rates}/de"), &admin, None).await;
    assert_eq!(
        (status.as_u16(), one["rate_percent"].clone()),
        (200, json!("19"))
    );

    // Bad zones, rates, names and bodies: 422 naming the field, and nothing changes.
    for (zone, body, expected) in [
        ("USA", json!({ "rate_ppm": 1, "name": "x" }), "zone"),
        ("US-NYCX", json!({ "rate_ppm": 1, "name": "x" }), "zone"),
        (
            "FR",
            json!({ "rate_ppm": 1_000_001, "name": "TVA" }),
            "rate_ppm",
        ),
        ("FR", json!({ "rate_ppm": 200_000, "name": " " }), "name"),
        ("FR", json!({ "rate_ppm": -1, "name": "TVA" }), "rate_ppm"),
        (
            "FR",
            json!({ "rate_ppm": 200_000, "name": "TVA", "extra": 1 }),
            "extra",
        ),
    ] {
        let (status, p) = json_call(
            &c,
            "PUT",
            format!("{rates}/{zone}"),
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{zone} {body}: {p}");
        assert_eq!(field(&p), expected, "{zone} {body}: {p}");
    }
    let (_, page) = json_call(&c, "GET", rates.clone(), &admin, None).await;
    assert_eq!(page["total"], 3, "a refused rate changed the table: {page}");
    let (status, _) = json_call(&c, "GET", format!("{rates}/FR"), &admin, None).await;
    assert_eq!(status, 404);

    // Removing: the rate goes; an unknown or malformed zone is 404.
    let (status, _) = json_call(&c, "DELETE", format!("{rates}/US-NY"), &admin, None).await;
    assert_eq!(status, 204);
    for zone in ["US-NY", "FR", "nowhere"] {
        let (status, p) = json_call(&c, "DELETE", format!("{rates}/{zone}"), &admin, None).await;
        assert_eq!(status, 404, "{zone}: {p}");
    }
    let (_, page) = json_call(&c, "GET", rates.clone(), &admin, None).await;
    assert_eq!(page["total"], 2);

    // Prices exclude tax until staff say otherwise; anyone may read the setting.
    let settings = format!("{base}/tax-settings");
    let anyone = c.get(&settings).send().await.unwrap();
    assert_eq!(anyone.status(), 200);
    assert_eq!(
        anyone.json::<Value>().await.unwrap(),
        json!({ "prices_include_tax": false })
    );
    let inclusive = json!({ "prices_include_tax": true });
    let (status, _) = json_call(&c, "PUT", settings.clone(), &ann, Some(inclusive.clone())).await;
    assert_eq!(status, 403);
    let (status, s) = json_call(&c, "PUT", settings.clone(), &admin, Some(inclusive)).await;
    assert_eq!(
        (status.as_u16(), s),
        (200, json!({ "prices_include_tax": true }))
    );
    let (status, p) = json_call(
        &c,
        "PUT",
        settings.clone(),
        &admin,
        Some(json!({ "prices_include_tax": "yes" })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), field(&p)),
        (422, "prices_include_tax"),
        "{p}"
    );
    let anyone: Value = c.get(&settings).send().await.unwrap().json().await.unwrap();
    assert_eq!(anyone, json!({ "prices_include_tax": true }));
}
