//! `seed-demo` against a real engine: the demo catalog goes in through the command
//! handlers, the projections turn it into a shop a browser can walk over HTTP (counts,
//! prices, stock, variants, images, the category tree, search), and seeding again appends
//! nothing to the store.

use std::time::{Duration, Instant};

use gateway::config::Config;
use gateway::seed::{demo_admin, seed_demo, DemoAdmin, DemoCatalog, DEMO_ADMIN_EMAIL};
use gateway::startup::Application;
use reqwest::Client;
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

async fn events_in_store(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// GETs `url` (as `bearer` when given), retrying while the read model has not caught up
/// with `token` (503).
async fn get_as(c: &Client, url: &str, token: &str, bearer: Option<&str>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut r = c.get(url).header("x-consistency-token", token);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if status == 503 && Instant::now() < deadline {
            continue;
        }
        assert_eq!(status, 200, "GET {url}: {body}");
        return body;
    }
}

async fn get(c: &Client, url: &str, token: &str) -> Value {
    get_as(c, url, token, None).await
}

#[tokio::test]
async fn the_demo_catalog_is_a_browsable_shop_and_seeding_twice_adds_nothing() {
    let name = format!("um_seed_{}", Uuid::new_v4().simple());
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
        let app = Application::build(config).await.unwrap().with_projections();
        let state = app.state().clone();
        let before = events_in_store(&state.pool).await;

        let first = seed_demo(&state).await.unwrap();
        let catalog = DemoCatalog::new();
        assert_eq!(
            (first.categories, first.products, first.skus),
            (15, 326, catalog.skus())
        );
        assert!(!first.found_existing());
        let after_first = events_in_store(&state.pool).await;
        assert_eq!(
            (after_first - before) as u64,
            first.events_appended,
            "the report counts what the store holds"
        );
        let token = first.position.expect("events were appended").to_string();

        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let c = Client::new();

        let page = get(&c, &format!("{base}/products?limit=100"), &token).await;
        assert_eq!(page["total"], 326, "every demo product is on sale");
        assert_eq!(page["items"].as_array().unwrap().len(), 100);

        let tree = get(&c, &format!("{base}/categories?limit=100"), &token).await;
        assert_eq!(tree["total"], 4, "four roots");
        let roots = tree["items"].as_array().unwrap();
        let children: usize = roots
            .iter()
            .map(|r| r["children"].as_array().unwrap().len())
            .sum();
        assert_eq!(children, 11, "ten leaves and PC Parts");
        let counts: Vec<(String, i64)> = roots
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["product_count"].as_i64().unwrap(),
                )
            })
            .collect();
        for (root, count) in &counts {
            // Electronics holds the 26 PC parts besides its three leaves of 30.
            let expected = match root.as_str() {
                "Electronics" => 116,
                "Home & Kitchen" => 90,
                _ => 60,
            };
            assert_eq!(*count, expected, "{root}: {counts:?}");
        }

        // A plain product, one with sizes, and one running low, each as the catalog says.
        let plain = catalog
            .products
            .iter()
            .find(|p| p.variants.is_empty())
            .unwrap();
        let sized = catalog
            .products
            .iter()
            .find(|p| !p.variants.is_empty())
            .unwrap();
        let low = catalog
            .products
            .iter()
            .find(|p| p.low_stock_threshold.is_some_and(|t| p.stock < t))
            .unwrap();
        for p in [plain, sized, low] {
            let got = get(&c, &format!("{base}/products/{}", p.id), &token).await;
            assert_eq!(got["name"], p.name.as_str());
            assert_eq!(got["sku"], p.sku.as_str());
            assert_eq!(got["price"]["amount"], p.price.amount);
            assert_eq!(got["price"]["currency"], "USD");
            assert!(
                p.price.amount > 0 && p.price.amount % 100 == 99,
                "{}",
                p.price.amount
            );
            let stock = p.stock + p.variants.iter().map(|v| v.stock).sum::<u32>();
            assert_eq!(got["stock"]["available"], stock, "{}", p.name);
            assert_eq!(got["images"][0]["url"], p.image_url.as_str());
            assert_eq!(
                got["variants"].as_array().unwrap().len(),
                p.variants.len(),
                "{got}"
            );
            assert_eq!(got["attributes"]["brand"], p.attributes["brand"]);
        }
        let login: Value = c
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({
                "email": "root@example.com", "password": "a long admin password"
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let admin = login["access_token"].as_str().expect("logged in");
        let url = format!("{base}/inventory/{}", low.sku);
        let stock = get_as(&c, &url, &token, Some(admin)).await;
        assert_eq!(stock["available"], 3, "{stock}");
        assert_eq!(stock["low_stock"], true, "{stock}");
        let url = format!("{base}/inventory/{}", sized.variants[0].sku);
        let stock = get_as(&c, &url, &token, Some(admin)).await;
        assert_eq!(stock["on_hand"], sized.variants[0].stock, "{stock}");
        assert_eq!(stock["product_id"], sized.id.to_string(), "{stock}");

        let found = get(&c, &format!("{base}/products/search?q=skillet"), &token).await;
        assert_eq!(found["total"], 5, "five styles of skillet: {found}");

        // The shop is there: a second run finds it and the store does not grow (the
        // admin's sign-in above is an event of its own, counted before the run).
        let before_second = events_in_store(&state.pool).await;
        let second = seed_demo(&state).await.unwrap();
        assert!(second.found_existing());
        assert_eq!(second.events_appended, 0);
        assert_eq!(second.position, None);
        assert_eq!(events_in_store(&state.pool).await, before_second);

        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn seeding_leaves_a_console_admin_whose_password_is_shown_once() {
    let name = format!("um_seed_admin_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
        ])
        .unwrap();
        let app = Application::build(config).await.unwrap();
        let state = app.state().clone();
        let DemoAdmin::Created { email, password } = demo_admin(&state).await.unwrap() else {
            panic!("a shop without a bootstrap admin gets the demo admin");
        };
        assert_eq!(email, DEMO_ADMIN_EMAIL);
        let before_second = events_in_store(&state.pool).await;
        assert_eq!(
            demo_admin(&state).await.unwrap(),
            DemoAdmin::Existed {
                email: email.clone()
            },
            "seeding again finds it, and no second password is made"
        );
        assert_eq!(events_in_store(&state.pool).await, before_second);

        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let c = Client::new();
        let login = |password: String| {
            c.post(format!("{base}/api/v1/auth/login"))
                .json(&serde_json::json!({ "email": DEMO_ADMIN_EMAIL, "password": password }))
                .send()
        };
        let signed_in = login(password.clone()).await.unwrap();
        assert_eq!(signed_in.status(), 200, "the printed password works");
        let tokens: Value = signed_in.json().await.unwrap();
        let me: Value = c
            .get(format!("{base}/api/v1/auth/profile"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], "admin", "{me}");
        let wrong = login(format!("{password}x")).await.unwrap();
        assert_eq!(wrong.status(), 401);

        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
