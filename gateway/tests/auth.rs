//! The auth routes over real HTTP against the real `Application` and a database of its own:
//! register, login, the profile, refresh-token rotation and reuse detection, logout.

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

#[tokio::test]
async fn register_login_profile_refresh_and_reuse() {
    let name = format!("um_auth_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
        ])
        .unwrap();
        let app = Application::build(config).await.unwrap();
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

async fn post(c: &Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn journey(base: &str) {
    let c = Client::new();
    let hostile = "Robert'); DROP TABLE users;-- <script>alert(1)</script>";

    let (status, user) = post(
        &c,
        format!("{base}/auth/register"),
        json!({ "email": " Ann@Example.com ", "password": "correct horse battery", "first_name": hostile }),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["role"], "customer");
    assert_eq!(user["status"], "pending");
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["first_name"], hostile, "stored verbatim");

    // The same e-mail again, in another spelling.
    let (status, problem) = post(
        &c,
        format!("{base}/auth/register"),
        json!({ "email": "ann@example.com", "password": "another long password" }),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "email_taken");

    let (status, problem) = post(
        &c,
        format!("{base}/auth/register"),
        json!({ "email": "bob@example.com", "password": "short" }),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "password");
    let (status, problem) = post(
        &c,
        format!("{base}/auth/register"),
        json!({ "email": "not-an-email", "password": "long enough password" }),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "email");

    let (status, _) = post(
        &c,
        format!("{base}/auth/login"),
        json!({ "email": "ann@example.com", "password": "wrong password!!" }),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &c,
        format!("{base}/auth/login"),
        json!({ "email": "nobody@example.com", "password": "whatever password" }),
    )
    .await;
    assert_eq!(status, 401);

    let (status, pair) = post(
        &c,
        format!("{base}/auth/login"),
        json!({ "email": "ANN@example.com", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();

    let me: Value = c
        .get(format!("{base}/auth/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user["id"]);
    let r = c.get(format!("{base}/auth/profile")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{base}/auth/profile"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = c
        .put(format!("{base}/auth/profile"))
        .bearer_auth(&access)
        .json(&json!({ "first_name": "Ann", "last_name": "Lee" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        (me["first_name"].as_str(), me["last_name"].as_str()),
        (Some("Ann"), Some("Lee"))
    );

    // Rotation: the new pair works; the old refresh token used again revokes the family.
    let (status, second) = post(
        &c,
        format!("{base}/auth/refresh"),
        json!({ "refresh_token": refresh }),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let newer = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(newer, refresh);
    let (status, _) = post(
        &c,
        format!("{base}/auth/refresh"),
        json!({ "refresh_token": refresh }),
    )
    .await;
    assert_eq!(status, 401, "reuse of a rotated token is refused");
    let (status, _) = post(
        &c,
        format!("{base}/auth/refresh"),
        json!({ "refresh_token": newer }),
    )
    .await;
    assert_eq!(status, 401, "and the whole family with it");

    // Logout revokes the family of a fresh login.
    let (_, pair) = post(
        &c,
        format!("{base}/auth/login"),
        json!({ "email": "ann@example.com", "password": "correct horse battery" }),
    )
    .await;
    let token = pair["refresh_token"].as_str().unwrap().to_owned();
    let r = c
        .post(format!("{base}/auth/logout"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = post(
        &c,
        format!("{base}/auth/refresh"),
        json!({ "refresh_token": token }),
    )
    .await;
    assert_eq!(status, 401);

    // Malformed JSON and unknown fields get the problem body.
    let r = c
        .post(format!("{base}/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (status, _) = post(
        &c,
        format!("{base}/auth/login"),
        json!({ "email": "a@b.co", "password": "x", "admin": true }),
    )
    .await;
    assert_eq!(status, 422);

    // Ten failures from one IP lock the account for that IP, even with the right password
    // (the policy across IPs is `sessions.rs`'s test); one wrong
    // password was tried above.
    for _ in 0..9 {
        let (status, _) = post(
            &c,
            format!("{base}/auth/login"),
            json!({ "email": "ann@example.com", "password": "guessing password" }),
        )
        .await;
        assert_eq!(status, 401);
    }
    let r = c
        .post(format!("{base}/auth/login"))
        .json(&json!({ "email": "ann@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_login_failures");
}
