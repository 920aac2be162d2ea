//! The orders' back-office pages over real HTTP (issue 25 item 4): staff list orders by
//! status and open one, whose History tab shows, from the order's events, who changed it,
//! when, why, and what changed.

use e2e::{eventually, send, usd, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::header::COOKIE;
use serde_json::json;

#[tokio::test]
async fn staff_find_an_order_and_read_its_history() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-HISTORY", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(4_500),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-HISTORY/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let (_, ann) = s.customer("ann.history@example.com").await;
    let placed = send(s.post("/api/v1/orders").bearer_auth(&ann).json(&json!({
        "items": [{ "product_id": product.body["id"], "quantity": 1 }],
        "shipping_address": { "line1": "2 Elm St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB" },
        "payment_method": "card",
    })))
    .await;
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let status = |want: &'static str| {
        let (s, ann, order) = (&s, ann.clone(), order.clone());
        async move {
            eventually(&format!("the order is {want}"), || {
                let (ann, order) = (ann.clone(), order.clone());
                async move {
                    let o = send(s.get(&format!("/api/v1/orders/{order}")).bearer_auth(&ann)).await;
                    (o.body["status"] == want).then_some(o)
                }
            })
            .await
        }
    };
    status("awaiting_payment").await;
    let paid = send(
        s.post(&format!("/api/v1/orders/{order}/payment"))
            .bearer_auth(&ann)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    status("paid").await;
    let refunded = send(
        s.post(&format!("/api/v1/orders/{order}/refund"))
            .bearer_auth(&admin)
            .json(&json!({ "amount": usd(500), "reason": "scratched base, goodwill" })),
    )
    .await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    status("partially_refunded").await;

    let session = s.console_session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = |path: String| {
        let session = session.clone();
        let request = s.get(&path).header(COOKIE, session);
        async move { send(request).await }
    };

    // The list, filtered by status; the navigation offers it.
    let all = page("/admin/orders".into()).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert!(
        all.text
            .contains(&format!("href=\"/admin/orders/{order}\"")),
        "{}",
        all.text
    );
    assert!(
        all.text.contains(r#"<a href="/admin/orders">Orders</a>"#),
        "{}",
        all.text
    );
    let theirs = page("/admin/orders?status=partially_refunded".into()).await;
    assert!(theirs.text.contains(&order), "{}", theirs.text);
    let none = page("/admin/orders?status=cancelled".into()).await;
    assert!(none.text.contains("No order matches."), "{}", none.text);
    let wrong = page("/admin/orders?status=lost".into()).await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);

    // One order: its lines, and its history from its events.
    let one = page(format!("/admin/orders/{order}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    let html = one.text;
    assert!(html.contains("LAMP-HISTORY"), "{html}");
    assert!(
        html.contains(&format!("/admin/streams/order-{order}")),
        "{html}"
    );
    for event in [
        "OrderPlaced",
        "OrderStockReserved",
        "OrderPaid",
        "OrderRefunded",
    ] {
        assert!(
            html.contains(&format!(r#"<td class="type">{event}</td>"#)),
            "{event}: {html}"
        );
    }
    // The refund: by an admin, with its reason, and the status and the money it changed.
    let refund_row = html
        .split("<tr>")
        .find(|row| row.contains(r#"<td class="type">OrderRefunded</td>"#))
        .unwrap();
    assert!(refund_row.contains("admin"), "{refund_row}");
    assert!(
        refund_row.contains("scratched base, goodwill"),
        "{refund_row}"
    );
    assert!(
        refund_row.contains("<code>status</code>: <del>paid</del> → <ins>partially_refunded</ins>"),
        "{refund_row}"
    );
    assert!(refund_row.contains("<code>refunded</code>"), "{refund_row}");
    let unknown = page(format!("/admin/orders/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
}
