//! A product's variants and the reviews' moderation in the back office, in a real browser
//! (issue 25 item 4): staff add a variant through its confirm step, change its price and
//! remove it, and the storefront API shows each; a review hidden from `/admin/reviews`
//! leaves the product's public reviews and its rating is folded again without it; the
//! review's History tab says who hid it and why. Forms without their token, other roles
//! and a read-only console are refused. Screenshots go to `<target>/console-screenshots/`.

mod console_support;

use console_support::{browser, screenshot, sign_in, wait_for, ConsoleSession};
use e2e::{eventually, send, usd, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

const STAFF_EMAIL: &str = "mo.moderator@example.com";
const STAFF_PASSWORD: &str = "mo's moderation password";
const ANALYST_EMAIL: &str = "an.analyst@example.com";
const ANALYST_PASSWORD: &str = "an's analyst password";

/// A lamp on sale with stock, made by the admin, once the catalog read model has it: its id.
async fn a_lamp(s: &Server) -> String {
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-DESK", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(4_500),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-DESK/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 10 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let id = product.body["id"].as_str().unwrap().to_owned();
    eventually("the storefront shows the lamp in stock", || {
        let r = s.get(&format!("/api/v1/products/{id}"));
        async move { (send(r).await.body["stock"]["available"] == 10).then_some(()) }
    })
    .await;
    id
}

/// `email`, a new customer, buys the lamp, pays, and staff deliver it; then they review it.
/// The review's answer.
async fn a_review(s: &Server, lamp: &str, email: &str, rating: u8, title: &str) -> Value {
    let (_, token) = s.customer(email).await;
    let placed = send(s.post("/api/v1/orders").bearer_auth(&token).json(&json!({
        "items": [{ "product_id": lamp, "quantity": 1 }],
        "shipping_address": { "line1": "2 Elm St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB" },
        "payment_method": "card",
    })))
    .await;
    assert_eq!(placed.status, 202, "{}", placed.text);
    let order = placed.body["id"].as_str().unwrap().to_owned();
    let status_is = |want: &'static str| {
        let (s, token, order) = (s, token.clone(), order.clone());
        async move {
            eventually(&format!("the order is {want}"), || {
                let r = s
                    .get(&format!("/api/v1/orders/{order}"))
                    .bearer_auth(&token);
                async move { (send(r).await.body["status"] == want).then_some(()) }
            })
            .await
        }
    };
    status_is("awaiting_payment").await;
    let paid = send(
        s.post(&format!("/api/v1/orders/{order}/payment"))
            .bearer_auth(&token)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    status_is("paid").await;
    let admin = s.admin().await;
    for status in ["shipped", "delivered"] {
        let moved = send(
            s.put(&format!("/api/v1/orders/{order}/status"))
                .bearer_auth(&admin)
                .json(&json!({ "status": status, "tracking_number": "T-1" })),
        )
        .await;
        assert_eq!(moved.status, 200, "{status}: {}", moved.text);
    }
    let written = send(
        s.post(&format!("/api/v1/products/{lamp}/reviews"))
            .bearer_auth(&token)
            .json(&json!({ "rating": rating, "title": title, "body": format!("{title}, in a few words.") })),
    )
    .await;
    assert_eq!(written.status, 201, "{}", written.text);
    written.body
}

/// Fills the field of `css` in the confirm step's form.
async fn fill(c: &Client, css: &str, text: &str) {
    let field = wait_for(c, &format!("form.confirm {css}")).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Fills the confirm step's reason and sends it.
async fn confirm(c: &Client, reason: &str) {
    fill(c, "#reason", reason).await;
    c.find(Locator::Css("form.confirm #confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap();
}

/// Waits until the element `xpath` names reads `want`.
async fn wait_text(c: &Client, xpath: &str, want: &str) {
    let path = format!("{xpath}[normalize-space()='{want}']");
    if let Err(e) = c
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(Locator::XPath(&path))
        .await
    {
        panic!(
            "{xpath} never read {want:?} ({e}): {}",
            c.source().await.unwrap_or_default()
        );
    }
}

/// The History tab's row of the event `event`, as text.
async fn history_row(c: &Client, event: &str) -> String {
    for row in c.find_all(Locator::Css("#history tbody tr")).await.unwrap() {
        let text = row.text().await.unwrap();
        if text.contains(event) {
            return text;
        }
    }
    panic!(
        "no {event} in the history: {}",
        c.source().await.unwrap_or_default()
    );
}

/// The product as the storefront API answers it, once `done` holds of it: the API keeps
/// its catalog answers for a second, and the console gives the test no consistency token.
async fn storefront(s: &Server, lamp: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually(&format!("the storefront shows {what}"), || {
        let r = s.get(&format!("/api/v1/products/{lamp}"));
        let done = &done;
        async move {
            let p = send(r).await;
            (p.status == 200 && done(&p.body)).then_some(p.body)
        }
    })
    .await
}

#[tokio::test]
async fn staff_manage_variants_and_hide_a_review_the_storefront_follows() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    s.account(ANALYST_EMAIL, ANALYST_PASSWORD, "analyst").await;
    let lamp = a_lamp(&s).await;

    // A variant, added on the product's page.
    c.goto(&format!("{}/admin/products/{lamp}", s.origin))
        .await
        .unwrap();
    sign_in(c, STAFF_EMAIL, STAFF_PASSWORD).await;
    click(c, "#add-variant").await;
    fill(c, "#sku", "LAMP-DESK-RED").await;
    fill(c, "#name", "Red").await;
    fill(c, "#price", "47.50").await;
    fill(c, "#attributes", "color: red\nwatts: 40").await;
    fill(c, "#stock", "3").await;
    screenshot(c, "variant-new").await;
    confirm(c, "red for the spring range").await;
    wait_for(c, "tr.variant[data-sku='LAMP-DESK-RED']").await;
    let added = storefront(&s, &lamp, "the variant", |p| {
        p["variants"].as_array().is_some_and(|v| !v.is_empty())
    })
    .await;
    let variant = &added["variants"][0];
    assert_eq!(variant["sku"], "LAMP-DESK-RED", "{added}");
    assert_eq!(variant["name"], "Red");
    assert_eq!(variant["price"], usd(4_750));
    assert_eq!(
        variant["attributes"],
        json!({ "color": "red", "watts": 40 })
    );
    assert_eq!(variant["stock"]["available"], 3, "{added}");

    // Its price changed, for a reason.
    click(c, "tr.variant[data-sku='LAMP-DESK-RED'] a.edit-variant").await;
    fill(c, "#price", "44.00").await;
    confirm(c, "matched the plain lamp").await;
    wait_text(
        c,
        "//tr[@data-sku='LAMP-DESK-RED']/td[contains(@class,'price')]",
        "44.00 USD",
    )
    .await;
    storefront(&s, &lamp, "the variant's new price", |p| {
        p["variants"][0]["price"] == usd(4_400)
    })
    .await;
    let added = history_row(c, "VariantAdded").await;
    assert!(
        added.contains("staff") && added.contains("red for the spring range"),
        "{added}"
    );
    let changed = history_row(c, "VariantUpdated").await;
    assert!(changed.contains("matched the plain lamp"), "{changed}");

    // Removing it while it has stock is refused, under the form; with none, it goes.
    click(c, "tr.variant[data-sku='LAMP-DESK-RED'] a.remove-variant").await;
    confirm(c, "discontinued").await;
    let refused = wait_for(c, "#problem").await;
    assert_eq!(
        refused.attr("data-code").await.unwrap().as_deref(),
        Some("variant_has_stock")
    );
    wait_for(c, "form.confirm #reason").await;
    let admin = s.admin().await;
    let emptied = send(
        s.post("/api/v1/inventory/LAMP-DESK-RED/adjust")
            .bearer_auth(&admin)
            .json(&json!({ "delta": -3, "reason": "damaged" })),
    )
    .await;
    assert_eq!(emptied.status, 200, "{}", emptied.text);
    confirm(c, "discontinued").await;
    wait_for(c, "#variants-section p.hint").await;
    storefront(&s, &lamp, "no variant", |p| p["variants"] == json!([])).await;

    // Two reviews; the staff's page lists them, newest first, and the product's rating
    // counts both.
    let kind = a_review(&s, &lamp, "ann.reviews@example.com", 5, "Lovely light").await;
    let rude = a_review(&s, &lamp, "bo.reviews@example.com", 1, "Rubbish seller").await;
    let rude_id = rude["id"].as_str().unwrap().to_owned();
    let public = format!("/api/v1/products/{lamp}/reviews");
    let both = eventually("the storefront lists both reviews", || {
        let r = s.get(&public);
        async move {
            let page = send(r).await;
            (page.body["total"] == 2).then_some(page)
        }
    })
    .await;
    assert_eq!(both.body["rating"]["average"], 3.0, "{}", both.text);
    c.goto(&format!("{}/admin/reviews", s.origin))
        .await
        .unwrap();
    wait_for(c, "nav a[href='/admin/reviews']").await;
    let row = wait_for(c, &format!("tr.review[data-review='{rude_id}']")).await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains("Rubbish seller") && text.contains("Desk lamp") && text.contains("1/5"),
        "{text}"
    );
    let rows = c.find_all(Locator::Css("tr.review")).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].attr("data-review").await.unwrap().as_deref(),
        Some(rude_id.as_str()),
        "newest first"
    );
    screenshot(c, "reviews").await;

    // Hidden through the confirm step.
    click(c, &format!("tr.review[data-review='{rude_id}'] a.moderate")).await;
    wait_for(c, "section.confirm").await;
    confirm(c, "insults, not a review").await;
    wait_text(c, "//dd[@id='status']", "hidden").await;
    let hidden = history_row(c, "ReviewHidden").await;
    assert!(
        hidden.contains("staff") && hidden.contains("insults, not a review"),
        "{hidden}"
    );
    assert!(hidden.contains("status: published → hidden"), "{hidden}");
    screenshot(c, "review").await;

    // The console answered once the reviews read model had it: the storefront's list and
    // the rating are folded without it already.
    let after = send(s.get(&public)).await;
    assert_eq!(after.body["total"], 1, "{}", after.text);
    assert_eq!(after.body["items"][0]["id"], kind["id"], "{}", after.text);
    assert_eq!(after.body["rating"]["count"], 1, "{}", after.text);
    assert_eq!(after.body["rating"]["average"], 5.0, "{}", after.text);
    storefront(&s, &lamp, "the rating without the hidden review", |p| {
        p["rating"]["average"] == 5.0 && p["rating"]["count"] == 1
    })
    .await;

    // The list by status: hidden ones apart, the published one without it.
    c.goto(&format!("{}/admin/reviews?status=hidden", s.origin))
        .await
        .unwrap();
    wait_for(c, &format!("tr.review[data-review='{rude_id}']")).await;
    let staff = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let published = staff
        .get(&format!(
            "/admin/reviews?status=published&product_id={lamp}"
        ))
        .await;
    assert_eq!(published.status, 200, "{}", published.html);
    assert!(!published.html.contains(&rude_id), "{}", published.html);
    assert!(
        published.html.contains("Lovely light"),
        "{}",
        published.html
    );
    assert_eq!(staff.get("/admin/reviews?status=lost").await.status, 400);

    // Refusals: a form without its token, a move the status does not allow, another role.
    let restore = format!("/admin/reviews/{rude_id}/status/published");
    let forged = staff.post_bare(&restore, &[("reason", "looks fine")]).await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let bare = staff.post(&restore, &[("reason", " ")]).await;
    assert_eq!(bare.status, 422, "{}", bare.html);
    assert!(bare.html.contains(r#"id="confirm""#), "{}", bare.html);
    let again = staff
        .get(&format!("/admin/reviews/{rude_id}/status/hidden"))
        .await;
    assert_eq!(again.status, 409, "{}", again.html);
    let analyst = ConsoleSession::open(&s, ANALYST_EMAIL, ANALYST_PASSWORD).await;
    assert_eq!(analyst.get("/admin/reviews").await.status, 403);
    let (_, customer) = s.customer("cy.reviews@example.com").await;
    let listed = send(s.get("/api/v1/admin/reviews").bearer_auth(&customer)).await;
    assert_eq!(listed.problem(403)["code"], "forbidden");
    let still = send(s.get(&public)).await;
    assert_eq!(
        still.body["total"], 1,
        "nothing refused changed it: {}",
        still.text
    );
}

#[tokio::test]
async fn a_read_only_console_neither_offers_nor_takes_variant_or_review_actions() {
    let s = Server::start_with(&["--console-read-only"]).await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    let lamp = a_lamp(&s).await;
    let staff = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let admin = ConsoleSession::open(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    for path in [format!("/admin/products/{lamp}"), "/admin/reviews".into()] {
        let page = staff.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.html);
        assert!(page.html.contains(r#"id="read-only""#), "{path}");
        for action in ["/variants/new", "a class=\"moderate\""] {
            assert!(!page.html.contains(action), "{path} offers {action}");
        }
    }
    let review = uuid::Uuid::new_v4();
    let variant = uuid::Uuid::new_v4();
    for (who, path, fields) in [
        (
            &staff,
            format!("/admin/products/{lamp}/variants/new"),
            vec![
                ("sku", "LAMP-RO"),
                ("name", "RO"),
                ("price", "1.00"),
                ("reason", "x"),
            ],
        ),
        (
            &staff,
            format!("/admin/products/{lamp}/variants/{variant}/remove"),
            vec![("reason", "x")],
        ),
        (
            &admin,
            format!("/admin/reviews/{review}/status/hidden"),
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
    let token = s.admin().await;
    let p = send(
        s.get(&format!("/api/v1/products/{lamp}"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(p.body["variants"], json!([]), "{}", p.text);
}
