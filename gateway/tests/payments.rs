//! Payments over real HTTP (issue 18, item 10): two concurrent pays of one order charge it
//! once, and the signed webhook records a provider's answer, refusing a bad signature, a
//! stale or future timestamp and a replay.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use commands::payment::WebhookSigner;
use common::{access_token as login, json_call as call, with_shop};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const SECRET: &str = "whsec_an_http_test_secret";
const PATIENCE: Duration = Duration::from_secs(60);

struct Shop {
    c: Client,
    base: String,
    customer: String,
    mug: Value,
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
        let (status, mug) = call(&c, "POST", format!("{base}/products"), &admin, Some(json!({
            "sku": "MUG-1", "name": "Mug", "category_id": cat["id"], "price": { "amount": 1250, "currency": "USD" }
        }))).await;
        assert_eq!(status, 201, "{mug}");
        let (status, _) = call(
            &c,
            "POST",
            format!("{base}/inventory/MUG-1/receive"),
            &admin,
            Some(json!({ "quantity": 50 })),
        )
        .await;
        assert!(status.is_success());
        Shop {
            c,
            base: base.to_owned(),
            customer,
            mug,
        }
    }

    /// An order of one mug, once the saga has made it payable.
    async fn payable_order(&self) -> String {
        let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
        let (status, order) = call(
            &self.c,
            "POST",
            format!("{}/orders", self.base),
            &self.customer,
            Some(json!({
                "items": [{ "product_id": self.mug["id"], "quantity": 1 }],
                "shipping_address": address, "payment_method": "card"
            })),
        )
        .await;
        assert_eq!(status, 202, "{order}");
        let id = order["id"].as_str().unwrap().to_owned();
        self.wait_for(&id, "awaiting_payment").await;
        id
    }

    /// Polls `GET /orders/{id}` until the order shows `status`.
    async fn wait_for(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, order) = call(
                &self.c,
                "GET",
                format!("{}/orders/{id}", self.base),
                &self.customer,
                None,
            )
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

    async fn status(&self, id: &str) -> Value {
        let (_, order) = call(
            &self.c,
            "GET",
            format!("{}/orders/{id}", self.base),
            &self.customer,
            None,
        )
        .await;
        order["status"].clone()
    }

    async fn webhook(&self, signature: Option<&str>, body: &[u8]) -> (StatusCode, Value) {
        let mut r = self
            .c
            .post(format!("{}/payments/webhook", self.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            r = r.header("Payment-Signature", s);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// Two concurrent `POST /orders/{id}/payment` of one order: the test provider's ledger
/// holds exactly one charge; each answer is 200 with the one capture, or 409 `not_payable`
/// once the order shows it paid. Before the key was the order and the attempt, each request
/// charged with a key of its own: two charges.
#[tokio::test]
async fn two_concurrent_pays_of_one_order_charge_once() {
    with_shop(&[], |base, db| async move {
        let shop = Shop::open(&base).await;
        let pool = sqlx::PgPool::connect(&db).await.unwrap();
        for _ in 0..3 {
            let id = shop.payable_order().await;
            let pay = || {
                call(&shop.c, "POST", format!("{base}/orders/{id}/payment"), &shop.customer,
                    Some(json!({ "method": "card", "token": "tok_visa" })))
            };
            let (a, b) = tokio::join!(pay(), pay());
            let charges: i64 = sqlx::query_scalar(
                "select count(*) from payment.test_charges where order_id = $1 and outcome->>'outcome' = 'captured'",
            )
            .bind(Uuid::parse_str(&id).unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(charges, 1, "one charge for two pays: {a:?} {b:?}");
            let captures: Vec<&Value> = [&a, &b]
                .into_iter()
                .filter(|(status, _)| *status == StatusCode::OK)
                .map(|(_, body)| &body["reference"])
                .collect();
            assert!(!captures.is_empty(), "{a:?} {b:?}");
            assert!(captures.iter().all(|r| *r == captures[0]), "one capture: {a:?} {b:?}");
            for (status, body) in [&a, &b] {
                assert!(
                    *status == StatusCode::OK || (*status == StatusCode::CONFLICT && body["code"] == "not_payable"),
                    "{status}: {body}"
                );
            }
            shop.wait_for(&id, "paid").await;
        }
    })
    .await;
}

fn captured(id: &str, event: &str, amount: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event, "type": "payment.captured", "order_id": id, "attempt": 1,
        "amount": { "amount": amount, "currency": "USD" }, "reference": format!("ch_{event}")
    }))
    .unwrap()
}

/// The signed webhook: a bad signature, a stale or a future timestamp, a missing header are
/// refused and change nothing; a valid one pays the order; sent again, it is refused as a
/// replay. `payment.failed` records a failed attempt. `/health/detailed` names the provider.
#[tokio::test]
async fn the_signed_webhook_pays_an_order_and_refuses_forgeries_and_replays() {
    with_shop(&["--payment-webhook-secret", SECRET], |base, _| async move {
        let shop = Shop::open(&base).await;
        let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
        let forger = WebhookSigner::new(b"not the secret".to_vec(), Duration::from_secs(300));
        let id = shop.payable_order().await;
        let now = Utc::now();
        let body = captured(&id, "evt_1", 1250);

        let refusals = [
            (None, StatusCode::BAD_REQUEST, "webhook_signature_malformed"),
            (Some(forger.sign(&body, now)), StatusCode::UNAUTHORIZED, "webhook_signature_invalid"),
            (Some(signer.sign(&body, now - chrono::Duration::minutes(10))), StatusCode::UNAUTHORIZED, "webhook_timestamp_stale"),
            (Some(signer.sign(&body, now + chrono::Duration::minutes(10))), StatusCode::UNAUTHORIZED, "webhook_timestamp_future"),
        ];
        for (signature, status, code) in refusals {
            let (got, problem) = shop.webhook(signature.as_deref(), &body).await;
            assert_eq!((got, problem["code"].as_str()), (status, Some(code)), "{problem}");
        }
        // A signature over another body does not carry over.
        let other = captured(&id, "evt_1", 1);
        let (got, problem) = shop.webhook(Some(&signer.sign(&body, now)), &other).await;
        assert_eq!((got, problem["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("webhook_signature_invalid")));
        assert_eq!(shop.status(&id).await, "awaiting_payment", "nothing refused changed the order");

        let signature = signer.sign(&body, now);
        let (got, answer) = shop.webhook(Some(&signature), &body).await;
        assert_eq!(got, StatusCode::OK, "{answer}");
        assert_eq!(answer, json!({ "status": "recorded", "order_id": id, "captured": true }));
        let paid = shop.wait_for(&id, "paid").await;
        assert_eq!(paid["payment_status"], "captured", "{paid}");

        let (got, problem) = shop.webhook(Some(&signature), &body).await;
        assert_eq!((got, problem["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("webhook_replayed")), "{problem}");
        // The provider's own retry is signed anew (a second later): acknowledged, and
        // recorded once.
        let retry = signer.sign(&body, now + chrono::Duration::seconds(1));
        let (got, answer) = shop.webhook(Some(&retry), &body).await;
        assert_eq!((got, answer["status"].as_str()), (StatusCode::OK, Some("recorded")), "{answer}");

        // A failure: the attempt is recorded and the order stays payable.
        let failing = shop.payable_order().await;
        let body = serde_json::to_vec(&json!({
            "id": "evt_2", "type": "payment.failed", "order_id": failing, "attempt": 1,
            "amount": { "amount": 1250, "currency": "USD" }, "code": "card_declined", "message": "declined by the bank"
        }))
        .unwrap();
        let (got, answer) = shop.webhook(Some(&signer.sign(&body, Utc::now())), &body).await;
        assert_eq!((got, answer["captured"].as_bool()), (StatusCode::OK, Some(false)), "{answer}");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (_, order) = call(&shop.c, "GET", format!("{base}/orders/{failing}"), &shop.customer, None).await;
            if order["payment_status"] == "failed" {
                assert_eq!(order["status"], "awaiting_payment");
                break;
            }
            assert!(Instant::now() < deadline, "the failure never showed: {order}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The wrong amount for an order is refused.
        let body = captured(&failing, "evt_3", 999);
        let (got, problem) = shop.webhook(Some(&signer.sign(&body, Utc::now())), &body).await;
        assert_eq!((got, problem["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("payment_mismatch")), "{problem}");

        let health: Value = reqwest::get(format!("{}/health/detailed", base.trim_end_matches("/api/v1")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["components"]["payments"], json!({ "provider": "test", "webhooks": true }));
    })
    .await;
}

/// Without PAYMENT_WEBHOOK_SECRET, no webhook is taken, however it is signed.
#[tokio::test]
async fn without_a_secret_webhooks_are_refused() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let signer = WebhookSigner::new(SECRET.as_bytes().to_vec(), Duration::from_secs(300));
        let body = captured(&Uuid::new_v4().to_string(), "evt_1", 1);
        let r = c
            .post(format!("{base}/payments/webhook"))
            .header("Payment-Signature", signer.sign(&body, Utc::now()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "webhook_not_configured");
    })
    .await;
}
