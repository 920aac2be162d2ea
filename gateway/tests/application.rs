//! The real `Application`, built in process on port 0 against a database of its own, called
//! over real HTTP, and stopped through its shutdown signal.

use std::future::Future;

use gateway::config::Config;
use gateway::startup::{Application, StartupError};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The server part of `DATABASE_URL` (CI points it at the `postgres` database).
fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

fn nats_url() -> String {
    std::env::var("NATS_TEST_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Runs `test` with the URL of a database name nobody uses yet, then drops that database
/// (even when the test fails).
async fn with_fresh_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = format!("um_gateway_{}", Uuid::new_v4().simple());
    let outcome = tokio::spawn(test(format!("{}/{name}", server_url()))).await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn config(database_url: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "ultramarket",
        "--database-url",
        database_url,
        "--bind",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(extra);
    Config::from_args_ignoring_env(args).unwrap()
}

#[tokio::test]
async fn the_application_creates_its_database_and_reports_every_dependency_up() {
    with_fresh_database(|url| async move {
        let app = Application::build(config(&url, &[])).await.unwrap();
        let addr = app.local_addr();
        assert_ne!(addr.port(), 0, "port 0 was resolved to a real port");
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));

        let response = reqwest::Client::new()
            .get(format!("http://{addr}/health/detailed"))
            .header("x-request-id", "application-test")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["x-request-id"].to_str().unwrap(),
            "application-test"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{body}");
        let components = &body["components"];
        assert_eq!(components["postgres"]["status"], "up", "{body}");
        assert!(components["postgres"]["latency_ms"].as_f64().is_some());
        assert_eq!(components["event_store"]["status"], "up", "{body}");
        assert_eq!(components["event_store"]["kind"], "postgres");
        assert_eq!(
            components["event_store"]["head"], "0/0",
            "a fresh store is empty"
        );
        assert_eq!(components["nats"]["status"], "not_configured");
        assert_eq!(components["projections"]["status"], "up", "{body}");

        stop.send(()).unwrap();
        running.await.unwrap().expect("a clean shutdown");
    })
    .await;
}

#[tokio::test]
async fn nats_is_connected_and_checked_when_configured() {
    with_fresh_database(|url| async move {
        let nats = nats_url();
        let app = Application::build(config(&url, &["--nats-url", &nats]))
            .await
            .unwrap();
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let body: serde_json::Value = reqwest::get(format!("http://{addr}/health/detailed"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["components"]["nats"]["status"], "up", "{body}");
        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_nats_is_named_with_the_line_that_starts_it() {
    with_fresh_database(|url| async move {
        let err = Application::build(config(&url, &["--nats-url", "nats://u:p@127.0.0.1:1"]))
            .await
            .err()
            .expect("no NATS listens on port 1");
        assert!(matches!(err, StartupError::NatsUnreachable { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("NATS does not answer at 127.0.0.1:1"),
            "{message}"
        );
        assert!(message.contains("nats-server -js"), "{message}");
        assert!(!message.contains("u:p"), "credentials stay out: {message}");
    })
    .await;
}

#[tokio::test]
async fn a_failing_background_task_stops_the_process_with_its_error() {
    with_fresh_database(|url| async move {
        let app = Application::build(config(&url, &[]))
            .await
            .unwrap()
            .with_task("doomed", |_stop| async { Err::<(), _>("it broke") });
        let outcome = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            app.run_until_stopped(std::future::pending()),
        )
        .await
        .expect("the process stops by itself");
        let err = outcome.expect_err("the task's failure is the process's");
        assert_eq!(err.to_string(), "doomed failed: it broke");
    })
    .await;
}

/// `serve` is one process: its rate limit counts in memory, with no round trip per
/// request; a `gateway` shares it through PostgreSQL; an explicit setting wins for both.
#[tokio::test]
async fn the_rate_limit_store_follows_the_role_unless_set() {
    use gateway::config::RateLimitStore;
    use gateway::startup::Role;
    with_fresh_database(|url| async move {
        for (role, extra, expected) in [
            (Role::Serve, &[][..], RateLimitStore::Memory),
            (Role::Gateway, &[][..], RateLimitStore::Postgres),
            (
                Role::Serve,
                &["--rate-limit-store", "postgres"][..],
                RateLimitStore::Postgres,
            ),
            (
                Role::Gateway,
                &["--rate-limit-store", "memory"][..],
                RateLimitStore::Memory,
            ),
        ] {
            let app = Application::build_as(role, config(&url, extra))
                .await
                .unwrap();
            assert_eq!(
                app.state().config.rate_limit_store,
                Some(expected),
                "{extra:?}"
            );
            app.state().pool.close().await;
        }
    })
    .await;
}
