//! The harness the gateway's HTTP tests share: the real `Application` with its process
//! managers and projections, on a database of its own with a bootstrap admin.
#![allow(dead_code)]

pub mod marketplace;

use gateway::config::Config;
use gateway::startup::Application;
use tokio::sync::oneshot;
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "root@example.com";
pub const ADMIN_PASSWORD: &str = "a long admin password";
/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);
/// Every gateway of a test signs with this, so a token works on each.
pub const JWT_SECRET: &str = "the gateway tests' shared secret, long enough";

/// The PostgreSQL server of `DATABASE_URL`, without a database name.
pub fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

/// Runs `journey(api base url, database url)` against a real server (flags `extra` added
/// to the defaults), then drops the database whatever happened, and fails as the journey
/// did.
pub async fn with_shop<F, Fut>(extra: &'static [&'static str], journey: F)
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let name = format!("um_http_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let mut args = vec![
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            // A read that sends a consistency token waits this long for the read models
            // before answering 503; the default 2 s ran out on a machine busy with a whole
            // workspace's tests, and a journey read a 503 body as the cart.
            "--consistency-wait-ms",
            "30000",
            "--jwt-secret",
            JWT_SECRET,
            "--bootstrap-admin-email",
            ADMIN_EMAIL,
            "--bootstrap-admin-password",
            ADMIN_PASSWORD,
        ];
        args.extend_from_slice(extra);
        let config = Config::from_args_ignoring_env(args).unwrap();
        let app = Application::build(config)
            .await
            .unwrap()
            .with_process_managers()
            .with_projections();
        let base = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        journey(base, url.clone()).await;
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

/// As [`with_shop`], with a second gateway (no background roles) on the same database:
/// `journey(first api base url, second api base url)`.
pub async fn with_two_gateways<F, Fut>(journey: F)
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    with_two_gateways_and(&[], journey).await;
}

/// [`with_two_gateways`], both gateways started with the flags `extra` added.
pub async fn with_two_gateways_and<F, Fut>(extra: &'static [&'static str], journey: F)
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    with_shop(extra, move |first, url| async move {
        let mut args = vec![
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--jwt-secret",
            JWT_SECRET,
        ];
        args.extend_from_slice(extra);
        let config = Config::from_args_ignoring_env(args).unwrap();
        let app = Application::build(config).await.unwrap();
        let second = format!("http://{}/api/v1", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        journey(first, second).await;
        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
}

/// An answer: its status, its consistency token, its body (`null` when not JSON).
pub struct Reply {
    pub status: reqwest::StatusCode,
    pub consistency: Option<String>,
    pub body: serde_json::Value,
}

/// `method url` with a bearer token, a JSON body and a consistency token, each when given.
pub async fn call(
    c: &reqwest::Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<serde_json::Value>,
    consistency: Option<&str>,
) -> Reply {
    let mut r = c
        .request(method.parse().expect("an HTTP method"), url)
        .bearer_auth(token);
    if let Some(body) = body {
        r = r.json(&body);
    }
    if let Some(t) = consistency {
        r = r.header("X-Consistency-Token", t);
    }
    let r = r.send().await.expect("the server answers");
    let status = r.status();
    let consistency = r
        .headers()
        .get("x-consistency-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Reply {
        status,
        consistency,
        body: r.json().await.unwrap_or(serde_json::Value::Null),
    }
}

/// [`call`] without a consistency token: the status and the body.
pub async fn json_call(
    c: &reqwest::Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let r = call(c, method, url, token, body, None).await;
    (r.status, r.body)
}

/// `POST /auth/login`, with a user agent the audit trail can be searched for.
pub async fn login(
    c: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    let r = c
        .post(format!("{base}/auth/login"))
        .header("user-agent", "gateway-tests/1.0")
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("the server answers");
    (
        r.status(),
        r.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// The access token of a login that must succeed.
pub async fn access_token(c: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let (status, pair) = login(c, base, email, password).await;
    assert_eq!(status, 200, "login of {email}: {pair}");
    pair["access_token"]
        .as_str()
        .expect("a token pair")
        .to_owned()
}
