//! The real `ultramarket serve` binary on a fresh machine: it creates its database, applies
//! migrations, says where it listens, answers health checks and stops cleanly on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

async fn get(addr: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn serve_creates_its_database_and_answers_health() {
    let db = format!("um_serve_{}", Uuid::new_v4().simple());
    let url = format!("{}/{db}", server_url());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ultramarket"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .env_remove("EVENTSTORE_URL")
        .env_remove("JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut warned = false;
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            warned |= line.contains("JWT_SECRET is not set");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.trim().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server did not say where it listens");
    assert!(warned, "a missing JWT_SECRET is warned about");

    let (status, _, body) = get(&addr, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);

    let (status, _, body) = get(&addr, "/health/detailed").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["components"]["postgres"]["status"], "up");
    assert_eq!(v["components"]["event_store"]["kind"], "postgres");
    let followers = v["components"]["projections"]["checkpoints"]
        .as_array()
        .unwrap();
    for model in ["orders", "catalog", "analytics", "audit"] {
        assert!(
            followers
                .iter()
                .any(|c| c["kind"] == "projection" && c["name"] == model),
            "{model} in {followers:?}"
        );
    }

    let (status, head, body) = get(&addr, "/api/v1/nowhere").await;
    assert_eq!(status, 404);
    assert!(head
        .to_lowercase()
        .contains("content-type: application/problem+json"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "not_found");
    assert_eq!(v["status"], 404);

    let (status, _, body) = get(&addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("http_requests_total"), "{body}");

    // SIGTERM drains and exits cleanly.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the server did not stop on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");

    let mut admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    let tables: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from pg_database where datname = '{db}'"
    )))
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(tables, 1, "serve created its database");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database {db} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    let _ = &mut admin;
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_the_line_that_starts_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_ultramarket"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/ultramarket",
        )
        .env("BIND", "127.0.0.1:0")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PostgreSQL does not answer at 127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("pg_ctlcluster"), "{err}");
}
