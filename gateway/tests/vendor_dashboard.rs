//! A store's dashboard and e-mails over real HTTP (issue 23 items 5 and 7). Ann's order
//! with two of Vera's lamps and one of Otto's mugs is paid: Vera's dashboard shows the
//! day's sale of her lines only, her lamp on top; each store is e-mailed its own lines.
//! Staff cancel one lamp: the day shows it given back, the top product loses it. A
//! threshold above the stock makes an alert on Vera's dashboard and an e-mail to her; the
//! delivered lamp's review gives her rating; her payout paid is e-mailed. Another store
//! is refused her dashboard, staff read it, a bad period is refused.

mod common;

use common::marketplace::Shop;
use common::with_shop;
use serde_json::{json, Value};

/// The period's days of `dashboard` added up (a test running over midnight sees two),
/// with the currency they share.
fn today(dashboard: &Value) -> Value {
    let days = dashboard["days"].as_array().unwrap();
    assert!(!days.is_empty(), "{dashboard}");
    let sum = |field: &str| -> i64 { days.iter().map(|d| d[field].as_i64().unwrap()).sum() };
    assert!(days.iter().all(|d| d["currency"] == days[0]["currency"]));
    json!({
        "currency": days[0]["currency"],
        "orders": sum("orders"), "units": sum("units"), "gross": sum("gross"),
        "cancelled_units": sum("cancelled_units"), "cancelled": sum("cancelled"),
        "net": sum("net"),
    })
}

/// The messages of the outbox sent to `to`, by template.
fn mail<'a>(outbox: &'a Value, template: &str) -> Vec<&'a Value> {
    outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["template"] == template)
        .collect()
}

#[tokio::test]
async fn a_store_sees_its_sales_stock_and_rating_and_hears_of_its_orders_and_payouts() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(base).await;
        let ((vera_id, vera, lamp), (otto_id, otto, mug)) = shop.vera_and_otto().await;
        let ann = shop.customer("ann@example.com").await;
        let order = shop.buy(&ann, &[(&lamp, 2), (&mug, 1)]).await;
        // Each line of her order names the store that sold it, written and read alike.
        let r = shop.call("GET", &format!("/orders/{order}"), &ann, None).await;
        let seller = |sku: &str| -> Value {
            r.body["items"].as_array().unwrap().iter().find(|i| i["sku"] == sku).unwrap()["vendor_id"].clone()
        };
        assert_eq!(seller("VERA-LAMP"), vera_id.as_str(), "{}", r.body);
        assert_eq!(seller("OTTO-MUG"), otto_id.as_str(), "{}", r.body);

        // Paid: Vera's day has her lines only, her lamp on top.
        let mine = shop
            .get_when("/vendors/me/dashboard", &vera, |d| {
                d["days"].as_array().is_some_and(|d| !d.is_empty())
            })
            .await;
        let day = today(&mine);
        assert_eq!(
            (day["orders"].as_i64(), day["units"].as_i64()),
            (Some(1), Some(2)),
            "{mine}"
        );
        assert_eq!(
            (day["gross"].as_i64(), day["net"].as_i64()),
            (Some(5_000), Some(5_000))
        );
        assert_eq!(day["currency"], "USD");
        let top = &mine["top_products"];
        assert_eq!(top.as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(top[0]["product_id"], lamp.as_str());
        assert_eq!(top[0]["name"], "VERA-LAMP");
        assert_eq!(
            (top[0]["units"].as_i64(), top[0]["sales"]["amount"].as_i64()),
            (Some(2), Some(5_000))
        );
        assert_eq!(mine["rating"]["count"], 0);
        assert_eq!(mine["rating"]["average"], Value::Null);
        let otto_day = shop
            .get_when("/vendors/me/dashboard", &otto, |d| {
                d["days"].as_array().is_some_and(|d| !d.is_empty())
            })
            .await;
        assert_eq!(today(&otto_day)["gross"], 1_000, "{otto_day}");
        assert_eq!(otto_day["top_products"][0]["product_id"], mug.as_str());

        // Each store is told of the paid order, with its own lines only.
        let vera_mail = shop
            .get_when("/notifications?to=vera@example.com", &shop.admin, |o| {
                !mail(o, "vendor_new_order").is_empty()
            })
            .await;
        let new_order = mail(&vera_mail, "vendor_new_order")[0];
        let short = order.replace('-', "")[..8].to_uppercase();
        assert_eq!(
            new_order["subject"],
            format!("New order {short} for your store")
        );
        let body = new_order["body"].as_str().unwrap();
        assert!(body.contains("2 x VERA-LAMP at 25.00 USD"), "{body}");
        assert!(!body.contains("OTTO-MUG"), "{body}");
        let otto_mail = shop
            .get_when("/notifications?to=otto@example.com", &shop.admin, |o| {
                !mail(o, "vendor_new_order").is_empty()
            })
            .await;
        let body = mail(&otto_mail, "vendor_new_order")[0]["body"]
            .as_str()
            .unwrap();
        assert!(
            body.contains("1 x OTTO-MUG") && !body.contains("VERA-LAMP"),
            "{body}"
        );

        // Staff cancel one lamp before it ships: given back today, off the top product.
        let r = shop
            .c
            .post(format!("{}/orders/{order}/cancellations", shop.base))
            .bearer_auth(&shop.admin)
            .header("Idempotency-Key", "cancel-one-lamp")
            .json(&json!({ "lines": [{ "sku": "VERA-LAMP", "quantity": 1 }], "reason": "broken in the warehouse" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let mine = shop
            .get_when("/vendors/me/dashboard", &vera, |d| {
                today(d)["cancelled_units"] == 1
            })
            .await;
        let day = today(&mine);
        assert_eq!(
            (day["cancelled"].as_i64(), day["net"].as_i64()),
            (Some(2_500), Some(2_500)),
            "{mine}"
        );
        assert_eq!(day["units"], 2, "sales stay as paid: {mine}");
        assert_eq!(mine["top_products"][0]["units"], 1, "{mine}");
        assert_eq!(mine["top_products"][0]["sales"]["amount"], 2_500);

        // A threshold above the lamp's stock: an alert on her dashboard, and an e-mail.
        let r = shop
            .call(
                "PUT",
                "/inventory/VERA-LAMP/threshold",
                &shop.admin,
                Some(json!({ "threshold": 100 })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let mine = shop
            .get_when("/vendors/me/dashboard", &vera, |d| {
                d["stock_alert_count"] == 1
            })
            .await;
        let alert = &mine["stock_alerts"][0];
        assert_eq!(
            (alert["sku"].as_str(), alert["threshold"].as_i64()),
            (Some("VERA-LAMP"), Some(100)),
            "{mine}"
        );
        assert_eq!(alert["product_id"], lamp.as_str());
        assert!(alert["available"].as_i64().unwrap() < 100, "{mine}");
        let vera_mail = shop
            .get_when("/notifications?to=vera@example.com", &shop.admin, |o| {
                !mail(o, "low_stock").is_empty()
            })
            .await;
        let low = mail(&vera_mail, "low_stock")[0];
        assert!(
            low["subject"].as_str().unwrap().starts_with("Low stock: VERA-LAMP"),
            "{low}"
        );
        let otto_alerts = shop.call("GET", "/vendors/me/dashboard", &otto, None).await;
        assert_eq!(otto_alerts.body["stock_alert_count"], 0, "{}", otto_alerts.body);

        // Delivered, Ann reviews the lamp: Vera's rating.
        for status in ["shipped", "delivered"] {
            let r = shop
                .call(
                    "PUT",
                    &format!("/orders/{order}/status"),
                    &shop.admin,
                    Some(json!({ "status": status, "tracking_number": "TRACK-1" })),
                )
                .await;
            assert_eq!(r.status, 200, "{status}: {}", r.body);
        }
        let r = shop
            .call(
                "POST",
                &format!("/products/{lamp}/reviews"),
                &ann,
                Some(json!({ "rating": 4, "title": "Warm light", "body": "Bright enough to read by." })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let mine = shop
            .get_when("/vendors/me/dashboard", &vera, |d| d["rating"]["count"] == 1)
            .await;
        assert_eq!(mine["rating"]["average"], 4.0, "{mine}");
        assert_eq!(mine["rating"]["histogram"]["4"], 1, "{mine}");

        // Her payout is paid, and she hears of it with its amount.
        let r = shop
            .call(
                "POST",
                &format!("/vendors/{vera_id}/payouts"),
                &shop.admin,
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["status"], "paid", "{}", r.body);
        let paid_out = r.body["amount"]["amount"].as_i64().unwrap();
        let vera_mail = shop
            .get_when("/notifications?to=vera@example.com", &shop.admin, |o| {
                !mail(o, "vendor_payout").is_empty()
            })
            .await;
        let payout = mail(&vera_mail, "vendor_payout")[0];
        assert_eq!(
            payout["subject"],
            format!(
                "Your payout of {}.{:02} USD was paid",
                paid_out / 100,
                paid_out % 100
            ),
            "{payout}"
        );

        // Another store may not read hers; staff may; a bad period is refused.
        let path = format!("/vendors/{vera_id}/dashboard");
        let r = shop.call("GET", &path, &otto, None).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = shop.call("GET", &path, &shop.admin, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["vendor_id"], vera_id.as_str());
        assert_eq!(r.body["top_products"][0]["units"], 1, "{}", r.body);
        let r = shop
            .call(
                "GET",
                &format!("{path}?from=2026-12-10&to=2026-12-01"),
                &shop.admin,
                None,
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "from", "{}", r.body);
        let r = shop
            .call("GET", &format!("{path}?from=2024-01-01&to=2026-01-01"), &shop.admin, None)
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop
            .call("GET", &format!("{path}?days=3"), &shop.admin, None)
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        let r = shop.call("GET", "/vendors/me/dashboard", &ann, None).await;
        assert_eq!(r.status, 403, "{}", r.body);
    })
    .await;
}
