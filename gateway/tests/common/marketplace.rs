//! A marketplace over real HTTP for the gateway's tests (issue 23): stores applied for
//! and approved, each selling a product in stock, customers who buy and pay, and reads
//! that wait for the read models a command reached.

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};

use super::{access_token, call, Reply, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};

pub struct Shop {
    pub c: Client,
    pub base: String,
    /// The bootstrap admin's token.
    pub admin: String,
}

impl Shop {
    pub async fn open(base: String) -> Shop {
        let c = Client::new();
        let admin = access_token(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        Shop { c, base, admin }
    }

    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
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

    pub async fn read(&self, path: &str, token: &str, after: &Reply) -> Reply {
        let mut r = self
            .c
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
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

    pub async fn customer(&self, email: &str) -> String {
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

    /// `email` opens the store `slug` (with payout details when `account` is given), an
    /// admin approves it, and it sells one product at `price`, in stock. Answers the
    /// store's id, its vendor's token and the product's id.
    pub async fn store(
        &self,
        email: &str,
        slug: &str,
        account: Option<&str>,
        category: &str,
        sku: &str,
        price: i64,
    ) -> (String, String, String) {
        let applicant = self.customer(email).await;
        let mut body = json!({ "store_name": slug, "slug": slug, "contact_email": email });
        if let Some(a) = account {
            body["payout"] = json!({ "account_holder": email, "account": a });
        }
        let r = self.call("POST", "/vendors", &applicant, Some(body)).await;
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
        let token = access_token(&self.c, &self.base, email, "customer password").await;
        let r = self
            .call(
                "POST",
                "/products",
                &token,
                Some(json!({ "sku": sku, "name": sku, "category_id": category,
                    "price": { "amount": price, "currency": "USD" } })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let product = r.body["id"].as_str().unwrap().to_owned();
        let r = self
            .call(
                "POST",
                &format!("/products/{product}/publish"),
                &self.admin,
                None,
            )
            .await;
        assert_eq!(r.body["status"], "active", "{}", r.body);
        let r = self
            .call(
                "POST",
                &format!("/inventory/{sku}/receive"),
                &token,
                Some(json!({ "quantity": 50 })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        (id, token, product)
    }

    /// The two stores the marketplace tests trade with, approved and in stock, in the
    /// category Home: Vera's (`VERA-LAMP` at 25.00, with payout details) and Otto's
    /// (`OTTO-MUG` at 10.00, without). Answers each store's id, token and product.
    pub async fn vera_and_otto(&self) -> ((String, String, String), (String, String, String)) {
        let r = self
            .call(
                "POST",
                "/categories",
                &self.admin,
                Some(json!({ "name": "Home" })),
            )
            .await;
        let home = r.body["id"].as_str().unwrap().to_owned();
        let vera = self
            .store(
                "vera@example.com",
                "vera-lamps",
                Some("DE89370400440532013000"),
                &home,
                "VERA-LAMP",
                2_500,
            )
            .await;
        let otto = self
            .store(
                "otto@example.com",
                "otto-mugs",
                None,
                &home,
                "OTTO-MUG",
                1_000,
            )
            .await;
        (vera, otto)
    }

    pub async fn wait_for(&self, token: &str, order: &str, status: &str) {
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

    /// `token` orders `items` (product, quantity) and pays; answers the order's id.
    pub async fn buy(&self, token: &str, items: &[(&str, u32)]) -> String {
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let items: Vec<Value> = items
            .iter()
            .map(|(p, q)| json!({ "product_id": p, "quantity": q }))
            .collect();
        let r = self
            .call(
                "POST",
                "/orders",
                token,
                Some(json!({ "items": items, "shipping_address": address, "payment_method": "card" })),
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
        order
    }

    /// `GET path` once `done` holds of its answer: what a read model or a process manager
    /// gets to after the command (the ledger records sales after the order's events).
    pub async fn get_when(&self, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let r = self.call("GET", path, token, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            if done(&r.body) {
                return r.body;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never got there: {}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
