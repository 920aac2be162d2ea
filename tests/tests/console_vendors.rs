//! The stores' back-office pages over real HTTP (issues 23 and 25): an application waits
//! on `/admin/vendors`; an admin opens it and approves it through the confirm step (the
//! form's token checked), the store sells on the storefront; a suspension without a
//! reason is refused and asked again, with one it takes the store off the storefront; the
//! store's History tab shows who decided what, when and why.

use e2e::{send, Answer, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::header::COOKIE;
use serde_json::json;

/// The form token a page's form carries.
fn csrf(page: &Answer) -> String {
    let at = page
        .text
        .find(r#"name="csrf" value=""#)
        .unwrap_or_else(|| panic!("a form: {}", page.text))
        + 19;
    page.text[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_decides_on_a_store_and_its_history_says_why() {
    let s = Server::start().await;
    let (vera_id, vera) = s.customer("vera.console@example.com").await;
    let applied = send(s.post("/api/v1/vendors").bearer_auth(&vera).json(&json!({
        "store_name": "Vera's Lamps", "slug": "vera-console", "contact_email": "vera.console@example.com",
    })))
    .await;
    assert_eq!(applied.status, 201, "{}", applied.text);
    let store = applied.body["id"].as_str().unwrap().to_owned();
    assert_eq!(store, vera_id, "a store's id is its owner's (ADR 0010)");

    let session = s.console_session(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let get = |path: String| {
        let request = s.get(&path).header(COOKIE, session.clone());
        async move { send(request).await }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let request = s.post(&path).header(COOKIE, session.clone()).form(&form);
        async move { send(request).await }
    };

    // The application waits, and the navigation offers the page.
    let waiting = e2e::eventually("the application is listed", || {
        let get = &get;
        async move {
            let page = get("/admin/vendors".into()).await;
            page.text.contains("vera-console").then_some(page)
        }
    })
    .await;
    assert!(
        waiting
            .text
            .contains(&format!("href=\"/admin/vendors/{store}\"")),
        "{}",
        waiting.text
    );
    assert!(
        waiting
            .text
            .contains(r#"<a href="/admin/vendors">Stores</a>"#),
        "{}",
        waiting.text
    );
    let approved_list = get("/admin/vendors?status=approved".into()).await;
    assert!(
        !approved_list.text.contains("vera-console"),
        "{}",
        approved_list.text
    );
    assert_eq!(get("/admin/vendors?status=closed".into()).await.status, 400);

    // The store's page offers the decisions its status allows.
    let one = get(format!("/admin/vendors/{store}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert!(
        one.text.contains(r#"<dd id="status">pending</dd>"#),
        "{}",
        one.text
    );
    assert!(
        one.text
            .contains(&format!("/admin/vendors/{store}/status/approved")),
        "{}",
        one.text
    );
    assert!(!one.text.contains("/status/suspended"), "{}", one.text);
    assert!(one.text.contains("No sale in these days."), "{}", one.text);

    // Approve: the confirm step, refused without its token, done with it.
    let path = format!("/admin/vendors/{store}/status/approved");
    let confirm = get(path.clone()).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    let token = csrf(&confirm);
    let forged = post(path.clone(), vec![("reason", "looks fine".into())]).await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    let done = post(
        path,
        vec![
            ("csrf", token.clone()),
            ("reason", "documents checked".into()),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        done.text.contains(r#"data-status="approved""#),
        "{}",
        done.text
    );
    let public = |want: u16| {
        let s = &s;
        async move {
            e2e::eventually(
                &format!("the store's public page answers {want}"),
                || async move {
                    (send(s.get("/api/v1/vendors/vera-console")).await.status == want).then_some(())
                },
            )
            .await
        }
    };
    public(200).await;

    // Suspend without a reason: refused, and asked again; with one, done.
    let path = format!("/admin/vendors/{store}/status/suspended");
    let bare = post(
        path.clone(),
        vec![("csrf", token.clone()), ("reason", " ".into())],
    )
    .await;
    assert_eq!(bare.status, 422, "{}", bare.text);
    assert!(bare.text.contains(r#"id="problem""#), "{}", bare.text);
    assert!(bare.text.contains(r#"id="confirm""#), "{}", bare.text);
    let done = post(
        path,
        vec![
            ("csrf", token.clone()),
            ("reason", "counterfeit lamps reported".into()),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    public(404).await;
    // A move its status does not allow is refused.
    let again = get(format!("/admin/vendors/{store}/status/suspended")).await;
    assert_eq!(again.status, 409, "{}", again.text);

    // The History tab: the application, the approval and the suspension with its reason.
    let one = get(format!("/admin/vendors/{store}")).await;
    let html = one.text;
    assert!(html.contains(r#"<dd id="status">suspended</dd>"#), "{html}");
    assert!(
        html.contains("/status/approved"),
        "reinstating is offered: {html}"
    );
    let row = html
        .split("<tr>")
        .find(|row| row.contains(r#"<td class="type">VendorSuspended</td>"#))
        .unwrap_or_else(|| panic!("a suspension row: {html}"));
    assert!(row.contains("admin"), "{row}");
    assert!(row.contains("counterfeit lamps reported"), "{row}");
    assert!(
        row.contains("<code>status</code>: <del>approved</del> → <ins>suspended</ins>"),
        "{row}"
    );
    assert!(
        html.contains(r#"<td class="type">VendorApproved</td>"#),
        "{html}"
    );
    assert_eq!(
        get(format!("/admin/vendors/{}", uuid::Uuid::new_v4()))
            .await
            .status,
        404
    );
}
