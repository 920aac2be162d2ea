//! The storefront journey against the real binary: a shopper registers, verifies the
//! address from the e-mail in the outbox, signs in, browses what the admin just stocked,
//! fills a cart, checks out, pays, sees the order paid; staff ship it; the analytics read
//! model counts the revenue and the audit trail names the shopper and the request.

use e2e::{eventually, send, usd, Server};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn a_shopper_buys_and_staff_ship() {
    let s = Server::start().await;
    let email = "ann.e2e@example.com";
    let password = "ann's long passphrase";

    // Register → the verification e-mail → verify → login.
    let user = s.register(email, password).await;
    assert_eq!(
        (&user["role"], &user["email_verified"]),
        (&json!("customer"), &json!(false))
    );
    let user_id = user["id"].as_str().unwrap().to_owned();
    let token = s.verification_token(email, 0).await;
    let verified = send(
        s.post("/api/v1/auth/verify-email")
            .json(&json!({ "token": token })),
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["email_verified"], true);
    let again = send(
        s.post("/api/v1/auth/verify-email")
            .json(&json!({ "token": token })),
    )
    .await;
    assert_eq!(again.problem(409)["code"], "token_used", "links work once");
    let ann = s.login(email, password).await.access;
    let profile = send(s.get("/api/v1/auth/profile").bearer_auth(&ann)).await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    assert_eq!(
        (&profile.body["id"], &profile.body["email_verified"]),
        (&json!(user_id), &json!(true))
    );

    // The admin stocks the shop.
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Trail Gear" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    category.consistency();
    let category_id = category.body["id"].as_str().unwrap().to_owned();
    let mut products = Vec::new();
    for (sku, name, price) in [
        ("BOOT-E2E", "Waterproof trail boots", 12_900),
        ("SOCK-E2E", "Merino hiking socks", 1_850),
    ] {
        let p = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
            "sku": sku, "name": name, "category_id": category_id, "price": usd(price),
            "description": format!("{name} for long days"),
            "attributes": { "colour": "green" },
        })))
        .await;
        assert_eq!(p.status, 201, "{}", p.text);
        assert_eq!(
            p.body["status"], "active",
            "staff products go on sale at once"
        );
        p.consistency();
        let stocked = send(
            s.post(&format!("/api/v1/inventory/{sku}/receive"))
                .bearer_auth(&admin)
                .json(&json!({ "quantity": 10 })),
        )
        .await;
        assert_eq!(stocked.status, 200, "{}", stocked.text);
        assert_eq!(stocked.body["available"], 10);
        products.push((
            p.body["id"].as_str().unwrap().to_owned(),
            price,
            stocked.consistency(),
        ));
    }
    let (boots, boot_price, _) = products[0].clone();
    let (socks, sock_price, written) = products[1].clone();

    // Browsing, anonymous, reads the admin's writes at once with the last token.
    let listed = send(
        s.get("/api/v1/products")
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["total"], 2, "{}", listed.text);
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Waterproof trail boots"), "{names:?}");
    for p in listed.body["items"].as_array().unwrap() {
        assert_eq!(p["stock"]["available"], 10, "{p}");
        assert!(
            p["stock"].get("on_hand").is_none(),
            "stock counts are staff-only: {p}"
        );
    }
    let found = send(
        s.get("/api/v1/products/search?q=boots")
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert_eq!(found.body["items"][0]["id"], json!(boots));
    let one = send(
        s.get(&format!("/api/v1/products/{boots}"))
            .bearer_auth(&ann)
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["price"], usd(boot_price));
    assert_eq!(one.body["category_id"], json!(category_id));
    assert_eq!(one.body["attributes"]["colour"], "green");
    let in_category = send(
        s.get(&format!("/api/v1/categories/{category_id}/products"))
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(in_category.status, 200, "{}", in_category.text);
    assert_eq!(in_category.body["total"], 2, "{}", in_category.text);

    // The cart.
    let added = send(
        s.post("/api/v1/cart/items")
            .bearer_auth(&ann)
            .json(&json!({ "product_id": boots, "quantity": 1 })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let added = send(
        s.post("/api/v1/cart/items")
            .bearer_auth(&ann)
            .json(&json!({ "product_id": socks, "quantity": 3 })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let lines_total = boot_price + 3 * sock_price;
    let cart = send(
        s.get("/api/v1/cart")
            .bearer_auth(&ann)
            .header("x-consistency-token", added.consistency()),
    )
    .await;
    assert_eq!(cart.status, 200, "{}", cart.text);
    assert_eq!(cart.body["item_count"], 4, "{}", cart.text);
    assert_eq!(cart.body["subtotal"], usd(lines_total));
    assert_eq!(cart.body["total"], usd(lines_total));

    // Checkout, under a request id of the test's choosing, to follow it into the audit.
    let checkout_request = Uuid::new_v4().to_string();
    let address = json!({
        "line1": "1 Summit Road", "city": "Boulder", "postal_code": "80302", "country": "US"
    });
    let placed = send(
        s.post("/api/v1/cart/checkout")
            .bearer_auth(&ann)
            .header("x-request-id", &checkout_request)
            .json(&json!({ "shipping_address": address, "payment_method": "card" })),
    )
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    assert_eq!(
        placed.header("x-request-id").as_deref(),
        Some(checkout_request.as_str()),
        "the gateway echoes the request id"
    );
    assert_eq!(placed.body["user_id"], json!(user_id));
    assert_eq!(placed.body["subtotal"], usd(lines_total));
    let total = placed.body["total"].clone();
    let total_amount = total["amount"].as_i64().unwrap();
    assert!(total_amount >= lines_total, "{total}");
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    let placed_token = placed.consistency();

    // The checkout saga reserves the stock; then the order can be paid.
    let order_path = format!("/api/v1/orders/{order_id}");
    eventually("the order awaits payment", || {
        let r = s
            .get(&order_path)
            .bearer_auth(&ann)
            .header("x-consistency-token", &placed_token);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            assert_ne!(a.body["status"], "cancelled", "{}", a.text);
            (a.body["status"] == "awaiting_payment").then_some(())
        }
    })
    .await;
    let pay_request = Uuid::new_v4().to_string();
    let paid = send(
        s.post(&format!("{order_path}/payment"))
            .bearer_auth(&ann)
            .header("x-request-id", &pay_request)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.body["payment_status"], "captured");
    assert_eq!(paid.body["amount"], total);
    // The token covers the captured payment; the saga marks the order paid just after.
    let paid_token = Some(paid.consistency());

    // Order history: the order, paid.
    let history = eventually("the order list shows it paid", || {
        let mut r = s.get("/api/v1/orders").bearer_auth(&ann);
        if let Some(t) = &paid_token {
            r = r.header("x-consistency-token", t);
        }
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            (a.body["items"][0]["status"] == "paid").then_some(a)
        }
    })
    .await;
    assert_eq!(history.body["total"], 1, "{}", history.text);
    let mine = &history.body["items"][0];
    assert_eq!(
        (&mine["id"], &mine["payment_status"], &mine["total"]),
        (&json!(order_id), &json!("captured"), &total)
    );
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(2), "{mine}");

    // Staff ship it.
    let shipped = send(
        s.put(&format!("{order_path}/status"))
            .bearer_auth(&admin)
            .json(&json!({ "status": "shipped", "tracking_number": "1Z-E2E-42" })),
    )
    .await;
    assert_eq!(shipped.status, 200, "{}", shipped.text);
    assert_eq!(
        (&shipped.body["status"], &shipped.body["tracking_number"]),
        (&json!("shipped"), &json!("1Z-E2E-42"))
    );
    let seen = send(
        s.get(&order_path)
            .bearer_auth(&ann)
            .header("x-consistency-token", shipped.consistency()),
    )
    .await;
    assert_eq!(seen.body["status"], "shipped", "{}", seen.text);
    let timeline = send(
        s.get(&format!("/api/v1/orders/history/{user_id}"))
            .bearer_auth(&ann)
            .header("x-consistency-token", shipped.consistency()),
    )
    .await;
    assert_eq!(timeline.status, 200, "{}", timeline.text);
    let statuses: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    for step in ["awaiting_payment", "paid", "shipped"] {
        assert!(statuses.contains(&step), "{step} in {statuses:?}");
    }

    // Shipping takes the reserved units off the shelf. The saga commits the reservation
    // after the shipment, so the ship answer's token does not cover it: poll.
    let stock = eventually("the shipment commits the reservation", || {
        let r = s.get("/api/v1/inventory/SOCK-E2E").bearer_auth(&admin);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            (a.body["reserved"] == 0).then_some(a)
        }
    })
    .await;
    assert_eq!(
        (
            &stock.body["on_hand"],
            &stock.body["available"],
            &stock.body["sold"]
        ),
        (&json!(7), &json!(7), &json!(3)),
        "{}",
        stock.text
    );

    // Analytics: the day of the payment has the revenue.
    let (orders_paid, gross, units): (i64, i64, i64) =
        eventually("analytics counts the payment", || async {
            sqlx::query_as(
                "select orders_paid, gross_revenue, units_sold from analytics.daily_sales
                  where day = (now() at time zone 'utc')::date and currency = 'USD'
                    and orders_paid > 0",
            )
            .fetch_optional(&s.db)
            .await
            .unwrap()
        })
        .await;
    assert_eq!((orders_paid, gross, units), (1, total_amount, 4));

    // Audit: the checkout's events name the shopper and carry the client's request id
    // beside the server's correlation id, which the saga's reactions share.
    let checkout_correlation = correlation_of(&s.db, &checkout_request).await;
    assert_ne!(
        checkout_correlation.to_string(),
        checkout_request,
        "the client's id never becomes the correlation id"
    );
    let placed_rows: Vec<(String, Option<Uuid>, String)> =
        eventually("the audit trail has the checkout", || async {
            let rows: Vec<(String, Option<Uuid>, String)> = sqlx::query_as(
                "select action, user_id, role from audit.audit_logs
                  where correlation_id = $1 order by commit_position, prepare_position",
            )
            .bind(checkout_correlation)
            .fetch_all(&s.db)
            .await
            .unwrap();
            let done = ["OrderPlaced", "StockReserved"]
                .iter()
                .all(|a| rows.iter().any(|r| r.0 == *a));
            done.then_some(rows)
        })
        .await;
    let customer = Uuid::parse_str(&user_id).unwrap();
    let placed_by_ann = placed_rows.iter().find(|r| r.0 == "OrderPlaced").unwrap();
    assert_eq!(
        (placed_by_ann.1, placed_by_ann.2.as_str()),
        (Some(customer), "customer"),
        "{placed_rows:?}"
    );
    assert!(
        placed_rows
            .iter()
            .any(|r| r.0 == "StockReserved" && r.1.is_none()),
        "the saga's reservation carries the checkout's correlation: {placed_rows:?}"
    );
    // The customer's payment, and the saga's `OrderPaid` it caused: the engine acted there
    // (no user), under the same correlation.
    let pay_correlation = correlation_of(&s.db, &pay_request).await;
    let paid_rows: Vec<(String, Option<Uuid>, String)> =
        eventually("the audit trail has the payment", || async {
            let rows: Vec<(String, Option<Uuid>, String)> = sqlx::query_as(
                "select action, user_id, role from audit.audit_logs where correlation_id = $1
                  order by commit_position, prepare_position",
            )
            .bind(pay_correlation)
            .fetch_all(&s.db)
            .await
            .unwrap();
            rows.iter().any(|r| r.0 == "OrderPaid").then_some(rows)
        })
        .await;
    assert!(
        paid_rows
            .iter()
            .any(|r| r.0 == "PaymentCaptured" && r.1 == Some(customer) && r.2 == "customer"),
        "{paid_rows:?}"
    );
    let ann_actions: Vec<String> =
        sqlx::query_scalar("select distinct action from audit.audit_logs where user_id = $1")
            .bind(customer)
            .fetch_all(&s.db)
            .await
            .unwrap();
    for action in [
        "UserRegistered",
        "EmailVerified",
        "OrderPlaced",
        "PaymentCaptured",
    ] {
        assert!(
            ann_actions.iter().any(|a| a == action),
            "{action} in {ann_actions:?}"
        );
    }
    let shipped_by: Option<(Option<Uuid>, String)> = sqlx::query_as(
        "select user_id, role from audit.audit_logs
          where action = 'OrderShipped' and resource = 'order' and resource_id = $1",
    )
    .bind(&order_id)
    .fetch_optional(&s.db)
    .await
    .unwrap();
    assert_eq!(
        shipped_by.map(|r| r.1),
        Some("admin".to_owned()),
        "the shipment is the admin's"
    );
}

/// The server's correlation id of the request the client sent as `X-Request-Id: request`,
/// found through the audit trail's `client_request_id`.
async fn correlation_of(db: &sqlx::PgPool, request: &str) -> Uuid {
    eventually("the audit trail has the request", || async {
        sqlx::query_scalar::<_, Uuid>(
            "select correlation_id from audit.audit_logs where client_request_id = $1
              order by commit_position limit 1",
        )
        .bind(request)
        .fetch_optional(db)
        .await
        .unwrap()
    })
    .await
}
