//! Shipping over real HTTP (issue 22, items 1, 2 and 8): staff ship a paid order in two
//! shipments, refused when they ask for more than was ordered, a step back or a skipped
//! step; the order follows (`partially_shipped`, `shipped`, `delivered`) and each shipment
//! commits its own stock; the carrier's signed webhooks move the shipments, refused when
//! unsigned, forged, stale or replayed; and the fulfilment queue holds the order until its
//! last line ships.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use commands::shipping::TestCarrier;
use commands::webhook::WebhookSigner;
use common::{access_token as login, call as call_with, json_call as call, with_shop};
use domain::id::ShipmentId;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const SECRET: &str = "whsec_a_carrier_test_secret";
const PATIENCE: Duration = Duration::from_secs(60);

struct Shop {
    c: Client,
    base: String,
    admin: String,
    customer: String,
    /// The products' ids, by SKU.
    products: Vec<(String, Value)>,
}

impl Shop {
    async fn open(base: &str) -> Shop {
        let c = Client::new();
        let admin = login(&c, base, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
        for email in ["ann@example.com", "bob@example.com"] {
            c.post(format!("{base}/auth/register"))
                .json(&json!({ "email": email, "password": "customer password" }))
                .send()
                .await
                .unwrap();
        }
        let customer = login(&c, base, "ann@example.com", "customer password").await;
        let (_, cat) = call(
            &c,
            "POST",
            format!("{base}/categories"),
            &admin,
            Some(json!({ "name": "Mugs" })),
        )
        .await;
        let shop = Shop {
            c,
            base: base.to_owned(),
            admin,
            customer,
            products: vec![],
        };
        let mut products = vec![];
        for (sku, price) in [("MUG-1", 1250), ("TEE-1", 2000)] {
            let (status, product) = shop
                .staff("POST", "/products", Some(json!({
                    "sku": sku, "name": sku, "category_id": cat["id"], "price": { "amount": price, "currency": "USD" }
                })))
                .await;
            assert_eq!(status, 201, "{product}");
            products.push((sku.to_owned(), product["id"].clone()));
            let (status, _) = shop
                .staff(
                    "POST",
                    &format!("/inventory/{sku}/receive"),
                    Some(json!({ "quantity": 10 })),
                )
                .await;
            assert!(status.is_success());
        }
        Shop { products, ..shop }
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

    /// An order of 3 mugs and 1 tee, paid.
    async fn paid_order(&self) -> String {
        let id_of = |sku: &str| {
            self.products
                .iter()
                .find(|(s, _)| s == sku)
                .map(|(_, id)| id.clone())
                .unwrap()
        };
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let (status, order) = self
            .as_customer(
                "POST",
                "/orders",
                Some(json!({
                    "items": [{ "product_id": id_of("MUG-1"), "quantity": 3 }, { "product_id": id_of("TEE-1"), "quantity": 1 }],
                    "shipping_address": address, "payment_method": "card"
                })),
            )
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

    /// Polls `GET /orders/{id}` until the order shows `status`.
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

    async fn ship(&self, order: &str, lines: Value) -> (StatusCode, Value) {
        self.staff(
            "POST",
            &format!("/orders/{order}/shipments"),
            Some(json!({ "lines": lines, "carrier": "test", "service_level": "standard", "weight_grams": 1500 })),
        )
        .await
    }

    async fn step(&self, shipment: &str, status: &str) -> (StatusCode, Value) {
        self.staff(
            "PUT",
            &format!("/shipments/{shipment}/status"),
            Some(json!({ "status": status })),
        )
        .await
    }

    async fn webhook(&self, signature: Option<&str>, body: &[u8]) -> (StatusCode, Value) {
        let mut r = self
            .c
            .post(format!("{}/shipping/webhooks/test", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            r = r.header("Carrier-Signature", s);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls `GET /inventory/{sku}` until it shows `on_hand` and `reserved`.
    async fn stock_becomes(&self, sku: &str, on_hand: i64, reserved: i64) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, stock) = self.staff("GET", &format!("/inventory/{sku}"), None).await;
            assert_eq!(status, 200, "{stock}");
            if stock["on_hand"] == on_hand && stock["reserved"] == reserved {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sku} never showed {on_hand} on hand, {reserved} reserved: {stock}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn shipment_id(shipment: &Value) -> ShipmentId {
    ShipmentId::new(shipment["id"].as_str().unwrap().parse().unwrap())
}

#[tokio::test]
async fn an_order_ships_in_two_shipments_that_the_carrier_delivers() {
    with_shop(
        &["--shipping-webhook-secret", SECRET],
        |base, database_url| async move {
            let shop = Shop::open(&base).await;
            let order = shop.paid_order().await;

            // A customer does not create shipments; nobody ships an unknown order.
            let (status, problem) = call(
                &shop.c,
                "POST",
                format!("{base}/orders/{order}/shipments"),
                &shop.customer,
                Some(json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "carrier": "test", "service_level": "standard" })),
            )
            .await;
            assert_eq!(status, 403, "{problem}");
            let (status, _) = shop
                .ship(&Uuid::new_v4().to_string(), json!([{ "sku": "MUG-1", "quantity": 1 }]))
                .await;
            assert_eq!(status, 404);

            // Four mugs of three ordered: refused, naming the line, and nothing written.
            let (status, problem) = shop.ship(&order, json!([{ "sku": "MUG-1", "quantity": 4 }])).await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["code"], "exceeds_ordered");
            assert_eq!(problem["errors"][0]["field"], "lines[0].quantity");
            let (status, problem) = shop.ship(&order, json!([{ "sku": "CUP-9", "quantity": 1 }])).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (422, Some("not_ordered")));
            let (status, problem) = shop
                .staff(
                    "POST",
                    &format!("/orders/{order}/shipments"),
                    Some(json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "carrier": "test", "service_level": "overnight" })),
                )
                .await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["errors"][0]["field"], "service_level");
            let (status, none) = shop.as_customer("GET", &format!("/orders/{order}/shipments"), None).await;
            assert_eq!(status, 200);
            assert_eq!(none["total"], 0, "{none}");

            // Two mugs, then the last mug with the tee.
            let (status, first) = shop.ship(&order, json!([{ "sku": "MUG-1", "quantity": 2 }])).await;
            assert_eq!(status, 201, "{first}");
            assert_eq!(first["status"], "pending");
            assert_eq!(first["cost"], json!({ "amount": 500, "currency": "USD" }));
            let tracking = TestCarrier::tracking_number(shipment_id(&first));
            assert_eq!(first["tracking_number"], tracking.as_str());
            let (status, second) = shop
                .ship(&order, json!([{ "sku": "mug-1", "quantity": 1 }, { "sku": "TEE-1", "quantity": 1 }]))
                .await;
            assert_eq!(status, 201, "{second}");
            // Everything ordered is in a shipment: one more mug is one too many.
            let (status, problem) = shop.ship(&order, json!([{ "sku": "MUG-1", "quantity": 1 }])).await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["code"], "exceeds_ordered");

            // The customer reads their order's shipments; another customer learns nothing.
            let (status, listed) = shop.as_customer("GET", &format!("/orders/{order}/shipments"), None).await;
            assert_eq!(status, 200);
            assert_eq!(listed["total"], 2, "{listed}");
            let bob = login(&shop.c, &base, "bob@example.com", "customer password").await;
            let (status, _) = call(&shop.c, "GET", format!("{base}/orders/{order}/shipments"), &bob, None).await;
            assert_eq!(status, 404);
            let first_id = first["id"].as_str().unwrap().to_owned();
            let (status, _) = call(&shop.c, "GET", format!("{base}/shipments/{first_id}/tracking"), &bob, None).await;
            assert_eq!(status, 404);

            // Steps: none skipped, none back, unknown shipments are 404.
            let (status, problem) = shop.step(&first_id, "shipped").await;
            assert_eq!(status, 409, "{problem}");
            assert_eq!(problem["code"], "status_skipped");
            let (status, problem) = shop.step(&first_id, "teleported").await;
            assert_eq!(status, 422, "{problem}");
            let (status, _) = shop.step(&Uuid::new_v4().to_string(), "packed").await;
            assert_eq!(status, 404);
            let (status, packed) = shop.step(&first_id, "packed").await;
            assert_eq!(status, 200, "{packed}");
            shop.stock_becomes("MUG-1", 10, 3).await;
            let shipped = call_with(
                &shop.c,
                "PUT",
                format!("{base}/shipments/{first_id}/status"),
                &shop.admin,
                Some(json!({ "status": "shipped" })),
                None,
            )
            .await;
            assert_eq!(shipped.status, 200, "{}", shipped.body);
            assert_eq!(shipped.body["status"], "shipped");
            let shipped_token = shipped.consistency.expect("a token");
            let (status, problem) = shop.step(&first_id, "packed").await;
            assert_eq!(status, 409, "{problem}");
            assert_eq!(problem["code"], "status_backwards");
            // The same step again changes nothing and is not refused.
            let (status, again) = shop.step(&first_id, "shipped").await;
            assert_eq!(status, 200, "{again}");

            // Only the shipment's two mugs left the shelf; the third stays reserved.
            shop.stock_becomes("MUG-1", 8, 1).await;
            let order_now = shop.wait_for(&order, "partially_shipped").await;
            assert_eq!(order_now["tracking_number"], tracking.as_str());

            // The fulfilment queue holds the paid, partly shipped order.
            let r = call_with(
                &shop.c,
                "GET",
                format!("{base}/fulfilment/queue"),
                &shop.admin,
                None,
                Some(&shipped_token),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let entry = r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["order_id"] == order.as_str())
                .cloned()
                .unwrap_or_else(|| panic!("the order is queued: {}", r.body));
            assert_eq!((entry["units_ordered"].clone(), entry["units_shipped"].clone()), (json!(4), json!(2)));
            let (status, _) = shop.as_customer("GET", "/fulfilment/queue", None).await;
            assert_eq!(status, 403);

            // The second shipment leaves: every line has, the order is shipped.
            let second_id = second["id"].as_str().unwrap().to_owned();
            assert_eq!(shop.step(&second_id, "packed").await.0, 200);
            let r = call_with(
                &shop.c,
                "PUT",
                format!("{base}/shipments/{second_id}/status"),
                &shop.admin,
                Some(json!({ "status": "shipped" })),
                None,
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            shop.wait_for(&order, "shipped").await;
            shop.stock_becomes("MUG-1", 7, 0).await;
            shop.stock_becomes("TEE-1", 9, 0).await;
            let token = r.consistency.expect("a token");
            let r = call_with(&shop.c, "GET", format!("{base}/fulfilment/queue"), &shop.admin, None, Some(&token)).await;
            assert!(
                !r.body["items"].as_array().unwrap().iter().any(|e| e["order_id"] == order.as_str()),
                "a shipped order leaves the queue: {}",
                r.body
            );

            // The carrier's webhooks: unsigned, forged, stale, replayed.
            let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
            let now = Utc::now();
            let moving = TestCarrier::update("evt_1", shipment_id(&first), "in_transit", now);
            let (status, problem) = shop.webhook(None, &moving).await;
            assert_eq!(status, 400, "{problem}");
            assert_eq!(problem["code"], "webhook_signature_malformed");
            let forged = WebhookSigner::new(b"not the secret".to_vec(), Duration::from_secs(300));
            let (status, problem) = shop.webhook(Some(&forged.sign(&moving, now)), &moving).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (401, Some("webhook_signature_invalid")));
            let old = now - chrono::Duration::minutes(10);
            let (status, problem) = shop.webhook(Some(&signer.sign(&moving, old)), &moving).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (401, Some("webhook_timestamp_stale")));
            let signature = signer.sign(&moving, now);
            let (status, answer) = shop.webhook(Some(&signature), &moving).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["moved"], true);
            assert_eq!(answer["shipment_status"], "in_transit");
            let (status, problem) = shop.webhook(Some(&signature), &moving).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (401, Some("webhook_replayed")));
            // The same webhook id signed afresh is still a replay.
            let (status, problem) = shop.webhook(Some(&signer.sign(&moving, Utc::now())), &moving).await;
            assert_eq!((status.as_u16(), problem["code"].as_str()), (401, Some("webhook_replayed")));
            // A parcel nobody shipped.
            let stranger = TestCarrier::update("evt_x", ShipmentId::new(Uuid::new_v4()), "in_transit", now);
            let (status, _) = shop.webhook(Some(&signer.sign(&stranger, now)), &stranger).await;
            assert_eq!(status, 404);

            // Delivered: the first, then the second (straight from shipped: the carrier
            // may skip a scan); the order is delivered once both are.
            for (id, shipment) in [("evt_2", &first), ("evt_3", &second)] {
                let body = TestCarrier::update(id, shipment_id(shipment), "delivered", Utc::now());
                let (status, answer) = shop.webhook(Some(&signer.sign(&body, Utc::now())), &body).await;
                assert_eq!(status, 200, "{answer}");
                assert_eq!(answer["shipment_status"], "delivered");
            }
            shop.wait_for(&order, "delivered").await;

            // The timeline, for the customer: both updates of the first shipment.
            let (status, timeline) = shop.as_customer("GET", &format!("/shipments/{first_id}/tracking"), None).await;
            assert_eq!(status, 200, "{timeline}");
            assert_eq!(timeline["status"], "delivered");
            let ids: Vec<&str> = timeline["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
            assert_eq!(ids, ["evt_1", "evt_2"]);

            // The carrier is the actor of what it said.
            let db = sqlx::PgPool::connect(&database_url).await.unwrap();
            let actors: Vec<(String, Option<String>)> = sqlx::query_as(
                "select event_type, metadata->>'actor_id' from store.events
                  where event_type in ('ShipmentTracked', 'OrderShipmentDelivered', 'OrderDelivered')
                  order by event_type",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            assert_eq!(actors.len(), 6, "{actors:?}");
            assert!(
                actors.iter().all(|(_, actor)| actor.as_deref() == Some("carrier:test")),
                "{actors:?}"
            );
            // Carrier performance counts both deliveries.
            let delivered: Option<i64> = sqlx::query_scalar(
                "select delivered from shipping.carrier_performance where carrier = 'test'",
            )
            .fetch_optional(&db)
            .await
            .unwrap();
            assert_eq!(delivered, Some(2));
            // And so does its route, for staff only.
            let (status, performance) = shop.staff("GET", "/shipping/carriers/performance", None).await;
            assert_eq!(status, 200, "{performance}");
            assert_eq!(performance["items"][0]["carrier"], "test");
            assert_eq!(performance["items"][0]["delivered"], 2);
            let fastest = performance["items"][0]["fastest_seconds"].as_i64().unwrap();
            let average = performance["items"][0]["average_seconds"].as_i64().unwrap();
            assert!(fastest <= average, "{performance}");
            let (status, _) = shop.as_customer("GET", "/shipping/carriers/performance", None).await;
            assert_eq!(status, 403);
            db.close().await;
        },
    )
    .await;
}

/// Issue 22, item 1: staff cancel units no shipment holds. Each gives back its share of
/// what its line was charged, through the provider, once per idempotency key; the stock
/// is released; a shipment cannot take them; the order ships once what is left has left.
#[tokio::test]
async fn unshipped_units_are_cancelled_released_and_refunded_once() {
    with_shop(&[], |base, database_url| async move {
        let shop = Shop::open(&base).await;
        let order = shop.paid_order().await;
        let (status, first) = shop.ship(&order, json!([{ "sku": "MUG-1", "quantity": 2 }])).await;
        assert_eq!(status, 201, "{first}");
        let cancellations = format!("{base}/orders/{order}/cancellations");
        let cancel = |token: String, key: &'static str, body: Value| {
            let (c, url) = (shop.c.clone(), cancellations.clone());
            async move {
                let r = c
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let one_mug = json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "reason": "chipped in the warehouse" });

        // The customer does not cancel a paid order's lines; two mugs are in the shipment.
        let (status, _) = cancel(shop.customer.clone(), "k0", one_mug.clone()).await;
        assert_eq!(status, 403);
        let (status, problem) = cancel(
            shop.admin.clone(),
            "k1",
            json!({ "lines": [{ "sku": "MUG-1", "quantity": 2 }], "reason": "chipped" }),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["code"], "exceeds_unshipped");
        let (status, problem) = cancel(
            shop.admin.clone(),
            "k2",
            json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }], "reason": "  " }),
        )
        .await;
        assert_eq!(status, 422, "{problem}");

        // The third mug: cancelled, its share refunded; the retry changes nothing.
        let (status, cancelled) = cancel(shop.admin.clone(), "k3", one_mug.clone()).await;
        assert_eq!(status, 200, "{cancelled}");
        let mug = &cancelled["items"][0];
        assert_eq!((mug["sku"].as_str(), mug["cancelled"].as_i64()), (Some("MUG-1"), Some(1)));
        let charged = mug["final_price"]["amount"].as_i64().unwrap()
            - mug["discount"]["amount"].as_i64().unwrap()
            + if mug["tax"]["inclusive"] == true { 0 } else { mug["tax"]["amount"]["amount"].as_i64().unwrap() };
        assert_eq!(cancelled["refunded"]["amount"], charged / 3, "{cancelled}");
        assert_eq!(cancelled["payment_status"], "partially_refunded");
        assert_eq!(cancelled["status"], "paid");
        let (status, again) = cancel(shop.admin.clone(), "k3", one_mug.clone()).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["refunded"], cancelled["refunded"]);
        let db = sqlx::PgPool::connect(&database_url).await.unwrap();
        let refunds: Vec<(String, i64)> = sqlx::query_as(
            "select idempotency_key, amount from payment.test_refunds where order_id = $1",
        )
        .bind(order.parse::<Uuid>().unwrap())
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(refunds.len(), 1, "{refunds:?}");
        assert!(refunds[0].0.starts_with("cancel:"), "{refunds:?}");
        assert_eq!(Some(refunds[0].1), cancelled["refunded"]["amount"].as_i64());
        // Its reservation is released: two mugs stay reserved for the shipment.
        shop.stock_becomes("MUG-1", 10, 2).await;
        let (status, problem) = shop.ship(&order, json!([{ "sku": "MUG-1", "quantity": 1 }])).await;
        assert_eq!((status.as_u16(), problem["code"].as_str()), (422, Some("exceeds_ordered")), "{problem}");

        // A zero quantity is refused, and with it the whole request.
        let (status, problem) = cancel(
            shop.admin.clone(),
            "k4",
            json!({ "lines": [{ "sku": "TEE-1", "quantity": 1 }, { "sku": "MUG-1", "quantity": 0 }], "reason": "x" }),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        // The tee too: what is left is the shipment, and the order ships with it.
        let (status, both) = cancel(
            shop.admin.clone(),
            "k5",
            json!({ "lines": [{ "sku": "TEE-1", "quantity": 1 }], "reason": "out of that size" }),
        )
        .await;
        assert_eq!(status, 200, "{both}");
        shop.stock_becomes("TEE-1", 10, 0).await;
        let shipment = first["id"].as_str().unwrap();
        for step in ["packed", "shipped"] {
            let (status, moved) = shop.step(shipment, step).await;
            assert_eq!(status, 200, "{moved}");
        }
        let shipped = shop.wait_for(&order, "shipped").await;
        assert_eq!(shipped["items"][0]["cancelled"], 1, "{shipped}");
        assert_eq!(shipped["items"][1]["cancelled"], 1, "{shipped}");
        assert_eq!(shipped["refunded"], both["refunded"], "the read model agrees");
        assert!(shipped["shipping_method"].is_null(), "a store without rates: {shipped}");
        shop.stock_becomes("MUG-1", 8, 0).await;
        let (status, problem) = cancel(shop.admin.clone(), "k6", one_mug).await;
        assert_eq!((status.as_u16(), problem["code"].as_str()), (409, Some("invalid_status")), "{problem}");
        let queued: i64 = sqlx::query_scalar(
            "select count(*) from shipping.fulfilment_queue where order_id = $1",
        )
        .bind(order.parse::<Uuid>().unwrap())
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(queued, 0, "a shipped order leaves the queue");
        db.close().await;
    })
    .await;
}

/// Without SHIPPING_WEBHOOK_SECRET, no carrier webhook is taken, however it is signed.
#[tokio::test]
async fn without_a_secret_carrier_webhooks_are_refused() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let body = TestCarrier::update(
            "evt_1",
            ShipmentId::new(Uuid::new_v4()),
            "delivered",
            Utc::now(),
        );
        let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
        let r = c
            .post(format!("{base}/shipping/webhooks/test"))
            .header("Carrier-Signature", signer.sign(&body, Utc::now()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "webhook_not_configured");
    })
    .await;
}
