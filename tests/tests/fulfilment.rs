//! Partial fulfilment (issue 22) against the real binary: a customer's paid order of two
//! lines leaves in two shipments (the order `partially_shipped`, then `shipped`), the test
//! carrier's signed webhooks carry both to the door (the order `delivered`), the customer
//! returns one pot (approved, restocked, refunded through the provider), and `umctl
//! verify` finds every read model equal to a replay of the log. The order is placed with a
//! shipping method of the store's rates, and its total includes the fee.

use std::process::Command;
use std::time::Duration;

use commands::shipping::TestCarrier;
use commands::webhook::WebhookSigner;
use domain::id::ShipmentId;
use e2e::{eventually, send, umctl, usd, Server};
use serde_json::{json, Value};

const SECRET: &str = "whsec_the_e2e_carrier_secret";

#[tokio::test]
async fn an_order_leaves_in_two_shipments_and_is_delivered_and_replays_equal() {
    let s = Server::start_with(&["--shipping-webhook-secret", SECRET]).await;
    let admin = s.admin().await;
    let (_, customer) = s.customer("dora.e2e@example.com").await;

    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Kitchen" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let mut products = Vec::new();
    for (sku, price) in [("POT-E2E", 3_000), ("PAN-E2E", 4_500)] {
        let p = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
            "sku": sku, "name": sku, "category_id": category.body["id"], "price": usd(price),
        })))
        .await;
        assert_eq!(p.status, 201, "{}", p.text);
        let received = send(
            s.post(&format!("/api/v1/inventory/{sku}/receive"))
                .bearer_auth(&admin)
                .json(&json!({ "quantity": 5 })),
        )
        .await;
        assert!(received.status < 300, "{}", received.text);
        products.push(p.body["id"].clone());
    }

    // The store ships to the US at a flat 6.00 by `standard`.
    let zone = send(
        s.put("/api/v1/shipping/zones/us")
            .bearer_auth(&admin)
            .json(&json!({
                "name": "United States", "currency": "USD", "areas": ["US"],
                "methods": [{ "code": "standard", "name": "Standard", "carrier": "test",
                    "service_level": "standard", "basis": "weight",
                    "rates": [{ "up_to": null, "fee": 600 }], "free_over": null }]
            })),
    )
    .await;
    assert_eq!(zone.status, 200, "{}", zone.text);

    // Two pots and a pan, shipped by `standard`, paid.
    let placed = send(s.post("/api/v1/orders").bearer_auth(&customer).json(&json!({
        "items": [{ "product_id": products[0], "quantity": 2 }, { "product_id": products[1], "quantity": 1 }],
        "shipping_address": { "line1": "4 Elm St", "city": "Springfield", "postal_code": "12345", "country": "US" },
        "payment_method": "card",
        "shipping_method": "standard",
    })))
    .await;
    assert_eq!(placed.status, 202, "{}", placed.text);
    assert_eq!(placed.body["shipping"], usd(600));
    assert_eq!(placed.body["total"], usd(2 * 3_000 + 4_500 + 600));
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let status_of = |order: String| {
        let s = &s;
        let customer = customer.clone();
        async move {
            let a = send(
                s.get(&format!("/api/v1/orders/{order}"))
                    .bearer_auth(&customer),
            )
            .await;
            a.body["status"].as_str().unwrap_or_default().to_owned()
        }
    };
    eventually("the stock is reserved", || async {
        (status_of(order.clone()).await == "awaiting_payment").then_some(())
    })
    .await;
    let paid = send(
        s.post(&format!("/api/v1/orders/{order}/payment"))
            .bearer_auth(&customer)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    eventually("the order is paid", || async {
        (status_of(order.clone()).await == "paid").then_some(())
    })
    .await;

    // One pot first; then the other pot with the pan. A third shipment has nothing left.
    let ship = |lines: Value| {
        s.post(&format!("/api/v1/orders/{order}/shipments"))
            .bearer_auth(&admin)
            .json(&json!({ "lines": lines, "carrier": "test", "service_level": "express" }))
    };
    let first = send(ship(json!([{ "sku": "POT-E2E", "quantity": 1 }]))).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = send(ship(json!([
        { "sku": "POT-E2E", "quantity": 1 },
        { "sku": "PAN-E2E", "quantity": 1 }
    ])))
    .await;
    assert_eq!(second.status, 201, "{}", second.text);
    let more = send(ship(json!([{ "sku": "PAN-E2E", "quantity": 1 }]))).await;
    assert_eq!(more.problem(422)["code"], "exceeds_ordered");

    let step = |shipment: &Value, status: &str| {
        s.put(&format!("/api/v1/shipments/{}/status", shipment.body_id()))
            .bearer_auth(&admin)
            .json(&json!({ "status": status }))
    };
    for status in ["packed", "shipped"] {
        let a = send(step(&first.body, status)).await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    eventually("the order is partially shipped", || async {
        (status_of(order.clone()).await == "partially_shipped").then_some(())
    })
    .await;
    // Going back is refused.
    let back = send(step(&first.body, "packed")).await;
    assert_eq!(back.problem(409)["code"], "status_backwards");
    for status in ["packed", "shipped"] {
        let a = send(step(&second.body, status)).await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    eventually("the order is shipped", || async {
        (status_of(order.clone()).await == "shipped").then_some(())
    })
    .await;

    // The carrier: in transit, then delivered, for each parcel.
    let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
    let mut n = 0;
    for shipment in [&first.body, &second.body] {
        let id = ShipmentId::new(shipment.body_id().parse().unwrap());
        for status in ["in_transit", "delivered"] {
            n += 1;
            let now = chrono::Utc::now();
            let body = TestCarrier::update(&format!("evt_{n}"), id, status, now);
            let a = send(
                s.post("/api/v1/shipping/webhooks/test")
                    .header("content-type", "application/json")
                    .header("Carrier-Signature", signer.sign(&body, now))
                    .body(body.clone()),
            )
            .await;
            assert_eq!(a.status, 200, "{}", a.text);
            assert_eq!(a.body["shipment_status"], status, "{}", a.text);
            // Sent again, as a carrier retrying would: refused as a replay.
            let again = send(
                s.post("/api/v1/shipping/webhooks/test")
                    .header("content-type", "application/json")
                    .header("Carrier-Signature", signer.sign(&body, now))
                    .body(body),
            )
            .await;
            assert_eq!(again.problem(401)["code"], "webhook_replayed");
        }
    }
    eventually("the order is delivered", || async {
        (status_of(order.clone()).await == "delivered").then_some(())
    })
    .await;
    let tracking = send(
        s.get(&format!(
            "/api/v1/shipments/{}/tracking",
            second.body.body_id()
        ))
        .bearer_auth(&customer),
    )
    .await;
    assert_eq!(tracking.status, 200, "{}", tracking.text);
    assert_eq!(tracking.body["events"].as_array().unwrap().len(), 2);

    // The read models have seen it all: the shipments delivered, the carrier's times.
    let db = &s.db;
    eventually("the shipping read model has both deliveries", || async {
        let delivered: Option<i64> = sqlx::query_scalar(
            "select delivered from shipping.carrier_performance where carrier = 'test'",
        )
        .fetch_optional(db)
        .await
        .unwrap();
        (delivered == Some(2)).then_some(())
    })
    .await;
    let shipments: Vec<(String, String, i64)> = sqlx::query_as(
        "select warehouse, status, units from shipping.shipments where order_id = $1::uuid
          order by created_at, shipment_id",
    )
    .bind(&order)
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(
        shipments,
        [
            ("main".to_owned(), "delivered".to_owned(), 1),
            ("main".to_owned(), "delivered".to_owned(), 2)
        ]
    );

    // The customer returns one pot of the second parcel; staff approve it, put it back on
    // the shelf and refund it through the provider.
    let asked = send(
        s.post(&format!("/api/v1/orders/{order}/returns"))
            .bearer_auth(&customer)
            .json(&json!({ "lines": [{ "sku": "POT-E2E", "quantity": 1 }], "reason": "dented" })),
    )
    .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    assert_eq!(asked.body["refund"], usd(3_000));
    let return_id = asked.body.body_id();
    let token = asked
        .header("x-consistency-token")
        .expect("a consistency token");
    for (status, extra) in [
        ("approved", json!({})),
        ("received", json!({ "disposition": "restock" })),
        ("refunded", json!({})),
    ] {
        let mut body = json!({ "status": status });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let a = send(
            s.put(&format!("/api/v1/returns/{return_id}/status"))
                .bearer_auth(&admin)
                .header("X-Consistency-Token", &token)
                .json(&body),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.body["status"], status, "{}", a.text);
    }
    eventually("the returns read model has the refund", || async {
        let status: Option<String> =
            sqlx::query_scalar("select status from returns.returns where return_id = $1::uuid")
                .bind(&return_id)
                .fetch_optional(db)
                .await
                .unwrap();
        (status.as_deref() == Some("refunded")).then_some(())
    })
    .await;
    eventually("the order records the partial refund", || async {
        (status_of(order.clone()).await == "partially_refunded").then_some(())
    })
    .await;

    // Every read model, as the server built it, equals a replay of the store.
    let out = Command::new(umctl())
        .arg("verify")
        .env("DATABASE_URL", &s.database_url)
        .env_remove("EVENTSTORE_URL")
        .output()
        .expect("umctl runs");
    assert!(
        out.status.success(),
        "umctl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The id of a shipment answer.
trait BodyId {
    fn body_id(&self) -> String;
}

impl BodyId for Value {
    fn body_id(&self) -> String {
        self["id"].as_str().expect("an id").to_owned()
    }
}
