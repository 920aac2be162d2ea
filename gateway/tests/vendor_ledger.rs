//! Vendors' money over real HTTP (issue 23 item 4): one order with lines of two stores is
//! paid, and each store's ledger records its line's sale with the commission of its rule
//! (Vera's own stacked fees, at their version; Otto the store setting's default); the
//! entries balance and the totals add up; a store reads its own ledger and payouts (JSON
//! or CSV), another store is refused; staff pay Vera (paid) and Otto (no payout account:
//! failed and reversed); a full refund after Vera's payout is a clawback her next payout
//! recovers; the commission rule is staff's to set and refuses parts out of range. And
//! each store sees its own part of the order (its sub-order), another store is refused.

mod common;

use common::marketplace::Shop;
use common::with_shop;
use serde_json::{json, Value};

fn amount(summary: &Value, field: &str) -> i64 {
    summary[field]["amount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {summary}"))
}

/// Every entry of `page` balances: its debits equal its credits, which equal its amount;
/// and the running balance ends at the summary's.
fn balanced(page: &Value) {
    for e in page["items"].as_array().unwrap() {
        let side = |s: &str| -> i64 {
            e["postings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["side"] == s)
                .map(|p| p["amount"].as_i64().unwrap())
                .sum()
        };
        assert_eq!(side("debit"), side("credit"), "{e}");
        assert_eq!(
            side("debit"),
            e["amount"]["amount"].as_i64().unwrap(),
            "{e}"
        );
    }
    let effects: i64 = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["effect"]["amount"].as_i64().unwrap())
        .sum();
    if page["total"].as_i64() == page["items"].as_array().map(|i| i.len() as i64) {
        assert_eq!(effects, amount(&page["summary"][0], "balance"), "{page}");
    }
}

#[tokio::test]
async fn two_stores_are_paid_their_lines_less_commission_and_a_late_refund_is_clawed_back() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(base).await;
        let ((vera_id, vera, lamp), (otto_id, otto, mug)) = shop.vera_and_otto().await;

        // Staff set Vera's rule: 10% plus 0.30 a line, at least 0.50. Out of range is
        // refused naming the part; a vendor may not set its own.
        let commission = format!("/vendors/{vera_id}/commission");
        let bad = shop
            .call(
                "PUT",
                &commission,
                &shop.admin,
                Some(json!({ "rule": { "percent_bp": 20_000 } })),
            )
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert_eq!(bad.body["errors"][0]["field"], "percent_bp", "{}", bad.body);
        let crossed = shop
            .call(
                "PUT",
                &commission,
                &shop.admin,
                Some(json!({ "rule": { "percent_bp": 100, "min": 500, "max": 100 } })),
            )
            .await;
        assert_eq!(crossed.status, 422, "{}", crossed.body);
        let r = shop
            .call(
                "PUT",
                &commission,
                &vera,
                Some(json!({ "rule": { "percent_bp": 0 } })),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop
            .call(
                "PUT",
                &commission,
                &shop.admin,
                Some(json!({ "rule": { "percent_bp": 1_000, "fixed": 30, "min": 50 } })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let rule = &r.body["private"]["commission"];
        assert_eq!(
            (
                rule["percent_bp"].as_u64(),
                rule["fixed"].as_i64(),
                rule["version"].as_u64()
            ),
            (Some(1_000), Some(30), Some(1)),
            "{}",
            r.body
        );
        assert_eq!(r.body["private"]["commission_source"], "vendor");

        // Ann buys a lamp and a mug in one order and pays.
        let ann = shop.customer("ann@example.com").await;
        let first = shop.buy(&ann, &[(&lamp, 1), (&mug, 1)]).await;

        // Vera's ledger: her line's sale, 10% and 0.30 of it, recorded at version 1.
        let vera_page = shop
            .get_when("/vendors/me/ledger", &vera, |b| {
                b["summary"][0]["gross"]["amount"] == 2_500
            })
            .await;
        let s = &vera_page["summary"][0];
        assert_eq!(
            (
                amount(s, "commission"),
                amount(s, "fees"),
                amount(s, "net"),
                amount(s, "balance")
            ),
            (250, 30, 2_220, 2_220),
            "{vera_page}"
        );
        let kinds: Vec<&str> = vera_page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["sale", "commission", "fee"], "{vera_page}");
        assert!(vera_page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["order_id"] == first.as_str()));
        balanced(&vera_page);
        // Otto pays the store setting's default, 10%.
        let otto_page = shop
            .get_when("/vendors/me/ledger", &otto, |b| {
                b["summary"][0]["gross"]["amount"] == 1_000
            })
            .await;
        assert_eq!(
            amount(&otto_page["summary"][0], "balance"),
            900,
            "{otto_page}"
        );
        assert_eq!(otto_page["vendor_id"], otto_id.as_str());

        // Each store's part of the order: its own line only.
        let sub = shop
            .get_when("/vendors/me/orders", &vera, |b| {
                b["items"][0]["order_status"] == "paid"
            })
            .await;
        assert_eq!(sub["total"], 1, "{sub}");
        let lines = sub["items"][0]["lines"].as_array().unwrap();
        assert_eq!(
            (lines.len(), lines[0]["sku"].as_str()),
            (1, Some("VERA-LAMP")),
            "{sub}"
        );
        assert_eq!(
            (
                sub["items"][0]["order_id"].as_str(),
                sub["items"][0]["fulfilment"].as_str()
            ),
            (Some(first.as_str()), Some("unfulfilled")),
            "{sub}"
        );
        assert_eq!(sub["items"][0]["subtotal"]["amount"], 2_500, "{sub}");
        let r = shop
            .call(
                "GET",
                &format!("/vendors/{otto_id}/orders"),
                &shop.admin,
                None,
            )
            .await;
        assert_eq!(
            r.body["items"][0]["lines"][0]["sku"], "OTTO-MUG",
            "{}",
            r.body
        );

        // A store reads its own ledger by id too; another store, a customer, cannot.
        let r = shop
            .call("GET", &format!("/vendors/{vera_id}/ledger"), &vera, None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        for (who, path) in [
            (&otto, format!("/vendors/{vera_id}/ledger")),
            (&otto, format!("/vendors/{vera_id}/payouts")),
            (&otto, format!("/vendors/{vera_id}/orders")),
            (&ann, "/vendors/me/ledger".to_owned()),
        ] {
            let r = shop.call("GET", &path, who, None).await;
            assert_eq!(r.status, 403, "{path}: {}", r.body);
        }
        let r = shop
            .call("GET", "/vendors/me/ledger?kind=gift", &vera, None)
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop
            .call("GET", "/vendors/me/ledger?kind=commission", &vera, None)
            .await;
        assert_eq!(r.body["total"], 1, "{}", r.body);

        // The same ledger as CSV, by the query or by `Accept`.
        for request in [
            shop.c
                .get(format!("{}/vendors/me/ledger?format=csv", shop.base))
                .bearer_auth(&vera),
            shop.c
                .get(format!("{}/vendors/me/ledger", shop.base))
                .bearer_auth(&vera)
                .header("Accept", "text/csv"),
        ] {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            let text = r.text().await.unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert!(
                lines[0]
                    .starts_with("at,revision,entry_no,kind,currency,amount,effect,balance_after"),
                "{text}"
            );
            assert_eq!(lines.len(), 4, "{text}");
            assert!(lines[3].contains("fee,USD,30,-30,2220"), "{text}");
        }

        // Payouts are staff's: Vera is paid her balance; Otto has no payout account, so
        // his payout fails and is reversed. Nothing more is owed to Vera.
        let payouts = format!("/vendors/{vera_id}/payouts");
        let r = shop.call("POST", &payouts, &vera, Some(json!({}))).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let paid = shop
            .call("POST", &payouts, &shop.admin, Some(json!({})))
            .await;
        assert_eq!(paid.status, 201, "{}", paid.body);
        assert_eq!(
            (
                paid.body["status"].as_str(),
                paid.body["amount"]["amount"].as_i64()
            ),
            (Some("paid"), Some(2_220)),
            "{}",
            paid.body
        );
        assert!(paid.body["provider_reference"]
            .as_str()
            .unwrap()
            .starts_with("po_test_"));
        let again = shop
            .call("POST", &payouts, &shop.admin, Some(json!({})))
            .await;
        assert_eq!(
            (again.status.as_u16(), again.body["code"].as_str()),
            (422, Some("nothing_to_pay")),
            "{}",
            again.body
        );
        let failed = shop
            .call(
                "POST",
                &format!("/vendors/{otto_id}/payouts"),
                &shop.admin,
                Some(json!({})),
            )
            .await;
        assert_eq!(failed.status, 201, "{}", failed.body);
        assert_eq!(failed.body["status"], "failed", "{}", failed.body);
        assert!(failed.body["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("no_payout_account"));
        let r = shop.read("/vendors/me/ledger", &otto, &failed).await;
        assert_eq!(
            (
                amount(&r.body["summary"][0], "balance"),
                amount(&r.body["summary"][0], "paid_out")
            ),
            (900, 0),
            "{}",
            r.body
        );
        let r = shop.read("/vendors/me/ledger", &vera, &paid).await;
        assert_eq!(
            (
                amount(&r.body["summary"][0], "balance"),
                amount(&r.body["summary"][0], "paid_out")
            ),
            (0, 2_220),
            "{}",
            r.body
        );
        balanced(&r.body);

        // Staff refund Ann's order in full after Vera's payout: Vera's line is clawed back
        // (she owes 22.20), Otto's is refunded from his unpaid balance.
        let r = shop
            .call(
                "POST",
                &format!("/orders/{first}/refund"),
                &shop.admin,
                Some(json!({ "reason": "arrived broken" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let vera_page = shop
            .get_when("/vendors/me/ledger", &vera, |b| {
                b["summary"][0]["clawbacks"]["amount"] == 2_500
            })
            .await;
        let s = &vera_page["summary"][0];
        assert_eq!(
            (
                amount(s, "balance"),
                amount(s, "clawback_outstanding"),
                amount(s, "commission"),
                amount(s, "fees")
            ),
            (-2_220, 2_220, 0, 0),
            "{vera_page}"
        );
        balanced(&vera_page);
        let otto_page = shop
            .get_when("/vendors/me/ledger", &otto, |b| {
                b["summary"][0]["refunds"]["amount"] == 1_000
            })
            .await;
        assert_eq!(
            amount(&otto_page["summary"][0], "balance"),
            0,
            "{otto_page}"
        );

        // Bob buys two lamps; Vera's next payout recovers the clawback first.
        let bob = shop.customer("bob@example.com").await;
        shop.buy(&bob, &[(&lamp, 2)]).await;
        shop.get_when("/vendors/me/ledger", &vera, |b| {
            b["summary"][0]["gross"]["amount"] == 7_500
        })
        .await;
        let next = shop
            .call("POST", &payouts, &shop.admin, Some(json!({})))
            .await;
        assert_eq!(next.status, 201, "{}", next.body);
        // 50.00 - 5.00 - 0.30 = 44.70 earned; 22.20 of it repays the clawback.
        assert_eq!(
            (
                next.body["amount"]["amount"].as_i64(),
                next.body["clawback"]["amount"].as_i64()
            ),
            (Some(2_250), Some(2_220)),
            "{}",
            next.body
        );
        let r = shop.read("/vendors/me/ledger", &vera, &next).await;
        let s = &r.body["summary"][0];
        assert_eq!(
            (
                amount(s, "balance"),
                amount(s, "clawback_outstanding"),
                amount(s, "paid_out")
            ),
            (0, 0, 4_470),
            "{}",
            r.body
        );

        // Vera's payouts, newest first, as JSON and CSV; staff read them by id.
        let r = shop.read("/vendors/me/payouts", &vera, &next).await;
        assert_eq!(r.body["total"], 2, "{}", r.body);
        assert_eq!(r.body["items"][0]["amount"]["amount"], 2_250, "{}", r.body);
        let r = shop
            .read(
                &format!("/vendors/{vera_id}/payouts?status=paid"),
                &shop.admin,
                &next,
            )
            .await;
        assert_eq!(r.body["total"], 2, "{}", r.body);
        let csv = shop
            .c
            .get(format!("{}/vendors/me/payouts?format=csv", shop.base))
            .bearer_auth(&vera)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .starts_with("payout_id,status,currency,amount"),
            "{csv}"
        );

        // Staff correct a ledger, with a reason; a store may not, nor by nothing.
        let adjustments = format!("/vendors/{vera_id}/adjustments");
        let goodwill = json!({ "amount": { "amount": 500, "currency": "USD" }, "reason": "late delivery goodwill" });
        let r = shop.call("POST", &adjustments, &vera, Some(goodwill.clone())).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop
            .call("POST", &adjustments, &shop.admin, Some(json!({ "amount": { "amount": 0, "currency": "USD" }, "reason": "nothing" })))
            .await;
        assert_eq!((r.status.as_u16(), r.body["errors"][0]["field"].as_str()), (422, Some("amount")), "{}", r.body);
        let adjusted = shop.call("POST", &adjustments, &shop.admin, Some(goodwill)).await;
        assert_eq!(adjusted.status, 201, "{}", adjusted.body);
        let r = shop.read("/vendors/me/ledger?kind=adjustment", &vera, &adjusted).await;
        let s = &r.body["summary"][0];
        assert_eq!((amount(s, "adjustments"), amount(s, "balance"), r.body["total"].as_i64()), (500, 500, Some(1)), "{}", r.body);
    })
    .await;
}
