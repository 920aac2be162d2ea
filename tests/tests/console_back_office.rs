//! The commerce back office over plain HTTP (issue 25 items 4 and 5): the dashboard and
//! its JSON twin; shipping and refunding an order, suspending an account and changing its
//! role, creating and deactivating a coupon and the product forms, each through its
//! confirm step: the form token checked, the reason required and kept, the role refused,
//! and nothing changed by a read-only console.

mod console_support;

use console_support::ConsoleSession;
use e2e::{eventually, send, usd, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

const STAFF_EMAIL: &str = "otto.office@example.com";
const STAFF_PASSWORD: &str = "otto's back office password";
const ANALYST_EMAIL: &str = "ana.analyst@example.com";
const ANALYST_PASSWORD: &str = "ana's analyst password";
const AUDITOR_EMAIL: &str = "aud.auditor@example.com";
const AUDITOR_PASSWORD: &str = "aud's auditor password";

/// A paid order of two lamps by a new customer: the order's id and the customer's.
async fn a_paid_order(s: &Server) -> (String, String) {
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-OFFICE", "name": "Office lamp", "category_id": category.body["id"],
        "price": usd(4_000),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-OFFICE/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let (ann_id, ann) = s.customer("ann.office@example.com").await;
    let placed = send(s.post("/api/v1/orders").bearer_auth(&ann).json(&json!({
        "items": [{ "product_id": product.body["id"], "quantity": 2 }],
        "shipping_address": { "line1": "2 Elm St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB" },
        "payment_method": "card",
    })))
    .await;
    let order = placed.body["id"].as_str().unwrap().to_owned();
    eventually("the order awaits payment", || {
        let r = s.get(&format!("/api/v1/orders/{order}")).bearer_auth(&ann);
        async move { (send(r).await.body["status"] == "awaiting_payment").then_some(()) }
    })
    .await;
    let paid = send(
        s.post(&format!("/api/v1/orders/{order}/payment"))
            .bearer_auth(&ann)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    eventually("the order is paid in the read model", || {
        let r = s.get(&format!("/api/v1/orders/{order}")).bearer_auth(&ann);
        async move { (send(r).await.body["status"] == "paid").then_some(()) }
    })
    .await;
    (order, ann_id)
}

/// The History tab's row of `event` in `html`.
fn history_row<'a>(html: &'a str, event: &str) -> &'a str {
    html.split("<tr>")
        .find(|row| row.contains(&format!(r#"<td class="type">{event}</td>"#)))
        .unwrap_or_else(|| panic!("no {event} row: {html}"))
}

#[tokio::test]
async fn staff_ship_and_refund_admins_manage_accounts_and_the_dashboard_counts() {
    let s = Server::start().await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    s.account(ANALYST_EMAIL, ANALYST_PASSWORD, "analyst").await;
    s.account(AUDITOR_EMAIL, AUDITOR_PASSWORD, "auditor").await;
    let (order, ann_id) = a_paid_order(&s).await;
    let staff = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;

    // The dashboard, and its JSON twin.
    let token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let board = send(s.get("/api/v1/admin/dashboard").bearer_auth(&token)).await;
    assert_eq!(board.status, 200, "{}", board.text);
    assert_eq!(board.body["days"].as_array().unwrap().len(), 14);
    assert_eq!(board.body["today"]["orders"], 1, "{}", board.text);
    assert_eq!(board.body["today"]["paid_orders"], 1, "{}", board.text);
    assert_eq!(
        board.body["today"]["revenue"][0]["amount"], 8_000,
        "{}",
        board.text
    );
    assert_eq!(board.body["days"][13], board.body["today"]);
    assert!(board.body["projections"]["read_models"].as_u64().unwrap() > 5);
    let analyst = s.login(ANALYST_EMAIL, ANALYST_PASSWORD).await.access;
    let read = send(s.get("/api/v1/admin/dashboard").bearer_auth(&analyst)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let (_, ann) = s.customer("cy.customer@example.com").await;
    let refused = send(s.get("/api/v1/admin/dashboard").bearer_auth(&ann)).await;
    assert_eq!(refused.problem(403)["code"], "forbidden");
    let home = staff.get("/admin").await;
    assert_eq!(home.status, 200);
    assert!(
        home.html.contains(r#"hx-get="/admin/dashboard/live""#),
        "{}",
        home.html
    );
    assert!(
        home.html
            .contains(r#"<span class="figure" id="orders-today">1</span>"#),
        "{}",
        home.html
    );
    assert!(
        home.html.contains(r#"<rect class="bar today""#),
        "{}",
        home.html
    );
    assert!(
        !home.html.contains("style="),
        "no inline style: {}",
        home.html
    );
    let live = staff.get("/admin/dashboard/live").await;
    assert_eq!(live.status, 200);
    assert!(
        live.html.starts_with("<section id=\"dashboard\""),
        "{}",
        live.html
    );
    let auditor = ConsoleSession::open(&s, AUDITOR_EMAIL, AUDITOR_PASSWORD).await;
    let theirs = auditor.get("/admin").await;
    assert!(!theirs.html.contains("id=\"dashboard\""), "{}", theirs.html);
    assert_eq!(auditor.get("/admin/dashboard/live").await.status, 403);
    // Auditors have no commerce pages.
    assert_eq!(
        auditor
            .get(&format!("/admin/orders/{order}/refund"))
            .await
            .status,
        403
    );
    assert_eq!(auditor.get("/admin/products").await.status, 403);

    // Shipped, with a tracking number; the note is the reason.
    let shipped = staff
        .post(
            &format!("/admin/orders/{order}/ship"),
            &[("tracking_number", "TRK-42"), ("reason", "left the dock")],
        )
        .await;
    assert_eq!(shipped.status, 303, "{}", shipped.html);
    let page = staff.get(&format!("/admin/orders/{order}")).await;
    assert!(page.html.contains("TRK-42"), "{}", page.html);
    let row = history_row(&page.html, "OrderShipped");
    assert!(row.contains("left the dock"), "{row}");

    // A refund: the confirm step, then the order's page, and the reason in its history.
    let form = staff.get(&format!("/admin/orders/{order}")).await;
    assert!(
        form.html
            .contains(&format!(r#"href="/admin/orders/{order}/refund""#)),
        "{}",
        form.html
    );
    let step = staff.get(&format!("/admin/orders/{order}/refund")).await;
    assert_eq!(step.status, 200);
    assert!(step.html.contains(r#"name="reason""#), "{}", step.html);
    let forged = staff
        .post_bare(
            &format!("/admin/orders/{order}/refund"),
            &[("amount", "5.00"), ("reason", "dent"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let no_reason = staff
        .post(
            &format!("/admin/orders/{order}/refund"),
            &[("amount", "5.00"), ("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.html);
    assert!(
        no_reason.html.contains(r#"id="amount""#),
        "the form again: {}",
        no_reason.html
    );
    let too_much = staff
        .post(
            &format!("/admin/orders/{order}/refund"),
            &[("amount", "500.00"), ("reason", "why not")],
        )
        .await;
    assert_eq!(too_much.status, 422, "{}", too_much.html);
    let refunded = staff
        .post(
            &format!("/admin/orders/{order}/refund"),
            &[("amount", "5.00"), ("reason", "dented shade")],
        )
        .await;
    assert_eq!(refunded.status, 303, "{}", refunded.html);
    assert_eq!(
        refunded.location.as_deref(),
        Some(format!("/admin/orders/{order}").as_str())
    );
    let page = staff.get(&format!("/admin/orders/{order}")).await;
    assert!(
        page.html
            .contains(r#"<dd id="status">partially_refunded</dd>"#),
        "{}",
        page.html
    );
    let row = history_row(&page.html, "OrderRefunded");
    assert!(
        row.contains("dented shade") && row.contains("staff"),
        "{row}"
    );

    // Accounts are admins' pages: staff are refused, the navigation does not offer them.
    assert_eq!(staff.get("/admin/customers").await.status, 403);
    assert!(!home.html.contains(r#"href="/admin/customers""#));
    let admin = ConsoleSession::open(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let found = admin
        .get("/admin/customers?email=ann.office&role=&status=")
        .await;
    assert_eq!(found.status, 200, "{}", found.html);
    assert!(
        found.html.contains(&format!("/admin/customers/{ann_id}")),
        "{}",
        found.html
    );
    let bad = admin.get("/admin/customers?role=king").await;
    assert_eq!(bad.status, 422, "{}", bad.html);
    let role = admin
        .post(
            &format!("/admin/customers/{ann_id}/role"),
            &[("role", "vendor"), ("reason", "opened a store")],
        )
        .await;
    assert_eq!(role.status, 303, "{}", role.html);
    let suspended = admin
        .post(
            &format!("/admin/customers/{ann_id}/suspend"),
            &[("reason", "chargeback fraud")],
        )
        .await;
    assert_eq!(suspended.status, 303, "{}", suspended.html);
    let page = admin.get(&format!("/admin/customers/{ann_id}")).await;
    assert!(
        page.html.contains(r#"<dd id="role">vendor</dd>"#),
        "{}",
        page.html
    );
    assert!(
        page.html.contains(r#"<dd id="status">suspended</dd>"#),
        "{}",
        page.html
    );
    let row = history_row(&page.html, "RoleChanged");
    assert!(
        row.contains("opened a store") && row.contains("admin"),
        "{row}"
    );
    assert!(
        row.contains("<code>role</code>: <del>customer</del> → <ins>vendor</ins>"),
        "{row}"
    );
    assert!(history_row(&page.html, "UserSuspended").contains("chargeback fraud"));
    let signed_in = send(s.post("/api/v1/auth/login").json(&json!({
        "email": "ann.office@example.com", "password": "a customer's password",
    })))
    .await;
    assert_ne!(
        signed_in.status, 200,
        "a suspended account cannot sign in: {}",
        signed_in.text
    );
    // Reinstated through its own confirm step, with the reason kept in the History tab.
    assert!(
        page.html
            .contains(&format!("/admin/customers/{ann_id}/reinstate")),
        "{}",
        page.html
    );
    let reinstated = admin
        .post(
            &format!("/admin/customers/{ann_id}/reinstate"),
            &[("reason", "chargeback settled")],
        )
        .await;
    assert_eq!(reinstated.status, 303, "{}", reinstated.html);
    let page = admin.get(&format!("/admin/customers/{ann_id}")).await;
    assert!(
        // Ann never verified her e-mail, so she comes back pending, as she was.
        page.html.contains(r#"<dd id="status">pending</dd>"#),
        "{}",
        page.html
    );
    assert!(history_row(&page.html, "UserReactivated").contains("chargeback settled"));
    let again = admin
        .post(
            &format!("/admin/customers/{ann_id}/reinstate"),
            &[("reason", "twice")],
        )
        .await;
    assert_eq!(again.status, 409, "no longer suspended: {}", again.html);
    let signed_in = send(s.post("/api/v1/auth/login").json(&json!({
        "email": "ann.office@example.com", "password": "a customer's password",
    })))
    .await;
    assert_eq!(signed_in.status, 200, "reinstated: {}", signed_in.text);

    // Coupons: created and deactivated through their confirm steps.
    let made = staff
        .post(
            "/admin/coupons/new",
            &[
                ("code", "spring10"),
                ("kind", "percent"),
                ("value", "10"),
                ("currency", "USD"),
                ("max_uses", ""),
                ("reason", "spring sale"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.html);
    let listed = staff.get("/admin/coupons?q=SPRING").await;
    assert!(
        listed.html.contains("<code>SPRING10</code>"),
        "{}",
        listed.html
    );
    assert!(listed.html.contains("10.00% off"), "{}", listed.html);
    let taken = staff
        .post(
            "/admin/coupons/new",
            &[
                ("code", "SPRING10"),
                ("kind", "percent"),
                ("value", "5"),
                ("reason", "again"),
            ],
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.html);
    let off = staff
        .post(
            "/admin/coupons/SPRING10/deactivate",
            &[("reason", "sale over")],
        )
        .await;
    assert_eq!(off.status, 303, "{}", off.html);
    let listed = staff.get("/admin/coupons?active=false").await;
    assert!(
        listed.html.contains(r#"data-code="SPRING10""#),
        "{}",
        listed.html
    );
    let coupon = send(s.get("/api/v1/coupons/SPRING10").bearer_auth(&token)).await;
    assert_eq!(coupon.body["active"], false, "{}", coupon.text);
    // Its page: the History tab says who deactivated it and why; reactivated from there.
    assert_eq!(off.location.as_deref(), Some("/admin/coupons/SPRING10"));
    let page = staff.get("/admin/coupons/SPRING10").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains(r#"<dd id="active">no</dd>"#),
        "{}",
        page.html
    );
    assert!(history_row(&page.html, "CouponCreated").contains("spring sale"));
    let row = history_row(&page.html, "CouponDeactivated");
    assert!(row.contains("sale over") && row.contains("staff"), "{row}");
    assert!(
        row.contains("<code>active</code>: <del>true</del> → <ins>false</ins>"),
        "{row}"
    );
    let on = staff
        .post(
            "/admin/coupons/SPRING10/reactivate",
            &[("reason", "extended a week")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.html);
    let coupon = send(s.get("/api/v1/coupons/SPRING10").bearer_auth(&token)).await;
    assert_eq!(coupon.body["active"], true, "{}", coupon.text);
    let page = staff.get("/admin/coupons/SPRING10").await;
    assert!(history_row(&page.html, "CouponReactivated").contains("extended a week"));
    let unknown = staff.get("/admin/coupons/NOPE/reactivate").await;
    assert_eq!(unknown.status, 404, "{}", unknown.html);
    let wrong = staff.get("/admin/coupons/SPRING10/delete").await;
    assert_eq!(wrong.status, 404, "{}", wrong.html);

    // Products: a refused form shows again and creates nothing; a forged one is refused.
    let forged = staff
        .post_bare(
            "/admin/products/new",
            &[
                ("sku", "X-1"),
                ("name", "X"),
                ("price", "1"),
                ("reason", "r"),
                ("csrf", "nope"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let bad_price = staff
        .post(
            "/admin/products/new",
            &[
                ("sku", "DESK-1"),
                ("name", "Desk"),
                ("category_id", ""),
                ("price", "12.345"),
                ("currency", "USD"),
                ("reason", "new"),
            ],
        )
        .await;
    assert_eq!(bad_price.status, 422, "{}", bad_price.html);
    assert!(
        bad_price.html.contains(r#"value="DESK-1""#),
        "what was sent stays: {}",
        bad_price.html
    );
    let none = send(s.get("/api/v1/inventory/DESK-1").bearer_auth(&token)).await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn a_read_only_console_offers_and_takes_no_commerce_action() {
    let s = Server::start_with(&["--console-read-only"]).await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    let (order, ann_id) = a_paid_order(&s).await;
    let token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let product = send(s.get("/api/v1/products?q=office").bearer_auth(&token)).await;
    let product = product.body["items"][0]["id"].as_str().unwrap().to_owned();
    let staff = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let admin = ConsoleSession::open(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Pages show, without their actions.
    for (who, path, action) in [
        (&staff, format!("/admin/orders/{order}"), "/refund\""),
        (&staff, format!("/admin/products/{product}"), "/unpublish\""),
        (&staff, "/admin/products".to_owned(), "/admin/products/new"),
        (&staff, "/admin/coupons".to_owned(), "/admin/coupons/new"),
        (&admin, format!("/admin/customers/{ann_id}"), "/suspend\""),
    ] {
        let page = who.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.html);
        assert!(page.html.contains(r#"id="read-only""#), "{path}");
        assert!(
            !page.html.contains(action),
            "{path} offers {action}: {}",
            page.html
        );
    }
    assert_eq!(
        staff.get("/admin").await.status,
        200,
        "the dashboard reads on"
    );

    // Every confirm step and every action is refused.
    for (who, path, fields) in [
        (
            &staff,
            format!("/admin/orders/{order}/refund"),
            vec![("reason", "x")],
        ),
        (
            &staff,
            format!("/admin/orders/{order}/ship"),
            vec![("reason", "x")],
        ),
        (
            &staff,
            format!("/admin/products/{product}/unpublish"),
            vec![("reason", "x")],
        ),
        (
            &staff,
            format!("/admin/products/{product}/edit"),
            vec![("name", "Renamed"), ("reason", "x")],
        ),
        (
            &staff,
            format!("/admin/products/{product}/images"),
            vec![("url", "https://x.example/a.jpg"), ("reason", "x")],
        ),
        (
            &staff,
            "/admin/stock/LAMP-OFFICE/receive".to_owned(),
            vec![("quantity", "3"), ("reason", "x")],
        ),
        (
            &staff,
            "/admin/products/new".to_owned(),
            vec![("sku", "NEW-1"), ("reason", "x")],
        ),
        (
            &staff,
            "/admin/coupons/new".to_owned(),
            vec![("code", "RO"), ("reason", "x")],
        ),
        (
            &admin,
            format!("/admin/customers/{ann_id}/suspend"),
            vec![("reason", "x")],
        ),
    ] {
        let step = who.get(&path).await;
        assert_eq!(step.status, 403, "{path}: {}", step.html);
        assert!(step.html.contains(r#"data-code="read_only""#), "{path}");
        let sent = who.post(&path, &fields).await;
        assert_eq!(sent.status, 403, "{path}: {}", sent.html);
        assert!(sent.html.contains(r#"data-code="read_only""#), "{path}");
    }
    let still = send(
        s.get(&format!("/api/v1/orders/{order}"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(still.body["status"], "paid", "{}", still.text);
    let stock = send(s.get("/api/v1/inventory/LAMP-OFFICE").bearer_auth(&token)).await;
    assert_eq!(stock.body["on_hand"], 5, "{}", stock.text);
}
