//! Issue 18 item 13: a NATS server started with a token (as compose.yml starts it) accepts
//! the engine when `NATS_URL` carries the token, `nats://TOKEN@host:4222`, and refuses a
//! wrong one. async-nats ignores credentials in a URL, so the engine moves them into its
//! connection options.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gateway::config::Secret;
use gateway::startup::connect_nats;

/// A nats-server of this test's own, on a free port, killed when dropped.
struct Server(Child, std::path::PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
        std::fs::remove_dir_all(&self.1).ok();
    }
}

fn start(args: &[&str]) -> Option<(Server, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("nats-auth-{}", uuid::Uuid::new_v4()));
    let child = Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(&dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child, dir);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((server, port))
}

#[tokio::test]
async fn a_token_in_nats_url_authenticates() {
    let Some((_server, port)) = start(&["--auth", "s3cret-token-0123"]) else {
        eprintln!("NOTICE: no nats-server on PATH (apt-get install nats-server); skipped");
        return;
    };
    let url = |token: &str| Secret::new(format!("nats://{token}@127.0.0.1:{port}"));
    let client = connect_nats(&url("s3cret-token-0123")).await;
    assert!(client.is_ok(), "{:?}", client.err());
    let wrong = connect_nats(&url("not-the-token")).await;
    assert!(wrong.is_err(), "a wrong token connects");
    let none = connect_nats(&Secret::new(format!("nats://127.0.0.1:{port}"))).await;
    assert!(none.is_err(), "no token connects");
}

#[tokio::test]
async fn a_user_and_password_in_nats_url_authenticate() {
    let Some((_server, port)) = start(&["--user", "engine", "--pass", "p@ss:word"]) else {
        eprintln!("NOTICE: no nats-server on PATH (apt-get install nats-server); skipped");
        return;
    };
    let url = format!("nats://engine:p%40ss%3Aword@127.0.0.1:{port}");
    let client = connect_nats(&Secret::new(url)).await;
    assert!(client.is_ok(), "{:?}", client.err());
}
