//! `GET /users/{id}/export` (issue 20, item 3) over real HTTP against the real
//! `Application`: a customer's export holds their account, addresses, orders, sign-ins and
//! what they did; nobody else's; and only they and an admin may ask for it.

mod common;

use common::{with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PASSWORD: &str = "violet kestrel under 9 lanterns";

async fn call(
    c: &Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
    consistency: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let r = common::call(c, method, url, token, body, consistency).await;
    (r.status, r.consistency, r.body)
}

async fn token(c: &Client, base: &str, email: &str) -> String {
    common::access_token(c, base, email, PASSWORD).await
}

/// Registers ann@ and bob@ (both with `first_name`, when given); answers the admin's
/// access token.
async fn ann_and_bob(c: &Client, base: &str, first_name: Option<&str>) -> String {
    let (_, admin_pair) = common::login(c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for email in ["ann@example.com", "bob@example.com"] {
        let r = c
            .post(format!("{base}/auth/register"))
            .json(&json!({ "email": email, "password": PASSWORD, "first_name": first_name }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    admin_pair["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_person_s_export_holds_everything_about_them_and_nothing_else() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = ann_and_bob(&c, &base, Some("Ann")).await;
        let (status, _) =
            common::login(&c, &base, "ann@example.com", "not her password at all").await;
        assert_eq!(status, 401);
        let ann = token(&c, &base, "ann@example.com").await;
        let bob = token(&c, &base, "bob@example.com").await;
        let (_, _, me) = call(&c, "GET", format!("{base}/auth/profile"), &ann, None, None).await;
        let ann_id = me["id"].as_str().unwrap().to_owned();

        // What she does: an address, an order.
        let (_, _, category) = call(
            &c,
            "POST",
            format!("{base}/categories"),
            &admin,
            Some(json!({ "name": "Mugs" })),
            None,
        )
        .await;
        let (status, _, mug) = call(
            &c,
            "POST",
            format!("{base}/products"),
            &admin,
            Some(json!({
                "sku": "MUG-1", "name": "Mug", "category_id": category["id"],
                "price": { "amount": 1250, "currency": "USD" }
            })),
            None,
        )
        .await;
        assert_eq!(status, 201, "{mug}");
        let (status, _, _) = call(
            &c,
            "POST",
            format!("{base}/inventory/MUG-1/receive"),
            &admin,
            Some(json!({ "quantity": 5 })),
            None,
        )
        .await;
        assert!(status.is_success());
        let home = json!({ "label": "home", "line1": "1 Main St", "city": "Springfield",
                           "postal_code": "12345", "country": "US" });
        let (status, _, _) = call(
            &c,
            "POST",
            format!("{base}/users/{ann_id}/addresses"),
            &ann,
            Some(home.clone()),
            None,
        )
        .await;
        assert_eq!(status, 201);
        let (status, consistency, order) = call(
            &c,
            "POST",
            format!("{base}/orders"),
            &ann,
            Some(json!({
                "items": [{ "product_id": mug["id"], "quantity": 2 }],
                "shipping_address": home, "payment_method": "card"
            })),
            None,
        )
        .await;
        assert_eq!(status, 202, "{order}");

        let (status, _, export) = call(
            &c,
            "GET",
            format!("{base}/users/{ann_id}/export"),
            &ann,
            None,
            consistency.as_deref(),
        )
        .await;
        assert_eq!(status, 200, "{export}");
        assert_eq!(export["format"], "ultramarket-personal-data/1");
        assert_eq!(export["account"]["email"], "ann@example.com");
        assert_eq!(export["account"]["first_name"], "Ann");
        assert_eq!(export["addresses"][0]["city"], "Springfield");
        assert_eq!(export["orders"].as_array().unwrap().len(), 1);
        assert_eq!(export["orders"][0]["id"], order["id"]);
        assert_eq!(export["orders"][0]["items"][0]["quantity"], 2);
        assert!(!export["order_history"].as_array().unwrap().is_empty());
        let sign_ins: Vec<(&str, &str)> = export["sign_ins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["action"].as_str().unwrap(),
                    s["user_agent"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert!(
            sign_ins.contains(&("SignInFailed", "gateway-tests/1.0"))
                && sign_ins.contains(&("SignedIn", "gateway-tests/1.0")),
            "{sign_ins:?}"
        );
        let activity: Vec<&str> = export["activity"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        for done in ["UserRegistered", "AddressAdded", "OrderPlaced"] {
            assert!(activity.contains(&done), "{done} missing from {activity:?}");
        }
        assert_eq!(export["truncated"], false);
        let text = export.to_string();
        assert!(
            !text.contains("bob@example.com"),
            "nothing of another person"
        );
        assert!(!text.contains("argon2") && !text.contains("password_hash"));

        // Only she and an admin may ask; to anyone else she does not exist.
        let (status, _, _) = call(
            &c,
            "GET",
            format!("{base}/users/{ann_id}/export"),
            &bob,
            None,
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (status, _, by_admin) = call(
            &c,
            "GET",
            format!("{base}/users/{ann_id}/export"),
            &admin,
            None,
            consistency.as_deref(),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(by_admin["account"], export["account"]);
        let (status, _, _) = call(
            &c,
            "GET",
            format!("{base}/users/{}/export", uuid::Uuid::new_v4()),
            &admin,
            None,
            None,
        )
        .await;
        assert_eq!(status, 404);
    })
    .await;
}

/// Consent: nothing until given; each change recorded with its source (the person, or an
/// admin for them) and kept in the trail; only the person and an admin see or change it.
#[tokio::test]
async fn consents_start_off_and_every_change_is_recorded_with_its_source() {
    with_shop(&[], |base, db| async move {
        let c = Client::new();
        let admin = ann_and_bob(&c, &base, None).await;
        let ann = token(&c, &base, "ann@example.com").await;
        let bob = token(&c, &base, "bob@example.com").await;
        let (_, _, me) = call(&c, "GET", format!("{base}/auth/profile"), &ann, None, None).await;
        let url = format!("{base}/users/{}/preferences", me["id"].as_str().unwrap());

        let (status, _, prefs) = call(&c, "GET", url.clone(), &ann, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            prefs,
            json!({ "analytics_tracking": false, "marketing_email": false,
                    "personalised_recommendations": false, "sms": false })
        );
        let (status, _, prefs) = call(
            &c,
            "PUT",
            url.clone(),
            &ann,
            Some(json!({ "marketing_email": true, "analytics_tracking": true })),
            None,
        )
        .await;
        assert_eq!(status, 200, "{prefs}");
        assert_eq!(
            (&prefs["marketing_email"], &prefs["sms"]),
            (&json!(true), &json!(false))
        );
        let (status, consistency, prefs) = call(
            &c,
            "PUT",
            url.clone(),
            &admin,
            Some(json!({ "marketing_email": false })),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            prefs["analytics_tracking"], false,
            "a field left out is not consented to"
        );
        let (status, _, _) = call(
            &c,
            "PUT",
            url.clone(),
            &ann,
            Some(json!({ "newsletter": true })),
            None,
        )
        .await;
        assert_eq!(status, 422);
        for (method, body) in [("GET", None), ("PUT", Some(json!({ "sms": true })))] {
            let (status, _, _) = call(&c, method, url.clone(), &bob, body, None).await;
            assert_eq!(status, 404, "{method} by another customer");
        }

        // The read model and the trail hold who recorded each change.
        let (status, _, export) = call(
            &c,
            "GET",
            url.replace("/preferences", "/export"),
            &ann,
            None,
            consistency.as_deref(),
        )
        .await;
        assert_eq!(status, 200, "{export}");
        assert_eq!(export["preferences"]["marketing_email"], false);
        let pool = sqlx::PgPool::connect(&db).await.unwrap();
        let source: String =
            sqlx::query_scalar("select source from users.user_preferences where user_id = $1")
                .bind(uuid::Uuid::parse_str(me["id"].as_str().unwrap()).unwrap())
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(source, "admin");
        let changes: i64 = sqlx::query_scalar(
            "select count(*) from audit.audit_logs where action = 'PreferencesChanged'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(changes, 2);
        pool.close().await;
    })
    .await;
}

/// The privacy routes refuse what is not an account of the caller's: a malformed id is
/// 400, an unknown one (or another's, to a customer) 404; one's own erasure needs one's
/// password, an admin's does not, and an erased account answers as erased.
#[tokio::test]
async fn the_privacy_routes_refuse_bad_ids_and_others_accounts() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = ann_and_bob(&c, &base, None).await;
        let ann = token(&c, &base, "ann@example.com").await;
        let bob = token(&c, &base, "bob@example.com").await;
        let (_, _, me) = call(&c, "GET", format!("{base}/auth/profile"), &ann, None, None).await;
        let ann_id = me["id"].as_str().unwrap().to_owned();
        let unknown = uuid::Uuid::new_v4();
        let erase = |id: &str| format!("{base}/users/{id}/erase");

        for (method, path, body) in [
            ("GET", "export", None),
            ("GET", "preferences", None),
            ("PUT", "preferences", Some(json!({}))),
            ("POST", "erase", Some(json!({}))),
        ] {
            let bad = format!("{base}/users/not-a-uuid/{path}");
            let (status, _, problem) = call(&c, method, bad, &admin, body.clone(), None).await;
            assert_eq!(status, 400, "{method} {path}: {problem}");
            let missing = format!("{base}/users/{unknown}/{path}");
            let (status, _, problem) = call(&c, method, missing, &admin, body.clone(), None).await;
            assert_eq!(status, 404, "{method} {path}: {problem}");
            let anns = format!("{base}/users/{ann_id}/{path}");
            let (status, _, problem) = call(&c, method, anns, &bob, body, None).await;
            assert_eq!(status, 404, "{method} {path} of another: {problem}");
        }

        let (status, _, problem) =
            call(&c, "POST", erase(&ann_id), &ann, Some(json!({})), None).await;
        assert_eq!(
            (status, &problem["code"]),
            (StatusCode::FORBIDDEN, &json!("forbidden"))
        );
        let (status, _, problem) = call(
            &c,
            "POST",
            erase(&ann_id),
            &ann,
            Some(json!({ "password": PASSWORD, "reason": "no such field" })),
            None,
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        let (status, token, erased) =
            call(&c, "POST", erase(&ann_id), &admin, Some(json!({})), None).await;
        assert_eq!(status, 200, "{erased}");
        assert_eq!(
            (&erased["by"], &erased["status"]),
            (&json!("admin"), &json!("erased"))
        );
        let (status, _, again) =
            call(&c, "POST", erase(&ann_id), &admin, Some(json!({})), None).await;
        assert_eq!(
            (status, &again["status"]),
            (StatusCode::OK, &json!("erased"))
        );
        let (status, _, account) = call(
            &c,
            "GET",
            format!("{base}/users/{ann_id}"),
            &admin,
            None,
            token.as_deref(),
        )
        .await;
        assert_eq!(status, 200, "{account}");
        assert_eq!(
            (
                &account["status"],
                &account["email"],
                &account["first_name"]
            ),
            (
                &json!("erased"),
                &json!("erased@erased.invalid"),
                &Value::Null
            )
        );
        let (status, _, _) =
            call(&c, "GET", format!("{base}/auth/profile"), &ann, None, None).await;
        assert_eq!(status, 401, "her tokens are cut");
    })
    .await;
}
