//! Security headers and CORS.
//!
//! Every answer carries `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer` and a Content-Security-Policy. The API's policy allows
//! nothing (it serves JSON, never a page); `/docs` sets its own, which lets its page run its
//! own script and stylesheet and fetch from this origin. `/api/v1` answers are
//! `Cache-Control: no-store` ([`no_store`]). The layers here only add a header a route did
//! not set, which is how `/docs` keeps its policy.

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

/// The API's policy: JSON only, no scripts, no framing.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The docs page's policy: its own script and styles, calls back to this origin only.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

/// The four headers, each only when the answer has none yet.
pub fn headers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    [
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        ),
    ]
}

/// `Cache-Control: no-store` on every `/api/v1` answer that sets no policy of its own:
/// tokens, profiles, addresses, orders and carts must not sit in a browser's or a
/// proxy's cache, where the next user of the machine or the proxy's other clients could
/// read them. A public resource that wants caching sets its own header.
pub fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// CORS for `CORS_ALLOWED_ORIGINS` (already validated by `Config::validate`).
///
/// Unset: any origin may read (GET, HEAD) and none may write, so a storefront in
/// development can browse the catalog from any port while a page elsewhere cannot send
/// commands. Set: those origins may call everything. Tokens travel in `Authorization`, not
/// cookies, so credentials mode is never needed.
pub fn cors(allowed_origins: &[String]) -> CorsLayer {
    let request_headers = [
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static("idempotency-key"),
        HeaderName::from_static("x-consistency-token"),
        HeaderName::from_static("x-request-id"),
        HeaderName::from_static("x-guest-cart"),
    ];
    let exposed = [
        header::LOCATION,
        header::RETRY_AFTER,
        HeaderName::from_static("x-consistency-token"),
        HeaderName::from_static("x-request-id"),
        HeaderName::from_static("x-guest-cart"),
        HeaderName::from_static("idempotent-replayed"),
    ];
    let base = CorsLayer::new()
        .allow_headers(request_headers)
        .expose_headers(exposed)
        .max_age(std::time::Duration::from_secs(600));
    if allowed_origins.is_empty() {
        return base
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::HEAD]);
    }
    let all_methods = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    if allowed_origins.iter().any(|o| o == "*") {
        return base.allow_origin(Any).allow_methods(all_methods);
    }
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    base.allow_origin(AllowOrigin::list(origins))
        .allow_methods(all_methods)
}
