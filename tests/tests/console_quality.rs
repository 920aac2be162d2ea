//! The console's quality (issue 25 item 6) in a real browser, over every page an admin's
//! navigation offers and the forms that create things: an admin signs in by keyboard
//! alone; every form field a page shows has a label; no page shows an error on a fresh
//! store; and in a phone-sized window no page scrolls sideways (wide tables scroll inside
//! themselves). The pages come from the navigation the console draws, so a page added to
//! it is checked without a change here.

mod console_support;

use console_support::{browser, screenshot, wait_for};
use e2e::{Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

/// The form fields of the page without a label: a `<label>` for it or around it, or an
/// `aria-label`/`aria-labelledby`. Hidden fields and buttons need none.
const UNLABELLED: &str = r#"
return [...document.querySelectorAll('input, select, textarea')]
  .filter(e => !['hidden', 'submit', 'button', 'reset'].includes(e.type))
  .filter(e => !(e.labels && e.labels.length)
            && !e.getAttribute('aria-label')
            && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 120));
"#;

/// How far the page scrolls sideways, in CSS pixels.
const SIDEWAYS: &str = r#"
const d = document.documentElement;
return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth;
"#;

/// The pages the navigation links to, as the console draws it for the signed-in reader.
async fn navigation(c: &Client) -> Vec<String> {
    let hrefs = c
        .execute(
            r#"return [...document.querySelectorAll('nav[aria-label="Console pages"] a')]
                 .map(a => a.getAttribute('href'));"#,
            vec![],
        )
        .await
        .unwrap();
    hrefs
        .as_array()
        .expect("a list of links")
        .iter()
        .map(|h| h.as_str().expect("an href").to_owned())
        .collect()
}

async fn visit(c: &Client, origin: &str, path: &str) {
    c.goto(&format!("{origin}{path}")).await.unwrap();
    // Every page, and only a page, has the one main landmark with its title.
    wait_for(c, "main#main h1").await;
}

#[tokio::test]
async fn every_page_is_labelled_keyboard_reachable_and_fits_a_phone() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;

    // By keyboard alone: the e-mail field has the focus, Tab moves to the password, Enter
    // sends the form.
    c.goto(&format!("{}/admin/login", s.origin)).await.unwrap();
    wait_for(c, "form.signin").await;
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("email"),
        "the sign-in form starts on the e-mail field"
    );
    focused
        .send_keys(&format!("{ADMIN_EMAIL}{}", char::from(Key::Tab)))
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("id").await.unwrap().as_deref(),
        Some("password")
    );
    focused
        .send_keys(&format!("{ADMIN_PASSWORD}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for(c, "#pages").await;
    // The first Tab on a page reaches the link that skips the navigation.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&char::from(Key::Tab).to_string())
        .await
        .unwrap();
    let first = c.active_element().await.unwrap();
    assert_eq!(
        first.attr("href").await.unwrap().as_deref(),
        Some("#main"),
        "the skip link comes first"
    );

    let mut pages = navigation(c).await;
    assert!(
        pages.len() >= 10,
        "an admin is offered every page: {pages:?}"
    );
    pages.extend(["/admin/products/new", "/admin/coupons/new"].map(str::to_owned));

    let mut unlabelled = Vec::new();
    let mut refused = Vec::new();
    for path in &pages {
        visit(c, &s.origin, path).await;
        let missing = c.execute(UNLABELLED, vec![]).await.unwrap();
        if !missing.as_array().expect("a list of fields").is_empty() {
            unlabelled.push(format!("{path}: {missing}"));
        }
        if c.find(Locator::Css("#problem")).await.is_ok() {
            let said = c
                .find(Locator::Css("#problem"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            refused.push(format!("{path}: {said}"));
        }
    }
    assert!(
        unlabelled.is_empty(),
        "fields without a label: {unlabelled:#?}"
    );
    assert!(refused.is_empty(), "pages showing an error: {refused:#?}");

    // A phone: 390 CSS pixels wide.
    c.set_window_size(390, 844).await.unwrap();
    let mut sideways = Vec::new();
    for path in &pages {
        visit(c, &s.origin, path).await;
        let by = c.execute(SIDEWAYS, vec![]).await.unwrap();
        if by.as_f64().expect("a width") > 1.0 {
            sideways.push(format!("{path}: {by} px"));
        }
    }
    assert!(
        sideways.is_empty(),
        "pages that scroll sideways in a phone's width: {sideways:#?}"
    );
    visit(c, &s.origin, "/admin").await;
    screenshot(c, "home-narrow").await;
}
