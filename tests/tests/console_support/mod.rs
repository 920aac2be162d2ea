//! What the console's test files share: a headless Chromium driven through chromedriver
//! (started on a free port, skipped with a message where there is none outside CI), the
//! screenshots under `<target>/console-screenshots/`, and a console session over plain
//! HTTP (its cookie and form token, redirects not followed). Each test file uses part of
//! it: `console.rs`, `console_audit.rs`, `console_catalog.rs`, `console_back_office.rs`,
//! `console_reviews.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use e2e::{eventually, Server};
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::header::COOKIE;
use serde_json::{json, Value};

/// chromedriver and the browser it drives; both end with this.
pub struct Browser {
    driver: Child,
    pub client: Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver runs in a process group of its own with the browsers it starts:
        // ending the group leaves no Chromium behind, even when a test panics.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    if let Ok(given) = std::env::var("CHROMEDRIVER") {
        return Some(PathBuf::from(given));
    }
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn chromium() -> Option<PathBuf> {
    if let Ok(given) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(given));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A headless Chromium, or `None` (with a message) where there is none outside CI.
pub async fn browser() -> Option<Browser> {
    let Some(driver_path) = chromedriver() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing and CI is set: install chromium and chromium-driver (.ci/run does)"
        );
        eprintln!(
            "SKIPPED: no chromedriver (install Debian's chromium and chromium-driver, or set \
             CHROMEDRIVER); the console's browser tests did not run"
        );
        return None;
    };
    // A free port, asked of the OS; chromedriver cannot bind port 0 and say which it got.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(&driver_path);
    command
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let driver = command.spawn().expect("chromedriver starts");
    let status = format!("http://127.0.0.1:{port}/status");
    let http = reqwest::Client::new();
    eventually("chromedriver answers", || {
        let r = http.get(&status).send();
        async move {
            let body: Value = r.await.ok()?.json().await.ok()?;
            (body["value"]["ready"] == true).then_some(())
        }
    })
    .await;
    let mut options = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--window-size=1280,900"],
    });
    if let Some(binary) = chromium() {
        options["binary"] = json!(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session");
    Some(Browser { driver, client })
}

/// Where screenshots go: `<target>/console-screenshots/`.
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/<profile>/deps/<test> → target
            let exe = std::env::current_exe().expect("the test's path");
            exe.ancestors().nth(3).map(Path::to_owned).expect("target/")
        });
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("saved");
}

pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

/// Fills and sends the sign-in form the browser is on.
pub async fn sign_in(client: &Client, email: &str, password: &str) {
    wait_for(client, "form.signin").await;
    client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Css("form.signin button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The `value` of the hidden input `name="csrf"` of an HTML page.
pub fn hidden_csrf(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// A console session signed in over plain HTTP: its cookie and its form token.
pub struct ConsoleSession {
    http: reqwest::Client,
    origin: String,
    pub cookie: String,
    pub csrf: String,
}

/// What a console request answered: its status, where it redirects, its HTML.
pub struct Shown {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
}

impl ConsoleSession {
    pub async fn open(s: &Server, email: &str, password: &str) -> ConsoleSession {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = s.console_session(email, password).await;
        let home = http
            .get(format!("{}/admin", s.origin))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        let csrf = hidden_csrf(&home.text().await.unwrap());
        ConsoleSession {
            http,
            origin: s.origin.clone(),
            cookie,
            csrf,
        }
    }

    async fn shown(r: reqwest::RequestBuilder) -> Shown {
        let r = r.send().await.unwrap();
        Shown {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            html: r.text().await.unwrap(),
        }
    }

    /// A page.
    pub async fn get(&self, path: &str) -> Shown {
        Self::shown(
            self.http
                .get(format!("{}{path}", self.origin))
                .header(COOKIE, &self.cookie),
        )
        .await
    }

    /// A form sent with `fields` and the session's token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Shown {
        let mut all = fields.to_vec();
        all.push(("csrf", &self.csrf));
        self.post_bare(path, &all).await
    }

    /// A form sent with `fields` only (the caller adds the token, or not).
    pub async fn post_bare(&self, path: &str, fields: &[(&str, &str)]) -> Shown {
        Self::shown(
            self.http
                .post(format!("{}{path}", self.origin))
                .header(COOKIE, &self.cookie)
                .form(fields),
        )
        .await
    }
}
