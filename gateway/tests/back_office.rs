//! Back-office queries over real HTTP: the outbox (`GET /notifications`, staff) and the
//! audit trail (`GET /audit`, auditors and admins), both read from their read models.

use gateway::config::Config;
use gateway::startup::Application;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

async fn login(c: &Client, base: &str, email: &str, password: &str) -> String {
    let r = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get(
    c: &Client,
    url: &str,
    token: Option<&str>,
    consistency: Option<&str>,
) -> (StatusCode, Value) {
    let mut r = c.get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(t) = consistency {
        r = r.header("x-consistency-token", t);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_read_the_outbox_and_auditors_the_trail() {
    let name = format!("um_back_office_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--bootstrap-admin-email",
            "root@example.com",
            "--bootstrap-admin-password",
            "a long admin password",
            "--public-url",
            "https://shop.example",
        ])
        .unwrap();
        let app = Application::build(config).await.unwrap().with_projections();
        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        journey(&base).await;
        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn journey(base: &str) {
    let c = Client::new();
    let email = format!("ann.{}@example.com", Uuid::new_v4().simple());
    let r = c
        .post(format!("{base}/auth/register"))
        .header("user-agent", "back-office-test/1.0")
        .json(&json!({ "email": email, "password": "a long enough password", "first_name": "Ann" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let consistency = r.headers()["x-consistency-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let ann: Value = r.json().await.unwrap();
    let admin = login(&c, base, "root@example.com", "a long admin password").await;
    let customer = login(&c, base, &email, "a long enough password").await;

    // The outbox: the verification e-mail, rendered with its link withheld (it goes to
    // the recipient's mailbox only, never to a reader of the outbox, admins included).
    let outbox = format!("{base}/notifications?to={email}");
    let (status, page) = get(&c, &outbox, Some(&admin), Some(&consistency)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let message = &page["items"][0];
    assert_eq!(message["to"], email.as_str());
    assert_eq!(message["channel"], "email");
    let body = message["body"].as_str().unwrap();
    assert!(
        body.contains(domain::notification::WITHHELD_LINK),
        "{message}"
    );
    assert!(!body.contains("?token="), "{message}");
    assert_eq!(get(&c, &outbox, Some(&customer), None).await.0, 403);
    assert_eq!(get(&c, &outbox, None, None).await.0, 401);
    let (status, bad) = get(
        &c,
        &format!("{base}/notifications?status=lost"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(bad["errors"][0]["field"], "status");
    let (status, bad) = get(
        &c,
        &format!("{base}/notifications?colour=red"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(bad["code"], "invalid_query");

    // The audit trail: the registration, by whom, from where, through which request.
    let trail = format!("{base}/audit?resource=user:{}", ann["id"].as_str().unwrap());
    let (status, page) = get(&c, &trail, Some(&admin), Some(&consistency)).await;
    assert_eq!(status, 200, "{page}");
    let registered = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["action"] == "UserRegistered")
        .unwrap_or_else(|| panic!("no UserRegistered in {page}"));
    assert_eq!(registered["user_agent"], "back-office-test/1.0");
    assert_eq!(registered["ip_address"], "127.0.0.1");
    assert!(
        !registered["details"].to_string().contains("argon2"),
        "no hash in the log, so none in the trail: {registered}"
    );
    assert_eq!(
        registered["details"]["email"], "[personal data]",
        "auditors see that an e-mail was recorded, not which: it is the person's"
    );
    let by_request = format!("{base}/audit?correlation_id={request_id}");
    let (status, page) = get(&c, &by_request, Some(&admin), None).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page["total"].as_i64().unwrap() >= 1,
        "the request id is the correlation id: {page}"
    );
    assert_eq!(get(&c, &trail, Some(&customer), None).await.0, 403);
    let (status, _) = get(&c, &format!("{base}/audit?limit=0"), Some(&admin), None).await;
    assert_eq!(status, 422);

    // Command outcomes are counted per aggregate.
    let metrics = c
        .get(format!("{}/metrics", base.trim_end_matches("/api/v1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("commands_total{")
            && l.contains(r#"aggregate="user""#)
            && l.contains(r#"outcome="appended""#)),
        "{metrics}"
    );
}
