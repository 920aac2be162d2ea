//! The HTTP behaviour every route inherits, driven with `oneshot` through the real middleware
//! stack, with no database (the pool connects lazily to a port where nothing listens) and a
//! few test-only routes under `/api/v1`.

use std::net::SocketAddr;

use axum::body::{to_bytes, Body};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::config::Config;
use crate::error::{AppJson, PROBLEM_JSON};
use crate::middleware::security::{API_CSP, DOCS_CSP};
use crate::middleware::{ClientIp, RequestId};
use crate::router::{api_router, app_with};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Echo {
    name: String,
    quantity: u32,
}

async fn echo(AppJson(body): AppJson<Echo>) -> AppJson<Echo> {
    AppJson(body)
}

async fn whoami(id: RequestId, ip: ClientIp) -> Json<Value> {
    Json(json!({
        "request_id": id.as_str(),
        "correlation_id": id.correlation_id(),
        "ip": ip.0,
    }))
}

async fn explode() -> &'static str {
    panic!("the secret sauce is 42")
}

fn test_routes() -> Router<AppState> {
    Router::new()
        .route("/echo", post(echo))
        .route("/whoami", get(whoami))
        .route("/explode", get(explode))
}

/// The app as `serve` builds it, plus the test routes; `args` are extra flags.
fn app(args: &[&str]) -> Router {
    let mut all = vec![
        "ultramarket",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/unused",
    ];
    // No database answers here; the shared limit's fallback has a test of its own.
    if !args.contains(&"--rate-limit-store") {
        all.extend_from_slice(&["--rate-limit-store", "memory"]);
    }
    all.extend_from_slice(args);
    let config = Config::from_args_ignoring_env(all).unwrap();
    config.validate().unwrap();
    let state = AppState::connect_lazy(config).unwrap();
    app_with(state, api_router().merge(test_routes()))
}

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

fn from_ip(mut req: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem body with this status and code, and returns it.
    fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some(PROBLEM_JSON),
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(
            body["type"],
            format!("https://ultramarket.dev/problems/{code}")
        );
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        assert!(body["errors"].is_array(), "{body}");
        body
    }
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get_(app: &Router, uri: &str) -> Answer {
    send(app, request(Method::GET, uri).body(Body::empty()).unwrap()).await
}

async fn post_json(app: &Router, content_type: Option<&str>, body: impl Into<Body>) -> Answer {
    let mut req = request(Method::POST, "/api/v1/echo");
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    send(app, req.body(body.into()).unwrap()).await
}

#[tokio::test]
async fn liveness_answers_ok() {
    let answer = get_(&app(&[]), "/health").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readiness_is_503_and_names_the_component_when_postgres_is_down() {
    let answer = get_(&app(&[]), "/health/detailed").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    let body = answer.json();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["components"]["postgres"]["status"], "down");
    assert!(body["components"]["postgres"]["error"].is_string());
    assert_eq!(body["components"]["event_store"]["kind"], "postgres");
    assert_eq!(body["components"]["nats"]["status"], "not_configured");
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = app(&[]);
    for uri in ["/nowhere", "/api/v1/nowhere", "/api/v2/products"] {
        get_(&app, uri)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_problems_with_allow() {
    let app = app(&[]);
    for uri in ["/health", "/api/v1/openapi.json", "/api/v1/echo"] {
        let method = if uri.ends_with("echo") {
            Method::DELETE
        } else {
            Method::POST
        };
        let answer = send(&app, request(method, uri).body(Body::empty()).unwrap()).await;
        answer.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert!(
            answer.header("allow").is_some(),
            "{uri}: {:?}",
            answer.headers
        );
    }
}

#[tokio::test]
async fn a_good_body_passes_through_app_json() {
    let answer = post_json(
        &app(&[]),
        Some("application/json; charset=utf-8"),
        r#"{"name": "mug", "quantity": 2}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), json!({"name": "mug", "quantity": 2}));
}

#[tokio::test]
async fn malformed_json_is_400() {
    let answer = post_json(&app(&[]), Some("application/json"), r#"{"name": "mug","#).await;
    let body = answer.problem(StatusCode::BAD_REQUEST, "malformed_json");
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn a_wrong_type_is_422_naming_the_field() {
    let answer = post_json(
        &app(&[]),
        Some("application/json"),
        r#"{"name": "mug", "quantity": "two"}"#,
    )
    .await;
    let body = answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(body["errors"][0]["field"], "quantity", "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("invalid type"));
}

#[tokio::test]
async fn a_missing_field_is_422_naming_the_field() {
    let answer = post_json(&app(&[]), Some("application/json"), r#"{"name": "mug"}"#).await;
    let body = answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(body["errors"][0]["field"], "quantity", "{body}");
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_400() {
    let app = app(&[]);
    let body = r#"{"name": "mug", "quantity": 2}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        post_json(&app, content_type, body)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_content_type");
    }
}

#[tokio::test]
async fn an_oversize_body_is_413_whether_declared_or_streamed() {
    let app = app(&["--max-body-bytes", "64"]);
    let big = format!(r#"{{"name": "{}", "quantity": 1}}"#, "x".repeat(100));

    // Declared: refused from the Content-Length, before the body is read.
    let declared = request(Method::POST, "/api/v1/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let refused = send(&app, declared).await;
    refused.problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(refused.header("connection"), Some("close"));

    // Streamed without a length: cut off while reading.
    let chunks = big
        .into_bytes()
        .chunks(16)
        .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
        .collect::<Vec<_>>();
    let streamed = request(Method::POST, "/api/v1/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    send(&app, streamed)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Under the limit is fine.
    let answer = post_json(
        &app,
        Some("application/json"),
        r#"{"name":"m","quantity":1}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn a_panicking_handler_answers_a_generic_500_problem() {
    let answer = get_(&app(&[]), "/api/v1/explode").await;
    let body = answer.problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(!answer.text.contains("secret sauce"), "{body}");
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_per_client() {
    let app = app(&["--rate-limit-per-minute", "2"]);
    let get_from = |ip: [u8; 4], uri: &'static str| {
        from_ip(request(Method::GET, uri).body(Body::empty()).unwrap(), ip)
    };
    for _ in 0..2 {
        let answer = send(&app, get_from([192, 0, 2, 1], "/api/v1/openapi.json")).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let refused = send(&app, get_from([192, 0, 2, 1], "/api/v1/openapi.json")).await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    // Two a minute: the next one is allowed 30 s after the first.
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert!(refused.header("x-request-id").is_some());

    // Another client is not affected, and probes are never limited.
    let other = send(&app, get_from([192, 0, 2, 2], "/api/v1/openapi.json")).await;
    assert_eq!(other.status, StatusCode::OK);
    let probe = send(&app, get_from([192, 0, 2, 1], "/health")).await;
    assert_eq!(probe.status, StatusCode::OK);
}

/// With PostgreSQL away, the shared limit falls back to counting in the process: still a
/// limit, and no request waits for the pool more than once a second.
#[tokio::test]
async fn the_shared_rate_limit_limits_alone_while_the_database_is_away() {
    let app = app(&[
        "--rate-limit-per-minute",
        "2",
        "--rate-limit-store",
        "postgres",
    ]);
    let get = || {
        from_ip(
            request(Method::GET, "/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
            [192, 0, 2, 1],
        )
    };
    let started = std::time::Instant::now();
    for _ in 0..2 {
        assert_eq!(send(&app, get()).await.status, StatusCode::OK);
    }
    send(&app, get())
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

#[tokio::test]
async fn a_zero_rate_limit_is_no_limit() {
    let app = app(&["--rate-limit-per-minute", "0"]);
    for _ in 0..50 {
        let req = from_ip(
            request(Method::GET, "/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
            [192, 0, 2, 1],
        );
        assert_eq!(send(&app, req).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn security_headers_are_on_every_answer() {
    let app = app(&[]);
    for uri in ["/health", "/api/v1/openapi.json", "/nowhere"] {
        let answer = get_(&app, uri).await;
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(
            answer.header("content-security-policy"),
            Some(API_CSP),
            "{uri}"
        );
    }
    // The docs page runs its own script, so it has its own, still strict, policy.
    let docs = get_(&app, "/docs").await;
    assert_eq!(docs.header("content-security-policy"), Some(DOCS_CSP));
    assert_eq!(docs.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made_and_reaches_handlers() {
    let app = app(&[]);
    let given = request(Method::GET, "/api/v1/whoami")
        .header("x-request-id", "trace-abc-123")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, from_ip(given, [198, 51, 100, 7])).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("x-request-id"), Some("trace-abc-123"));
    let body = answer.json();
    assert_eq!(body["request_id"], "trace-abc-123");
    assert!(body["correlation_id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .is_ok());
    assert_eq!(body["ip"], "198.51.100.7");

    // Absent: a UUID is made, and it is the correlation id itself.
    let answer = get_(&app, "/api/v1/whoami").await;
    let made = answer.header("x-request-id").unwrap().to_owned();
    assert!(made.parse::<uuid::Uuid>().is_ok(), "{made}");
    assert_eq!(answer.json()["correlation_id"], made);

    // Errors carry it too.
    assert!(get_(&app, "/nowhere")
        .await
        .header("x-request-id")
        .is_some());
}

#[tokio::test]
async fn a_proxy_address_counts_only_when_trusted() {
    let forwarded = |app: Router| async move {
        let req = request(Method::GET, "/api/v1/whoami")
            .header("x-forwarded-for", "203.0.113.50")
            .body(Body::empty())
            .unwrap();
        send(&app, from_ip(req, [10, 0, 0, 1])).await
    };
    assert_eq!(forwarded(app(&[])).await.json()["ip"], "10.0.0.1");
    assert_eq!(
        forwarded(app(&["--trust-forwarded-for"])).await.json()["ip"],
        "203.0.113.50"
    );
}

#[tokio::test]
async fn cors_lets_any_origin_read_by_default_and_listed_origins_write() {
    let preflight = |app: Router, method: &'static str| async move {
        let req = request(Method::OPTIONS, "/api/v1/echo")
            .header("origin", "https://shop.example.com")
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap();
        send(&app, req).await
    };
    let default = preflight(app(&[]), "POST").await;
    assert_eq!(default.header("access-control-allow-origin"), Some("*"));
    let methods = default.header("access-control-allow-methods").unwrap_or("");
    assert!(!methods.contains("POST"), "{methods}");

    let listed = app(&["--cors-allowed-origins", "https://shop.example.com"]);
    let answer = preflight(listed.clone(), "POST").await;
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://shop.example.com")
    );
    assert!(answer
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let simple = request(Method::GET, "/api/v1/openapi.json")
        .header("origin", "https://evil.example.com")
        .body(Body::empty())
        .unwrap();
    assert!(send(&listed, simple)
        .await
        .header("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn http_metrics_are_labelled_by_route_template() {
    let app = app(&[]);
    get_(&app, "/health").await;
    get_(&app, "/no/such/path/42").await;
    let answer = get_(&app, "/metrics").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = answer.text;
    let counted = |route: &str, status: &str| {
        text.lines().any(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(counted("/health", "200"), "{text}");
    assert!(counted("unmatched", "404"), "{text}");
    assert!(
        !text.contains("/no/such/path/42"),
        "raw paths must not become labels"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_covers_the_routes_and_the_docs_page_reads_it() {
    let app = app(&[]);
    let answer = get_(&app, "/api/v1/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/health",
        "/health/detailed",
        "/metrics",
        "/api/v1/openapi.json",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    for schema in ["Problem", "FieldError", "Readiness"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let page = get_(&app, "/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains(r#"src="/docs/app.js""#));
    let script = get_(&app, "/docs/app.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.text.contains("/api/v1/openapi.json"));
    assert_eq!(get_(&app, "/docs/style.css").await.status, StatusCode::OK);
}
