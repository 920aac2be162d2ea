//! Free text over real HTTP (issue 18, item 11): control characters, the stuff of SMTP
//! header smuggling, are refused in names, addresses and the other one-line fields, and
//! every free-text field has a length limit; each refusal is a 422 that names the field,
//! and nothing is written.

mod common;

use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};

use reqwest::Client;
use serde_json::{json, Value};

#[tokio::test]
async fn control_characters_and_overlong_text_are_refused_by_field() {
    with_shop(&[], |base, _| async move { journey(&base).await }).await;
}

/// Sends `body` (JSON) with `method` to `url` as `token`; the status and the answer.
async fn call(
    c: &Client,
    method: &str,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut r = c.request(method.parse().unwrap(), url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Asserts a 422 whose `errors` name `field`.
fn refused(field: &str, (status, problem): (u16, Value)) {
    assert_eq!(status, 422, "{field}: {problem}");
    let named = problem["errors"]
        .as_array()
        .is_some_and(|errors| errors.iter().any(|e| e["field"] == field));
    assert!(named, "{field} not named in {problem}");
}

async fn journey(base: &str) {
    let c = Client::new();
    let smuggled = "Ann\r\nBcc: everyone@example.com";

    // Registration: a name with a line break, or over 100 characters.
    for (field, value) in [
        ("first_name", json!(smuggled)),
        ("last_name", json!("Lee\u{0}")),
        ("first_name", json!("A".repeat(101))),
    ] {
        let mut body = json!({ "email": "eve@example.com", "password": "eve's long password" });
        body[field] = value;
        refused(
            field,
            call(&c, "POST", format!("{base}/auth/register"), None, body).await,
        );
    }
    // None of those opened the account: the address is still free.
    let (status, eve) = call(
        &c,
        "POST",
        format!("{base}/auth/register"),
        None,
        json!({ "email": "eve@example.com", "password": "eve's long password", "first_name": "Eve" }),
    )
    .await;
    assert_eq!(status, 201, "{eve}");

    let (_, pair) = call(
        &c,
        "POST",
        format!("{base}/auth/login"),
        None,
        json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }),
    )
    .await;
    let admin = pair["access_token"].as_str().unwrap().to_owned();
    let admin = Some(admin.as_str());

    // The profile and the user routes hold the same rule.
    refused(
        "first_name",
        call(
            &c,
            "PUT",
            format!("{base}/auth/profile"),
            admin,
            json!({ "first_name": smuggled }),
        )
        .await,
    );
    refused(
        "last_name",
        call(
            &c,
            "POST",
            format!("{base}/users"),
            admin,
            json!({ "email": "sam@example.com", "password": "sam's long password", "last_name": "Lee\nx" }),
        )
        .await,
    );

    // Addresses: each line is one line.
    let eve_id = eve["id"].as_str().unwrap();
    let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
    for (field, value) in [
        ("city", json!("Spring\r\nfield")),
        ("line1", json!("1 Main St\u{2028}Bcc: x")),
        ("label", json!("home\u{7}")),
        ("postal_code", json!("1".repeat(21))),
    ] {
        let mut body = address.clone();
        body[field] = value;
        refused(
            field,
            call(
                &c,
                "POST",
                format!("{base}/users/{eve_id}/addresses"),
                admin,
                body,
            )
            .await,
        );
    }

    // The catalog: one-line names, descriptions without stray control characters.
    refused(
        "name",
        call(
            &c,
            "POST",
            format!("{base}/categories"),
            admin,
            json!({ "name": "Mu\ngs" }),
        )
        .await,
    );
    let (status, category) = call(
        &c,
        "POST",
        format!("{base}/categories"),
        admin,
        json!({ "name": "Mugs" }),
    )
    .await;
    assert_eq!(status, 201, "{category}");
    let product = |name: &str, description: &str| {
        json!({
            "sku": "MUG-1", "name": name, "description": description,
            "category_id": category["id"], "price": { "amount": 1200, "currency": "USD" },
        })
    };
    refused(
        "name",
        call(
            &c,
            "POST",
            format!("{base}/products"),
            admin,
            product("Mug\r\nX-Header: 1", "ok"),
        )
        .await,
    );
    refused(
        "description",
        call(
            &c,
            "POST",
            format!("{base}/products"),
            admin,
            product("Mug", "nul \u{0} inside"),
        )
        .await,
    );
    // Line breaks in a description are fine.
    let (status, created) = call(
        &c,
        "POST",
        format!("{base}/products"),
        admin,
        product("Mug", "A mug.\n\nHolds tea."),
    )
    .await;
    assert_eq!(status, 201, "{created}");

    // Stock: the warehouse is one line, the reason bounded text.
    let (status, received) = call(
        &c,
        "POST",
        format!("{base}/inventory/MUG-1/receive"),
        admin,
        json!({ "quantity": 5 }),
    )
    .await;
    assert_eq!(status, 200, "{received}");
    refused(
        "reason",
        call(
            &c,
            "POST",
            format!("{base}/inventory/MUG-1/adjust"),
            admin,
            json!({ "delta": -1, "reason": "x".repeat(501) }),
        )
        .await,
    );
    refused(
        "warehouse",
        call(
            &c,
            "POST",
            format!("{base}/inventory/MUG-1/adjust"),
            admin,
            json!({ "delta": -1, "reason": "count", "warehouse": "main\u{1b}[2J" }),
        )
        .await,
    );
}
