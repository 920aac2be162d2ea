//! The back-office console (issue 25) in a real browser: headless Chromium driven through
//! chromedriver with `fantoccini`, against the real `ultramarket serve`. Staff sign in,
//! search the streams, open an order's stream and follow its correlation id; a customer's
//! credentials are refused; staff retry a parked event after fixing its cause, and
//! rebuild a read model, following its progress until it is verified. Over plain HTTP: every console form's CSRF token is checked,
//! the cookies and headers are what the ADR says, and the admin API pages `$all` both ways
//! without repeating or skipping an event.
//!
//! The browser tests start chromedriver themselves, on a free port. Without it they are
//! skipped with a message, unless `CI` is set: in CI a missing browser is a failure.
//! Screenshots of the main pages go to `<target>/console-screenshots/`.

mod console_support;

use std::time::Duration;

use console_support::{browser, screenshot, sign_in, wait_for};
use e2e::{eventually, send, usd, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::Locator;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{json, Value};
use sqlx::Connection;

const STAFF_EMAIL: &str = "stella.staff@example.com";
const STAFF_PASSWORD: &str = "stella's staff password";

/// A staff account, made by the bootstrap admin.
async fn staff(s: &Server) {
    s.account(STAFF_EMAIL, STAFF_PASSWORD, "staff").await;
}

/// A customer's order of one lamp: its id.
async fn an_order(s: &Server) -> String {
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-CONSOLE", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(4_500),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-CONSOLE/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let (_, ann) = s.customer("ann.console@example.com").await;
    let placed = send(s.post("/api/v1/orders").bearer_auth(&ann).json(&json!({
        "items": [{ "product_id": product.body["id"], "quantity": 1 }],
        "shipping_address": { "line1": "2 Elm St", "city": "Leeds", "postal_code": "LS1 4AP", "country": "GB" },
        "payment_method": "card",
    })))
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    placed.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn staff_sign_in_open_an_orders_stream_and_follow_its_correlation() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    staff(&s).await;
    let order = an_order(&s).await;
    let stream = format!("order-{order}");

    // Not signed in: the console sends the reader to sign in, then back.
    c.goto(&format!("{}/admin/streams?category=order", s.origin))
        .await
        .unwrap();
    screenshot(c, "sign-in").await;
    sign_in(c, STAFF_EMAIL, STAFF_PASSWORD).await;
    let table = wait_for(c, "#streams").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/admin/streams?category=order"),
        "back where the reader was going"
    );
    let listed = table.text().await.unwrap();
    assert!(listed.contains(&stream), "{listed}");
    screenshot(c, "streams").await;

    // The home page offers staff the event log.
    c.goto(&format!("{}/admin", s.origin)).await.unwrap();
    let pages = wait_for(c, "#pages").await.text().await.unwrap();
    assert!(
        pages.contains("Streams") && pages.contains("Events"),
        "{pages}"
    );
    screenshot(c, "home").await;

    // The order's stream: its events, each with data, metadata and links.
    c.goto(&format!(
        "{}/admin/streams?category=order&id={order}",
        s.origin
    ))
    .await
    .unwrap();
    wait_for(c, "#streams").await;
    c.find(Locator::Css(&format!("a.stream[href$='{stream}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let first = wait_for(c, "article.event").await;
    let shown = first.text().await.unwrap();
    assert!(shown.contains("OrderPlaced"), "{shown}");
    assert!(shown.contains("Schema version"), "{shown}");
    let heading = c.find(Locator::Css("main h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), stream);
    screenshot(c, "order-stream").await;

    // Its correlation id leads to every event of the request that placed it.
    let link = c
        .find(Locator::Css("article.event a.correlation"))
        .await
        .unwrap();
    let correlation = link.text().await.unwrap();
    link.click().await.unwrap();
    let filtered = wait_for(c, "#filter-correlation").await;
    assert!(filtered.text().await.unwrap().contains(&correlation));
    // `$all` shows a commit once the cluster's older transactions have ended: with other
    // tests writing beside this one, the page may come before the events do. Reloaded until
    // they are there.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = c.find_all(Locator::Css("tr.event")).await.unwrap();
        if !rows.is_empty() || std::time::Instant::now() > deadline {
            break rows;
        }
        c.refresh().await.unwrap();
        wait_for(c, "#filter-correlation").await;
    };
    assert!(!rows.is_empty(), "the request's events are listed");
    let mut types = Vec::new();
    for row in &rows {
        types.push(row.text().await.unwrap());
    }
    assert!(
        types
            .iter()
            .any(|t| t.contains("OrderPlaced") && t.contains(&stream)),
        "{types:#?}"
    );
    let url = c.current_url().await.unwrap();
    assert!(
        url.as_str()
            .contains(&format!("correlation_id={correlation}")),
        "{url}"
    );
    screenshot(c, "events-by-correlation").await;

    // Signing out ends the session: the console asks for a sign-in again.
    c.find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "form.signin").await;
    c.goto(&format!("{}/admin/events", s.origin)).await.unwrap();
    wait_for(c, "form.signin").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_customers_credentials_are_refused_at_admin() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    s.register("carl.console@example.com", "carl's customer password")
        .await;

    c.goto(&format!("{}/admin", s.origin)).await.unwrap();
    sign_in(c, "carl.console@example.com", "carl's customer password").await;
    let refusal = wait_for(c, "#problem").await.text().await.unwrap();
    assert!(refusal.contains("customer"), "{refusal}");
    screenshot(c, "customer-refused").await;
    // No session was left behind: the console still asks for a sign-in.
    c.goto(&format!("{}/admin/streams", s.origin))
        .await
        .unwrap();
    wait_for(c, "form.signin").await;
    browser.client.clone().close().await.unwrap();
}

/// The value of cookie `name` among `Set-Cookie` headers, with its attributes.
fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// `name=value` of a `Set-Cookie` header.
fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// The `value` of the hidden input `name="csrf"` of an HTML page.
fn hidden_csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn every_console_form_checks_its_csrf_token() {
    let s = Server::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let at = |path: &str| format!("{}{path}", s.origin);

    let form = http.get(at("/admin/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let csp = form.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let login_cookie = set_cookie(form.headers(), "um_console_login").expect("a form cookie");
    assert!(login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"));
    assert!(
        !login_cookie.contains("Secure"),
        "plain HTTP: {login_cookie}"
    );
    let token = hidden_csrf(&form.text().await.unwrap());
    let credentials = [("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)];

    // Without the token, or with another one: refused, and no session.
    for fields in [
        credentials.to_vec(),
        [credentials.as_slice(), &[("csrf", "forged")]].concat(),
    ] {
        let refused = http
            .post(at("/admin/login"))
            .header(COOKIE, pair(&login_cookie))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        assert!(set_cookie(refused.headers(), "um_console").is_none());
    }
    // With it: a session cookie, HttpOnly and SameSite=Strict.
    let mut fields = credentials.to_vec();
    fields.push(("csrf", &token));
    let signed = http
        .post(at("/admin/login"))
        .header(COOKIE, pair(&login_cookie))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()[LOCATION], "/admin");
    let session = set_cookie(signed.headers(), "um_console").expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let session = pair(&session).to_owned();

    let home = http
        .get(at("/admin"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let session_csrf = hidden_csrf(&home.text().await.unwrap());

    // Signing out without the session's token is refused, and the session lives on.
    let refused = http
        .post(at("/admin/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let still = http
        .get(at("/admin"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    // With it, the session ends.
    let out = http
        .post(at("/admin/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf", session_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let gone = http
        .get(at("/admin"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 303);
    assert!(gone.headers()[LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/admin/login"));
}

#[tokio::test]
async fn the_admin_api_pages_all_both_ways_without_repeats_or_gaps() {
    let s = Server::start().await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let order = an_order(&s).await;
    // The checkout saga settles the order first.
    eventually("the order awaits payment", || {
        let r = s
            .get(&format!("/api/v1/orders/{order}"))
            .bearer_auth(&staff_token);
        async move { (send(r).await.body["status"] == "awaiting_payment").then_some(()) }
    })
    .await;
    let get = |query: String| {
        let r = s
            .get(&format!("/api/v1/admin/events?{query}"))
            .bearer_auth(&staff_token);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            a.body
        }
    };
    let ids = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // The order's e-mails may still be on their way: a walk is compared with the whole
    // log as it stood before and after it, and walked again when the log moved meanwhile.
    let mut attempts = 0;
    let before_first = loop {
        attempts += 1;
        assert!(attempts <= 50, "the log never stood still for a walk");
        // The whole log (small here) in one page, newest first, as the reference.
        let everything: Vec<Value> = get("limit=100".into()).await["items"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            everything.len() > 6 && everything.len() < 100,
            "{}",
            everything.len()
        );
        // Older, three at a time, from the newest page to the oldest…
        let mut walked = Vec::new();
        let mut page = get("limit=3".into()).await;
        let before_first = page.clone();
        loop {
            walked.extend(ids(page["items"].as_array().unwrap()));
            let Some(older) = page["older"].as_str() else {
                break;
            };
            page = get(format!("limit=3&before={older}")).await;
        }
        // …and back, newer three at a time, meeting the same events in the same order.
        let mut back = Vec::new();
        loop {
            let mut items = ids(page["items"].as_array().unwrap());
            items.reverse();
            back.extend(items);
            let Some(newer) = page["newer"].as_str() else {
                break;
            };
            page = get(format!("limit=3&after={newer}")).await;
        }
        back.reverse();
        let after: Vec<Value> = get("limit=100".into()).await["items"]
            .as_array()
            .unwrap()
            .clone();
        if after != everything {
            // Polled as `eventually` polls.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        assert_eq!(walked, ids(&everything));
        assert_eq!(back, walked);
        break before_first;
    };
    assert!(
        before_first["newer"].is_null(),
        "nothing is newer than the newest page"
    );

    // Streams by category and id, and one stream's events with their metadata.
    let found = send(
        s.get(&format!(
            "/api/v1/admin/streams?category=order&id={}",
            &order[..8]
        ))
        .bearer_auth(&staff_token),
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(
        found.body["items"][0]["stream_id"],
        format!("order-{order}")
    );
    let events = send(
        s.get(&format!("/api/v1/admin/streams/order-{order}"))
            .bearer_auth(&staff_token),
    )
    .await;
    assert_eq!(events.status, 200, "{}", events.text);
    let placed = &events.body["items"][0];
    assert_eq!(placed["event_type"], "OrderPlaced");
    assert_eq!(placed["actor_role"], "customer");
    assert!(placed["correlation_id"].is_string(), "{placed}");
    // By correlation: the request that placed the order, the placement among its events.
    let by_correlation = get(format!(
        "correlation_id={}",
        placed["correlation_id"].as_str().unwrap()
    ))
    .await;
    assert!(by_correlation["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == placed["id"]));

    // Refusals: a customer, a malformed cursor, an unknown stream.
    let (_, customer) = s.customer("cora.console@example.com").await;
    send(s.get("/api/v1/admin/events").bearer_auth(&customer))
        .await
        .problem(403);
    send(
        s.get("/api/v1/admin/events?before=nope")
            .bearer_auth(&staff_token),
    )
    .await
    .problem(400);
    send(
        s.get("/api/v1/admin/streams/order-nothing")
            .bearer_auth(&staff_token),
    )
    .await
    .problem(404);
}

/// A console session signed in over plain HTTP: its cookie and its form token.
struct ConsoleSession {
    http: reqwest::Client,
    origin: String,
    cookie: String,
    csrf: String,
}

impl ConsoleSession {
    async fn open(s: &Server, email: &str, password: &str) -> ConsoleSession {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = http
            .get(format!("{}/admin/login", s.origin))
            .send()
            .await
            .unwrap();
        let login_cookie = set_cookie(form.headers(), "um_console_login").expect("a form cookie");
        let token = hidden_csrf(&form.text().await.unwrap());
        let signed = http
            .post(format!("{}/admin/login", s.origin))
            .header(COOKIE, pair(&login_cookie))
            .form(&[("email", email), ("password", password), ("csrf", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status(), 303);
        let cookie =
            pair(&set_cookie(signed.headers(), "um_console").expect("a session")).to_owned();
        let home = http
            .get(format!("{}/admin", s.origin))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let csrf = hidden_csrf(&home.text().await.unwrap());
        ConsoleSession {
            http,
            origin: s.origin.clone(),
            cookie,
            csrf,
        }
    }

    /// A page: its status and its HTML.
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.origin))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// A form sent with `fields` (the caller adds the token or not).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.origin))
            .header(COOKIE, &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The check constraint a test puts on the catalog's products so that the read model
/// refuses one product, the way a bug or a schema drift would.
const REFUSAL: &str = "console_refuses_cursed_lamps";

/// A product the catalog read model refuses (it breaks [`REFUSAL`]), parked after the
/// read model's three tries: the product's id and the parked event's `id`.
async fn a_parked_product(s: &Server, staff_token: &str) -> (String, String) {
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Haunted lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    // The catalog's tables exist once it has applied the category.
    let category_id = category.body["id"].as_str().unwrap().to_owned();
    eventually("the catalog has the category", || {
        let q = sqlx::query_scalar::<_, i64>(
            "select count(*) from catalog.categories where category_id = $1::uuid",
        )
        .bind(category_id.clone())
        .fetch_one(&s.db);
        async move { (q.await.ok()? == 1).then_some(()) }
    })
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter table catalog.products add constraint {REFUSAL} check (name <> 'Cursed lamp')"
    )))
    .execute(&s.db)
    .await
    .unwrap();
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-CURSED", "name": "Cursed lamp", "category_id": category_id,
        "price": usd(6_600),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let product_id = product.body["id"].as_str().unwrap().to_owned();
    let stream = format!("product-{product_id}");
    let parked_id = eventually("the catalog parks the product's creation", || {
        let r = s
            .get("/api/v1/admin/parked?projection=catalog")
            .bearer_auth(staff_token);
        let stream = stream.clone();
        async move {
            let page = send(r).await;
            assert_eq!(page.status, 200, "{}", page.text);
            page.body["items"]
                .as_array()?
                .iter()
                .find(|p| p["stream_id"] == stream.as_str())
                .map(|p| {
                    assert!(
                        p["error"].as_str().unwrap().contains(REFUSAL),
                        "the read model's own words: {p}"
                    );
                    assert_eq!(p["attempts"], 3, "{p}");
                    p["id"].as_str().unwrap().to_owned()
                })
        }
    })
    .await;
    (product_id, parked_id)
}

async fn in_catalog(s: &Server, product_id: &str) -> bool {
    sqlx::query_scalar::<_, i64>(
        "select count(*) from catalog.products where product_id = $1::uuid",
    )
    .bind(product_id)
    .fetch_one(&s.db)
    .await
    .unwrap()
        == 1
}

#[tokio::test]
async fn staff_retry_a_parked_event() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let (product, parked) = a_parked_product(&s, &staff_token).await;
    assert!(
        !in_catalog(&s, &product).await,
        "the read model went on without it"
    );

    // Staff find it among the parked events, with the read model's error.
    c.goto(&format!("{}/admin/parked", s.origin)).await.unwrap();
    sign_in(c, STAFF_EMAIL, STAFF_PASSWORD).await;
    let row = wait_for(c, &format!("#parked-{parked}")).await;
    let shown = row.text().await.unwrap();
    assert!(
        shown.contains("ProductCreated") && shown.contains(REFUSAL),
        "{shown}"
    );
    screenshot(c, "parked").await;

    // The cause is fixed; staff retry, through the confirm step.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter table catalog.products drop constraint {REFUSAL}"
    )))
    .execute(&s.db)
    .await
    .unwrap();
    row.find(Locator::Css("a.retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = wait_for(c, "#parked-error").await.text().await.unwrap();
    assert!(error.contains(REFUSAL), "{error}");
    c.find(Locator::Css("#reason"))
        .await
        .unwrap()
        .send_keys("the refusing constraint was dropped")
        .await
        .unwrap();
    screenshot(c, "parked-confirm").await;
    c.find(Locator::Css("#confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let outcome = wait_for(c, "#outcome").await;
    assert_eq!(
        outcome.attr("data-outcome").await.unwrap().as_deref(),
        Some("applied"),
        "{}",
        outcome.text().await.unwrap()
    );
    screenshot(c, "parked-retried").await;

    // The read model has the product now, the park has ended, and the action is on record.
    assert!(in_catalog(&s, &product).await);
    let seen = send(
        s.get(&format!("/api/v1/products/{product}"))
            .bearer_auth(&staff_token),
    )
    .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["name"], "Cursed lamp");
    let left = send(s.get("/api/v1/admin/parked").bearer_auth(&staff_token)).await;
    assert_eq!(left.body["total"], 0, "{}", left.text);
    let actions = send(
        s.get("/api/v1/admin/parked/actions")
            .bearer_auth(&staff_token),
    )
    .await;
    assert_eq!(actions.status, 200, "{}", actions.text);
    let done = &actions.body["items"][0];
    assert_eq!(done["parked_id"], parked.as_str());
    assert_eq!(done["action"], "retry");
    assert_eq!(done["outcome"], "applied");
    assert_eq!(done["actor_role"], "staff");
    assert_eq!(done["reason"], "the refusing constraint was dropped");
    // The page lists it under the actions taken.
    c.find(Locator::Css("#back"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let recorded = wait_for(c, "#actions").await.text().await.unwrap();
    assert!(
        recorded.contains("the refusing constraint was dropped"),
        "{recorded}"
    );
    browser.client.clone().close().await.unwrap();
}

/// Retrying while the cause is still there changes nothing but the record: the event stays
/// parked with one more attempt, and the refusal is a 409 that quotes the read model. Then
/// skip and discard each end a park, audited; a form without the session's token, or a
/// customer, changes nothing.
#[tokio::test]
async fn parked_events_retried_too_soon_skipped_and_discarded_over_http() {
    let s = Server::start().await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let (product, parked) = a_parked_product(&s, &staff_token).await;
    let retry = |reason: &str| {
        s.post(&format!("/api/v1/admin/parked/{parked}/retry"))
            .bearer_auth(&staff_token)
            .json(&json!({ "reason": reason }))
    };
    let refused = send(retry("too soon")).await;
    let problem = refused.problem(409);
    assert_eq!(problem["code"], "retry_failed");
    assert!(
        problem["detail"].as_str().unwrap().contains(REFUSAL),
        "{problem}"
    );
    send(retry("   ")).await.problem(422);
    let (_, customer) = s.customer("cody.console@example.com").await;
    send(
        s.post(&format!("/api/v1/admin/parked/{parked}/skip"))
            .bearer_auth(&customer)
            .json(&json!({ "reason": "not mine to skip" })),
    )
    .await
    .problem(403);
    let still = send(s.get("/api/v1/admin/parked").bearer_auth(&staff_token)).await;
    assert_eq!(still.body["total"], 1, "{}", still.text);
    assert_eq!(still.body["items"][0]["attempts"], 4, "{}", still.text);
    assert!(!in_catalog(&s, &product).await);

    // The console's form needs the session's token.
    let console = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let path = format!("/admin/parked/{parked}/skip");
    let (status, _) = console.post(&path, &[("reason", "no token")]).await;
    assert_eq!(status, 403);
    let (status, page) = console
        .post(
            &path,
            &[
                ("reason", "a rebuild will take it"),
                ("csrf", &console.csrf),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-outcome="skipped""#), "{page}");
    send(retry("gone")).await.problem(404);

    let actions = send(
        s.get("/api/v1/admin/parked/actions")
            .bearer_auth(&staff_token),
    )
    .await;
    let outcomes: Vec<(String, String)> = actions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["outcome"].as_str().unwrap().to_owned(),
                a["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("skipped".to_owned(), "a rebuild will take it".to_owned()),
            ("failed".to_owned(), "too soon".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_read_only_console_shows_and_changes_nothing() {
    let s = Server::start_with(&["--console-read-only"]).await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let (_, parked) = a_parked_product(&s, &staff_token).await;

    for path in [
        format!("/api/v1/admin/parked/{parked}/retry"),
        format!("/api/v1/admin/parked/{parked}/skip"),
        format!("/api/v1/admin/parked/{parked}/discard"),
        "/api/v1/admin/projections/catalog/rebuild".to_owned(),
    ] {
        let refused = send(
            s.post(&path)
                .bearer_auth(&staff_token)
                .json(&json!({ "reason": "production" })),
        )
        .await;
        assert_eq!(refused.problem(403)["code"], "read_only", "{path}");
    }
    // Reading is open as ever.
    let status = send(s.get("/api/v1/admin/projections").bearer_auth(&staff_token)).await;
    assert_eq!(status.status, 200, "{}", status.text);

    let console = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let (status, page) = console.get("/admin/parked").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"id="read-only""#), "{page}");
    assert!(page.contains(&format!("parked-{parked}")), "listed");
    assert!(!page.contains("/retry"), "no action offered: {page}");
    let (status, page) = console.get("/admin/projections").await;
    assert_eq!(status, 200);
    assert!(!page.contains("/rebuild\""), "no rebuild offered: {page}");
    let (status, page) = console.get(&format!("/admin/parked/{parked}/retry")).await;
    assert_eq!(status, 403);
    assert!(page.contains(r#"data-code="read_only""#), "{page}");
    let (status, page) = console
        .post(
            &format!("/admin/parked/{parked}/discard"),
            &[("reason", "production"), ("csrf", &console.csrf)],
        )
        .await;
    assert_eq!(status, 403);
    assert!(page.contains(r#"data-code="read_only""#), "{page}");
    let still = send(s.get("/api/v1/admin/parked").bearer_auth(&staff_token)).await;
    assert_eq!(still.body["total"], 1, "{}", still.text);
}

/// A read model whose batches cannot run (another session holds its lock, as a hung
/// transaction would) falls behind and is reported stalled once events have waited the
/// configured time on a checkpoint that does not move; let go, it catches up and is not.
#[tokio::test]
async fn the_projection_status_reports_lag_and_a_stall() {
    let s = Server::start_with(&["--projection-stall-after", "1s"]).await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let catalog = |body: &Value| -> Value {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "catalog")
            .cloned()
            .expect("the catalog read model is listed")
    };
    let status = || {
        let r = s.get("/api/v1/admin/projections").bearer_auth(&staff_token);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            a.body
        }
    };
    let first = status().await;
    assert_eq!(first["stall_after_seconds"], 1);
    assert!(first["head"].is_string(), "{first}");
    // Every read model of the engine is listed.
    assert!(first["items"].as_array().unwrap().len() >= 10, "{first}");

    let mut holder = sqlx::PgConnection::connect(&s.database_url).await.unwrap();
    sqlx::query("select pg_advisory_lock(hashtext('projection:catalog'))")
        .execute(&mut holder)
        .await
        .unwrap();
    let admin = s.admin().await;
    let made = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Stalled lamps" })),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let stalled = eventually("the catalog is reported stalled", || {
        let body = status();
        async move {
            let c = catalog(&body.await);
            (c["stalled"] == true).then_some(c)
        }
    })
    .await;
    assert!(stalled["lag_events"].as_i64().unwrap() >= 1, "{stalled}");
    assert_eq!(stalled["caught_up"], false, "{stalled}");
    let console = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let (code, page) = console.get("/admin/projections/live").await;
    assert_eq!(code, 200);
    assert!(page.contains(r#"class="stalled""#), "{page}");
    assert!(
        page.contains(r#"hx-trigger="every 2s""#),
        "it keeps polling: {page}"
    );

    sqlx::query("select pg_advisory_unlock(hashtext('projection:catalog'))")
        .execute(&mut holder)
        .await
        .unwrap();
    eventually("the catalog catches up and is not stalled", || {
        let body = status();
        async move {
            let c = catalog(&body.await);
            (c["stalled"] == false && c["caught_up"] == true).then_some(())
        }
    })
    .await;
    let (_, customer) = s.customer("cleo.console@example.com").await;
    send(s.get("/api/v1/admin/projections").bearer_auth(&customer))
        .await
        .problem(403);
}

#[tokio::test]
async fn a_rebuild_started_from_the_console_ends_verified() {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    an_order(&s).await;

    c.goto(&format!("{}/admin/projections", s.origin))
        .await
        .unwrap();
    sign_in(c, STAFF_EMAIL, STAFF_PASSWORD).await;
    let table = wait_for(c, "#projections-live #projections").await;
    assert!(table.text().await.unwrap().contains("catalog"));
    screenshot(c, "projections").await;
    c.find(Locator::Css("tr.projection[data-name='catalog'] a.rebuild"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "form.confirm")
        .await
        .find(Locator::Css("#reason"))
        .await
        .unwrap()
        .send_keys("checking the console's rebuild")
        .await
        .unwrap();
    c.find(Locator::Css("#confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The progress page follows the rebuild until it has ended, verified.
    let verdict = wait_for(c, "#rebuild-verdict").await.text().await.unwrap();
    let state = c
        .find(Locator::Css("#rebuild-state"))
        .await
        .unwrap()
        .attr("data-state")
        .await
        .unwrap();
    assert_eq!(state.as_deref(), Some("verified"), "{verdict}");
    screenshot(c, "rebuild-verified").await;
    let url = c.current_url().await.unwrap();
    let id = url.path().rsplit('/').next().unwrap().to_owned();

    let rebuild = send(
        s.get(&format!("/api/v1/admin/rebuilds/{id}"))
            .bearer_auth(&staff_token),
    )
    .await;
    assert_eq!(rebuild.status, 200, "{}", rebuild.text);
    assert_eq!(rebuild.body["state"], "verified");
    assert_eq!(rebuild.body["projection"], "catalog");
    assert!(
        rebuild.body["events"].as_i64().unwrap() > 0,
        "{}",
        rebuild.text
    );
    assert_eq!(rebuild.body["reason"], "checking the console's rebuild");
    assert!(rebuild.body["head"].is_string(), "{}", rebuild.text);
    assert_eq!(
        rebuild.body["position"], rebuild.body["head"],
        "it ended at the head it worked towards"
    );
    // Its read model's status names it, and a second one may start now.
    let listed = send(s.get("/api/v1/admin/projections").bearer_auth(&staff_token)).await;
    let catalog = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "catalog")
        .unwrap()
        .clone();
    assert_eq!(catalog["rebuild"]["id"], id.as_str(), "{catalog}");
    let again = send(
        s.post("/api/v1/admin/projections/catalog/rebuild")
            .bearer_auth(&staff_token)
            .json(&json!({ "reason": "once more" })),
    )
    .await;
    assert_eq!(again.status, 202, "{}", again.text);
    let again_id = again.body["id"].as_str().unwrap().to_owned();
    eventually("the second rebuild ends verified", || {
        let r = s
            .get(&format!("/api/v1/admin/rebuilds/{again_id}"))
            .bearer_auth(&staff_token);
        async move {
            let a = send(r).await;
            let state = a.body["state"].as_str()?.to_owned();
            assert!(
                !["mismatch", "failed"].contains(&state.as_str()),
                "{}",
                a.text
            );
            (state == "verified").then_some(())
        }
    })
    .await;
    browser.client.clone().close().await.unwrap();
}

/// Through JetStream, each read model has a consumer whose pending and redelivered counts
/// the admin API and the console show; the health and outbox pages show what their JSON
/// twins answer. Without NATS the consumers' page says there are none.
#[tokio::test]
async fn consumers_health_and_outbox_are_shown_to_staff() {
    let deployment = e2e::deployment::Deployment::with_nats();
    let s = deployment.start("serve", &[]).await;
    staff(&s).await;
    let staff_token = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    an_order(&s).await;
    let listed = eventually("the catalog's consumer has taken every message", || {
        let r = s.get("/api/v1/admin/consumers").bearer_auth(&staff_token);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            assert_eq!(a.body["configured"], true, "{}", a.text);
            let catalog = a.body["items"]
                .as_array()?
                .iter()
                .find(|c| c["name"] == "catalog")?
                .clone();
            (catalog["pending"] == 0
                && catalog["ack_pending"] == 0
                && catalog["delivered_stream_sequence"].as_u64()? > 0)
                .then_some(a.body)
        }
    })
    .await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"orders") && names.contains(&"catalog"),
        "{names:?}"
    );
    assert!(listed["items"][0]["redelivered"].is_u64(), "{listed}");
    let (_, customer) = s.customer("cass.console@example.com").await;
    send(s.get("/api/v1/admin/consumers").bearer_auth(&customer))
        .await
        .problem(403);

    let console = ConsoleSession::open(&s, STAFF_EMAIL, STAFF_PASSWORD).await;
    let (code, page) = console.get("/admin/consumers").await;
    assert_eq!(code, 200);
    assert!(page.contains(r#"data-name="catalog""#), "{page}");
    let (code, page) = console.get("/admin/health").await;
    assert_eq!(code, 200);
    assert!(
        page.contains(r#"data-name="NATS" data-status="up""#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-name="PostgreSQL" data-status="up""#),
        "{page}"
    );
    let outbox = eventually("the order's e-mail is in the outbox", || {
        let console = &console;
        async move {
            let (code, page) = console.get("/admin/outbox").await;
            assert_eq!(code, 200);
            page.contains("ann.console@example.com").then_some(page)
        }
    })
    .await;
    assert!(outbox.contains(r#"id="outbox""#), "{outbox}");
    let (code, page) = console.get("/admin/outbox?status=lost").await;
    assert_eq!(code, 422, "{page}");
    assert!(page.contains("one of pending, sent, failed"), "{page}");

    // Embedded, there is no consumer to show.
    let embedded = Server::start().await;
    staff(&embedded).await;
    let token = embedded.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;
    let none = send(embedded.get("/api/v1/admin/consumers").bearer_auth(&token)).await;
    assert_eq!(none.status, 200, "{}", none.text);
    assert_eq!(none.body["configured"], false);
    let console = ConsoleSession::open(&embedded, STAFF_EMAIL, STAFF_PASSWORD).await;
    let (_, page) = console.get("/admin/consumers").await;
    assert!(page.contains(r#"id="not-configured""#), "{page}");
}

/// An analyst's SQL runs as a role of its own that reads the read models and nothing else,
/// read-only, under a timeout, and answers rows or CSV; what PostgreSQL refuses is said in
/// its words.
#[tokio::test]
async fn analysts_read_the_read_models_with_sql_and_nothing_else() {
    let role = format!(
        "um_analyst_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let deployment = e2e::deployment::Deployment::embedded();
    let analyst_url = deployment
        .database_url
        .replacen("://postgres@", &format!("://{role}@"), 1);
    assert_ne!(
        analyst_url, deployment.database_url,
        "a URL naming the postgres user"
    );
    let s = deployment
        .start("serve", &["--analyst-database-url", &analyst_url])
        .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("create role {role} login")))
        .execute(&s.db)
        .await
        .unwrap();
    let admin = s.admin().await;
    let made = send(s.post("/api/v1/users").bearer_auth(&admin).json(&json!({
        "email": "ada.analyst@example.com", "password": "ada's analyst password", "role": "analyst",
    })))
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let analyst = s
        .login("ada.analyst@example.com", "ada's analyst password")
        .await
        .access;
    an_order(&s).await;
    let sql = |text: &str, query: &str| {
        s.post(&format!("/api/v1/admin/sql{query}"))
            .bearer_auth(&analyst)
            .json(&json!({ "sql": text }))
    };
    let found = eventually("the catalog has the lamp", || {
        let r = sql("select sku, name, price is not null as priced from catalog.products order by sku -- the lamp", "");
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            (a.body["rows"].as_array()?.len() == 1).then_some(a.body)
        }
    })
    .await;
    assert_eq!(found["columns"], json!(["sku", "name", "priced"]));
    assert_eq!(
        found["rows"][0],
        json!(["LAMP-CONSOLE", "Desk lamp", "true"])
    );
    assert_eq!(found["truncated"], false);

    let refusal = |text: &'static str| {
        let r = sql(text, "");
        async move {
            let a = send(r).await;
            a.problem(422)["code"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        refusal("select * from auth.refresh_tokens").await,
        "sql_forbidden"
    );
    assert_eq!(
        refusal("select count(*) from store.events").await,
        "sql_forbidden"
    );
    assert_eq!(refusal("delete from orders.orders").await, "sql_error");
    assert_eq!(
        refusal("select 1; drop table orders.orders").await,
        "sql_error"
    );
    assert_eq!(
        refusal("select set_config('role', 'postgres', true), (select count(*) from auth.refresh_tokens)").await,
        "sql_forbidden"
    );
    assert_eq!(refusal("select pg_sleep(30)").await, "sql_timeout");
    let still: i64 = sqlx::query_scalar("select count(*) from orders.orders")
        .fetch_one(&s.db)
        .await
        .unwrap();
    assert_eq!(still, 1, "nothing was deleted");

    // CSV, quoted where it must be; a row cap.
    let csv = sql(
        "select 'a,b' as x, null::text as y union all select 'c', 'd\"e'",
        "?format=csv",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(
        csv.text().await.unwrap(),
        "x,y\r\n\"a,b\",\r\nc,\"d\"\"e\"\r\n"
    );
    let many = send(sql("select g from generate_series(1, 5000) g", "")).await;
    assert_eq!(many.status, 200, "{}", many.text);
    assert_eq!(many.body["rows"].as_array().unwrap().len(), 1000);
    assert_eq!(many.body["truncated"], true);
    // Staff run the shop; they do not query it.
    let staff_token = {
        staff(&s).await;
        s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access
    };
    send(
        s.post("/api/v1/admin/sql")
            .bearer_auth(&staff_token)
            .json(&json!({ "sql": "select 1" })),
    )
    .await
    .problem(403);

    // The console's page: a table, and the same rows as a CSV download.
    let console =
        ConsoleSession::open(&s, "ada.analyst@example.com", "ada's analyst password").await;
    let (code, page) = console.get("/admin/sql").await;
    assert_eq!(code, 200);
    assert!(page.contains(r#"id="sql""#), "{page}");
    let query = "select sku from catalog.products";
    let (code, page) = console
        .post(
            "/admin/sql",
            &[("sql", query), ("format", "table"), ("csrf", &console.csrf)],
        )
        .await;
    assert_eq!(code, 200, "{page}");
    assert!(
        page.contains("LAMP-CONSOLE") && page.contains(r#"id="sql-rows""#),
        "{page}"
    );
    let (code, page) = console
        .post(
            "/admin/sql",
            &[("sql", query), ("format", "csv"), ("csrf", &console.csrf)],
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(page, "sku\r\nLAMP-CONSOLE\r\n");
    let (code, _) = console.post("/admin/sql", &[("sql", query)]).await;
    assert_eq!(code, 403, "no form token, no query");
    drop(s);
    // The role is the cluster's, not the database's: gone with the test.
    let server = sqlx::PgPool::connect(&deployment.database_url)
        .await
        .unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("drop owned by {role}")))
        .execute(&server)
        .await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("drop role {role}")))
        .execute(&server)
        .await;
}
