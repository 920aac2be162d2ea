//! The catalog's administration over real HTTP (issue 21): images and variants of a
//! product, publishing (a vendor's review, unpublishing, off-sale products not buyable),
//! SEO fields with a permanent redirect from a former slug, and moving categories without
//! cycles. Each route with its refusals: unknown ids, another vendor's product, duplicate
//! SKUs, bad input.

mod common;

use common::{access_token, call, with_shop, Reply, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

/// Never follows redirects: the tests look at them.
fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Shop {
    c: Client,
    base: String,
    admin: String,
}

impl Shop {
    async fn open(base: String) -> Shop {
        let c = client();
        let admin = access_token(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        Shop { c, base, admin }
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        call(
            &self.c,
            method,
            format!("{}{path}", self.base),
            token,
            body,
            None,
        )
        .await
    }

    /// A query that waits for the read model to cover `after`; anonymous when `token` is
    /// empty.
    async fn read(&self, path: &str, token: &str, after: &Reply) -> Reply {
        let mut r = self.c.get(format!("{}{path}", self.base));
        if !token.is_empty() {
            r = r.bearer_auth(token);
        }
        if let Some(t) = &after.consistency {
            r = r.header("X-Consistency-Token", t);
        }
        let r = r.send().await.expect("the server answers");
        Reply {
            status: r.status(),
            consistency: None,
            body: r.json().await.unwrap_or(Value::Null),
        }
    }

    async fn vendor(&self, email: &str) -> String {
        let r = self
            .call(
                "POST",
                "/users",
                &self.admin,
                Some(json!({
                    "email": email, "password": "a vendor's long password",
                    "first_name": "Vendor", "role": "vendor",
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        access_token(&self.c, &self.base, email, "a vendor's long password").await
    }

    async fn customer(&self, email: &str) -> String {
        let r = self
            .c
            .post(format!("{}/auth/register", self.base))
            .json(&json!({ "email": email, "password": "customer password" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "registered {email}");
        access_token(&self.c, &self.base, email, "customer password").await
    }

    async fn category(&self, name: &str, parent: Option<&str>) -> String {
        let r = self
            .call(
                "POST",
                "/categories",
                &self.admin,
                Some(json!({ "name": name, "parent_id": parent })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    async fn product(&self, token: &str, sku: &str, category: &str, extra: Value) -> Reply {
        let mut body = json!({
            "sku": sku, "name": format!("Lamp {sku}"), "category_id": category,
            "price": { "amount": 4999, "currency": "USD" },
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = self.call("POST", "/products", token, Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r
    }
}

fn id(r: &Reply) -> String {
    r.body["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn images_are_added_listed_and_removed_by_their_seller() {
    with_shop(&[], |base, _| async move {
        let s = Shop::open(base).await;
        let lamps = s.category("Lamps", None).await;
        let ann = s.vendor("ann@example.com").await;
        let bob = s.vendor("bob@example.com").await;
        let p = id(&s.product(&ann, "LAMP-1", &lamps, json!({})).await);
        let images = format!("/products/{p}/images");

        let first = s
            .call(
                "POST",
                &images,
                &ann,
                Some(json!({ "url": "https://img.example.com/1.jpg", "alt": "Lit" })),
            )
            .await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(first.body["url"], "https://img.example.com/1.jpg");
        assert_eq!(
            (first.body["alt"].clone(), first.body["position"].clone()),
            (json!("Lit"), json!(0))
        );
        assert!(first.consistency.is_some());
        let second = s
            .call(
                "POST",
                &images,
                &s.admin,
                Some(json!({ "url": "http://img.example.com/2.jpg" })),
            )
            .await;
        assert_eq!(second.status, 201, "{}", second.body);
        assert_eq!(second.body["position"], 1, "after the last one");

        for (body, field) in [
            (json!({ "url": "ftp://img.example.com/1.jpg" }), "url"),
            (
                json!({ "url": format!("https://x.example.com/{}", "a".repeat(2100)) }),
                "url",
            ),
            (json!({ "url": "https://img.example.com/a b.jpg" }), "url"),
            (
                json!({ "url": "https://img.example.com/3.jpg", "alt": "two\nlines" }),
                "alt",
            ),
            (
                json!({ "url": "https://img.example.com/3.jpg", "position": 10001 }),
                "position",
            ),
        ] {
            let r = s.call("POST", &images, &ann, Some(body)).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
        }
        let r = s
            .call(
                "POST",
                &images,
                &ann,
                Some(json!({ "href": "https://x.example.com" })),
            )
            .await;
        assert_eq!(r.status, 422, "unknown fields are refused");
        let r = s
            .call(
                "POST",
                &images,
                &bob,
                Some(json!({ "url": "https://img.example.com/b.jpg" })),
            )
            .await;
        assert_eq!(r.status, 403, "another vendor's product");
        let r = s
            .call(
                "POST",
                &format!("/products/{}/images", Uuid::new_v4()),
                &s.admin,
                Some(json!({ "url": "https://img.example.com/b.jpg" })),
            )
            .await;
        assert_eq!(r.status, 404);
        let r = s
            .call(
                "POST",
                "/products/not-a-uuid/images",
                &s.admin,
                Some(json!({ "url": "https://img.example.com/b.jpg" })),
            )
            .await;
        assert_eq!(r.status, 400);

        let listed = s.read(&format!("/products/{p}"), &ann, &second).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let urls: Vec<&str> = listed.body["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["url"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "https://img.example.com/1.jpg",
                "http://img.example.com/2.jpg"
            ]
        );

        let one = format!("{images}/{}", id(&first));
        let r = s.call("DELETE", &one, &bob, None).await;
        assert_eq!(r.status, 403);
        let removed = s.call("DELETE", &one, &ann, None).await;
        assert_eq!(removed.status, 204);
        let r = s.call("DELETE", &one, &ann, None).await;
        assert_eq!(r.status, 404, "gone already: {}", r.body);
        let r = s
            .call(
                "DELETE",
                &format!("{images}/{}", Uuid::new_v4()),
                &s.admin,
                None,
            )
            .await;
        assert_eq!(r.status, 404);
        let listed = s.read(&format!("/products/{p}"), &ann, &removed).await;
        assert_eq!(listed.body["images"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn variants_have_their_own_sku_price_attributes_and_stock() {
    with_shop(&[], |base, _| async move {
        let s = Shop::open(base).await;
        let lamps = s.category("Lamps", None).await;
        let ann = s.vendor("ann@example.com").await;
        let bob = s.vendor("bob@example.com").await;
        let p = id(&s.product(&ann, "LAMP-1", &lamps, json!({})).await);
        let other = id(&s.product(&s.admin, "LAMP-2", &lamps, json!({})).await);
        let variants = format!("/products/{p}/variants");
        let red = json!({
            "sku": "lamp-1-red", "name": "Red", "price": { "amount": 5999, "currency": "USD" },
            "attributes": { "colour": "red" }, "stock": 12,
        });

        let created = s.call("POST", &variants, &ann, Some(red.clone())).await;
        assert_eq!(created.status, 201, "{}", created.body);
        assert_eq!(created.body["sku"], "LAMP-1-RED");
        assert_eq!(
            created.body["price"],
            json!({ "amount": 5999, "currency": "USD" })
        );
        assert_eq!(created.body["attributes"], json!({ "colour": "red" }));
        assert_eq!(
            created.body["stock"]["available"], 12,
            "received into its own SKU"
        );
        let red_id = id(&created);

        // Duplicates: this variant's SKU, any product's SKU, on this product or another.
        for (path, sku) in [
            (&variants, "LAMP-1-RED"),
            (&variants, "LAMP-2"),
            (&format!("/products/{other}/variants"), "lamp-1-red"),
            (&variants, "LAMP-1"),
        ] {
            let mut body = red.clone();
            body["sku"] = json!(sku);
            let r = s.call("POST", path, &s.admin, Some(body)).await;
            assert_eq!(r.status, 409, "{sku}: {}", r.body);
            assert_eq!(r.body["code"], "sku_taken");
        }
        for (change, field) in [
            (
                json!({ "price": { "amount": 5999, "currency": "EUR" } }),
                "price.currency",
            ),
            (
                json!({ "price": { "amount": -1, "currency": "USD" } }),
                "price.amount",
            ),
            (json!({ "attributes": { "": 1 } }), "attributes"),
            (json!({ "name": "  " }), "name"),
            (json!({ "sku": "not a sku!" }), "sku"),
        ] {
            let mut body = red.clone();
            body["sku"] = json!("LAMP-1-NEW");
            body.as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            let r = s.call("POST", &variants, &ann, Some(body)).await;
            assert_eq!(r.status, 422, "{field}: {}", r.body);
            assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
        }
        let mut blue = red.clone();
        blue["sku"] = json!("LAMP-1-BLUE");
        let r = s.call("POST", &variants, &bob, Some(blue.clone())).await;
        assert_eq!(r.status, 403, "another vendor's product");
        let r = s
            .call(
                "POST",
                &format!("/products/{}/variants", Uuid::new_v4()),
                &s.admin,
                Some(blue),
            )
            .await;
        assert_eq!(r.status, 404);

        let one = format!("{variants}/{red_id}");
        let updated = s
            .call(
                "PUT",
                &one,
                &ann,
                Some(json!({ "name": "Crimson", "price": { "amount": 6499, "currency": "USD" } })),
            )
            .await;
        assert_eq!(updated.status, 200, "{}", updated.body);
        assert_eq!(
            (
                updated.body["name"].clone(),
                updated.body["price"]["amount"].clone()
            ),
            (json!("Crimson"), json!(6499))
        );
        assert_eq!(updated.body["stock"]["available"], 12);
        let r = s
            .call(
                "PUT",
                &one,
                &ann,
                Some(json!({ "price": { "amount": 1, "currency": "EUR" } })),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = s
            .call("PUT", &one, &bob, Some(json!({ "name": "Mine" })))
            .await;
        assert_eq!(r.status, 403);
        let r = s
            .call(
                "PUT",
                &format!("{variants}/{}", Uuid::new_v4()),
                &ann,
                Some(json!({ "name": "X" })),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);

        let listed = s.read(&format!("/products/{p}"), &ann, &updated).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        assert_eq!(
            listed.body["variants"],
            json!([{
                "id": red_id, "sku": "LAMP-1-RED", "name": "Crimson",
                "price": { "amount": 6499, "currency": "USD" },
                "attributes": { "colour": "red" }, "stock": { "available": 12 },
            }])
        );
        assert_eq!(
            listed.body["stock"]["available"], 12,
            "the product sums its variants"
        );

        let r = s.call("DELETE", &one, &bob, None).await;
        assert_eq!(r.status, 403);
        let r = s.call("DELETE", &one, &ann, None).await;
        assert_eq!(r.status, 409, "units on hand: {}", r.body);
        assert_eq!(r.body["code"], "variant_has_stock");
        let r = s
            .call(
                "POST",
                "/inventory/LAMP-1-RED/adjust",
                &s.admin,
                Some(json!({ "delta": -12, "reason": "recount" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let removed = s.call("DELETE", &one, &ann, None).await;
        assert_eq!(removed.status, 204);
        let r = s.call("DELETE", &one, &ann, None).await;
        assert_eq!(r.status, 404);
        let listed = s.read(&format!("/products/{p}"), &ann, &removed).await;
        assert_eq!(listed.body["variants"], json!([]));
        assert_eq!(
            listed.body["stock"]["available"], 0,
            "its stock left the product"
        );
        // The SKU is free again.
        let mut again = red.clone();
        again["stock"] = json!(0);
        let r = s
            .call(
                "POST",
                &format!("/products/{other}/variants"),
                &s.admin,
                Some(again),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    })
    .await;
}

#[tokio::test]
async fn a_vendors_draft_is_reviewed_and_off_sale_products_are_not_buyable() {
    with_shop(&[], |base, _| async move {
        let s = Shop::open(base).await;
        let lamps = s.category("Lamps", None).await;
        let ann = s.vendor("ann@example.com").await;
        let bob = s.vendor("bob@example.com").await;
        let cus = s.customer("cus@example.com").await;
        let created = s.product(&ann, "LAMP-1", &lamps, json!({})).await;
        assert_eq!(created.body["status"], "draft");
        let p = id(&created);
        let buy = |token: String| {
            let s = &s;
            let p = p.clone();
            async move {
                s.call(
                    "POST",
                    "/cart/items",
                    &token,
                    Some(json!({ "product_id": p, "quantity": 1 })),
                )
                .await
            }
        };
        let r = buy(cus.clone()).await;
        assert_eq!(r.status, 422, "a draft is not buyable: {}", r.body);

        let r = s
            .call("POST", &format!("/products/{p}/publish"), &bob, None)
            .await;
        assert_eq!(r.status, 403);
        let r = s
            .call("POST", &format!("/products/{p}/publish"), &cus, None)
            .await;
        assert_eq!(r.status, 403);
        let r = s
            .call(
                "POST",
                &format!("/products/{}/publish", Uuid::new_v4()),
                &s.admin,
                None,
            )
            .await;
        assert_eq!(r.status, 404);
        let submitted = s
            .call("POST", &format!("/products/{p}/publish"), &ann, None)
            .await;
        assert_eq!(submitted.status, 200, "{}", submitted.body);
        assert_eq!(submitted.body["status"], "pending_review");
        let r = buy(cus.clone()).await;
        assert_eq!(r.status, 422, "awaiting review is not buyable: {}", r.body);
        let hidden = s.read(&format!("/products/{p}"), &cus, &submitted).await;
        assert_eq!(hidden.status, 404, "customers do not see it yet");
        let waiting = s
            .read("/products?status=pending_review", &s.admin, &submitted)
            .await;
        assert_eq!(waiting.body["total"], 1, "{}", waiting.body);

        let approved = s
            .call("POST", &format!("/products/{p}/publish"), &s.admin, None)
            .await;
        assert_eq!(approved.status, 200, "{}", approved.body);
        assert_eq!(approved.body["status"], "active");
        let shown = s.read(&format!("/products/{p}"), &cus, &approved).await;
        assert_eq!(shown.status, 200, "{}", shown.body);
        let r = buy(cus.clone()).await;
        assert_eq!(r.status, 201, "on sale: {}", r.body);

        let r = s
            .call("POST", &format!("/products/{p}/unpublish"), &bob, None)
            .await;
        assert_eq!(r.status, 403);
        let off = s
            .call("POST", &format!("/products/{p}/unpublish"), &ann, None)
            .await;
        assert_eq!(off.status, 200, "{}", off.body);
        assert_eq!(off.body["status"], "draft");
        let other = s.customer("eve@example.com").await;
        let r = buy(other).await;
        assert_eq!(r.status, 422, "off sale again: {}", r.body);
        let gone = s.read(&format!("/products/{p}"), &cus, &off).await;
        assert_eq!(gone.status, 404);

        let archived = s
            .call("DELETE", &format!("/products/{p}"), &ann, None)
            .await;
        assert_eq!(archived.status, 204);
        let r = s
            .call("POST", &format!("/products/{p}/publish"), &s.admin, None)
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["code"], "catalog_rule");
    })
    .await;
}

#[tokio::test]
async fn seo_fields_and_a_changed_slug_redirect_permanently() {
    with_shop(&[], |base, _| async move {
        let s = Shop::open(base).await;
        let lamps = s.category("Lamps", None).await;
        let created = s
            .product(&s.admin, "LAMP-1", &lamps, json!({ "slug": "desk-lamp", "meta_title": "Desk lamp", "meta_description": "Bright." }))
            .await;
        assert_eq!((created.body["meta_title"].clone(), created.body["meta_description"].clone()), (json!("Desk lamp"), json!("Bright.")));
        let p = id(&created);
        let r = s.call("POST", "/products", &s.admin, Some(json!({
            "sku": "LAMP-X", "name": "X", "category_id": lamps,
            "price": { "amount": 1, "currency": "USD" }, "meta_title": "two\nlines",
        }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "meta_title");

        let changed = s
            .call("PUT", &format!("/products/{p}"), &s.admin, Some(json!({ "slug": "reading-lamp", "meta_title": "Reading lamp", "meta_description": "" })))
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.body["slug"], "reading-lamp");
        assert_eq!((changed.body["meta_title"].clone(), changed.body["meta_description"].clone()), (json!("Reading lamp"), Value::Null));

        let current = s.read("/products/reading-lamp", "", &changed).await;
        assert_eq!(current.status, 200, "{}", current.body);
        assert_eq!(current.body["meta_title"], "Reading lamp");
        let old = s.read("/products/desk-lamp", "", &changed).await;
        assert_eq!(old.status, 308, "{}", old.body);
        let location = s
            .c
            .get(format!("{}/products/desk-lamp", s.base))
            .send()
            .await
            .unwrap()
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(location.as_deref(), Some("/api/v1/products/reading-lamp"));
        let r = s.read("/products/never-was", "", &changed).await;
        assert_eq!(r.status, 404);

        // The old slug stays the product's.
        let r = s.call("POST", "/products", &s.admin, Some(json!({
            "sku": "LAMP-2", "name": "Desk lamp", "slug": "desk-lamp", "category_id": lamps,
            "price": { "amount": 1, "currency": "USD" },
        }))).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["code"], "slug_taken");
        let second = id(&s.product(&s.admin, "LAMP-3", &lamps, json!({})).await);
        let r = s.call("PUT", &format!("/products/{second}"), &s.admin, Some(json!({ "slug": "desk-lamp" }))).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["code"], "slug_taken");
        let r = s.call("PUT", &format!("/products/{second}"), &s.admin, Some(json!({ "slug": "Not A Slug" }))).await;
        assert_eq!(r.status, 422, "{}", r.body);

        // Taking the old slug back makes it canonical again: no redirect.
        let back = s.call("PUT", &format!("/products/{p}"), &s.admin, Some(json!({ "slug": "desk-lamp" }))).await;
        assert_eq!(back.status, 200, "{}", back.body);
        let r = s.read("/products/desk-lamp", "", &back).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = s.read("/products/reading-lamp", "", &back).await;
        assert_eq!(r.status, 308);

        // A drafted product's old slug redirects only for who may see it.
        let off = s.call("POST", &format!("/products/{p}/unpublish"), &s.admin, None).await;
        let r = s.read("/products/reading-lamp", "", &off).await;
        assert_eq!(r.status, 404, "{}", r.body);
        let r = s.read("/products/reading-lamp", &s.admin, &off).await;
        assert_eq!(r.status, 308);
    })
    .await;
}

#[tokio::test]
async fn categories_are_renamed_and_moved_but_never_under_themselves() {
    with_shop(&[], |base, _| async move {
        let s = Shop::open(base).await;
        let home = s.category("Home", None).await;
        let lighting = s.category("Lighting", Some(&home)).await;
        let lamps = s.category("Lamps", Some(&lighting)).await;
        let garden = s.category("Garden", None).await;
        let cus = s.customer("cus@example.com").await;

        for under in [&lamps, &lighting, &home] {
            let r = s
                .call(
                    "PUT",
                    &format!("/categories/{home}"),
                    &s.admin,
                    Some(json!({ "name": "House", "parent_id": under })),
                )
                .await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert_eq!(r.body["code"], "category_cycle");
            assert_eq!(r.body["errors"][0]["field"], "parent_id");
        }
        let r = s
            .call(
                "PUT",
                &format!("/categories/{home}"),
                &s.admin,
                Some(json!({ "parent_id": Uuid::new_v4() })),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "parent_id");
        let r = s
            .call(
                "PUT",
                &format!("/categories/{}", Uuid::new_v4()),
                &s.admin,
                Some(json!({ "name": "X" })),
            )
            .await;
        assert_eq!(r.status, 404);
        let r = s
            .call(
                "PUT",
                &format!("/categories/{home}"),
                &cus,
                Some(json!({ "name": "Mine" })),
            )
            .await;
        assert_eq!(r.status, 403);
        let r = s
            .call(
                "PUT",
                &format!("/categories/{home}"),
                &s.admin,
                Some(json!({ "slug": "garden" })),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.body["code"], "slug_taken");
        let r = s
            .call(
                "PUT",
                &format!("/categories/{home}"),
                &s.admin,
                Some(json!({ "colour": "red" })),
            )
            .await;
        assert_eq!(r.status, 422);

        let moved = s
            .call(
                "PUT",
                &format!("/categories/{lighting}"),
                &s.admin,
                Some(json!({ "name": "Lights", "slug": "lights", "parent_id": garden })),
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.body);
        assert_eq!(
            (
                moved.body["name"].clone(),
                moved.body["slug"].clone(),
                moved.body["parent_id"].clone()
            ),
            (json!("Lights"), json!("lights"), json!(garden))
        );
        let tree = s.read(&format!("/categories/{lamps}"), "", &moved).await;
        let ancestors: Vec<&str> = tree.body["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(ancestors, ["Garden", "Lights"], "{}", tree.body);
        // The old slug is free again.
        let r = s
            .call(
                "POST",
                "/categories",
                &s.admin,
                Some(json!({ "name": "Lighting" })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);

        let rooted = s
            .call(
                "PUT",
                &format!("/categories/{lighting}"),
                &s.admin,
                Some(json!({ "parent_id": null })),
            )
            .await;
        assert_eq!(rooted.status, 200, "{}", rooted.body);
        assert_eq!(rooted.body["parent_id"], Value::Null);
        let kept = s
            .call(
                "PUT",
                &format!("/categories/{lighting}"),
                &s.admin,
                Some(json!({ "name": "Lighting & lamps" })),
            )
            .await;
        assert_eq!(
            kept.body["parent_id"],
            Value::Null,
            "absent leaves the parent"
        );
        let root = s.read(&format!("/categories/{lighting}"), "", &kept).await;
        assert_eq!(root.body["depth"], 0, "{}", root.body);
    })
    .await;
}
