//! Catalog and stock commands over real HTTP: roles, uniqueness, validation, and the
//! consistency token on every command answer.

use gateway::config::Config;
use gateway::startup::Application;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

#[tokio::test]
async fn staff_build_a_catalog_and_stock_it() {
    let name = format!("um_catalog_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--bootstrap-admin-email",
            "root@example.com",
            "--bootstrap-admin-password",
            "a long admin password",
        ])
        .unwrap();
        let app = Application::build(config).await.unwrap();
        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        journey(&base).await;
        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&admin)
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn call(
    c: &Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut r = c.request(method.parse().unwrap(), url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let token = r
        .headers()
        .get("x-consistency-token")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    (
        status,
        token,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn login(c: &Client, base: &str, email: &str, password: &str) -> String {
    let pair: Value = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    pair["access_token"].as_str().expect("logged in").to_owned()
}

async fn journey(base: &str) {
    let c = Client::new();
    let admin = login(&c, base, "root@example.com", "a long admin password").await;
    c.post(format!("{base}/auth/register"))
        .json(&json!({ "email": "cus@example.com", "password": "customer password" }))
        .send()
        .await
        .unwrap();
    let customer = login(&c, base, "cus@example.com", "customer password").await;

    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &customer,
        Some(json!({ "name": "Shoes" })),
    )
    .await;
    assert_eq!(status, 403, "customers do not edit the catalog");

    let (status, token, shoes) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Shoes & Boots" })),
    )
    .await;
    assert_eq!(status, 201, "{shoes}");
    assert_eq!(shoes["slug"], "shoes-boots");
    assert!(token.is_some(), "commands answer with a consistency token");
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        &admin,
        Some(json!({ "name": "Shoes & boots!" })),
    )
    .await;
    assert_eq!(status, 409, "{p}");
    assert_eq!(p["code"], "slug_taken");

    let product = json!({
        "sku": "shoe-red-42", "name": "Red shoe", "category_id": shoes["id"],
        "price": { "amount": 4999, "currency": "USD" }, "attributes": { "size": 42 },
        "description": "<script>alert(1)</script>"
    });
    let (status, _, shoe) = call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(product.clone()),
    )
    .await;
    assert_eq!(status, 201, "{shoe}");
    assert_eq!(shoe["sku"], "SHOE-RED-42");
    assert_eq!(shoe["status"], "active");
    assert_eq!(shoe["stock"]["available"], 0);
    assert_eq!(
        shoe["description"], "<script>alert(1)</script>",
        "stored verbatim"
    );
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/products"),
        &admin,
        Some(product),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("sku_taken"))
    );

    let (status, _, p) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
        "sku": "X-1", "name": "X", "category_id": Uuid::new_v4(), "price": { "amount": 1, "currency": "USD" }
    }))).await;
    assert_eq!(status, 422);
    assert_eq!(p["errors"][0]["field"], "category_id");
    let (status, _, _) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
        "sku": "X-2", "name": "X", "category_id": shoes["id"], "price": { "amount": 19.99, "currency": "USD" }
    }))).await;
    assert_eq!(status, 422, "no floats for money");

    let (status, _, stock) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/receive"),
        &admin,
        Some(json!({ "quantity": 10 })),
    )
    .await;
    assert_eq!(status, 200, "{stock}");
    assert_eq!(
        (stock["on_hand"].as_i64(), stock["available"].as_i64()),
        (Some(10), Some(10))
    );
    let (status, _, p) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/adjust"),
        &admin,
        Some(json!({ "delta": -11, "reason": "count" })),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_stock"))
    );
    let (status, _, stock) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/adjust"),
        &admin,
        Some(json!({ "delta": -3, "reason": "damaged" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(stock["available"], 7);
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/inventory/SHOE-RED-42/receive"),
        &customer,
        Some(json!({ "quantity": 1 })),
    )
    .await;
    assert_eq!(status, 403);

    let id = shoe["id"].as_str().unwrap();
    let (status, _, shoe) = call(
        &c,
        "PUT",
        format!("{base}/products/{id}"),
        &admin,
        Some(json!({ "price": { "amount": 3999, "currency": "USD" }, "name": "Red shoe, sale" })),
    )
    .await;
    assert_eq!(status, 200, "{shoe}");
    assert_eq!(
        (shoe["price"]["amount"].as_i64(), shoe["name"].as_str()),
        (Some(3999), Some("Red shoe, sale"))
    );
    assert_eq!(shoe["stock"]["available"], 7);
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/products/{}", Uuid::new_v4()),
        &admin,
        Some(json!({ "name": "ghost" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, token, _) =
        call(&c, "DELETE", format!("{base}/products/{id}"), &admin, None).await;
    assert_eq!(status, 204);
    assert!(token.is_some());
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/products/{id}"),
        &admin,
        Some(json!({ "name": "again" })),
    )
    .await;
    assert_eq!(status, 409, "an archived product is not edited");
}
