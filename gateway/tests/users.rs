//! The user routes over real HTTP: admin-only listing, creation, role changes and
//! suspension; a user sees and edits only their own account and addresses; queries honour
//! the consistency token of the command before them.

mod common;

use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn admins_manage_accounts_and_users_only_their_own() {
    with_shop(&[], |base, _| async move { journey(&base).await }).await;
}

async fn call(
    c: &Client,
    method: &str,
    url: String,
    token: &str,
    consistency: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut r = c.request(method.parse().unwrap(), url).bearer_auth(token);
    if let Some(t) = consistency {
        r = r.header("x-consistency-token", t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let token = r
        .headers()
        .get("x-consistency-token")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    (
        status,
        token,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn login(c: &Client, base: &str, email: &str, password: &str) -> (StatusCode, Value) {
    let r = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn token(c: &Client, base: &str, email: &str, password: &str) -> String {
    let (status, pair) = login(c, base, email, password).await;
    assert_eq!(status, 200, "{pair}");
    pair["access_token"].as_str().unwrap().to_owned()
}

async fn journey(base: &str) {
    let c = Client::new();
    let admin = token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, _, me) = call(
        &c,
        "GET",
        format!("{base}/auth/profile"),
        &admin,
        None,
        None,
    )
    .await;
    let admin_id = me["id"].as_str().unwrap().to_owned();

    // Creation is the admin's, with the password policy and unique e-mails.
    let new_user = json!({
        "email": "Ann@Example.com", "password": "ann's long password",
        "first_name": "Ann", "role": "vendor",
    });
    let (status, token_a, ann) = call(
        &c,
        "POST",
        format!("{base}/users"),
        &admin,
        None,
        Some(new_user.clone()),
    )
    .await;
    assert_eq!(status, 201, "{ann}");
    assert!(token_a.is_some(), "a command answer carries its position");
    assert_eq!(ann["email"], "ann@example.com");
    assert_eq!(ann["role"], "vendor");
    assert_eq!(ann["status"], "pending");
    let ann_id = ann["id"].as_str().unwrap().to_owned();
    let (status, _, body) = call(
        &c,
        "POST",
        format!("{base}/users"),
        &admin,
        None,
        Some(new_user),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "email_taken");
    let (status, _, body) = call(
        &c,
        "POST",
        format!("{base}/users"),
        &admin,
        None,
        Some(json!({ "email": "bob@example.com", "password": "short" })),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // The read model shows the new account once it has caught up to the token.
    let (status, _, list) = call(
        &c,
        "GET",
        format!("{base}/users?role=vendor&email=ANN"),
        &admin,
        token_a.as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], ann_id.as_str());
    assert_eq!(list["items"][0]["first_name"], "Ann");
    let (status, _, _) = call(
        &c,
        "GET",
        format!("{base}/users?status=gone"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 422);

    // Ann sees herself, not others, and cannot list or create.
    let ann_token = token(&c, base, "ann@example.com", "ann's long password").await;
    let (status, _, own) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}"),
        &ann_token,
        token_a.as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["email"], "ann@example.com");
    let (status, _, _) = call(
        &c,
        "GET",
        format!("{base}/users/{admin_id}"),
        &ann_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "another's account does not show it exists");
    let (status, _, _) = call(
        &c,
        "GET",
        format!("{base}/users/{}", Uuid::new_v4()),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&c, "GET", format!("{base}/users"), &ann_token, None, None).await;
    assert_eq!(status, 403);
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/users/{admin_id}"),
        &ann_token,
        None,
        Some(json!({ "first_name": "Mallory" })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/users/{ann_id}"),
        &ann_token,
        None,
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(status, 403, "only an admin changes roles");

    // Ann edits her names; the admin changes her role.
    let (status, token_b, after) = call(
        &c,
        "PUT",
        format!("{base}/users/{ann_id}"),
        &ann_token,
        None,
        Some(json!({ "first_name": "Anne", "last_name": "Lee" })),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert!(token_b.is_some());
    assert_eq!(after["first_name"], "Anne");
    let (status, token_c, after) = call(
        &c,
        "PUT",
        format!("{base}/users/{ann_id}"),
        &admin,
        None,
        Some(json!({ "role": "staff" })),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["role"], "staff");
    let (_, _, read) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}"),
        &admin,
        token_c.as_deref(),
        None,
    )
    .await;
    assert_eq!(
        (
            read["first_name"].clone(),
            read["last_name"].clone(),
            read["role"].clone()
        ),
        (json!("Anne"), json!("Lee"), json!("staff"))
    );
    // The new role cut the tokens issued before it; she signs in again.
    let (status, _, body) = call(
        &c,
        "GET",
        format!("{base}/auth/profile"),
        &ann_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let ann_token = token(&c, base, "ann@example.com", "ann's long password").await;

    // Addresses: add, list, replace, remove, each through her own id only.
    let home = json!({
        "label": "home", "line1": "1 Main St", "city": "Springfield",
        "postal_code": "12345", "country": "us",
    });
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/users/{admin_id}/addresses"),
        &ann_token,
        None,
        Some(home.clone()),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, body) = call(
        &c,
        "POST",
        format!("{base}/users/{ann_id}/addresses"),
        &ann_token,
        None,
        Some(json!({ "line1": "1 Main St", "city": "X", "postal_code": "1", "country": "USA" })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "country", "{body}");
    let (status, token_d, address) = call(
        &c,
        "POST",
        format!("{base}/users/{ann_id}/addresses"),
        &ann_token,
        None,
        Some(home),
    )
    .await;
    assert_eq!(status, 201, "{address}");
    assert_eq!(address["country"], "US");
    let address_id = address["id"].as_str().unwrap().to_owned();
    let (status, _, list) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}/addresses"),
        &ann_token,
        token_d.as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["label"], "home");
    assert_eq!(list["items"][0]["country"], "US");
    let (status, token_e, _) = call(
        &c,
        "PUT",
        format!("{base}/users/{ann_id}/addresses/{address_id}"),
        &ann_token,
        None,
        Some(json!({
            "label": "work", "line1": "2 Side St", "city": "Shelbyville",
            "postal_code": "54321", "country": "US",
        })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, list) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}/addresses"),
        &admin,
        token_e.as_deref(),
        None,
    )
    .await;
    assert_eq!(list["items"][0]["line1"], "2 Side St", "{list}");
    let (status, _, _) = call(
        &c,
        "PUT",
        format!("{base}/users/{ann_id}/addresses/{}", Uuid::new_v4()),
        &ann_token,
        None,
        Some(json!({ "line1": "x", "city": "y", "postal_code": "1", "country": "US" })),
    )
    .await;
    assert_eq!(status, 404, "an unknown address");
    let (status, token_f, _) = call(
        &c,
        "DELETE",
        format!("{base}/users/{ann_id}/addresses/{address_id}"),
        &ann_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, _, list) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}/addresses"),
        &ann_token,
        token_f.as_deref(),
        None,
    )
    .await;
    assert_eq!(list["total"], 0, "{list}");

    // Deleting suspends: Ann can no longer sign in, and her account is still there.
    let (status, _, _) = call(
        &c,
        "DELETE",
        format!("{base}/users/{ann_id}"),
        &ann_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "only an admin suspends");
    let (status, _, _) = call(
        &c,
        "DELETE",
        format!("{base}/users/{admin_id}"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 409, "an admin cannot lock themself out");
    let (status, token_g, _) = call(
        &c,
        "DELETE",
        format!("{base}/users/{ann_id}?reason=fraud"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(token_g.is_some());
    let (status, _) = login(&c, base, "ann@example.com", "ann's long password").await;
    assert_eq!(status, 403, "a suspended account cannot sign in");
    let (status, _, read) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}"),
        &admin,
        token_g.as_deref(),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["status"], "suspended");
    let (status, _, _) = call(
        &c,
        "DELETE",
        format!("{base}/users/{ann_id}"),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 409, "already suspended");

    // Reinstating: an admin only, a suspended account only; Ann signs in again, and the
    // token her suspension ended stays refused.
    let reinstate = format!("{base}/users/{ann_id}/reactivate");
    let (status, _, _) = call(&c, "POST", reinstate.clone(), &ann_token, None, None).await;
    assert_eq!(status, 401, "the suspension ended Ann's own sessions");
    let (status, _, _) = call(&c, "POST", reinstate.clone(), &admin, None, None).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&c, "POST", reinstate.clone(), &admin, None, None).await;
    assert_eq!(status, 409, "no longer suspended");
    let (status, _, _) = call(
        &c,
        "POST",
        format!("{base}/users/{}/reactivate", Uuid::new_v4()),
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "an unknown account");
    let (status, ann_again) = login(&c, base, "ann@example.com", "ann's long password").await;
    assert_eq!(status, 200, "reinstated, Ann signs in: {ann_again}");
    let (status, _, _) = call(
        &c,
        "POST",
        reinstate,
        ann_again["access_token"].as_str().unwrap(),
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "only an admin reinstates");
    let (status, _, _) = call(
        &c,
        "GET",
        format!("{base}/users/{ann_id}"),
        &ann_token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 401, "the token the suspension ended stays refused");
}
