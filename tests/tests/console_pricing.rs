//! The price rules page of the console (issue 24's service, issue 25's page) over plain
//! HTTP: staff create a rule through its confirm step and the storefront's price follows;
//! the rule's History tab says who changed the price and why; disabling it gives the list
//! price back. Bad input is shown with the form, and the form token and the reason are
//! required.

mod console_support;

use console_support::{hidden_csrf, ConsoleSession};
use e2e::{eventually, send, usd, Server};
use serde_json::json;

const STAFF_EMAIL: &str = "priya.pricing@example.com";
const STAFF_PASSWORD: &str = "priya's pricing password";

/// The History tab's row of `event` in `html`.
fn history_row<'a>(html: &'a str, event: &str) -> &'a str {
    html.split("<tr>")
        .find(|row| row.contains(&format!(r#"<td class="type">{event}</td>"#)))
        .unwrap_or_else(|| panic!("no {event} row: {html}"))
}

/// The new-rule form's fields: `value` percent off product `product`, enabled at once.
fn rule(value: &str, product: &str, reason: &str) -> Vec<(&'static str, String)> {
    [
        ("name", "Winter kettles"),
        ("scope", "product"),
        ("scope_id", product),
        ("kind", "percent_off"),
        ("value", value),
        ("currency", "USD"),
        ("priority", "5"),
        ("enabled", "on"),
        ("reason", reason),
    ]
    .map(|(k, v)| (k, v.to_owned()))
    .to_vec()
}

/// Sends the new-rule form, with the session's token when `token`.
async fn post_rule(
    staff: &ConsoleSession,
    fields: Vec<(&'static str, String)>,
    token: bool,
) -> console_support::Shown {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if token {
        staff.post("/admin/pricing/new", &pairs).await
    } else {
        staff.post_bare("/admin/pricing/new", &pairs).await
    }
}

#[tokio::test]
async fn staff_put_a_product_on_sale_and_take_it_off_with_the_history_kept() {
    let s = Server::start().await;
    let admin = s.admin().await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Kettles" })),
    )
    .await;
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "KETTLE-1", "name": "Kettle", "category_id": category.body["id"],
        "price": usd(4_000),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let product_id = product.body["id"].as_str().unwrap().to_owned();
    let staff = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;

    let empty = staff.get("/admin/pricing").await;
    assert_eq!(empty.status, 200, "{}", empty.html);
    assert!(empty.html.contains(r#"id="empty""#), "{}", empty.html);
    assert!(
        empty.html.contains(r#"href="/admin/pricing""#),
        "the navigation offers the page: {}",
        empty.html
    );
    let form = staff.get("/admin/pricing/new").await;
    assert_eq!(form.status, 200, "{}", form.html);
    assert!(
        form.html.contains(r#"<label for="scope_id""#),
        "{}",
        form.html
    );

    // Refusals: no form token, no reason, a value that is no number, an id that is none.
    let bare = post_rule(&staff, rule("25", &product_id, "winter campaign"), false).await;
    assert_eq!(bare.status, 403, "no form token: {}", bare.html);
    let unexplained = post_rule(&staff, rule("25", &product_id, ""), true).await;
    assert_eq!(unexplained.status, 422, "{}", unexplained.html);
    let not_a_number = post_rule(
        &staff,
        rule("a quarter", &product_id, "winter campaign"),
        true,
    )
    .await;
    assert_eq!(not_a_number.status, 422, "{}", not_a_number.html);
    assert!(
        not_a_number.html.contains(r#"id="problem""#)
            && not_a_number.html.contains(r#"value="a quarter""#),
        "the refusal is shown over the form as it was sent: {}",
        not_a_number.html
    );
    let no_such = post_rule(
        &staff,
        rule("25", &uuid::Uuid::new_v4().to_string(), "winter campaign"),
        true,
    )
    .await;
    assert_eq!(no_such.status, 422, "no such product: {}", no_such.html);
    let listed = staff.get("/admin/pricing").await;
    assert!(
        listed.html.contains(r#"id="empty""#),
        "nothing refused was written: {}",
        listed.html
    );

    // 25% off the kettle, enabled at once: the storefront's price follows.
    let created = post_rule(&staff, rule("25", &product_id, "winter campaign"), true).await;
    assert_eq!(created.status, 303, "{}", created.html);
    let at = created.location.expect("to the rule's page");
    assert!(at.starts_with("/admin/pricing/"), "{at}");
    eventually("the storefront sells the kettle at 30.00", || {
        let r = s.get(&format!("/api/v1/products/{product_id}"));
        async move { (send(r).await.body["pricing"]["price"] == usd(3_000)).then_some(()) }
    })
    .await;
    let page = staff.get(&at).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains(r#"<dd id="status">active</dd>"#),
        "{}",
        page.html
    );
    assert!(page.html.contains("25.00% off"), "{}", page.html);
    let row = history_row(&page.html, "PriceRuleCreated");
    assert!(
        row.contains("winter campaign") && row.contains("staff"),
        "who and why: {row}"
    );
    let listed = staff
        .get("/admin/pricing?status=active&scope=product")
        .await;
    assert!(listed.html.contains("Winter kettles"), "{}", listed.html);
    let other = staff.get("/admin/pricing?status=draft").await;
    assert!(other.html.contains(r#"id="empty""#), "{}", other.html);
    let bad = staff.get("/admin/pricing?status=forever").await;
    assert_eq!(bad.status, 422, "{}", bad.html);

    // Disabled through its confirm step: the list price is back, and the tab says why.
    let confirm = staff.get(&format!("{at}/disable")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.html);
    assert_eq!(hidden_csrf(&confirm.html), staff.csrf);
    let disabled = staff
        .post(&format!("{at}/disable"), &[("reason", "campaign over")])
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.html);
    eventually("the kettle is back at 40.00", || {
        let r = s.get(&format!("/api/v1/products/{product_id}"));
        async move { (send(r).await.body["pricing"]["price"] == usd(4_000)).then_some(()) }
    })
    .await;
    let page = staff.get(&at).await;
    assert!(
        page.html.contains(r#"<dd id="status">draft</dd>"#),
        "{}",
        page.html
    );
    assert!(history_row(&page.html, "PriceRuleDisabled").contains("campaign over"));
    assert!(page.html.contains(r#"id="enable""#), "{}", page.html);
}
