//! The catalog's back office in a real browser (issue 25 items 4 and 5): staff sign in,
//! create a product as a draft, add an image, receive stock, publish it and change its
//! price, each through its confirm step, and the storefront API shows it on sale with its
//! stock; the product's History tab says who did each and why. The dashboard at `/admin`
//! shows the day's figures and its chart. Screenshots go to
//! `<target>/console-screenshots/`.

mod console_support;

use console_support::{browser, screenshot, sign_in, wait_for};
use e2e::{eventually, send, Server};
use fantoccini::{Client, Locator};
use serde_json::json;

const STAFF_EMAIL: &str = "cora.catalog@example.com";
const STAFF_PASSWORD: &str = "cora's catalog password";

/// Fills the field of `css` in the confirm step's form, once the page that has it is
/// there (the product page has a `#price` too, which a boosted link replaces).
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

/// Waits until the element `xpath` names reads `want` (after an action, the page it
/// leads to): fantoccini polls for it, the test does not sleep.
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

#[tokio::test]
async fn staff_create_dress_stock_and_publish_a_product_seen_by_the_storefront() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    let admin = s.admin().await;
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Reading lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);

    // Signed in, the products page; the navigation offers it.
    c.goto(&format!("{}/admin/products", s.origin))
        .await
        .unwrap();
    sign_in(c, STAFF_EMAIL, STAFF_PASSWORD).await;
    wait_for(c, "#empty").await;
    wait_for(c, "nav a[href='/admin/products']").await;

    // A new product, kept a draft while it is dressed.
    click(c, "#new-product").await;
    wait_for(c, "form.confirm #sku").await;
    fill(c, "#sku", "LAMP-BROWSER").await;
    fill(c, "#name", "Brass reading lamp").await;
    fill(c, "#price", "45.00").await;
    fill(c, "#description", "A lamp with a brass arm.").await;
    screenshot(c, "product-new").await;
    confirm(c, "spring range").await;
    wait_text(c, "//dd[@id='status']", "draft").await;
    let url = c.current_url().await.unwrap();
    let id = url
        .path()
        .strip_prefix("/admin/products/")
        .expect("the product's page")
        .to_owned();
    assert_eq!(
        c.find(Locator::Css("#price"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "45.00 USD"
    );

    // An image.
    click(c, "#add-image").await;
    fill(c, "#url", "https://images.example.com/brass-lamp.jpg").await;
    fill(c, "#alt", "The lamp, lit").await;
    confirm(c, "studio photo").await;
    let image = wait_for(c, "li.image").await.text().await.unwrap();
    assert!(image.contains("brass-lamp.jpg"), "{image}");

    // Stock received into the default warehouse.
    click(c, "table.stock a.receive").await;
    fill(c, "#quantity", "12").await;
    confirm(c, "first delivery").await;
    wait_text(
        c,
        "//tr[contains(@class,'warehouse')]/td[contains(@class,'on-hand')]",
        "12",
    )
    .await;

    // Published.
    click(c, "#publish").await;
    wait_for(c, "section.confirm").await;
    screenshot(c, "product-publish").await;
    confirm(c, "ready for sale").await;
    wait_text(c, "//dd[@id='status']", "active").await;

    // A new price, for a reason.
    click(c, "#edit").await;
    fill(c, "#price", "39.00").await;
    confirm(c, "spring discount").await;
    wait_text(c, "//dd[@id='price']", "39.00 USD").await;

    // The History tab: who did what, and why.
    let created = history_row(c, "ProductCreated").await;
    assert!(
        created.contains("staff") && created.contains("spring range"),
        "{created}"
    );
    let published = history_row(c, "ProductPublished").await;
    assert!(published.contains("staff"), "{published}");
    assert!(published.contains("ready for sale"), "{published}");
    assert!(published.contains("status: draft → active"), "{published}");
    let priced = history_row(c, "ProductPriceChanged").await;
    assert!(priced.contains("spring discount"), "{priced}");
    assert!(priced.contains("price: 45.00 USD → 39.00 USD"), "{priced}");
    let image = history_row(c, "ImageAdded").await;
    assert!(image.contains("studio photo"), "{image}");
    screenshot(c, "product").await;

    // The storefront shows it on sale, with its image, its stock and its price.
    let on_sale = eventually("the storefront shows the product in stock", || {
        let request = s.get(&format!("/api/v1/products/{id}"));
        async move {
            let p = send(request).await;
            (p.status == 200
                && p.body["status"] == "active"
                && p.body["stock"]["available"] == 12
                && p.body["price"]["amount"] == 3900)
                .then_some(p)
        }
    })
    .await;
    assert_eq!(on_sale.body["name"], "Brass reading lamp");
    assert_eq!(
        on_sale.body["images"][0]["url"],
        "https://images.example.com/brass-lamp.jpg"
    );

    // The list finds it by search.
    c.goto(&format!("{}/admin/products?q=brass", s.origin))
        .await
        .unwrap();
    let listed = wait_for(c, "#products").await.text().await.unwrap();
    assert!(listed.contains("Brass reading lamp"), "{listed}");
    screenshot(c, "products").await;

    // The dashboard: its figures and its chart, drawn on the server.
    c.goto(&format!("{}/admin", s.origin)).await.unwrap();
    wait_for(c, "#dashboard #orders-chart rect.bar.today").await;
    wait_for(c, "#orders-today").await;
    screenshot(c, "dashboard").await;
}
