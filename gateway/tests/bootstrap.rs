//! A bootstrap admin that cannot be created stops the real `ultramarket serve` binary with
//! an error in its log and a non-zero exit, rather than a server that starts without the
//! admin its operator configured (issue 18, item 11).

use std::process::Output;
use std::time::Duration;

use chrono::Utc;
use commands::accounts::{self, NewAccount};
use commands::handler::{Actor, CommandMeta};
use domain::value::Email;
use gateway::config::Config;
use gateway::startup::Application;
use tokio::process::Command;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

/// `ultramarket serve` on `url` with the bootstrap admin `email` / `password`, until it
/// exits (it must, within a minute).
async fn serve(url: &str, email: &str, password: &str) -> Output {
    let run = Command::new(env!("CARGO_BIN_EXE_ultramarket"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env("JWT_SECRET", "a bootstrap test secret, long enough!")
        .env("BOOTSTRAP_ADMIN_EMAIL", email)
        .env("BOOTSTRAP_ADMIN_PASSWORD", password)
        .env_remove("EVENTSTORE_URL")
        .env_remove("NATS_URL")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("serve kept running with a bootstrap admin it could not create")
        .unwrap()
}

#[tokio::test]
async fn serve_refuses_to_start_when_the_bootstrap_admin_cannot_be_created() {
    let db = format!("um_bootstrap_{}", Uuid::new_v4().simple());
    let url = format!("{}/{db}", server_url());
    let outcome = tokio::spawn({
        let url = url.clone();
        async move {
            // Someone registered the address the operator means for the admin.
            let config = Config::from_args_ignoring_env([
                "ultramarket",
                "--database-url",
                &url,
                "--bind",
                "127.0.0.1:0",
                "--jwt-secret",
                "a bootstrap test secret, long enough!",
            ])
            .unwrap();
            let app = Application::build(config).await.unwrap();
            let id = Uuid::new_v4();
            accounts::register(
                &app.state().handlers,
                &app.state().credentials,
                NewAccount {
                    email: Email::parse("boss@example.com").unwrap(),
                    password_hash: "$argon2id$not-a-real-hash".into(),
                    first_name: None,
                    last_name: None,
                },
                CommandMeta::new(id, id, Actor::system(), Utc::now()),
            )
            .await
            .unwrap();
            app.state().pool.close().await;
            drop(app);

            let out = serve(&url, "boss@example.com", "the operator's long password").await;
            let log = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.status.success(), "serve started anyway:\n{log}");
            assert!(
                log.contains("the bootstrap admin cannot be created")
                    && log.contains("ERROR")
                    && log
                        .contains("boss@example.com belongs to an account with the role customer"),
                "{log}"
            );
            assert!(!log.contains("listening on"), "{log}");

            // A password the policy refuses: the same loud stop.
            let out = serve(&url, "root@example.com", "short").await;
            let log = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.status.success(), "serve started anyway:\n{log}");
            assert!(log.contains("BOOTSTRAP_ADMIN_PASSWORD"), "{log}");
        }
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {db} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
