//! How the routes and the layers fit together: [`api_router`], the `/api/v1` routes (each resource module's `router()`, merged); and
//! [`app`], the whole HTTP service with its middleware; [`operations`], the probes and
//! metrics alone, for the roles that serve no API.
//!
//! A new resource is a module with `pub fn router() -> Router<AppState>` (paths relative
//! to `/api/v1`) and a `#[derive(OpenApi)]`; it joins with one `.merge(...)` in
//! [`api_router`] and one `doc.merge(...)` in `docs::openapi`. Its handlers take what they
//! need as extractors: `State<AppState>`, [`RequestId`] (the correlation id of the events
//! they cause), [`ClientIp`], and the body through [`AppJson`](crate::error::AppJson).
//!
//! [`RequestId`]: crate::middleware::RequestId
//! [`ClientIp`]: crate::middleware::ClientIp

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::{panic_to_problem, render_bare_errors, ApiError};
use crate::middleware::client_ip::client_ip;
use crate::middleware::idempotency::idempotency;
use crate::middleware::rate_limit::rate_limit;
use crate::middleware::request_id::request_id;
use crate::middleware::{http_metrics, security, RateLimiter};
use crate::state::AppState;

/// The `/api/v1` routes, relative to that prefix. Each resource module adds its
/// `router()` here.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(crate::docs::api_routes())
        .merge(crate::auth::router())
        .merge(crate::catalog::router())
        .merge(crate::orders::router())
        .merge(crate::orders::export::router())
        .merge(crate::cart::router())
        .merge(crate::payments::router())
        .merge(crate::notifications::router())
        .merge(crate::audit::router())
        .merge(crate::users::router())
        .merge(crate::coupons::router())
        .merge(crate::inventory::router())
        .merge(crate::tax::router())
        .merge(crate::search::router())
        .merge(crate::shop::router())
        .merge(crate::configuration::router())
        .merge(crate::navigation::router())
        .merge(crate::pricing::router())
        .merge(crate::pc_builder::router())
        .merge(crate::event_log::router())
        .merge(crate::audit_trail::router())
        .merge(crate::operations::router())
        .merge(crate::dashboard::router())
        .merge(crate::shipping::router())
        .merge(crate::vendors::router())
        .merge(crate::ledger::router())
        .merge(crate::vendors::orders::router())
        .merge(crate::vendors::dashboard::router())
        .merge(crate::reviews::router())
        .merge(crate::returns::router())
}

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    app_with(state, api_router())
}

/// The whole HTTP service around `api` (nested under `/api/v1`); tests pass extra routes.
pub fn app_with(state: AppState, api: Router<AppState>) -> Router {
    let config = state.config.clone();
    // Inside the rate limit, so a refused request claims no key.
    let api = api.route_layer(from_fn_with_state(state.clone(), idempotency));
    let limiter = RateLimiter::new(
        config.rate_limit_per_minute,
        config.rate_limit_store.unwrap_or_default(),
        &state.pool,
    );
    let api = match limiter {
        Some(limiter) => api.route_layer(from_fn_with_state(Arc::new(limiter), rate_limit)),
        None => api,
    };
    let api = api.layer(security::no_store());
    let [nosniff, frame, referrer, csp] = security::headers();
    // Outermost first; see `middleware` for why this order.
    let layers = ServiceBuilder::new()
        .layer(from_fn(request_id))
        .layer(from_fn(http_metrics::track))
        .layer(nosniff)
        .layer(frame)
        .layer(referrer)
        .layer(csp)
        .layer(security::cors(&config.cors_allowed_origins))
        .layer(map_response(render_bare_errors))
        .layer(from_fn_with_state(config.trust_forwarded_for, client_ip))
        // Refuses a declared Content-Length over the limit before reading, and cuts off a
        // chunked body at it; `DefaultBodyLimit` sets the same limit for axum's extractors,
        // which otherwise apply their own 2 MB default.
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_to_problem));
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::health::router())
        .merge(crate::docs::router())
        .merge(crate::console::router())
        .fallback(not_found)
        // After every route is added: it applies to the routes present when called.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
        .with_state(state)
}

/// What a process without the API serves (relay, project, process): `/health`,
/// `/health/detailed` and `/metrics`, each request with its id and counted in the metrics;
/// anything else is a 404 problem.
pub fn operations(state: AppState) -> Router {
    // Each `Router::layer` wraps what is already there: the last one is the outermost.
    Router::new()
        .merge(crate::health::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(map_response(render_bare_errors))
        .layer(from_fn(http_metrics::track))
        .layer(from_fn(request_id))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
    }
}
