//! The storefront's menus over real HTTP (issue 22 item 6): empty menus before any change,
//! who may change them, every bad node refused with its path (bad URL schemes, too deep,
//! too many, unknown categories and products, unknown menus), a replaced tree read whole
//! in one request right after (the cache forgotten), and the change in the audit trail
//! with its actor.

mod common;

use common::{access_token, call, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Client;
use serde_json::{json, Value};

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

async fn anonymous(c: &Client, method: &str, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = c.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn url(label: &str, url: &str) -> Value {
    json!({ "label": label, "link": { "type": "url", "url": url } })
}

#[tokio::test]
async fn staff_replace_menus_and_storefronts_read_them_whole() {
    with_shop(&[], |base, _| async move { menus(&base).await }).await;
}

async fn menus(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
        .send()
        .await
        .unwrap();
    let ann = access_token(&c, base, "ann@example.com", "customer password").await;
    let header = format!("{base}/navigation/header");

    // Before any change: every menu is there, empty; an unknown one is 404.
    for menu in ["header", "footer", "mobile"] {
        let (status, m) = anonymous(&c, "GET", format!("{base}/navigation/{menu}"), None).await;
        assert_eq!(
            (status, m),
            (200, json!({ "menu": menu, "items": [], "revision": 0 }))
        );
    }
    let (status, p) = anonymous(&c, "GET", format!("{base}/navigation/sidebar"), None).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("not_found")));

    // A category and a product to link to.
    let (status, shoes) = json_call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Shoes" })),
    )
    .await;
    assert_eq!(status, 201, "{shoes}");
    let (status, boot) = json_call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(json!({ "sku": "BOOT-1", "name": "Boot", "category_id": shoes["id"], "price": { "amount": 5000, "currency": "USD" } })),
    )
    .await;
    assert_eq!(status, 201, "{boot}");
    let tree = json!({ "items": [
        { "label": "Shoes", "link": { "type": "category", "category_id": shoes["id"] }, "children": [
            { "label": "Boot", "link": { "type": "product", "product_id": boot["id"] } },
            url("Sale", "/sale"),
        ] },
        { "label": "About us", "link": { "type": "page", "slug": "about-us" } },
        url("Blog", "https://blog.example.com/"),
    ] });

    // Anonymous 401, customer 403, unknown menu 404 (for staff).
    assert_eq!(
        anonymous(&c, "PUT", header.clone(), Some(tree.clone()))
            .await
            .0,
        401
    );
    assert_eq!(
        json_call(&c, "PUT", header.clone(), &ann, Some(tree.clone()))
            .await
            .0,
        403
    );
    let (status, _) = json_call(
        &c,
        "PUT",
        format!("{base}/navigation/sidebar"),
        &admin,
        Some(tree.clone()),
    )
    .await;
    assert_eq!(status, 404);

    // Bad nodes: 422 with the offending node's path.
    let nested = |depth: usize| {
        let mut node = url("leaf", "/");
        for _ in 1..depth {
            node = json!({ "label": "level", "link": { "type": "url", "url": "/" }, "children": [node] });
        }
        json!({ "items": [node] })
    };
    let many: Vec<Value> = (0..101).map(|i| url(&format!("i{i}"), "/")).collect();
    let ghost = uuid::Uuid::new_v4();
    for (body, expected) in [
        (
            json!({ "items": [url("x", "javascript:alert(1)")] }),
            "items[0].link.url",
        ),
        (
            json!({ "items": [url("ok", "/"), { "label": "y", "link": { "type": "url", "url": "/" }, "children": [url("x", "//evil.example")] }] }),
            "items[1].children[0].link.url",
        ),
        (
            json!({ "items": [url("x", "ftp://files.example.com")] }),
            "items[0].link.url",
        ),
        (json!({ "items": [url(" ", "/")] }), "items[0].label"),
        (
            json!({ "items": [{ "label": "p", "link": { "type": "page", "slug": "Not a slug" } }] }),
            "items[0].link.slug",
        ),
        (nested(4), "items[0].children[0].children[0].children[0]"),
        (json!({ "items": many }), "items[100]"),
        (
            json!({ "items": [{ "label": "c", "link": { "type": "category", "category_id": ghost } }] }),
            "items[0].link.category_id",
        ),
        (
            json!({ "items": [url("ok", "/"), { "label": "c", "link": { "type": "url", "url": "/" }, "children": [{ "label": "p", "link": { "type": "product", "product_id": ghost } }] }] }),
            "items[1].children[0].link.product_id",
        ),
    ] {
        let (status, p) = json_call(&c, "PUT", header.clone(), &admin, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {p}");
        assert_eq!(
            (p["code"].as_str(), field(&p)),
            (Some("validation_failed"), expected),
            "{p}"
        );
    }
    let (status, p) = json_call(
        &c,
        "PUT",
        header.clone(),
        &admin,
        Some(json!({ "items": [{ "label": "x", "link": { "type": "ftp" } }] })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), p["code"].as_str()),
        (422, Some("invalid_body")),
        "{p}"
    );
    assert_eq!(
        json_call(&c, "PUT", header.clone(), &admin, Some(nested(3)))
            .await
            .0,
        200,
        "three levels are fine"
    );

    // The public read is cached; a replaced tree is visible on the very next read.
    let (_, cached) = anonymous(&c, "GET", header.clone(), None).await;
    assert_eq!(cached["revision"], 1);
    let put = call(&c, "PUT", header.clone(), &admin, Some(tree.clone()), None).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let (status, menu) = anonymous(&c, "GET", header.clone(), None).await;
    assert_eq!(status, 200);
    assert_eq!(menu["revision"], 2, "{menu}");
    assert_eq!(menu["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        menu["items"][0]["children"][0]["link"],
        json!({ "type": "product", "product_id": boot["id"] })
    );
    assert_eq!(menu["items"][1]["children"], json!([]));
    assert_eq!(menu["items"][2]["link"]["url"], "https://blog.example.com/");
    // Other menus are their own.
    let (_, footer) = anonymous(&c, "GET", format!("{base}/navigation/footer"), None).await;
    assert_eq!(footer["items"], json!([]));
    // The same tree again appends nothing.
    let again = call(&c, "PUT", header.clone(), &admin, Some(tree), None).await;
    assert_eq!((again.status.as_u16(), again.consistency), (200, None));

    // The audit trail: the menu's stream, the staff member who replaced it.
    let (_, me) = json_call(&c, "GET", format!("{base}/auth/profile"), &admin, None).await;
    let trail = call(
        &c,
        "GET",
        format!("{base}/audit?resource=navigation:header"),
        &admin,
        None,
        put.consistency.as_deref(),
    )
    .await;
    assert_eq!(trail.status, 200, "{}", trail.body);
    let latest = &trail.body["items"][0];
    assert_eq!(
        (latest["action"].as_str(), latest["user_id"].clone()),
        (Some("MenuReplaced"), me["id"].clone())
    );
    assert_eq!(latest["details"]["items"][0]["label"], "Shoes");
}
