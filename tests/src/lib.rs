//! The end-to-end harness: starts the real `ultramarket serve` binary as a child process on
//! a database of its own and a port of its own, and drives it over HTTP the way a
//! storefront would. SQL is used only to look at what a storefront cannot see through the
//! API (the notification outbox, the analytics and audit read models, the tables still
//! standing after hostile input). E-mails are read where a developer reads them: the
//! server runs without `SMTP_URL`, so each message is written to its log, and the harness
//! keeps those lines ([`Server::mailed_link`]).
//!
//! One [`Server`] per test: it owns its database (`e2e_<uuid>`, dropped when the server is)
//! and its process (killed when the server is dropped, even when the test panics).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use domain::notification::token_of;
use projections::notifications::LOGGED_MAIL;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

pub mod deployment;

/// Signs the server's access tokens and e-mail links; the tests know it so they can forge
/// an expired token.
pub const JWT_SECRET: &str = "e2e-suite-jwt-secret-of-at-least-32-bytes";
pub const ADMIN_EMAIL: &str = "root@e2e.example.com";
pub const ADMIN_PASSWORD: &str = "the e2e admin password";
/// Where the server says its links point.
pub const PUBLIC_URL: &str = "https://shop.e2e.example";

/// How long the server may take to answer `/health` after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`eventually`] polls before it fails.
pub const EVENTUALLY: Duration = Duration::from_secs(60);
/// Lines of the server's output kept to explain a failure.
const KEPT_LINES: usize = 300;

/// The PostgreSQL server the tests use, without a database name.
pub(crate) fn postgres_server() -> String {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = url.split('?').next().unwrap_or(&url).to_owned();
    match url.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && !server.ends_with('/') => server.into(),
        _ => url,
    }
}

/// The `ultramarket` binary this workspace builds, next to the test executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/ultramarket`).
///
/// `cargo test --workspace` builds it already (the gateway crate has integration tests, so
/// cargo builds its binaries). `cargo test -p e2e` alone does not, and nothing in this crate
/// depends on the gateway, so after an edit the binary would be missing or stale: then,
/// once per test process, it is built with `cargo build -p gateway --bin ultramarket` into
/// the same target directory. Asking cargo every time would be exact, but under
/// `cargo test --workspace` that second cargo resolves features for the gateway alone and
/// would build (and overwrite) another variant of a binary that is already fresh.
/// `ULTRAMARKET_BIN` names another binary and skips all this.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| workspace_binary("ULTRAMARKET_BIN", "gateway", "ultramarket"))
}

/// The `umctl` binary this workspace builds, found or built as [`binary`] is
/// (`UMCTL_BIN` names another).
pub fn umctl() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| workspace_binary("UMCTL_BIN", "replay-tools", "umctl"))
}

fn workspace_binary(env: &str, package: &str, name: &str) -> PathBuf {
    {
        if let Ok(given) = std::env::var(env) {
            return PathBuf::from(given);
        }
        let exe = std::env::current_exe().expect("the test executable's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("the test runs from target/<profile>/deps");
        let target_dir = profile_dir.parent().expect("target/<profile>");
        let binary = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ sits in the workspace");
        let built_at = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
        if built_at.is_some_and(|at| !sources_changed_since(workspace, at)) {
            return binary;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .arg("--manifest-path")
            .arg(workspace.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the {name} binary failed");
        assert!(binary.exists(), "{} was not built", binary.display());
        binary
    }
}

/// Whether a file the binary is built from (the crates it links, the read models' DDL,
/// the migrations, the lock file) changed after `since`.
fn sources_changed_since(workspace: &Path, since: std::time::SystemTime) -> bool {
    fn newer(path: &Path, since: std::time::SystemTime) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        if meta.is_dir() {
            let Ok(entries) = std::fs::read_dir(path) else {
                return false;
            };
            return entries.flatten().any(|e| newer(&e.path(), since));
        }
        meta.modified().is_ok_and(|m| m > since)
    }
    let crates = [
        "domain",
        "commands",
        "projections",
        "gateway",
        "replay-tools",
    ];
    crates
        .iter()
        .flat_map(|c| ["src", "Cargo.toml", "build.rs", "assets"].map(|p| format!("{c}/{p}")))
        .chain(["schemas".into(), "Cargo.lock".into(), "Cargo.toml".into()])
        .any(|p| newer(&workspace.join(p), since))
}

/// What the server logs once it is bound; the address follows it. The server binds port 0
/// and only its log says which port it got: a port picked by the test and released
/// before the child binds it could be taken by another test's server meanwhile.
const LISTENING: &str = "listening on http://";

/// The address in a `listening on http://<addr>` log line.
fn listening_address(line: &str) -> Option<String> {
    let rest = line.split(LISTENING).nth(1)?;
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']'))
        .collect();
    (!addr.is_empty()).then_some(addr)
}

/// One e-mail as the server's log transport wrote it: the `to=` and `link=` fields of its
/// line (`-` when the message carries no link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedMail {
    pub to: String,
    pub link: String,
    /// The whole log line.
    pub line: String,
}

impl LoggedMail {
    fn parse(line: &str) -> Option<LoggedMail> {
        let rest = line.split(LOGGED_MAIL).nth(1)?;
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        Some(LoggedMail {
            to: field("to=")?,
            link: field("link=")?,
            line: line.to_owned(),
        })
    }
}

/// What the server wrote, kept by the threads that read its output.
#[derive(Clone, Default)]
struct Output {
    /// The last [`KEPT_LINES`] lines.
    lines: Arc<Mutex<Vec<String>>>,
    /// The address the server says it listens on.
    listening: Arc<Mutex<Option<String>>>,
    /// Every e-mail written to the log, in order.
    mail: Arc<Mutex<Vec<LoggedMail>>>,
}

/// The last lines a stream wrote, kept by a thread that reads it to the end (so the
/// server never blocks on a full pipe). The address the server says it listens on and
/// the e-mails it logs are kept apart, so that no amount of output pushes them out.
fn keep_lines(stream: impl std::io::Read + Send + 'static, tag: &'static str, output: Output) {
    let Output {
        lines: into,
        listening,
        mail,
    } = output;
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = listening_address(&line) {
                let mut at = listening.lock().unwrap_or_else(|e| e.into_inner());
                at.get_or_insert(addr);
            }
            if let Some(m) = LoggedMail::parse(&line) {
                mail.lock().unwrap_or_else(|e| e.into_inner()).push(m);
            }
            let mut lines = into.lock().unwrap_or_else(|e| e.into_inner());
            if lines.len() == KEPT_LINES {
                lines.remove(0);
            }
            lines.push(format!("{tag}: {line}"));
        }
    });
}

/// A running `ultramarket serve` on a database of its own, or one role of a
/// [`Deployment`](deployment::Deployment) on the deployment's database.
pub struct Server {
    child: Child,
    output: Output,
    /// `serve`, `gateway`, `relay`, `project` or `process`.
    pub role: String,
    /// The database this server owns and drops; `None` for a deployment's role.
    database: Option<String>,
    /// `http://127.0.0.1:<port>`
    pub origin: String,
    /// The server's own database, for what the API does not show.
    pub db: PgPool,
    /// Where that database is, for `umctl`.
    pub database_url: String,
    pub client: Client,
}

impl Server {
    /// Starts the binary with the suite's secret and bootstrap admin, and waits for
    /// `/health`.
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    /// [`Server::start`] with extra command-line arguments.
    pub async fn start_with(extra: &[&str]) -> Server {
        let database = format!("e2e_{}", Uuid::new_v4().simple());
        let database_url = format!("{}/{database}", postgres_server());
        let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Self::spawn(&database_url, Some(database), &args).await
    }

    /// Starts the binary with `args` (the role first) on `database_url` and waits for
    /// `/health`. With `owned`, the database is this server's and is dropped with it.
    pub(crate) async fn spawn(database_url: &str, owned: Option<String>, args: &[&str]) -> Server {
        let mut command = Command::new(binary());
        // A clean environment: a developer's DATABASE_URL, NATS_URL, SMTP_URL or limits
        // must not change what the suite tests.
        command.env_clear();
        for keep in ["PATH", "HOME", "TMPDIR"] {
            if let Ok(v) = std::env::var(keep) {
                command.env(keep, v);
            }
        }
        let (role, rest) = args.split_first().expect("a role");
        command
            .env("RUST_LOG", "info,sqlx=warn")
            .arg(role)
            .args(["--database-url", database_url])
            .args(["--jwt-secret", JWT_SECRET])
            .args(["--bootstrap-admin-email", ADMIN_EMAIL])
            .args(["--bootstrap-admin-password", ADMIN_PASSWORD])
            .args(["--public-url", PUBLIC_URL])
            // The outbox is delivered within a tenth of a second, not the default second.
            .args(["--notify-poll-ms", "100"])
            // Read-your-writes waits up to 2 s by default, then answers 503; on a small
            // machine busy compiling, projections can fall that far behind. The suite
            // checks that a query waits for its token, not how fast projections are.
            .args(["--consistency-wait-ms", "15000"])
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the ultramarket binary starts");
        let output = Output::default();
        for (stream, tag) in [
            (
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
                "out",
            ),
            (Box::new(child.stderr.take().unwrap()), "err"),
        ] {
            keep_lines(stream, tag, output.clone());
        }
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        // From here on the guard owns the process and the database: a failed start still
        // kills the one and drops the other.
        let mut server = Server {
            child,
            output,
            role: (*role).to_owned(),
            database: owned,
            // Known once the server says where it listens.
            origin: String::new(),
            db: PgPool::connect_lazy(database_url).expect("a valid database URL"),
            database_url: database_url.to_owned(),
            client,
        };
        server.wait_until_healthy().await;
        server
    }

    /// Kills the process at once (SIGKILL): no draining, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.origin.is_empty() {
                let at = self
                    .output
                    .listening
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                if let Some(addr) = at {
                    self.origin = format!("http://{addr}");
                }
            }
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                panic!(
                    "ultramarket {} exited with {status} before answering /health:\n{}",
                    self.role,
                    self.output_tail()
                );
            }
            if !self.origin.is_empty() {
                let health = self
                    .client
                    .get(format!("{}/health", self.origin))
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                if matches!(&health, Ok(r) if r.status() == 200) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "ultramarket {} did not {} within {START_TIMEOUT:?}:\n{}",
                self.role,
                if self.origin.is_empty() {
                    "log where it listens"
                } else {
                    "answer /health"
                },
                self.output_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the server wrote lately, for failure messages.
    pub fn output_tail(&self) -> String {
        self.output
            .lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// A request to `path` (`/api/v1/...`, `/health`).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.origin))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// Registers a customer; panics unless it answers 201.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let a = send(
            self.post("/api/v1/auth/register")
                .json(&json!({ "email": email, "password": password })),
        )
        .await;
        assert_eq!(a.status, 201, "register {email}: {}", a.text);
        a.body
    }

    /// Logs in; panics unless it answers 200. The token pair.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let a = send(
            self.post("/api/v1/auth/login")
                .json(&json!({ "email": email, "password": password })),
        )
        .await;
        assert_eq!(a.status, 200, "login {email}: {}", a.text);
        Tokens {
            access: a.body["access_token"].as_str().unwrap().to_owned(),
            refresh: a.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A new customer, registered and logged in: (user id, access token).
    pub async fn customer(&self, email: &str) -> (String, String) {
        let user = self.register(email, "a customer's password").await;
        let tokens = self.login(email, "a customer's password").await;
        (user["id"].as_str().unwrap().to_owned(), tokens.access)
    }

    /// An account of `role` made by the bootstrap admin (`POST /api/v1/users`): its id.
    pub async fn account(&self, email: &str, password: &str, role: &str) -> String {
        let admin = self.admin().await;
        let made = send(self.post("/api/v1/users").bearer_auth(&admin).json(&json!({
            "email": email, "password": password, "role": role,
        })))
        .await;
        assert_eq!(made.status, 201, "{}", made.text);
        made.body["id"].as_str().unwrap().to_owned()
    }

    /// The bootstrap admin's access token.
    pub async fn admin(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.access
    }

    /// A console session of `email` (signed in through `/admin/login`, its CSRF token
    /// and all): the `Cookie` header value that carries it.
    pub async fn console_session(&self, email: &str, password: &str) -> String {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = send(http.get(format!("{}/admin/login", self.origin))).await;
        assert_eq!(form.status, 200, "{}", form.text);
        let cookie = |a: &Answer, name: &str| {
            a.headers
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with(&format!("{name}=")))
                .and_then(|v| v.split(';').next())
                .map(str::to_owned)
                .unwrap_or_else(|| panic!("no {name} cookie: {a:?}"))
        };
        let at = form
            .text
            .find(r#"name="csrf" value=""#)
            .expect("a csrf field")
            + 19;
        let csrf = form.text[at..].split('"').next().unwrap().to_owned();
        let signed = send(
            http.post(format!("{}/admin/login", self.origin))
                .header(reqwest::header::COOKIE, cookie(&form, "um_console_login"))
                .form(&[("email", email), ("password", password), ("csrf", &csrf)]),
        )
        .await;
        assert_eq!(signed.status, 303, "{}", signed.text);
        cookie(&signed, "um_console")
    }

    /// Every e-mail the server has written to its log so far, in order.
    pub fn mail(&self) -> Vec<LoggedMail> {
        self.output
            .mail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The `nth` (from 0) link under `{PUBLIC_URL}/{path}` e-mailed to `email`, read from
    /// the server's log once the worker has delivered it, as a developer without SMTP
    /// would read it.
    pub async fn mailed_link(&self, email: &str, path: &str, nth: usize) -> String {
        let prefix = format!("{PUBLIC_URL}/{path}?token=");
        eventually(&format!("a {path} link is e-mailed to {email}"), || {
            let found = self
                .mail()
                .into_iter()
                .filter(|m| m.to == email && m.link.starts_with(&prefix))
                .nth(nth)
                .map(|m| m.link);
            async move { found }
        })
        .await
    }

    /// The token of the `nth` (from 0) verification link e-mailed to `email`.
    pub async fn verification_token(&self, email: &str, nth: usize) -> String {
        let link = self.mailed_link(email, "verify-email", nth).await;
        token_of(&link).expect("a link with a token").to_owned()
    }

    /// The token of the `nth` (from 0) password reset link e-mailed to `email`.
    pub async fn reset_token(&self, email: &str, nth: usize) -> String {
        let link = self.mailed_link(email, "reset-password", nth).await;
        token_of(&link).expect("a link with a token").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- ultramarket {} output (last {KEPT_LINES} lines) ---\n{}",
                self.role,
                self.output_tail()
            );
        }
        if let Some(database) = &self.database {
            drop_database(database);
        }
    }
}

/// Drops `database`. Drop runs inside the test's runtime, where blocking on a future is
/// not allowed: the database goes away from a thread with a runtime of its own.
pub(crate) fn drop_database(database: &str) {
    {
        let name = database.to_owned();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let admin = PgPool::connect(&format!("{}/postgres", postgres_server())).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name} with (force)"
                )))
                .execute(&admin)
                .await?;
                admin.close().await;
                Ok::<_, sqlx::Error>(())
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {database}");
        }
    }
}

/// An access token and its refresh token.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// `X-Consistency-Token`, which every command answer must carry.
    pub fn consistency(&self) -> String {
        self.header("x-consistency-token")
            .unwrap_or_else(|| panic!("no X-Consistency-Token on a command answer: {self:?}"))
    }

    /// Asserts an `application/problem+json` answer with `status`; its body.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "content type {ct:?} of {}",
            self.text
        );
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert!(self.body["code"].is_string(), "{}", self.text);
        &self.body
    }
}

pub async fn send(request: RequestBuilder) -> Answer {
    let r = request.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("a readable body");
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// Polls `probe` until it yields, for up to [`EVENTUALLY`] (projections and the checkout
/// saga run behind the answers). The deadline only matters when something is wrong: on a
/// machine busy with a whole workspace's tests, a short one fails healthy runs.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {EVENTUALLY:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `{"amount": .., "currency": "USD"}`
pub fn usd(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "USD" })
}
