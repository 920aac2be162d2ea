//! The audit trail in the console (issue 25 item 2), in a real browser: an auditor signs
//! in, finds an order's placement in the audit trail, and follows its correlation id from
//! the HTTP request to every event it caused and the read models those events reached.
//! Over plain HTTP: the state page, the stepper and the live tail with its pause, which
//! work without a script of their own. A screenshot of the timeline goes to
//! `<target>/console-screenshots/audit-timeline.png`.

mod console_support;

use console_support::{browser, screenshot, sign_in, wait_for};
use e2e::{eventually, send, usd, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use fantoccini::Locator;
use reqwest::header::COOKIE;
use serde_json::{json, Value};

const AUDITOR_EMAIL: &str = "audrey.auditor@example.com";
const AUDITOR_PASSWORD: &str = "audrey's auditor password";

/// An auditor's account, made by the bootstrap admin: its access token.
async fn auditor(s: &Server) -> String {
    s.account(AUDITOR_EMAIL, AUDITOR_PASSWORD, "auditor").await;
    s.login(AUDITOR_EMAIL, AUDITOR_PASSWORD).await.access
}

/// A customer's order of one lamp, placed over HTTP: its id and the request's correlation
/// id (the request id the server echoes when the client sent none).
async fn an_order(s: &Server) -> (String, String) {
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-AUDIT", "name": "Desk lamp", "category_id": category.body["id"],
        "price": usd(4_500),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-AUDIT/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let (_, ann) = s.customer("ann.audit@example.com").await;
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
    let correlation = placed.header("x-request-id").expect("a request id");
    (placed.body["id"].as_str().unwrap().to_owned(), correlation)
}

/// The timeline as the API answers it, once the orders read model has reached the order's
/// placement and the audit trail has recorded the request.
async fn timeline_reached(s: &Server, token: &str, correlation: &str) -> Value {
    eventually(
        "the order's placement reaches the orders read model",
        || {
            let r = s
                .get(&format!("/api/v1/admin/audit/correlations/{correlation}"))
                .bearer_auth(token);
            async move {
                let t = send(r).await;
                let placed = t.body["events"]
                    .as_array()?
                    .iter()
                    .find(|e| e["event"]["event_type"] == "OrderPlaced")?
                    .clone();
                let reached = placed["read_models"]
                    .as_array()?
                    .iter()
                    .any(|m| m["name"] == "orders" && m["reached"] == true);
                (reached && !t.body["request"].is_null()).then_some(t.body)
            }
        },
    )
    .await
}

#[tokio::test]
async fn an_auditor_follows_an_orders_correlation_id_from_the_http_request_to_every_event_and_read_model(
) {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let s = Server::start().await;
    let token = auditor(&s).await;
    let (order, correlation) = an_order(&s).await;
    let stream = format!("order-{order}");
    let api = timeline_reached(&s, &token, &correlation).await;

    // The audit page, through the sign-in.
    c.goto(&format!("{}/admin/audit?type=OrderPlaced", s.origin))
        .await
        .unwrap();
    sign_in(c, AUDITOR_EMAIL, AUDITOR_PASSWORD).await;
    let trail = wait_for(c, "#trail").await;
    let listed = trail.text().await.unwrap();
    assert!(
        listed.contains("OrderPlaced") && listed.contains(&stream),
        "{listed}"
    );
    let csv = c
        .find(Locator::Css("#export-csv"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        csv.contains("type=OrderPlaced") && csv.contains("format=csv"),
        "{csv}"
    );
    let home = c.find(Locator::Css("header.bar nav")).await.unwrap();
    assert!(home.text().await.unwrap().contains("Audit trail"));

    // The correlation id leads to the request's whole trail.
    c.find(Locator::Css(&format!(
        "tr.entry a.correlation[href$='{correlation}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let timeline = wait_for(c, "#timeline").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with(&format!("/admin/audit/correlations/{correlation}")));
    // The request, as the audit trail recorded it.
    let request = wait_for(c, "#request").await.text().await.unwrap();
    assert!(request.contains(&correlation), "{request}");
    assert!(request.contains("customer"), "{request}");
    // Every event it caused, the order's own among them.
    let shown = timeline.text().await.unwrap();
    for e in api["events"].as_array().unwrap() {
        let id = e["event"]["id"].as_str().unwrap();
        let item = c
            .find(Locator::Css(&format!("#event-{id}")))
            .await
            .unwrap_or_else(|_| panic!("event {id} is on the timeline: {shown}"));
        assert!(item
            .text()
            .await
            .unwrap()
            .contains(e["event"]["event_type"].as_str().unwrap()));
    }
    let placed = c
        .find(Locator::Css("li.event[data-type='OrderPlaced']"))
        .await
        .unwrap();
    assert!(placed.text().await.unwrap().contains(&stream));
    // The read models it reached.
    let orders = placed
        .find(Locator::Css("li[data-read-model='orders']"))
        .await
        .unwrap();
    assert_eq!(
        orders.attr("class").await.unwrap().as_deref(),
        Some("reached")
    );
    assert_eq!(orders.text().await.unwrap(), "orders: reached");
    placed
        .find(Locator::Css("li[data-read-model='audit'].reached"))
        .await
        .unwrap();
    screenshot(c, "audit-timeline").await;

    // From an event to what it changed in its aggregate.
    placed
        .find(Locator::Css("a.step"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let changes = wait_for(c, "#changes").await.text().await.unwrap();
    assert!(changes.contains("added"), "{changes}");
    screenshot(c, "aggregate-step").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn state_stepper_and_a_tail_that_pauses_without_script() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let stream = format!("category-{}", category.body["id"].as_str().unwrap());
    let session = s.console_session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = |path: String| {
        let r = s.get(&path).header(COOKIE, session.clone());
        async move { send(r).await }
    };

    let state = page(format!("/admin/state?stream={stream}&version=0")).await;
    assert_eq!(state.status, 200, "{}", state.text);
    assert!(state.text.contains(r#"id="state""#), "{}", state.text);
    assert!(
        state.text.contains("&quot;name&quot;: &quot;Lamps&quot;"),
        "{}",
        state.text
    );
    let refused = page(format!("/admin/state?stream={stream}&version=9")).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(r#"id="problem""#), "{}", refused.text);
    let missing = page("/admin/state?stream=category-nothing".into()).await;
    assert_eq!(missing.status, 404);

    let step = page(format!("/admin/streams/{stream}/steps/0")).await;
    assert_eq!(step.status, 200, "{}", step.text);
    assert!(
        step.text.contains(r#"class="change changed""#),
        "{}",
        step.text
    );
    assert!(!step.text.contains("<script>") && !step.text.contains("style="));

    // The audit trail is for auditors and admins; staff read states and the tail only.
    let made = send(s.post("/api/v1/users").bearer_auth(&admin).json(&json!({
        "email": "stella.staff@example.com", "password": "stella's staff password", "role": "staff",
    })))
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let staff = s
        .console_session("stella.staff@example.com", "stella's staff password")
        .await;
    let refused = send(s.get("/admin/audit").header(COOKIE, staff.clone())).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let allowed = send(s.get("/admin/tail?paused=1").header(COOKIE, staff)).await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    let unknown = page(format!(
        "/admin/audit/correlations/{}",
        uuid::Uuid::new_v4()
    ))
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    // `$all` shows a commit once the cluster's older transactions have ended: with other
    // tests writing beside this one, the category's event may come a moment later.
    eventually("the category's event is in $all", || {
        let r = s
            .get("/api/v1/admin/events?category=category")
            .bearer_auth(&admin);
        let stream = stream.clone();
        async move { send(r).await.text.contains(&stream).then_some(()) }
    })
    .await;

    // Live: the list polls its fragment; paused, nothing does, and a link resumes.
    let live = page("/admin/tail".into()).await;
    assert_eq!(live.status, 200, "{}", live.text);
    assert!(
        live.text.contains(r#"hx-trigger="every 2s""#),
        "{}",
        live.text
    );
    assert!(live.text.contains("CategoryCreated"));
    assert!(live.text.contains(r#"id="pause""#), "{}", live.text);
    assert!(
        live.text.contains(r#"href="/admin/tail?paused=1""#),
        "{}",
        live.text
    );
    let paused = page("/admin/tail?paused=1".into()).await;
    assert!(!paused.text.contains("hx-trigger"), "{}", paused.text);
    assert!(paused.text.contains(r#"id="resume""#), "{}", paused.text);
    assert!(
        paused.text.contains(r#"href="/admin/tail""#),
        "{}",
        paused.text
    );
    let fragment = page("/admin/tail/live?category=category".into()).await;
    assert!(
        fragment.text.starts_with(r#"<div id="tail""#),
        "{}",
        fragment.text
    );
    assert!(fragment.text.contains(&stream));
}
