//! Reviews over real HTTP (issue 23, item 6): only a buyer whose order shows the product
//! delivered reviews it, once (two reviews sent at once: one is written), and the review
//! says how that was verified and keeps the ids of the proving events; the product's
//! rating (average, count, 1–5 histogram) is folded from the published reviews, so a
//! hidden review stops counting and a restored one counts once; sorting, filtering,
//! helpful votes (once each), the author's edits and withdrawal, staff's moderation and
//! the vendor's reply.

mod common;

use std::time::{Duration, Instant};

use common::{access_token, call, with_shop, Reply, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};
use reqwest::Client;
use serde_json::{json, Value};

struct Shop {
    c: Client,
    base: String,
    admin: String,
}

impl Shop {
    async fn open(base: String) -> Shop {
        let c = Client::new();
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

    async fn wait_for(&self, token: &str, order: &str, status: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let r = self
                .call("GET", &format!("/orders/{order}"), token, None)
                .await;
            if r.body["status"] == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the order never became {status}: {}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `token` buys one of `product` and pays; `delivered`: staff ship and deliver it.
    async fn buy(&self, token: &str, product: &str, delivered: bool) -> String {
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let r = self
            .call(
                "POST",
                "/orders",
                token,
                Some(json!({ "items": [{ "product_id": product, "quantity": 1 }], "shipping_address": address, "payment_method": "card" })),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        let order = r.body["id"].as_str().unwrap().to_owned();
        self.wait_for(token, &order, "awaiting_payment").await;
        let r = self
            .call(
                "POST",
                &format!("/orders/{order}/payment"),
                token,
                Some(json!({ "method": "card", "token": "tok_visa" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.wait_for(token, &order, "paid").await;
        if delivered {
            for status in ["shipped", "delivered"] {
                let r = self
                    .call(
                        "PUT",
                        &format!("/orders/{order}/status"),
                        &self.admin,
                        Some(json!({ "status": status, "tracking_number": "T-1" })),
                    )
                    .await;
                assert_eq!(r.status, 200, "{status}: {}", r.body);
            }
        }
        order
    }

    fn review(rating: u8, title: &str) -> Value {
        json!({ "rating": rating, "title": title, "body": format!("{title}, in a few words.") })
    }
}

#[tokio::test]
async fn verified_buyers_review_once_and_the_rating_follows_moderation() {
    with_shop(&[], |base, database_url| async move {
        let shop = Shop::open(base).await;

        // Vera's store sells a lamp.
        let vera = shop.customer("vera@example.com").await;
        let r = shop
            .call("POST", "/vendors", &vera, Some(json!({ "store_name": "Vera", "slug": "vera-lamps", "contact_email": "vera@example.com" })))
            .await;
        let store = r.body["id"].as_str().unwrap().to_owned();
        let r = shop
            .call("PUT", &format!("/vendors/{store}/status"), &shop.admin, Some(json!({ "status": "approved" })))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let vera = access_token(&shop.c, &shop.base, "vera@example.com", "customer password").await;
        let r = shop.call("POST", "/categories", &shop.admin, Some(json!({ "name": "Lamps" }))).await;
        let lamps = r.body["id"].as_str().unwrap().to_owned();
        let r = shop
            .call("POST", "/products", &vera, Some(json!({ "sku": "VERA-1", "name": "Reading lamp", "category_id": lamps, "price": { "amount": 2500, "currency": "USD" } })))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let lamp = r.body["id"].as_str().unwrap().to_owned();
        let r = shop.call("POST", &format!("/products/{lamp}/publish"), &shop.admin, None).await;
        assert_eq!(r.body["status"], "active", "{}", r.body);
        let r = shop.call("POST", "/inventory/VERA-1/receive", &vera, Some(json!({ "quantity": 20 }))).await;
        assert_eq!(r.status, 200, "{}", r.body);

        let ann = shop.customer("ann@example.com").await;
        let dana = shop.customer("dana@example.com").await;
        let bob = shop.customer("bob@example.com").await;
        let carl = shop.customer("carl@example.com").await;
        let ann_order = shop.buy(&ann, &lamp, true).await;
        shop.buy(&dana, &lamp, true).await;
        shop.buy(&bob, &lamp, false).await;
        let reviews = format!("/products/{lamp}/reviews");

        // Nobody who has not received it reviews it: not a shopper without an order,
        // not a buyer whose order has not arrived, not with someone else's order.
        for (who, body) in [
            (&carl, Shop::review(5, "Never bought it")),
            (&bob, Shop::review(1, "Not here yet")),
            (&carl, json!({ "rating": 5, "title": "Borrowed", "body": "Ann's order.", "order_id": ann_order })),
        ] {
            let r = shop.call("POST", &reviews, who, Some(body)).await;
            assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (403, Some("not_verified_buyer")), "{}", r.body);
        }
        let r = shop.call("POST", &reviews, &ann, Some(Shop::review(6, "Too good"))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "rating");
        let r = shop.call("POST", "/products/00000000-0000-0000-0000-000000000009/reviews", &ann, Some(Shop::review(5, "Where"))).await;
        assert_eq!(r.status, 404, "{}", r.body);

        // Ann sends her review twice at once: one is written, the other refused.
        let (first, second) = tokio::join!(
            shop.call("POST", &reviews, &ann, Some(Shop::review(5, "Lovely lamp"))),
            shop.call("POST", &reviews, &ann, Some(Shop::review(5, "Lovely lamp"))),
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{} / {}", first.body, second.body);
        let written = if first.status == 201 { first } else { second };
        let review = written.body.clone();
        assert_eq!(review["verified_purchase"], true);
        assert!(review["verification"].as_str().unwrap().contains("delivered"), "{review}");
        assert_eq!(review["proof_event_ids"].as_array().map(Vec::len), Some(2), "{review}");
        let r = shop.call("POST", &reviews, &ann, Some(Shop::review(4, "Again"))).await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (409, Some("already_reviewed")), "{}", r.body);
        let ann_review = review["id"].as_str().unwrap().to_owned();
        // Vera hears of it by e-mail (the outbox), and Ann was invited to write it.
        let db = sqlx::PgPool::connect(&database_url).await.unwrap();
        let deadline = std::time::Instant::now() + common::PATIENCE;
        let told = loop {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "select recipient, template from notifications.notifications
                  where template in ('new_review', 'review_invitation') order by template, recipient",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            if rows.iter().any(|(_, t)| t == "new_review") || std::time::Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(told.contains(&("vera@example.com".to_owned(), "new_review".to_owned())), "{told:?}");
        assert!(told.contains(&("ann@example.com".to_owned(), "review_invitation".to_owned())), "{told:?}");
        db.close().await;

        let dana_wrote = shop.call("POST", &reviews, &dana, Some(Shop::review(2, "Flickers"))).await;
        assert_eq!(dana_wrote.status, 201, "{}", dana_wrote.body);
        let dana_review = dana_wrote.body["id"].as_str().unwrap().to_owned();

        // The product's reviews and rating, sorted and filtered.
        let page = shop.read(&reviews, "", &dana_wrote).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["total"], 2);
        assert_eq!(page.body["rating"]["count"], 2, "{}", page.body);
        assert_eq!(page.body["rating"]["average"], 3.5);
        assert_eq!(page.body["rating"]["histogram"], json!({ "1": 0, "2": 1, "3": 0, "4": 0, "5": 1 }));
        assert!(page.body["verification"].is_string());
        let r = shop.read(&format!("{reviews}?sort=rating"), "", &dana_wrote).await;
        assert_eq!(r.body["items"][0]["rating"], 5, "{}", r.body);
        let r = shop.read(&format!("{reviews}?sort=-rating"), "", &dana_wrote).await;
        assert_eq!(r.body["items"][0]["rating"], 2, "{}", r.body);
        let r = shop.read(&format!("{reviews}?rating=2"), "", &dana_wrote).await;
        assert_eq!((r.body["total"].as_i64(), r.body["items"][0]["id"].as_str()), (Some(1), Some(dana_review.as_str())), "{}", r.body);
        let r = shop.read(&format!("{reviews}?sort=loudest"), "", &dana_wrote).await;
        assert_eq!(r.status, 422, "{}", r.body);

        // Helpful, once per shopper, never by the author.
        let helpful = format!("/reviews/{dana_review}/helpful");
        let r = shop.call("POST", &helpful, &bob, None).await;
        assert_eq!(r.body["helpful_count"], 1, "{}", r.body);
        let voted = shop.call("POST", &helpful, &bob, None).await;
        assert_eq!(voted.body["helpful_count"], 1, "{}", voted.body);
        let r = shop.call("POST", &helpful, &dana, None).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop.call("POST", &helpful, &carl, None).await;
        assert_eq!(r.body["helpful_count"], 2, "{}", r.body);
        let r = shop.read(&format!("{reviews}?sort=helpful"), "", &r).await;
        assert_eq!(r.body["items"][0]["id"], dana_review.as_str(), "{}", r.body);

        // Staff hide Dana's review: it leaves the page and the rating; hiding again
        // changes nothing; restoring counts it once.
        let status = format!("/reviews/{dana_review}/status");
        let r = shop.call("PUT", &status, &bob, Some(json!({ "status": "hidden", "reason": "spite" }))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "hidden", "reason": "" }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let hidden = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "hidden", "reason": "Off topic" }))).await;
        assert_eq!(hidden.body["status"], "hidden", "{}", hidden.body);
        let again = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "hidden", "reason": "Off topic" }))).await;
        assert_eq!(again.status, 200, "{}", again.body);
        let page = shop.read(&reviews, "", &hidden).await;
        assert_eq!((page.body["total"].as_i64(), page.body["rating"]["count"].as_i64()), (Some(1), Some(1)), "{}", page.body);
        assert_eq!(page.body["rating"]["average"], 5.0);
        let restored = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "published", "reason": "On reflection" }))).await;
        let page = shop.read(&reviews, "", &restored).await;
        assert_eq!((page.body["rating"]["count"].as_i64(), page.body["rating"]["average"].as_f64()), (Some(2), Some(3.5)), "{}", page.body);

        // The author edits; nobody else does.
        let edit = format!("/reviews/{dana_review}");
        let r = shop.call("PUT", &edit, &ann, Some(Shop::review(1, "Hijacked"))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let edited = shop.call("PUT", &edit, &dana, Some(Shop::review(4, "Fixed by a new bulb"))).await;
        assert_eq!((edited.status.as_u16(), edited.body["rating"].as_u64()), (200, Some(4)), "{}", edited.body);
        let page = shop.read(&reviews, "", &edited).await;
        assert_eq!(page.body["rating"]["average"], 4.5, "{}", page.body);

        // The product's answer and the listings carry the same rating (the reviews read
        // model has it now: the page above waited for it), filtered and sorted by it.
        let p = shop.read(&format!("/products/{lamp}"), "", &edited).await;
        assert_eq!((p.body["rating"]["count"].as_i64(), p.body["rating"]["average"].as_f64()), (Some(2), Some(4.5)), "{}", p.body);
        assert_eq!(p.body["rating"]["histogram"], json!({ "1": 0, "2": 0, "3": 0, "4": 1, "5": 1 }));
        let has_lamp = |page: &Value| page["items"].as_array().unwrap().iter().any(|i| i["id"] == lamp.as_str());
        let listed = shop.read("/products?min_rating=4&sort=-rating", "", &edited).await;
        assert!(has_lamp(&listed.body), "{}", listed.body);
        assert_eq!(listed.body["items"][0]["rating"]["count"], 2, "{}", listed.body);
        let found = shop.read("/products/search?q=lamp&min_rating=4", "", &edited).await;
        assert!(has_lamp(&found.body), "{}", found.body);
        let above = shop.read("/products?min_rating=5", "", &edited).await;
        assert!(!has_lamp(&above.body), "{}", above.body);
        let r = shop.read("/products?min_rating=6", "", &edited).await;
        assert_eq!((r.status.as_u16(), r.body["errors"][0]["field"].as_str()), (400, Some("min_rating")), "{}", r.body);

        // The vendor replies in public; no one else does.
        let reply = format!("/reviews/{dana_review}/reply");
        let r = shop.call("PUT", &reply, &carl, Some(json!({ "reply": "Thanks!" }))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let replied = shop.call("PUT", &reply, &vera, Some(json!({ "reply": "Glad the new bulb helped." }))).await;
        assert_eq!(replied.body["reply"]["body"], "Glad the new bulb helped.", "{}", replied.body);
        let page = shop.read(&reviews, "", &replied).await;
        let dana_item = page.body["items"].as_array().unwrap().iter().find(|i| i["id"] == dana_review.as_str()).cloned().unwrap();
        assert_eq!(dana_item["reply"]["body"], "Glad the new bulb helped.");

        // The store's rating is its products' together.
        let r = shop.read("/vendors/vera-lamps", "", &replied).await;
        assert_eq!((r.body["rating"]["count"].as_i64(), r.body["rating"]["average"].as_f64()), (Some(2), Some(4.5)), "{}", r.body);

        // Ann withdraws hers (only she may), and may review again.
        let r = shop.call("DELETE", &format!("/reviews/{ann_review}"), &dana, None).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let gone = shop.call("DELETE", &format!("/reviews/{ann_review}"), &ann, None).await;
        assert_eq!(gone.status, 204, "{}", gone.body);
        let page = shop.read(&reviews, "", &gone).await;
        assert_eq!((page.body["total"].as_i64(), page.body["rating"]["average"].as_f64()), (Some(1), Some(4.0)), "{}", page.body);
        let r = shop.call("POST", &reviews, &ann, Some(Shop::review(3, "Second thoughts"))).await;
        assert_eq!(r.status, 201, "{}", r.body);
    })
    .await;
}
