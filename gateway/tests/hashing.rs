//! Argon2 cannot take the process down: the real `ultramarket serve` binary, hit by 300
//! parallel logins, stays under 512 MiB resident, and what it cannot hash at once it
//! refuses with 503 `busy` and `Retry-After` rather than queueing without end.
//!
//! Before the bounded pool, 300 parallel logins ran 300 argon2 hashes of 19 MiB each at
//! once and the process peaked near 5.8 GB.

use std::process::Stdio;
use std::time::Duration;

use reqwest::Client;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use uuid::Uuid;

fn server_url() -> String {
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    base.rsplit_once('/')
        .map(|(s, _)| s.to_owned())
        .unwrap_or(base)
}

/// The peak resident set of process `pid`, in KiB (`VmHWM` of `/proc/<pid>/status`).
fn peak_resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_keep_resident_memory_bounded() {
    let db = format!("um_hash_{}", Uuid::new_v4().simple());
    let url = format!("{}/{db}", server_url());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ultramarket"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        // The bound under test, whatever the machine's core count.
        .env("PASSWORD_HASH_THREADS", "2")
        .env("PASSWORD_HASH_QUEUE", "32")
        .env_remove("EVENTSTORE_URL")
        .env_remove("NATS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.trim().to_owned();
            }
        }
        panic!("the server exited before listening");
    })
    .await
    .expect("the server did not say where it listens");
    // Keep reading its log so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let c = Client::new();
    let base = format!("http://{addr}/api/v1");
    // Distinct unknown e-mails: each is its own failed-login count, so every one of
    // them reaches the (dummy) hash, the costliest path.
    let logins = (0..300).map(|i| {
        let (c, base) = (c.clone(), base.clone());
        tokio::spawn(async move {
            let r = c
                .post(format!("{base}/auth/login"))
                .json(&json!({ "email": format!("nobody{i}@example.com"), "password": "a guess that is long" }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        })
    });
    let (mut checked, mut busy) = (0, 0);
    for answer in futures::future::join_all(logins).await {
        let (status, retry_after, body) = answer.unwrap();
        match status {
            401 => checked += 1,
            503 => {
                assert_eq!(body["code"], "busy", "{body}");
                let wait: u64 = retry_after
                    .expect("a busy answer says when to retry")
                    .parse()
                    .unwrap();
                assert!(wait >= 1);
                busy += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(checked + busy, 300);
    assert!(checked >= 2, "the pool hashed something: {checked}");
    let peak_mib = peak_resident_kib(pid) / 1024;
    assert!(
        peak_mib < 512,
        "300 parallel logins took the server to {peak_mib} MiB resident ({checked} hashed, {busy} busy)"
    );
    eprintln!("peak resident: {peak_mib} MiB; {checked} hashed, {busy} answered busy");

    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {db} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}
