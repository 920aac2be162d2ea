//! Search (ADR 0007) over real HTTP against the real application: facet counts scoped to
//! the filtered result, a facet with thousands of values capped, suggestions by prefix
//! across product names, brands and categories with the trigram fallback, bad input, and
//! the search log's top and zero-result queries once an interval is recorded.

mod common;

use std::sync::Arc;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

struct Api {
    c: Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            c: Client::new(),
            base: base.to_owned(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        consistency: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
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

    /// A command that must succeed: its body and consistency token.
    async fn command(&self, method: &str, path: &str, auth: &str, body: Value) -> (Value, String) {
        let (status, token, body) = self.call(method, path, Some(auth), None, Some(body)).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        (body, token.expect("a consistency token"))
    }

    /// A read that must answer 200.
    async fn get(&self, path: &str, auth: Option<&str>, consistency: Option<&str>) -> Value {
        let (status, _, body) = self.call("GET", path, auth, consistency, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A read that must be refused with `status`, a problem naming `field`.
    async fn refused(&self, path: &str, auth: Option<&str>, status: u16, field: Option<&str>) {
        let (got, _, body) = self.call("GET", path, auth, None, None).await;
        assert_eq!(got.as_u16(), status, "GET {path}: {body}");
        assert_eq!(body["status"], status, "a problem: {body}");
        if let Some(field) = field {
            let named = body["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field));
            assert!(named, "GET {path} names {field}: {body}");
        }
    }

    async fn admin(&self) -> String {
        let (_, _, body) = self
            .call(
                "POST",
                "/auth/login",
                None,
                None,
                Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
            )
            .await;
        body["access_token"].as_str().expect("logged in").to_owned()
    }
}

/// `facets[key]` as value → count.
fn counts(answer: &Value, key: &str) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = answer["facets"][key]["values"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| {
                    (
                        v["value"].as_str().unwrap().to_owned(),
                        v["count"].as_i64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = list.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect();
    out.sort();
    out
}

fn names(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {answer}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn terms(answer: &Value) -> Vec<(String, String)> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no suggestions: {answer}"))
        .iter()
        .map(|s| {
            (
                s["term"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facets_count_the_filtered_result_and_suggestions_complete_prefixes() {
    with_shop(&[], |base, _| async move {
        let api = Api::new(&base);
        let admin = api.admin().await;
        let (kitchen, _) = api
            .command("POST", "/categories", &admin, json!({ "name": "Kitchen" }))
            .await;
        let (mugs, _) = api
            .command(
                "POST",
                "/categories",
                &admin,
                json!({ "name": "Mugs", "parent_id": kitchen["id"] }),
            )
            .await;
        let (garden, _) = api
            .command("POST", "/categories", &admin, json!({ "name": "Garden" }))
            .await;
        let mut ids = Vec::new();
        for (sku, name, category, price, attributes, stock) in [
            (
                "MUG-1",
                "Blue mug",
                &mugs,
                1299,
                json!({ "brand": "Acme", "color": "blue" }),
                5,
            ),
            (
                "MUG-2",
                "Red mug",
                &mugs,
                1499,
                json!({ "brand": "Acme", "color": "red" }),
                0,
            ),
            (
                "MUG-3",
                "Red travel mug",
                &mugs,
                2999,
                json!({ "brand": "Zenith", "color": "red", "tags": ["travel", "steel"] }),
                3,
            ),
            (
                "POT-1",
                "Garden pot",
                &garden,
                4999,
                json!({ "brand": "Zenith", "color": "red" }),
                0,
            ),
            (
                "KETTLE-1",
                "Steel kettle",
                &kitchen,
                8999,
                json!({ "brand": "Acme" }),
                1,
            ),
        ] {
            let (p, _) = api
                .command(
                    "POST",
                    "/products",
                    &admin,
                    json!({ "sku": sku, "name": name, "category_id": category["id"],
                            "price": { "amount": price, "currency": "USD" },
                            "attributes": attributes }),
                )
                .await;
            ids.push(p["id"].as_str().unwrap().to_owned());
            if stock > 0 {
                api.command(
                    "POST",
                    &format!("/inventory/{sku}/receive"),
                    &admin,
                    json!({ "quantity": stock }),
                )
                .await;
            }
        }
        // A variant's attributes are the product's facets too. Its token comes after every
        // write above.
        let (_, token) = api
            .command(
                "POST",
                &format!("/products/{}/variants", ids[0]),
                &admin,
                json!({ "sku": "MUG-1-GREEN", "name": "Green", "attributes": { "color": "green" },
                        "price": { "amount": 1299, "currency": "USD" } }),
            )
            .await;
        let t = Some(token.as_str());

        // Everything matching "mug": counts over those three products only.
        let all = api.get("/search?q=mug", None, t).await;
        assert_eq!(all["total"], 3, "{all}");
        let mut found = names(&all);
        found.sort();
        assert_eq!(found, ["Blue mug", "Red mug", "Red travel mug"]);
        assert_eq!(counts(&all, "brand"), pairs(&[("Acme", 2), ("Zenith", 1)]));
        assert_eq!(
            counts(&all, "attr.color"),
            pairs(&[("blue", 1), ("green", 1), ("red", 2)])
        );
        assert_eq!(
            counts(&all, "attr.tags"),
            pairs(&[("steel", 1), ("travel", 1)])
        );
        let (mugs_id, kitchen_id) = (
            mugs["id"].as_str().unwrap(),
            kitchen["id"].as_str().unwrap(),
        );
        assert_eq!(
            counts(&all, "category"),
            pairs(&[(mugs_id, 3), (kitchen_id, 3)])
        );
        let labels: Vec<&str> = all["facets"]["category"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["label"].as_str().unwrap())
            .collect();
        assert!(
            labels.contains(&"Mugs") && labels.contains(&"Kitchen"),
            "{all}"
        );
        assert_eq!(
            counts(&all, "in_stock"),
            pairs(&[("false", 1), ("true", 2)])
        );
        assert_eq!(
            counts(&all, "price"),
            pairs(&[("USD:1000-2500", 2), ("USD:2500-5000", 1)])
        );
        assert_eq!(all["facets"]["brand"]["more"], 0);

        // A filter narrows the results and the counts alike.
        let acme = api.get("/search?q=mug&brand=Acme", None, t).await;
        assert_eq!(acme["total"], 2);
        assert_eq!(counts(&acme, "brand"), pairs(&[("Acme", 2)]));
        assert_eq!(
            counts(&acme, "attr.color"),
            pairs(&[("blue", 1), ("green", 1), ("red", 1)])
        );
        let red = api
            .get("/search?q=mug&attr.color=red&in_stock=true", None, t)
            .await;
        assert_eq!(names(&red), ["Red travel mug"]);
        assert_eq!(counts(&red, "in_stock"), pairs(&[("true", 1)]));
        let cheap = api.get("/search?q=mug&price_max=1500", None, t).await;
        assert_eq!(cheap["total"], 2);
        assert_eq!(counts(&cheap, "price"), pairs(&[("USD:1000-2500", 2)]));
        // A category counts its subtree; no q matches everything on sale.
        let kitchen_all = api
            .get(&format!("/search?category={kitchen_id}&limit=2"), None, t)
            .await;
        assert_eq!(kitchen_all["total"], 4);
        assert_eq!(kitchen_all["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            counts(&kitchen_all, "category"),
            pairs(&[(mugs_id, 3), (kitchen_id, 4)])
        );
        let capped = api.get("/search?facet_limit=1", None, t).await;
        assert_eq!(capped["total"], 5);
        assert_eq!(counts(&capped, "attr.color"), pairs(&[("red", 3)]));
        assert_eq!(capped["facets"]["attr.color"]["more"], 2);
        let bare = api.get("/search?q=mug&facets=false", None, t).await;
        assert!(bare.get("facets").is_none(), "{bare}");
        assert_eq!(bare["total"], 3);
        // The existing search answers as before.
        let old = api.get("/products/search?q=mug", None, t).await;
        assert_eq!(old["total"], 3);
        assert!(old.get("facets").is_none());

        // Suggestions: product names, brands and categories by prefix, any case.
        let red = api.get("/search/suggestions?q=RED", None, t).await;
        assert_eq!(
            terms(&red),
            [
                ("Red mug".to_owned(), "product".to_owned()),
                ("Red travel mug".to_owned(), "product".to_owned())
            ]
        );
        let ze = api.get("/search/suggestions?q=ze", None, t).await;
        assert_eq!(terms(&ze), [("Zenith".to_owned(), "brand".to_owned())]);
        assert_eq!(ze["items"][0]["weight"], 2);
        let kit = api.get("/search/suggestions?q=kit", None, t).await;
        assert_eq!(terms(&kit), [("Kitchen".to_owned(), "category".to_owned())]);
        assert_eq!(kit["items"][0]["weight"], 4);
        let gar = api.get("/search/suggestions?q=gar&limit=1", None, t).await;
        assert_eq!(terms(&gar), [("Garden".to_owned(), "category".to_owned())]);
        // Nothing starts with a typo: the most similar terms answer instead.
        let typo = api.get("/search/suggestions?q=kitchn", None, t).await;
        assert_eq!(
            terms(&typo).first(),
            Some(&("Kitchen".to_owned(), "category".to_owned())),
            "{typo}"
        );
        let none = api.get("/search/suggestions?q=qqqqqq", None, t).await;
        assert_eq!(none["items"], json!([]));

        // Off sale: out of the results, the facets and the suggestions.
        let (status, archived, body) = api
            .call(
                "DELETE",
                &format!("/products/{}", ids[1]),
                Some(&admin),
                None,
                None,
            )
            .await;
        assert_eq!(status, 204, "{body}");
        let t = archived.as_deref();
        let after = api.get("/search?q=mug", None, t).await;
        assert_eq!(after["total"], 2);
        assert_eq!(
            counts(&after, "brand"),
            pairs(&[("Acme", 1), ("Zenith", 1)])
        );
        let red = api.get("/search/suggestions?q=red", None, t).await;
        assert_eq!(
            terms(&red),
            [("Red travel mug".to_owned(), "product".to_owned())]
        );
        let kit = api.get("/search/suggestions?q=kitc", None, t).await;
        assert_eq!(kit["items"][0]["weight"], 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_search_input_is_refused_with_problems() {
    with_shop(&[], |base, _| async move {
        let api = Api::new(&base);
        api.refused("/search/suggestions", None, 400, Some("q"))
            .await;
        api.refused("/search/suggestions?q=%20", None, 400, Some("q"))
            .await;
        let long = "a".repeat(101);
        api.refused(
            &format!("/search/suggestions?q={long}"),
            None,
            400,
            Some("q"),
        )
        .await;
        api.refused("/search/suggestions?q=a&limit=0", None, 400, Some("limit"))
            .await;
        api.refused("/search/suggestions?q=a&limit=21", None, 400, Some("limit"))
            .await;
        api.refused("/search/suggestions?q=a&q=b", None, 400, Some("q"))
            .await;
        api.refused("/search?q=", None, 400, Some("q")).await;
        api.refused(
            &format!("/search?q={}", "b".repeat(201)),
            None,
            400,
            Some("q"),
        )
        .await;
        api.refused("/search?attr.=x", None, 400, Some("attr."))
            .await;
        api.refused(
            "/search?attr.color=a&attr.color=b",
            None,
            400,
            Some("attr.color"),
        )
        .await;
        api.refused("/search?wat=1", None, 400, Some("wat")).await;
        api.refused(
            "/search?price_min=5&price_max=1",
            None,
            400,
            Some("price_min"),
        )
        .await;
        api.refused("/search?category=nope", None, 400, Some("category"))
            .await;
        api.refused("/search?facet_limit=101", None, 400, Some("facet_limit"))
            .await;
        api.refused("/search/queries", None, 401, None).await;
        let admin = api.admin().await;
        api.refused(
            "/search/queries?kind=bogus",
            Some(&admin),
            400,
            Some("kind"),
        )
        .await;
        api.call(
            "POST",
            "/auth/register",
            None,
            None,
            Some(json!({ "email": "shopper@example.com", "password": "a shopper's password" })),
        )
        .await;
        let (_, _, pair) = api
            .call(
                "POST",
                "/auth/login",
                None,
                None,
                Some(json!({ "email": "shopper@example.com", "password": "a shopper's password" })),
            )
            .await;
        let customer = pair["access_token"].as_str().unwrap().to_owned();
        api.refused("/search/queries", Some(&customer), 403, None)
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_log_answers_top_and_zero_result_queries_after_a_flush() {
    with_shop(&["--search-log-interval", "1s"], |base, _| async move {
        let api = Api::new(&base);
        let admin = api.admin().await;
        let (cat, _) = api
            .command("POST", "/categories", &admin, json!({ "name": "Mugs" }))
            .await;
        let (_, token) = api
            .command(
                "POST",
                "/products",
                &admin,
                json!({ "sku": "MUG-1", "name": "Blue mug", "category_id": cat["id"],
                        "price": { "amount": 999, "currency": "USD" } }),
            )
            .await;
        let t = Some(token.as_str());
        for q in [
            "mug",
            "mug",
            "mug",
            "%20%20MUG%20",
            "unicorn",
            "Unicorn",
            "blue",
        ] {
            api.get(&format!("/search?q={q}"), None, t).await;
        }
        // Browsing without a query is not a search.
        api.get("/search", None, t).await;
        let wanted = json!([["mug", 4, 0], ["unicorn", 2, 2], ["blue", 1, 0]]);
        let started = std::time::Instant::now();
        let top = loop {
            let top = api
                .get("/search/queries?kind=top", Some(&admin), None)
                .await;
            let got: Vec<Value> = top["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| json!([q["query"], q["searches"], q["zero_result_searches"]]))
                .collect();
            if json!(got) == wanted {
                break top;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the log never showed {wanted}: {top}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(top["total"], 3);
        assert_eq!(top["items"][0]["last_results"], 1);
        let zero = api
            .get("/search/queries?kind=zero_results", Some(&admin), None)
            .await;
        assert_eq!(zero["total"], 1);
        assert_eq!(zero["items"][0]["query"], "unicorn");
        assert_eq!(zero["items"][0]["zero_result_searches"], 2);
        assert_eq!(zero["items"][0]["last_results"], 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facet_with_thousands_of_values_answers_its_top_ones_and_how_many_were_left() {
    with_shop(&[], |base, url| async move {
        const PRODUCTS: usize = 2_000;
        let api = Api::new(&base);
        let admin = api.admin().await;
        let (cat, _) = api
            .command("POST", "/categories", &admin, json!({ "name": "Parts" }))
            .await;
        let category = CategoryId::new(Uuid::parse_str(cat["id"].as_str().unwrap()).unwrap());
        // Thousands of products through the command handler on the engine's store: each
        // with its own attribute value, a few sharing a second one.
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let products: Arc<CommandHandler<Product>> = Arc::new(CommandHandler::new(store, 10));
        let mut last = None;
        for chunk in (0..PRODUCTS).collect::<Vec<_>>().chunks(100) {
            let handled = futures::future::join_all(chunk.iter().map(|&i| {
                let products = products.clone();
                async move {
                    let id = Uuid::new_v4();
                    let mut attributes = serde_json::Map::new();
                    attributes.insert("brand".into(), json!("Bulk"));
                    attributes.insert("part".into(), json!(format!("p{i:05}")));
                    attributes.insert(
                        "finish".into(),
                        json!(if i % 10 == 0 { "matte" } else { "gloss" }),
                    );
                    products
                        .handle(
                            &CommandHandler::<Product>::stream_id(id),
                            ProductCommand::Create(Box::new(CreateProduct {
                                product_id: ProductId::new(id),
                                sku: Sku::parse(&format!("PART-{i:05}")).unwrap(),
                                name: format!("Part {i}"),
                                slug: Slug::parse(&format!("part-{i}")).unwrap(),
                                description: None,
                                category_id: category,
                                price: Money::new(500 + i as i64, Currency::USD),
                                attributes,
                                vendor_id: None,
                                publish: true,
                                seo: Default::default(),
                                at: Utc::now(),
                            })),
                            CommandMeta::new(id, id, Actor::system(), Utc::now()),
                        )
                        .await
                        .unwrap()
                }
            }))
            .await;
            last = handled.iter().filter_map(|h| h.position).max().max(last);
        }
        let token = last.unwrap().to_string();
        let t = Some(token.as_str());
        let answer = api.get("/search?brand=Bulk&facet_limit=5", None, t).await;
        assert_eq!(answer["total"], PRODUCTS);
        let parts = &answer["facets"]["attr.part"];
        assert_eq!(parts["values"].as_array().unwrap().len(), 5, "{parts}");
        assert_eq!(parts["more"], PRODUCTS - 5);
        // Ties by value: the first five parts.
        assert_eq!(parts["values"][0], json!({ "value": "p00000", "count": 1 }));
        assert_eq!(parts["values"][4]["value"], "p00004");
        assert_eq!(
            counts(&answer, "attr.finish"),
            pairs(&[("gloss", 1_800), ("matte", 200)])
        );
        // Narrowed, the counts follow.
        let matte = api
            .get("/search?attr.finish=matte&facet_limit=3", None, t)
            .await;
        assert_eq!(matte["total"], 200);
        assert_eq!(matte["facets"]["attr.part"]["more"], 197);
        assert_eq!(counts(&matte, "brand"), pairs(&[("Bulk", 200)]));
        pool.close().await;
    })
    .await;
}
