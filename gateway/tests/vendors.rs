//! Vendors over real HTTP (issue 23, items 1 and 2): a customer applies for a store (its
//! slug unique, its contact and payout details shown to no one else), an admin approves
//! it and the applicant becomes a vendor member; its terms take the store setting's
//! commission unless set; a suspended store's products vanish from the product list, the
//! search and their own pages at once, and come back with its reinstatement. A vendor
//! manages only its own products (403 on another's), its publishing goes through staff's
//! review (approved, or rejected with a reason) unless it is trusted.

mod common;

use common::{access_token, call, with_shop, Reply, ADMIN_EMAIL, ADMIN_PASSWORD};
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

    /// A query that waits for the read models to cover `after`; anonymous when `token`
    /// is empty.
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
        self.sign_in(email).await
    }

    async fn sign_in(&self, email: &str) -> String {
        access_token(&self.c, &self.base, email, "customer password").await
    }

    /// `email` applies for the store `slug` and an admin approves it; answers the store's
    /// id and the new vendor's token.
    async fn approved_vendor(&self, email: &str, slug: &str) -> (String, String) {
        let applicant = self.customer(email).await;
        let r = self
            .call(
                "POST",
                "/vendors",
                &applicant,
                Some(json!({ "store_name": format!("Store {slug}"), "slug": slug, "contact_email": email })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let r = self
            .call(
                "PUT",
                &format!("/vendors/{id}/status"),
                &self.admin,
                Some(json!({ "status": "approved" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        (id, self.sign_in(email).await)
    }

    async fn category(&self, name: &str) -> String {
        let r = self
            .call(
                "POST",
                "/categories",
                &self.admin,
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    async fn product(&self, token: &str, sku: &str, name: &str, category: &str) -> Reply {
        let r = self
            .call(
                "POST",
                "/products",
                token,
                Some(json!({
                    "sku": sku, "name": name, "category_id": category,
                    "price": { "amount": 4999, "currency": "USD" },
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r
    }

    /// The SKUs a public listing answers.
    async fn skus(&self, path: &str, after: &Reply) -> Vec<String> {
        let r = self.read(path, "", after).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let items = r.body["items"]
            .as_array()
            .or_else(|| r.body["products"].as_array())
            .unwrap_or_else(|| panic!("{path} lists items: {}", r.body));
        let mut skus: Vec<String> = items
            .iter()
            .map(|p| p["sku"].as_str().unwrap_or_default().to_owned())
            .collect();
        skus.sort();
        skus
    }
}

#[tokio::test]
async fn a_store_is_applied_for_approved_suspended_and_reinstated() {
    with_shop(&[], |base, database_url| async move {
        let shop = Shop::open(base).await;
        let vera = shop.customer("vera@example.com").await;
        let otto = shop.customer("otto@example.com").await;

        // Bad input is refused, naming the field, and claims nothing.
        let r = shop
            .call("POST", "/vendors", &vera, Some(json!({ "store_name": "Vera", "contact_email": "not an address" })))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "contact_email");
        let r = shop
            .call("POST", "/vendors", &vera, Some(json!({ "store_name": "Vera", "slug": "Bad Slug", "contact_email": "vera@example.com" })))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "slug");

        let applied = shop
            .call(
                "POST",
                "/vendors",
                &vera,
                Some(json!({
                    "store_name": "Vera's Lamps", "slug": "vera-lamps",
                    "description": "Lamps, hand made.", "logo_url": "https://cdn.example.com/vera.png",
                    "contact_email": "shop@vera.example", "contact_phone": "+1 555 0100",
                    "payout": { "account_holder": "Vera Lumen", "account": "DE89370400440532013000" },
                })),
            )
            .await;
        assert_eq!(applied.status, 201, "{}", applied.body);
        let store = applied.body.clone();
        let id = store["id"].as_str().unwrap().to_owned();
        assert_eq!(store["status"], "pending");
        assert_eq!(store["slug"], "vera-lamps");
        assert_eq!(store["private"]["contact_email"], "shop@vera.example");
        assert_eq!(store["private"]["payout"]["account_holder"], "Vera Lumen");
        assert_eq!(store["private"]["commission_rate_bp"], 1000);
        assert_eq!(store["private"]["commission_source"], "default");

        // The slug is one store's; an account applies once.
        let r = shop
            .call("POST", "/vendors", &otto, Some(json!({ "store_name": "Otto", "slug": "vera-lamps", "contact_email": "otto@example.com" })))
            .await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (409, Some("slug_taken")), "{}", r.body);
        let r = shop
            .call("POST", "/vendors", &vera, Some(json!({ "store_name": "Vera Two", "slug": "vera-two", "contact_email": "vera@example.com" })))
            .await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (409, Some("already_applied")), "{}", r.body);

        // A pending store has no public page; its owner sees it, with its private part.
        let r = shop.read("/vendors/vera-lamps", "", &applied).await;
        assert_eq!(r.status, 404, "{}", r.body);
        let r = shop.read("/vendors/vera-lamps", &vera, &applied).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["private"]["contact_phone"], "+1 555 0100");
        let r = shop.read("/vendors/vera-lamps", &otto, &applied).await;
        assert_eq!(r.status, 404, "{}", r.body);

        // Only admins decide; a pending store cannot be suspended; a rejection needs a
        // reason.
        let status = format!("/vendors/{id}/status");
        let r = shop.call("PUT", &status, &otto, Some(json!({ "status": "approved" }))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop
            .call("PUT", &status, &shop.admin, Some(json!({ "status": "suspended", "reason": "fraud" })))
            .await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (409, Some("invalid_status")), "{}", r.body);
        let r = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "rejected" }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "reason");
        let r = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "sleeping" }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop
            .call("PUT", "/vendors/00000000-0000-0000-0000-000000000001/status", &shop.admin, Some(json!({ "status": "approved" })))
            .await;
        assert_eq!(r.status, 404, "{}", r.body);

        // Approval: the store is public and Vera is its vendor member; her old token went
        // with her old role.
        let approved = shop.call("PUT", &status, &shop.admin, Some(json!({ "status": "approved" }))).await;
        assert_eq!(approved.status, 200, "{}", approved.body);
        assert_eq!(approved.body["status"], "approved");
        let r = shop.call("GET", "/auth/profile", &vera, None).await;
        assert_eq!(r.status, 401, "{}", r.body);
        let vera = shop.sign_in("vera@example.com").await;
        let r = shop.call("GET", "/auth/profile", &vera, None).await;
        assert_eq!(r.body["role"], "vendor", "{}", r.body);
        let page = shop.read("/vendors/vera-lamps", "", &approved).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["store_name"], "Vera's Lamps");
        assert!(page.body.get("private").is_none(), "{}", page.body);
        let r = shop.read(&format!("/vendors/{id}"), "", &approved).await;
        assert_eq!(r.body["slug"], "vera-lamps", "by id too: {}", r.body);

        // Terms: its own commission, then back to the default; out of range refused.
        let terms = format!("/vendors/{id}/terms");
        let r = shop.call("PUT", &terms, &shop.admin, Some(json!({ "commission_rate_bp": 1500 }))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!((r.body["private"]["commission_rate_bp"].as_u64(), r.body["private"]["commission_source"].as_str()), (Some(1500), Some("vendor")));
        let r = shop.call("PUT", &terms, &shop.admin, Some(json!({ "commission_rate_bp": null }))).await;
        assert_eq!((r.body["private"]["commission_rate_bp"].as_u64(), r.body["private"]["commission_source"].as_str()), (Some(1000), Some("default")), "{}", r.body);
        let r = shop.call("PUT", &terms, &shop.admin, Some(json!({ "commission_rate_bp": 20000 }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop.call("PUT", &terms, &vera, Some(json!({ "trusted": true }))).await;
        assert_eq!(r.status, 403, "{}", r.body);

        // No read model holds the store's contact or payout details.
        let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar("select row_to_json(v)::text from vendors.vendors v")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        for secret in ["shop@vera.example", "555 0100", "DE89370400440532013000", "Vera Lumen"] {
            assert!(!rows[0].contains(secret), "{secret} in {}", rows[0]);
        }
        pool.close().await;

        // Vera sells a lamp (staff put it on sale); the shop sells one of its own.
        let lamps = shop.category("Lamps").await;
        let hers = shop.product(&vera, "VERA-1", "Vera's reading lamp", &lamps).await;
        let her_id = hers.body["id"].as_str().unwrap().to_owned();
        let r = shop.call("POST", &format!("/products/{her_id}/publish"), &shop.admin, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let ours = shop.product(&shop.admin, "DESK-1", "Desk lamp", &lamps).await;
        let listed = shop.skus("/products?q=lamp", &ours).await;
        assert_eq!(listed, ["DESK-1", "VERA-1"]);
        assert_eq!(shop.skus("/search?q=lamp", &ours).await, ["DESK-1", "VERA-1"]);

        // The directory lists approved stores to anyone; other statuses to staff only.
        let listed = shop.read("/vendors", "", &ours).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        assert!(listed.body["items"].as_array().unwrap().iter().any(|v| v["slug"] == "vera-lamps"), "{}", listed.body);
        let r = shop.read("/vendors?status=pending", "", &ours).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop.read("/vendors?status=lost", &shop.admin, &ours).await;
        assert_eq!(r.status, 422, "{}", r.body);

        // Suspended: her products vanish from the list, the search and their own page.
        let suspended = shop
            .call("PUT", &status, &shop.admin, Some(json!({ "status": "suspended", "reason": "unpaid invoices" })))
            .await;
        assert_eq!(suspended.status, 200, "{}", suspended.body);
        assert_eq!(suspended.body["private"]["status_reason"], "unpaid invoices");
        assert_eq!(shop.skus("/products?q=lamp", &suspended).await, ["DESK-1"]);
        assert_eq!(shop.skus("/search?q=lamp", &suspended).await, ["DESK-1"]);
        assert_eq!(shop.skus(&format!("/categories/{lamps}/products"), &suspended).await, ["DESK-1"]);
        let r = shop.read(&format!("/products/{her_id}"), "", &suspended).await;
        assert_eq!(r.status, 404, "{}", r.body);
        let r = shop.read(&format!("/products/{her_id}"), &shop.admin, &suspended).await;
        assert_eq!(r.body["status"], "suspended", "staff see why: {}", r.body);
        let r = shop.read("/vendors/vera-lamps", "", &suspended).await;
        assert_eq!(r.status, 404, "a suspended store has no public page: {}", r.body);
        let r = shop.read("/vendors?status=suspended", &shop.admin, &suspended).await;
        assert_eq!((r.body["total"].as_i64(), r.body["items"][0]["slug"].as_str()), (Some(1), Some("vera-lamps")), "{}", r.body);
        let r = shop.read("/vendors", "", &suspended).await;
        assert!(!r.body["items"].as_array().unwrap().iter().any(|v| v["slug"] == "vera-lamps"), "{}", r.body);
        // Nor is it sold: the write side refuses an order of it as off sale.
        let carl = shop.customer("carl@example.com").await;
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let order = json!({ "items": [{ "product_id": her_id, "quantity": 1 }], "shipping_address": address, "payment_method": "card" });
        let r = shop.call("POST", "/orders", &carl, Some(order.clone())).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "items[0].product_id", "{}", r.body);

        // Reinstated: they come back.
        let reinstated = shop
            .call("PUT", &status, &shop.admin, Some(json!({ "status": "approved", "reason": "paid" })))
            .await;
        assert_eq!(reinstated.status, 200, "{}", reinstated.body);
        assert_eq!(shop.skus("/products?q=lamp", &reinstated).await, ["DESK-1", "VERA-1"]);
        assert_eq!(shop.skus("/search?q=lamp", &reinstated).await, ["DESK-1", "VERA-1"]);
        let r = shop.read(&format!("/products/{her_id}"), "", &reinstated).await;
        assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("active")), "{}", r.body);
        let r = shop.call("POST", "/orders", &carl, Some(order)).await;
        assert_eq!(r.status, 202, "on sale again: {}", r.body);
    })
    .await;
}

#[tokio::test]
async fn a_vendor_manages_only_its_own_catalog_and_publishes_through_review() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(base).await;
        let (vera_store, vera) = shop.approved_vendor("vera@example.com", "vera-lamps").await;
        let (otto_store, otto) = shop.approved_vendor("otto@example.com", "otto-goods").await;
        let lamps = shop.category("Lamps").await;

        // Vera's product starts as a draft; Otto touches none of it.
        let hers = shop.product(&vera, "VERA-2", "Vera's floor lamp", &lamps).await;
        assert_eq!(hers.body["status"], "draft", "{}", hers.body);
        let her_id = hers.body["id"].as_str().unwrap().to_owned();
        let product = format!("/products/{her_id}");
        for (method, path, body) in [
            ("PUT", product.clone(), Some(json!({ "name": "Otto's now" }))),
            ("POST", format!("{product}/publish"), None),
            ("POST", format!("{product}/unpublish"), None),
            ("DELETE", product.clone(), None),
            ("POST", format!("{product}/images"), Some(json!({ "url": "https://cdn.example.com/x.png" }))),
            ("POST", format!("{product}/variants"), Some(json!({ "sku": "OTTO-V", "name": "Otto's", "price": { "amount": 100, "currency": "USD" } }))),
            ("POST", "/inventory/VERA-2/receive".into(), Some(json!({ "quantity": 5 }))),
            ("POST", "/inventory/VERA-2/adjust".into(), Some(json!({ "delta": -1, "reason": "mine now" }))),
        ] {
            let r = shop.call(method, &path, &otto, body).await;
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
        }
        // A customer keeps no stock at all.
        let carl = shop.customer("carl@example.com").await;
        let r = shop.call("POST", "/inventory/VERA-2/receive", &carl, Some(json!({ "quantity": 5 }))).await;
        assert_eq!(r.status, 403, "{}", r.body);

        // Vera keeps her own stock and changes her own product.
        let r = shop.call("POST", "/inventory/VERA-2/receive", &vera, Some(json!({ "quantity": 5 }))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = shop.call("PUT", &product, &vera, Some(json!({ "name": "Vera's tall floor lamp" }))).await;
        assert_eq!(r.status, 200, "{}", r.body);

        // Publishing goes through review: submitted, sent back with a reason, submitted
        // again, approved.
        let r = shop.call("POST", &format!("{product}/publish"), &vera, None).await;
        assert_eq!(r.body["status"], "pending_review", "{}", r.body);
        let reject = format!("{product}/reject");
        let r = shop.call("POST", &reject, &vera, Some(json!({ "reason": "self-approval" }))).await;
        assert_eq!(r.status, 403, "only staff review: {}", r.body);
        let r = shop.call("POST", &reject, &shop.admin, Some(json!({ "reason": " " }))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop.call("POST", &reject, &shop.admin, Some(json!({ "reason": "The photos are missing." }))).await;
        assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("draft")), "{}", r.body);
        let r = shop.call("POST", &reject, &shop.admin, Some(json!({ "reason": "again" }))).await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (409, Some("not_pending_review")), "{}", r.body);
        let r = shop.call("POST", &format!("{product}/publish"), &vera, None).await;
        assert_eq!(r.body["status"], "pending_review", "{}", r.body);
        let approved = shop.call("POST", &format!("{product}/publish"), &shop.admin, None).await;
        assert_eq!(approved.body["status"], "active", "{}", approved.body);
        let r = shop.read(&product, "", &approved).await;
        assert_eq!(r.status, 200, "on sale: {}", r.body);

        // A trusted store's publish goes live at once.
        let r = shop
            .call("PUT", &format!("/vendors/{vera_store}/terms"), &shop.admin, Some(json!({ "trusted": true })))
            .await;
        assert_eq!(r.body["private"]["trusted"], true, "{}", r.body);
        let next = shop.product(&vera, "VERA-3", "Vera's desk lamp", &lamps).await;
        let next_id = next.body["id"].as_str().unwrap();
        let r = shop.call("POST", &format!("/products/{next_id}/publish"), &vera, None).await;
        assert_eq!(r.body["status"], "active", "{}", r.body);

        // A suspended store puts nothing new on sale.
        let r = shop
            .call("PUT", &format!("/vendors/{otto_store}/status"), &shop.admin, Some(json!({ "status": "suspended", "reason": "complaints" })))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = shop
            .call(
                "POST",
                "/products",
                &otto,
                Some(json!({ "sku": "OTTO-1", "name": "Otto's lamp", "category_id": lamps, "price": { "amount": 100, "currency": "USD" } })),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (403, Some("vendor_not_selling")), "{}", r.body);
    })
    .await;
}
