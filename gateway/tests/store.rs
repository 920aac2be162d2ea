//! The store's settings and configuration keys over real HTTP (issue 22 item 5): the
//! defaults before any change, who may read and change what, every bad field refused by
//! name with nothing changed, a change visible on the very next read (the cache forgotten),
//! through a second gateway too, and the audit trail naming the staff member who made it.

mod common;

use common::{
    access_token, call, json_call, with_shop, with_two_gateways, ADMIN_EMAIL, ADMIN_PASSWORD,
};
use reqwest::Client;
use serde_json::{json, Value};

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

/// Registers and signs in a customer.
async fn customer(c: &Client, base: &str) -> String {
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
        .send()
        .await
        .unwrap();
    access_token(c, base, "ann@example.com", "customer password").await
}

async fn anonymous(c: &Client, method: &str, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = c.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// An anonymous `GET` that sends a consistency token.
async fn anonymous_at(c: &Client, url: String, token: &str) -> Value {
    let r = c
        .get(url)
        .header("X-Consistency-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn settings() -> Value {
    json!({
        "name": "Corner Shop",
        "default_currency": "EUR",
        "accepted_currencies": ["EUR", "USD"],
        "default_locale": "de_de",
        "locales": ["de-DE", "en"],
        "address": { "line1": "1 Hauptstraße", "city": "Berlin", "postal_code": "10115", "country": "de" },
        "tax_inclusive_display": true,
        "order_number_format": "CS-{yyyy}-{seq:5}"
    })
}

#[tokio::test]
async fn store_settings_are_read_by_anyone_and_replaced_by_staff() {
    with_shop(&[], |base, _| async move { store_settings(&base).await }).await;
}

async fn store_settings(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ann = customer(&c, base).await;
    let store = format!("{base}/store");

    // Before any change: the defaults, to anyone, without the staff-only format.
    let (status, defaults) = anonymous(&c, "GET", store.clone(), None).await;
    assert_eq!(status, 200, "{defaults}");
    assert_eq!(
        defaults,
        json!({
            "name": "UltraMarket", "default_currency": "USD", "accepted_currencies": ["USD"],
            "default_locale": "en-US", "locales": ["en-US"], "address": null,
            "tax_inclusive_display": false, "configured": false
        })
    );
    let (_, staff_view) = json_call(&c, "GET", store.clone(), &admin, None).await;
    assert_eq!(staff_view["order_number_format"], "UM-{yyyy}-{seq:6}");
    assert!(staff_view["order_number_example"]
        .as_str()
        .unwrap()
        .ends_with("-000001"));

    // Anonymous 401, customer 403; nothing changes.
    let (status, p) = anonymous(&c, "PUT", store.clone(), Some(settings())).await;
    assert_eq!((status, p["code"].as_str()), (401, Some("unauthenticated")));
    let (status, p) = json_call(&c, "PUT", store.clone(), &ann, Some(settings())).await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (403, Some("forbidden"))
    );

    // Every bad field: 422 naming it.
    for (change, expected) in [
        (json!({ "name": "" }), "name"),
        (json!({ "default_currency": "eur" }), "default_currency"),
        (json!({ "default_currency": "GBP" }), "accepted_currencies"),
        (
            json!({ "accepted_currencies": ["EUR", "E1R"] }),
            "accepted_currencies[1]",
        ),
        (
            json!({ "accepted_currencies": ["EUR", "EUR"] }),
            "accepted_currencies[1]",
        ),
        (json!({ "default_locale": "german" }), "default_locale"),
        (json!({ "locales": ["en"] }), "locales"),
        (
            json!({ "order_number_format": "CS-{yyyy}" }),
            "order_number_format",
        ),
        (
            json!({ "order_number_format": "CS {seq}" }),
            "order_number_format",
        ),
        (
            json!({ "address": { "line1": "", "city": "Berlin", "postal_code": "1", "country": "DE" } }),
            "address.line1",
        ),
        (
            json!({ "address": { "line1": "x", "city": "Berlin", "postal_code": "1", "country": "DEU" } }),
            "address.country",
        ),
        (
            json!({ "tax_inclusive_display": "yes" }),
            "tax_inclusive_display",
        ),
        (json!({ "colour": "red" }), "colour"),
    ] {
        let mut body = settings();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, p) = json_call(&c, "PUT", store.clone(), &admin, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {p}");
        assert_eq!(field(&p), expected, "{body}: {p}");
    }
    let (_, still) = anonymous(&c, "GET", store.clone(), None).await;
    assert_eq!(still, defaults, "a refused change changed the settings");

    // A change: the answer, and the very next read (the cache forgotten), show it.
    let put = call(&c, "PUT", store.clone(), &admin, Some(settings()), None).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let token = put
        .consistency
        .expect("a change answers a consistency token");
    assert_eq!(put.body["default_locale"], "de-DE");
    assert_eq!(put.body["address"]["country"], "DE");
    let (_, now) = anonymous(&c, "GET", store.clone(), None).await;
    assert_eq!(now["name"], "Corner Shop", "{now}");
    assert_eq!(now["accepted_currencies"], json!(["EUR", "USD"]));
    assert_eq!(now["tax_inclusive_display"], true);
    assert_eq!(now["configured"], true);
    assert!(now.get("order_number_format").is_none(), "{now}");
    // The same document again appends nothing.
    let again = call(&c, "PUT", store.clone(), &admin, Some(settings()), None).await;
    assert_eq!((again.status.as_u16(), again.consistency), (200, None));
    // Lists left out are the default alone: a replace, not a merge.
    let mut fewer = settings();
    fewer.as_object_mut().unwrap().remove("accepted_currencies");
    let (_, replaced) = json_call(&c, "PUT", store.clone(), &admin, Some(fewer)).await;
    assert_eq!(replaced["accepted_currencies"], json!(["EUR"]));

    // The audit trail names the staff member, for each change.
    let (_, me) = json_call(&c, "GET", format!("{base}/auth/profile"), &admin, None).await;
    let trail = call(
        &c,
        "GET",
        format!("{base}/audit?resource=shop&action=StoreSettingsChanged"),
        &admin,
        None,
        Some(&token),
    )
    .await;
    assert_eq!(trail.status, 200, "{}", trail.body);
    let items = trail.body["items"].as_array().unwrap().clone();
    assert!(!items.is_empty(), "{}", trail.body);
    let first = items.last().unwrap();
    assert_eq!(first["user_id"], me["id"]);
    assert_eq!(first["role"], "admin");
    assert_eq!(first["details"]["settings"]["name"], "Corner Shop");
    assert!(first["details"]["changed"]
        .as_array()
        .unwrap()
        .contains(&json!("default_currency")));
}

#[tokio::test]
async fn configuration_keys_are_typed_and_validated() {
    with_shop(&[], |base, _| async move { configuration(&base).await }).await;
}

async fn configuration(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ann = customer(&c, base).await;
    let config = format!("{base}/config");

    // The list: staff only, every key with its default.
    let (status, _) = anonymous(&c, "GET", config.clone(), None).await;
    assert_eq!(status, 401);
    let (status, _) = json_call(&c, "GET", config.clone(), &ann, None).await;
    assert_eq!(status, 403);
    let (status, page) = json_call(&c, "GET", config.clone(), &admin, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 9);
    let size = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "catalog.default_page_size")
        .unwrap()
        .clone();
    assert_eq!(
        size,
        json!({
            "key": "catalog.default_page_size", "type": "int", "min": 1, "max": 100,
            "default": 20, "value": 20, "set": false, "public": true,
            "description": size["description"]
        })
    );

    // One key: public ones to anyone, the others to staff; unknown ones 404.
    let (status, theme) = anonymous(&c, "GET", format!("{config}/storefront.theme"), None).await;
    assert_eq!(
        (status, theme["value"].clone(), theme["options"].clone()),
        (200, json!("auto"), json!(["auto", "dark", "light"]))
    );
    let digest = format!("{config}/notifications.staff_digest_hours");
    assert_eq!(anonymous(&c, "GET", digest.clone(), None).await.0, 401);
    assert_eq!(
        json_call(&c, "GET", digest.clone(), &ann, None).await.0,
        403
    );
    assert_eq!(
        json_call(&c, "GET", digest.clone(), &admin, None).await.0,
        200
    );
    let (status, p) = anonymous(&c, "GET", format!("{config}/no.such.key"), None).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));

    // Changing: staff only; unknown key 404; wrong type or range 422 naming `value`.
    let theme_url = format!("{config}/storefront.theme");
    assert_eq!(
        anonymous(
            &c,
            "PUT",
            theme_url.clone(),
            Some(json!({ "value": "dark" }))
        )
        .await
        .0,
        401
    );
    assert_eq!(
        json_call(
            &c,
            "PUT",
            theme_url.clone(),
            &ann,
            Some(json!({ "value": "dark" }))
        )
        .await
        .0,
        403
    );
    let (status, _) = json_call(
        &c,
        "PUT",
        format!("{config}/no.such.key"),
        &admin,
        Some(json!({ "value": 1 })),
    )
    .await;
    assert_eq!(status, 404);
    for (key, value) in [
        ("reviews.enabled", json!("true")),
        ("catalog.default_page_size", json!(0)),
        ("catalog.default_page_size", json!(101)),
        ("catalog.default_page_size", json!(1.5)),
        ("storefront.theme", json!("sepia")),
        ("storefront.announcement", json!(42)),
    ] {
        let (status, p) = json_call(
            &c,
            "PUT",
            format!("{config}/{key}"),
            &admin,
            Some(json!({ "value": value })),
        )
        .await;
        assert_eq!(status, 422, "{key} = {value}: {p}");
        assert_eq!(
            (p["code"].as_str(), field(&p)),
            (Some("validation_failed"), "value"),
            "{p}"
        );
    }
    let (status, p) = json_call(
        &c,
        "PUT",
        theme_url.clone(),
        &admin,
        Some(json!({ "value": "dark", "extra": 1 })),
    )
    .await;
    assert_eq!((status.as_u16(), field(&p)), (422, "extra"));

    // A public read caches the value; the change is visible on the next read at once.
    let (_, before) = anonymous(&c, "GET", theme_url.clone(), None).await;
    assert_eq!(before["value"], "auto");
    let put = call(
        &c,
        "PUT",
        theme_url.clone(),
        &admin,
        Some(json!({ "value": "dark" })),
        None,
    )
    .await;
    assert_eq!(
        (
            put.status.as_u16(),
            put.body["value"].clone(),
            put.body["set"].clone()
        ),
        (200, json!("dark"), json!(true))
    );
    let (_, after) = anonymous(&c, "GET", theme_url.clone(), None).await;
    assert_eq!(
        after["value"], "dark",
        "the cached value outlived its change: {after}"
    );
    let (_, page) = json_call(&c, "GET", config.clone(), &admin, None).await;
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "storefront.theme")
        .unwrap()
        .clone();
    assert_eq!(listed["value"], "dark");

    // Audited with the actor and what it was before.
    let (_, me) = json_call(&c, "GET", format!("{base}/auth/profile"), &admin, None).await;
    let trail = call(
        &c,
        "GET",
        format!("{base}/audit?action=ConfigValueSet"),
        &admin,
        None,
        put.consistency.as_deref(),
    )
    .await;
    let entry = &trail.body["items"][0];
    assert_eq!(entry["user_id"], me["id"], "{}", trail.body);
    assert_eq!(
        entry["details"],
        json!({ "key": "storefront.theme", "value": "dark", "previous": "auto" })
    );
}

#[tokio::test]
async fn a_change_through_one_gateway_is_read_through_another() {
    with_two_gateways(|first, second| async move {
        let c = Client::new();
        let admin = access_token(&c, &first, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        // The second gateway reads (and caches) the defaults.
        let flag = "config/reviews.enabled";
        let (_, before) = anonymous(&c, "GET", format!("{second}/{flag}"), None).await;
        assert_eq!(before["value"], false);
        let (_, store_before) = anonymous(&c, "GET", format!("{second}/store"), None).await;
        assert_eq!(store_before["name"], "UltraMarket");
        let put = call(
            &c,
            "PUT",
            format!("{first}/{flag}"),
            &admin,
            Some(json!({ "value": true })),
            None,
        )
        .await;
        let token = put.consistency.expect("a token");
        // With the token, the second gateway answers the change at once, cache or not.
        let r = anonymous_at(&c, format!("{second}/{flag}"), &token).await;
        assert_eq!(r["value"], true, "{r}");
        let put = call(
            &c,
            "PUT",
            format!("{first}/store"),
            &admin,
            Some(settings()),
            None,
        )
        .await;
        let token = put.consistency.expect("a token");
        let r = anonymous_at(&c, format!("{second}/store"), &token).await;
        assert_eq!(r["name"], "Corner Shop", "{r}");
        // Without it, the second gateway's feed forgets its copy: it converges.
        let deadline = tokio::time::Instant::now() + common::PATIENCE;
        loop {
            let (_, now) = anonymous(&c, "GET", format!("{second}/{flag}"), None).await;
            if now["value"] == true {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the second gateway kept {now}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}
