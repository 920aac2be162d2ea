//! Returns over real HTTP (issue 22, item 4): an order of three mugs and a tee leaves in
//! two shipments; the first is delivered now, the second (the carrier says) forty days
//! ago. The customer's return of the tee is past its window, three mugs are more than the
//! window still covers, a line not yet delivered or not ordered is refused; one mug goes
//! back: staff approve it, receive it (the mug is back on the shelf) and refund it
//! through the payment provider, and the order records the partial refund.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use commands::shipping::TestCarrier;
use commands::webhook::WebhookSigner;
use common::{access_token as login, call as call_with, json_call as call, with_shop};
use domain::id::ShipmentId;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SECRET: &str = "whsec_a_carrier_test_secret";
const PATIENCE: Duration = Duration::from_secs(60);

struct Shop {
    c: Client,
    base: String,
    admin: String,
    customer: String,
    products: Vec<(String, Value)>,
}

impl Shop {
    async fn open(base: &str) -> Shop {
        let c = Client::new();
        let admin = login(&c, base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        c.post(format!("{base}/auth/register"))
            .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
            .send()
            .await
            .unwrap();
        let customer = login(&c, base, "ann@example.com", "customer password").await;
        let (_, cat) = call(
            &c,
            "POST",
            format!("{base}/categories"),
            &admin,
            Some(json!({ "name": "Mugs" })),
        )
        .await;
        let mut shop = Shop {
            c,
            base: base.to_owned(),
            admin,
            customer,
            products: vec![],
        };
        for (sku, price) in [("MUG-1", 1250), ("TEE-1", 2000)] {
            let (status, product) = shop
                .staff("POST", "/products", Some(json!({
                    "sku": sku, "name": sku, "category_id": cat["id"], "price": { "amount": price, "currency": "USD" }
                })))
                .await;
            assert_eq!(status, 201, "{product}");
            shop.products.push((sku.to_owned(), product["id"].clone()));
            let (status, _) = shop
                .staff(
                    "POST",
                    &format!("/inventory/{sku}/receive"),
                    Some(json!({ "quantity": 10 })),
                )
                .await;
            assert!(status.is_success());
        }
        shop
    }

    async fn staff(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        call(
            &self.c,
            method,
            format!("{}{path}", self.base),
            &self.admin,
            body,
        )
        .await
    }

    async fn as_customer(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(
            &self.c,
            method,
            format!("{}{path}", self.base),
            &self.customer,
            body,
        )
        .await
    }

    fn id_of(&self, sku: &str) -> Value {
        self.products
            .iter()
            .find(|(s, _)| s == sku)
            .map(|(_, id)| id.clone())
            .unwrap()
    }

    /// An order of 3 mugs and 1 tee, paid.
    async fn paid_order(&self) -> String {
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let (status, order) = self
            .as_customer("POST", "/orders", Some(json!({
                "items": [{ "product_id": self.id_of("MUG-1"), "quantity": 3 }, { "product_id": self.id_of("TEE-1"), "quantity": 1 }],
                "shipping_address": address, "payment_method": "card"
            })))
            .await;
        assert_eq!(status, 202, "{order}");
        let id = order["id"].as_str().unwrap().to_owned();
        self.wait_for(&id, "awaiting_payment").await;
        let (status, paid) = self
            .as_customer(
                "POST",
                &format!("/orders/{id}/payment"),
                Some(json!({ "method": "card", "token": "tok_visa" })),
            )
            .await;
        assert_eq!(status, 200, "{paid}");
        self.wait_for(&id, "paid").await;
        id
    }

    async fn wait_for(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, order) = self
                .as_customer("GET", &format!("/orders/{id}"), None)
                .await;
            if order["status"] == status {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "the order never became {status}: {order}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A shipment of `lines`, packed and shipped.
    async fn shipped(&self, order: &str, lines: Value) -> String {
        let (status, s) = self
            .staff(
                "POST",
                &format!("/orders/{order}/shipments"),
                Some(json!({ "lines": lines, "carrier": "test", "service_level": "standard" })),
            )
            .await;
        assert_eq!(status, 201, "{s}");
        let id = s["id"].as_str().unwrap().to_owned();
        for step in ["packed", "shipped"] {
            let (status, s) = self.step(&id, step).await;
            assert_eq!(status, 200, "{s}");
        }
        id
    }

    async fn step(&self, shipment: &str, status: &str) -> (StatusCode, Value) {
        self.staff(
            "PUT",
            &format!("/shipments/{shipment}/status"),
            Some(json!({ "status": status })),
        )
        .await
    }

    async fn ask(&self, order: &str, lines: Value, reason: &str) -> (StatusCode, Value) {
        self.as_customer(
            "POST",
            &format!("/orders/{order}/returns"),
            Some(json!({ "lines": lines, "reason": reason })),
        )
        .await
    }

    async fn stock_becomes(&self, sku: &str, on_hand: i64) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, stock) = self.staff("GET", &format!("/inventory/{sku}"), None).await;
            if stock["on_hand"] == on_hand {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sku} never showed {on_hand} on hand: {stock}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn a_delivered_mug_is_returned_within_its_window_and_refunded() {
    with_shop(
        &["--shipping-webhook-secret", SECRET],
        |base, database_url| async move {
            let shop = Shop::open(&base).await;
            let order = shop.paid_order().await;
            let first = shop
                .shipped(&order, json!([{ "sku": "MUG-1", "quantity": 2 }]))
                .await;
            let second = shop
                .shipped(
                    &order,
                    json!([{ "sku": "MUG-1", "quantity": 1 }, { "sku": "TEE-1", "quantity": 1 }]),
                )
                .await;

            // Nothing delivered yet: nothing to return.
            let (status, problem) = shop
                .ask(
                    &order,
                    json!([{ "sku": "MUG-1", "quantity": 1 }]),
                    "chipped",
                )
                .await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["code"], "not_delivered");

            // The first delivered now by staff; the second, the carrier says, forty days ago.
            for step in ["in_transit", "delivered"] {
                assert_eq!(shop.step(&first, step).await.0, 200);
            }
            let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
            let long_ago = Utc::now() - chrono::Duration::days(40);
            let id = ShipmentId::new(second.parse().unwrap());
            // First the carrier says it is late: the customer is told.
            let delay = TestCarrier::update("evt_delay", id, "delayed", long_ago - chrono::Duration::days(1));
            let r = shop
                .c
                .post(format!("{base}/shipping/webhooks/test"))
                .header("content-type", "application/json")
                .header("Carrier-Signature", signer.sign(&delay, Utc::now()))
                .body(delay.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body = TestCarrier::update("evt_late", id, "delivered", long_ago);
            let r = shop
                .c
                .post(format!("{base}/shipping/webhooks/test"))
                .header("content-type", "application/json")
                .header("Carrier-Signature", signer.sign(&body, Utc::now()))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            shop.wait_for(&order, "delivered").await;

            // The tee arrived forty days ago: past the 30-day window.
            let (status, problem) = shop
                .ask(
                    &order,
                    json!([{ "sku": "TEE-1", "quantity": 1 }]),
                    "too small",
                )
                .await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["code"], "return_window_closed");
            assert_eq!(problem["errors"][0]["field"], "lines[0].sku");
            // Two of the three mugs arrived within the window.
            let (status, problem) = shop
                .ask(
                    &order,
                    json!([{ "sku": "MUG-1", "quantity": 3 }]),
                    "chipped",
                )
                .await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["code"], "exceeds_returnable");
            assert_eq!(problem["errors"][0]["field"], "lines[0].quantity");
            // Not ordered, no reason, staff asking: refused.
            let (status, problem) = shop
                .ask(&order, json!([{ "sku": "CUP-9", "quantity": 1 }]), "x")
                .await;
            assert_eq!(
                (status.as_u16(), problem["code"].as_str()),
                (422, Some("not_ordered"))
            );
            let (status, problem) = shop
                .ask(&order, json!([{ "sku": "MUG-1", "quantity": 1 }]), "  ")
                .await;
            assert_eq!(
                (status.as_u16(), problem["errors"][0]["field"].as_str()),
                (422, Some("reason"))
            );
            let (status, _) = shop
                .staff(
                    "POST",
                    &format!("/orders/{order}/returns"),
                    Some(json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "reason": "x" })),
                )
                .await;
            assert_eq!(status, 403);
            let (status, listed) = shop
                .as_customer("GET", &format!("/orders/{order}/returns"), None)
                .await;
            assert_eq!(status, 200);
            assert_eq!(listed["total"], 0, "nothing refused was written: {listed}");

            // One mug goes back.
            let asked = call_with(
                &shop.c,
                "POST",
                format!("{base}/orders/{order}/returns"),
                &shop.customer,
                Some(json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "reason": "chipped" })),
                None,
            )
            .await;
            assert_eq!(asked.status, 201, "{}", asked.body);
            assert_eq!(asked.body["status"], "requested");
            assert_eq!(
                asked.body["refund"],
                json!({ "amount": 1250, "currency": "USD" })
            );
            let return_id = asked.body["id"].as_str().unwrap().to_owned();
            let token = asked.consistency.expect("a token");
            let step = |status: &'static str, extra: Value| {
                let mut body = json!({ "status": status });
                if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                    b.extend(e.clone());
                }
                call_with(
                    &shop.c,
                    "PUT",
                    format!("{base}/returns/{return_id}/status"),
                    &shop.admin,
                    Some(body),
                    Some(&token),
                )
            };

            // Out of order, and a customer: refused.
            let r = step("received", json!({})).await;
            assert_eq!(r.status, 409, "{}", r.body);
            assert_eq!(r.body["code"], "invalid_status");
            let r = call_with(
                &shop.c,
                "PUT",
                format!("{base}/returns/{return_id}/status"),
                &shop.customer,
                Some(json!({ "status": "approved" })),
                Some(&token),
            )
            .await;
            assert_eq!(r.status, 403);
            let r = step("teleported", json!({})).await;
            assert_eq!(r.status, 422);

            let r = step("approved", json!({ "note": "send it back" })).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["status"], "approved");
            shop.stock_becomes("MUG-1", 7).await;
            let r = step(
                "received",
                json!({ "warehouse": "main", "disposition": "restock" }),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["disposition"], "restock");
            shop.stock_becomes("MUG-1", 8).await;
            let r = step("refunded", json!({})).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["status"], "refunded");
            assert!(r.body["payment_reference"]
                .as_str()
                .unwrap()
                .starts_with("re_"));
            // Asking again changes nothing.
            let again = step("refunded", json!({})).await;
            assert_eq!(again.status, 200);

            // The order as placed stands; it records the partial refund.
            let o = shop.wait_for(&order, "partially_refunded").await;
            assert_eq!(o["payment_status"], "partially_refunded");
            assert_eq!(o["items"].as_array().unwrap().len(), 2);
            assert_eq!(o["total"]["amount"], 3 * 1250 + 2000);
            let (_, listed) = shop
                .as_customer("GET", &format!("/orders/{order}/returns"), None)
                .await;
            assert_eq!(listed["total"], 1);
            assert_eq!(listed["items"][0]["status"], "refunded");
            let steps: Vec<&str> = listed["items"][0]["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["status"].as_str().unwrap())
                .collect();
            assert_eq!(steps, ["approved", "received", "refunded"]);

            // The customer heard of each step: both parcels shipped and delivered, the
            // delay, the return approved and the refund.
            let db = sqlx::PgPool::connect(&database_url).await.unwrap();
            let deadline = Instant::now() + PATIENCE;
            let wanted = [
                "refund_issued",
                "return_approved",
                "shipment_delayed",
                "shipment_delivered",
                "shipment_delivered",
                "shipment_shipped",
                "shipment_shipped",
            ];
            loop {
                let templates: Vec<String> = sqlx::query_scalar(
                    "select template from notifications.notifications
                      where recipient = 'ann@example.com'
                        and template in ('shipment_shipped', 'shipment_delivered',
                            'shipment_delayed', 'return_approved', 'refund_issued')
                      order by template",
                )
                .fetch_all(&db)
                .await
                .unwrap();
                if templates == wanted {
                    break;
                }
                assert!(Instant::now() < deadline, "the e-mails were {templates:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let subject: String = sqlx::query_scalar(
                "select subject from notifications.notifications where template = 'shipment_delayed'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            assert!(subject.contains("is delayed"), "{subject}");
        },
    )
    .await;
}
