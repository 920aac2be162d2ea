//! Catalog queries over real HTTP against the real application (projections running):
//! listings with filters and sorts, search ranking, the category tree, stock for staff,
//! read-your-writes through the cache, 404s, parameter errors, and drafts hidden from
//! customers.

mod common;

use common::with_shop;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::id::{CategoryId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

struct Api {
    c: Client,
    base: String,
}

struct Answer {
    status: StatusCode,
    token: Option<String>,
    content_type: String,
    body: Value,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        consistency: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut r = self
            .c
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        if let Some(t) = consistency {
            r = r.header("x-consistency-token", t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let token = header("x-consistency-token");
        let content_type = header("content-type").unwrap_or_default();
        let text = r.text().await.unwrap();
        Answer {
            status,
            token,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// A command that must succeed; answers its body and consistency token.
    async fn command(&self, method: &str, path: &str, auth: &str, body: Value) -> (Value, String) {
        let a = self.call(method, path, Some(auth), None, Some(body)).await;
        assert!(
            a.status.is_success(),
            "{method} {path}: {} {}",
            a.status,
            a.body
        );
        (a.body, a.token.expect("a consistency token"))
    }

    async fn get(&self, path: &str, auth: Option<&str>, consistency: Option<&str>) -> Answer {
        self.call("GET", path, auth, consistency, None).await
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let a = self
            .call(
                "POST",
                "/auth/login",
                None,
                None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        a.body["access_token"]
            .as_str()
            .expect("logged in")
            .to_owned()
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_problem(a: &Answer, status: u16, field: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.body["status"], status);
    if let Some(field) = field {
        assert_eq!(a.body["errors"][0]["field"], field, "{}", a.body);
    }
}

#[tokio::test]
async fn browsing_reads_the_catalog_read_model() {
    with_shop(&[], |base, _| async move { browse(&base).await }).await;
}

#[tokio::test]
async fn customers_do_not_see_drafts() {
    with_shop(&[], |base, url| async move { drafts(&base, &url).await }).await;
}

async fn browse(base: &str) {
    let api = Api {
        c: Client::new(),
        base: base.to_owned(),
    };
    let admin = api.login("root@example.com", "a long admin password").await;
    api.call(
        "POST",
        "/auth/register",
        None,
        None,
        Some(json!({ "email": "cus@example.com", "password": "customer password" })),
    )
    .await;
    let customer = api.login("cus@example.com", "customer password").await;

    let (outdoor, _) = api
        .command("POST", "/categories", &admin, json!({ "name": "Outdoor" }))
        .await;
    let (tents, _) = api
        .command(
            "POST",
            "/categories",
            &admin,
            json!({ "name": "Tents", "parent_id": outdoor["id"] }),
        )
        .await;
    let product = |sku: &str, name: &str, description: &str, category: &Value, price: i64| {
        json!({ "sku": sku, "name": name, "description": description, "category_id": category["id"],
                "price": { "amount": price, "currency": "USD" }, "attributes": { "colour": "green" } })
    };
    let (dome, _) = api
        .command(
            "POST",
            "/products",
            &admin,
            product(
                "TENT-1",
                "Dome tent",
                "Sleeps two; good on any trail.",
                &tents,
                19999,
            ),
        )
        .await;
    let (_boots, _) = api
        .command(
            "POST",
            "/products",
            &admin,
            product("BOOT-1", "Trail boots", "Leather.", &outdoor, 12999),
        )
        .await;
    let (_, token) = api
        .command(
            "POST",
            "/inventory/TENT-1/receive",
            &admin,
            json!({ "quantity": 4 }),
        )
        .await;
    let token = token.as_str();

    // The listing: docs/api.md's page and product shapes, anonymous, read after the writes.
    let page = api.get("/products", None, Some(token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.content_type, "application/json");
    assert_eq!(
        (
            &page.body["total"],
            &page.body["limit"],
            &page.body["offset"]
        ),
        (&json!(2), &json!(20), &json!(0))
    );
    let tent = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "TENT-1")
        .unwrap()
        .clone();
    for field in [
        "id",
        "sku",
        "name",
        "slug",
        "description",
        "category_id",
        "price",
        "status",
        "attributes",
        "stock",
        "version",
    ] {
        assert!(tent.get(field).is_some(), "{field} missing from {tent}");
    }
    assert_eq!(tent["id"], dome["id"]);
    assert_eq!(tent["price"], json!({ "amount": 19999, "currency": "USD" }));
    assert_eq!(
        tent["stock"],
        json!({ "available": 4 }),
        "no staff counts for the public"
    );
    assert_eq!(tent["attributes"], json!({ "colour": "green" }));

    // Filters and sorts.
    let q = |path: &'static str| api.get(path, None, Some(token));
    let outdoor_id = outdoor["id"].as_str().unwrap();
    let tents_id = tents["id"].as_str().unwrap();
    let mut both = ids(&q_path(&api, &format!("/products?category_id={outdoor_id}"), token).await);
    both.sort();
    assert_eq!(
        both,
        vec!["BOOT-1", "TENT-1"],
        "a category includes its descendants"
    );
    assert_eq!(
        ids(&q_path(&api, &format!("/products?category_id={tents_id}"), token).await),
        vec!["TENT-1"]
    );
    assert_eq!(
        ids(&q("/products?sort=price").await.body),
        vec!["BOOT-1", "TENT-1"]
    );
    assert_eq!(
        ids(&q("/products?sort=-price").await.body),
        vec!["TENT-1", "BOOT-1"]
    );
    assert_eq!(
        ids(&q("/products?min_price=13000&max_price=20000").await.body),
        vec!["TENT-1"]
    );
    assert_eq!(
        ids(&q("/products?in_stock=true").await.body),
        vec!["TENT-1"]
    );
    assert_eq!(
        ids(&q("/products?in_stock=false").await.body),
        vec!["BOOT-1"]
    );
    let second = q("/products?sort=name&limit=1&offset=1").await.body;
    // "Dome tent" < "Trail boots".
    assert_eq!(
        (ids(&second), &second["total"]),
        (vec!["BOOT-1".to_owned()], &json!(2))
    );
    let past = q("/products?offset=50").await.body;
    assert_eq!((ids(&past).len(), &past["total"]), (0, &json!(2)));

    // Search: the name's word outranks the description's.
    let found = q("/products/search?q=trails").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(ids(&found.body), vec!["BOOT-1", "TENT-1"]);
    assert!(
        found.body["items"][0]["rank"].as_f64().unwrap()
            > found.body["items"][1]["rank"].as_f64().unwrap()
    );
    assert_eq!(ids(&q("/products?q=leather").await.body), vec!["BOOT-1"]);

    // One product, by id and by slug; unknown ones are 404 problems.
    let id = dome["id"].as_str().unwrap();
    let one = api.get(&format!("/products/{id}"), None, Some(token)).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["sku"], "TENT-1");
    let slug = dome["slug"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/products/{slug}"), None, None).await.body["id"],
        dome["id"]
    );
    assert_problem(
        &api.get(&format!("/products/{}", Uuid::new_v4()), None, None)
            .await,
        404,
        None,
    );
    assert_problem(
        &api.get("/products/no-such-slug", None, None).await,
        404,
        None,
    );
    let staff_view = api
        .get(&format!("/products/{id}"), Some(&admin), None)
        .await;
    assert_eq!(
        staff_view.body["stock"],
        json!({ "available": 4, "on_hand": 4, "reserved": 0, "low_stock": false })
    );

    // The tree with counts, one category with its breadcrumbs, its products.
    let tree = q("/categories").await.body;
    assert_eq!(tree["total"], 1);
    assert_eq!(tree["items"][0]["name"], "Outdoor");
    assert_eq!(tree["items"][0]["product_count"], 2);
    assert_eq!(tree["items"][0]["direct_product_count"], 1);
    assert_eq!(tree["items"][0]["children"][0]["name"], "Tents");
    assert_eq!(tree["items"][0]["children"][0]["product_count"], 1);
    let one = api
        .get(&format!("/categories/{tents_id}"), None, None)
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["ancestors"][0]["id"], outdoor["id"]);
    assert_eq!(one.body["depth"], 1);
    let by_slug = api.get("/categories/outdoor", None, None).await;
    assert_eq!(by_slug.body["children"][0]["id"], tents["id"]);
    assert_problem(
        &api.get(&format!("/categories/{}", Uuid::new_v4()), None, None)
            .await,
        404,
        None,
    );
    let mut theirs = ids(&api
        .get(&format!("/categories/{outdoor_id}/products"), None, None)
        .await
        .body);
    theirs.sort();
    assert_eq!(theirs, vec!["BOOT-1", "TENT-1"]);
    assert_problem(
        &api.get(
            &format!("/categories/{}/products", Uuid::new_v4()),
            None,
            None,
        )
        .await,
        404,
        None,
    );

    // Stock: staff only.
    let stock = api.get("/inventory/tent-1", Some(&admin), None).await;
    assert_eq!(stock.status, 200, "{}", stock.body);
    assert_eq!(
        (
            &stock.body["sku"],
            &stock.body["on_hand"],
            &stock.body["reserved"],
            &stock.body["available"]
        ),
        (&json!("TENT-1"), &json!(4), &json!(0), &json!(4))
    );
    assert_problem(
        &api.get("/inventory/TENT-1", Some(&customer), None).await,
        403,
        None,
    );
    assert_problem(&api.get("/inventory/TENT-1", None, None).await, 401, None);
    assert_problem(
        &api.get("/inventory/NOPE-9", Some(&admin), None).await,
        404,
        None,
    );
    assert_problem(
        &api.get("/inventory/bad%20sku", Some(&admin), None).await,
        400,
        Some("sku"),
    );

    // Bad parameters: 400, each wrong field named.
    for (path, field) in [
        ("/products?limit=0", "limit"),
        ("/products?limit=101", "limit"),
        ("/products?offset=-1", "offset"),
        ("/products?sort=colour", "sort"),
        ("/products?sort=relevance", "sort"),
        ("/products?min_price=cheap", "min_price"),
        ("/products?min_price=10&max_price=5", "min_price"),
        ("/products?category_id=42", "category_id"),
        ("/products?in_stock=maybe", "in_stock"),
        ("/products?currency=dollars", "currency"),
        ("/products?colour=green", "colour"),
        ("/products?limit=1&limit=2", "limit"),
        ("/products/search", "q"),
        ("/products/search?q=", "q"),
        ("/categories?limit=x", "limit"),
    ] {
        assert_problem(&api.get(path, None, None).await, 400, Some(field));
    }
    let two = api.get("/products?limit=0&sort=x", None, None).await;
    assert_eq!(
        two.body["errors"].as_array().unwrap().len(),
        2,
        "{}",
        two.body
    );
    assert_problem(&api.get("/products", None, Some("soon")).await, 400, None);
    let doc = api.get("/openapi.json", None, None).await.body;
    for path in [
        "/api/v1/products",
        "/api/v1/products/search",
        "/api/v1/categories/{id}",
        "/api/v1/inventory/{sku}",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    assert_problem(
        &api.get("/products", Some("not a token"), None).await,
        401,
        None,
    );

    // Read-your-writes through the cache: the old answer is cached, the token skips it.
    let before = api.get(&format!("/products/{id}"), None, None).await;
    assert_eq!(before.body["price"]["amount"], 19999);
    let (_, token) = api
        .command(
            "PUT",
            &format!("/products/{id}"),
            &admin,
            json!({ "price": { "amount": 17999, "currency": "USD" } }),
        )
        .await;
    let after = api
        .get(&format!("/products/{id}"), None, Some(&token))
        .await;
    assert_eq!(after.body["price"]["amount"], 17999, "{}", after.body);
    let listed = api.get("/products?sort=price", None, Some(&token)).await;
    assert_eq!(listed.body["items"][1]["price"]["amount"], 17999);

    // Archived products leave the listings and the customer's view; staff still see them.
    let a = api
        .call(
            "DELETE",
            &format!("/products/{id}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, 204);
    let token = a.token.unwrap();
    let page = api.get("/products", Some(&customer), Some(&token)).await;
    assert_eq!(ids(&page.body), vec!["BOOT-1"]);
    assert_problem(
        &api.get(&format!("/products/{id}"), Some(&customer), Some(&token))
            .await,
        404,
        None,
    );
    let archived = api
        .get(&format!("/products/{id}"), Some(&admin), Some(&token))
        .await;
    assert_eq!(archived.body["status"], "archived");
    let tree = api.get("/categories", None, Some(&token)).await.body;
    assert_eq!(tree["items"][0]["product_count"], 1);
    let staff_list = api
        .get("/products?status=archived", Some(&admin), Some(&token))
        .await;
    assert_eq!(ids(&staff_list.body), vec!["TENT-1"]);
}

async fn q_path(api: &Api, path: &str, token: &str) -> Value {
    let a = api.get(path, None, Some(token)).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.body
}

/// A vendor's product starts as a draft: customers and anonymous visitors can neither list
/// nor open it, and cannot ask for drafts; staff can.
async fn drafts(base: &str, url: &str) {
    let api = Api {
        c: Client::new(),
        base: base.to_owned(),
    };
    let admin = api.login("root@example.com", "a long admin password").await;
    api.call(
        "POST",
        "/auth/register",
        None,
        None,
        Some(json!({ "email": "cus@example.com", "password": "customer password" })),
    )
    .await;
    let customer = api.login("cus@example.com", "customer password").await;
    let (cat, _) = api
        .command("POST", "/categories", &admin, json!({ "name": "Mugs" }))
        .await;

    // No HTTP route makes vendors yet: the draft is created as a vendor's would be, through
    // the command handler on the engine's store.
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let products: CommandHandler<Product> = CommandHandler::new(store, 10);
    let id = Uuid::new_v4();
    let vendor = Uuid::new_v4();
    let handled = products
        .handle(
            &CommandHandler::<Product>::stream_id(id),
            ProductCommand::Create(Box::new(CreateProduct {
                product_id: ProductId::new(id),
                sku: Sku::parse("MUG-DRAFT").unwrap(),
                name: "Secret mug".into(),
                slug: Slug::parse("secret-mug").unwrap(),
                description: None,
                category_id: CategoryId::new(Uuid::parse_str(cat["id"].as_str().unwrap()).unwrap()),
                price: Money::new(999, Currency::USD),
                attributes: Default::default(),
                vendor_id: Some(UserId::new(vendor)),
                publish: false,
                seo: Default::default(),
                at: Utc::now(),
            })),
            CommandMeta::new(
                Uuid::new_v4(),
                Uuid::new_v4(),
                Actor {
                    user_id: Some(vendor),
                    role: "vendor".into(),
                },
                Utc::now(),
            ),
        )
        .await
        .unwrap();
    let token = handled.position.unwrap().to_string();

    for who in [None, Some(customer.as_str())] {
        let page = api.get("/products", who, Some(&token)).await;
        assert_eq!(
            (page.status.as_u16(), &page.body["total"]),
            (200, &json!(0))
        );
        assert_problem(
            &api.get(&format!("/products/{id}"), who, Some(&token)).await,
            404,
            None,
        );
        assert_problem(&api.get("/products/secret-mug", who, None).await, 404, None);
        assert_eq!(
            api.get("/products/search?q=secret", who, None).await.body["total"],
            0
        );
    }
    assert_problem(
        &api.get("/products?status=draft", Some(&customer), None)
            .await,
        403,
        None,
    );
    assert_problem(
        &api.get("/products?status=all", None, None).await,
        401,
        None,
    );

    let staff = api
        .get("/products?status=draft", Some(&admin), Some(&token))
        .await;
    assert_eq!(ids(&staff.body), vec!["MUG-DRAFT"]);
    let one = api
        .get(&format!("/products/{id}"), Some(&admin), None)
        .await;
    assert_eq!(
        (one.status.as_u16(), &one.body["status"]),
        (200, &json!("draft"))
    );
    let tree = api.get("/categories", None, None).await.body;
    assert_eq!(
        tree["items"][0]["product_count"], 0,
        "drafts are not counted"
    );
}
