//! Vendors' money against the real binary (issue 23 item 4): one order holds lines of two
//! stores and is paid; each store's ledger books its line less its commission; Vera is
//! paid out; the order is refunded in full, so Vera's line comes back as a clawback (and
//! Otto's from his unpaid balance); Vera's next sale is paid out less the clawback; and
//! `umctl verify` finds every read model, the ledger's included, equal to a replay.

use std::process::Command;

use e2e::{eventually, send, umctl, usd, Server};
use serde_json::{json, Value};

/// The ledger summary's `field` in minor units.
fn summary(ledger: &Value, field: &str) -> i64 {
    ledger["summary"][0][field]["amount"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn two_stores_lines_are_booked_paid_out_refunded_and_clawed_back_and_replay_equal() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Home" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);

    // Two stores, each approved, each selling one product in stock.
    let mut stores = Vec::new();
    for (email, slug, sku, price) in [
        ("vera.e2e@example.com", "vera-e2e", "VERA-E2E", 2_500),
        ("otto.e2e@example.com", "otto-e2e", "OTTO-E2E", 1_000),
    ] {
        let (_, applicant) = s.customer(email).await;
        let applied = send(
            s.post("/api/v1/vendors")
                .bearer_auth(&applicant)
                .json(&json!({
                    "store_name": slug, "slug": slug, "contact_email": email,
                    "payout": { "account_holder": email, "account": "DE89370400440532013000" },
                })),
        )
        .await;
        assert_eq!(applied.status, 201, "{}", applied.text);
        let id = applied.body["id"].as_str().unwrap().to_owned();
        let approved = send(
            s.put(&format!("/api/v1/vendors/{id}/status"))
                .bearer_auth(&admin)
                .json(&json!({ "status": "approved" })),
        )
        .await;
        assert_eq!(approved.status, 200, "{}", approved.text);
        let vendor = s.login(email, "a customer's password").await.access;
        let product = send(s.post("/api/v1/products").bearer_auth(&vendor).json(&json!({
            "sku": sku, "name": sku, "category_id": category.body["id"], "price": usd(price),
        })))
        .await;
        assert_eq!(product.status, 201, "{}", product.text);
        let product_id = product.body["id"].as_str().unwrap().to_owned();
        let published = send(
            s.post(&format!("/api/v1/products/{product_id}/publish"))
                .bearer_auth(&admin),
        )
        .await;
        assert_eq!(published.body["status"], "active", "{}", published.text);
        let received = send(
            s.post(&format!("/api/v1/inventory/{sku}/receive"))
                .bearer_auth(&vendor)
                .json(&json!({ "quantity": 10 })),
        )
        .await;
        assert!(received.status < 300, "{}", received.text);
        stores.push((id, vendor, product_id));
    }
    let (vera_id, vera, lamp) = stores[0].clone();
    let (_, otto, mug) = stores[1].clone();
    // Vera pays 10% plus 0.30 a line.
    let rule = send(
        s.put(&format!("/api/v1/vendors/{vera_id}/commission"))
            .bearer_auth(&admin)
            .json(&json!({ "rule": { "percent_bp": 1_000, "fixed": 30 } })),
    )
    .await;
    assert_eq!(rule.status, 200, "{}", rule.text);

    let (_, customer) = s.customer("ann.e2e@example.com").await;
    let pay = |items: Value| {
        let (s, customer) = (&s, customer.clone());
        async move {
            let placed = send(s.post("/api/v1/orders").bearer_auth(&customer).json(&json!({
                "items": items,
                "shipping_address": { "line1": "4 Elm St", "city": "Springfield", "postal_code": "12345", "country": "US" },
                "payment_method": "card",
            })))
            .await;
            assert_eq!(placed.status, 202, "{}", placed.text);
            let order = placed.body["id"].as_str().unwrap().to_owned();
            eventually("the order awaits payment", || async {
                let a = send(
                    s.get(&format!("/api/v1/orders/{order}"))
                        .bearer_auth(&customer),
                )
                .await;
                (a.body["status"] == "awaiting_payment").then_some(())
            })
            .await;
            let paid = send(
                s.post(&format!("/api/v1/orders/{order}/payment"))
                    .bearer_auth(&customer)
                    .json(&json!({ "method": "card", "token": "tok_visa" })),
            )
            .await;
            assert_eq!(paid.status, 200, "{}", paid.text);
            order
        }
    };
    let ledger_when = |token: String, what: &'static str, done: fn(&Value) -> bool| {
        let s = &s;
        async move {
            eventually(what, || async {
                let a = send(s.get("/api/v1/vendors/me/ledger").bearer_auth(&token)).await;
                assert_eq!(a.status, 200, "{}", a.text);
                done(&a.body).then_some(a.body)
            })
            .await
        }
    };

    let first =
        pay(json!([{ "product_id": lamp, "quantity": 1 }, { "product_id": mug, "quantity": 1 }]))
            .await;
    let v = ledger_when(vera.clone(), "Vera's sale is booked", |b| {
        summary(b, "gross") == 2_500
    })
    .await;
    assert_eq!(summary(&v, "balance"), 2_220, "{v}");
    let o = ledger_when(otto.clone(), "Otto's sale is booked", |b| {
        summary(b, "gross") == 1_000
    })
    .await;
    assert_eq!(summary(&o, "balance"), 900, "{o}");

    let payout = send(
        s.post(&format!("/api/v1/vendors/{vera_id}/payouts"))
            .bearer_auth(&admin)
            .json(&json!({})),
    )
    .await;
    assert_eq!(payout.status, 201, "{}", payout.text);
    assert_eq!(payout.body["status"], "paid", "{}", payout.text);
    assert_eq!(payout.body["amount"], usd(2_220));

    let refunded = send(
        s.post(&format!("/api/v1/orders/{first}/refund"))
            .bearer_auth(&admin)
            .json(&json!({ "reason": "lost in the post" })),
    )
    .await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    let v = ledger_when(vera.clone(), "Vera's line is clawed back", |b| {
        summary(b, "clawbacks") == 2_500
    })
    .await;
    assert_eq!(
        (summary(&v, "balance"), summary(&v, "clawback_outstanding")),
        (-2_220, 2_220),
        "{v}"
    );
    ledger_when(otto.clone(), "Otto's line is refunded", |b| {
        summary(b, "refunds") == 1_000
    })
    .await;

    pay(json!([{ "product_id": lamp, "quantity": 2 }])).await;
    ledger_when(vera.clone(), "Vera's next sale is booked", |b| {
        summary(b, "gross") == 7_500
    })
    .await;
    let next = send(
        s.post(&format!("/api/v1/vendors/{vera_id}/payouts"))
            .bearer_auth(&admin)
            .json(&json!({})),
    )
    .await;
    assert_eq!(next.status, 201, "{}", next.text);
    assert_eq!(
        (next.body["amount"].clone(), next.body["clawback"].clone()),
        (usd(2_250), usd(2_220)),
        "{}",
        next.text
    );
    let v = send(
        s.get("/api/v1/vendors/me/ledger")
            .bearer_auth(&vera)
            .header("X-Consistency-Token", next.consistency()),
    )
    .await;
    assert_eq!(
        (summary(&v.body, "balance"), summary(&v.body, "paid_out")),
        (0, 4_470),
        "{}",
        v.text
    );

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
