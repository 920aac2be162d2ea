//! How the routes and the layers fit together: [`AppState`], what every handler can reach;
//! [`api_router`], the `/api/v1` routes (each resource module's `router()`, merged); and
//! [`app`], the whole HTTP service with its middleware.
//!
//! A new resource is a module with `pub fn router() -> Router<AppState>` (paths relative
//! to `/api/v1`) and a `#[derive(OpenApi)]`; it joins with one `.merge(...)` in
//! [`api_router`] and one `doc.merge(...)` in `docs::openapi`. Its handlers take what they
//! need as extractors: `State<AppState>`, [`RequestId`] (the correlation id of the events
//! they cause), [`ClientIp`], and the body through [`AppJson`](crate::error::AppJson).
//!
//! [`RequestId`]: crate::middleware::RequestId
//! [`ClientIp`]: crate::middleware::ClientIp

use commands::handler::CommandHandler;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::Router;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::{Config, Secret};
use crate::error::{panic_to_problem, render_bare_errors, ApiError};
use crate::middleware::client_ip::client_ip;
use crate::middleware::idempotency::idempotency;
use crate::middleware::rate_limit::rate_limit;
use crate::middleware::request_id::request_id;
use crate::middleware::{http_metrics, security, RateLimiter};
use crate::startup::{metrics_recorder, StartupError};

/// What every request handler can reach. Cheap to clone: handles and `Arc`s only.
#[derive(Clone)]
pub struct AppState {
    /// The configuration the process started with (limits, TTLs, NATS names).
    pub config: Arc<Config>,
    /// PostgreSQL: read models, process state, and the store when it is the PostgreSQL one.
    pub pool: PgPool,
    /// The event log; commands append through `commands::handler::CommandHandler` over it.
    pub store: Arc<dyn EventStore>,
    /// `postgres` or `eventstoredb`, for health answers and logs.
    pub store_kind: &'static str,
    /// Connected when `NATS_URL` is set.
    pub nats: Option<async_nats::Client>,
    /// The key that signs access tokens: `JWT_SECRET`, or random for this process.
    pub jwt_secret: Secret,
    pub started: Instant,
    pub metrics: PrometheusHandle,
    /// One command handler per aggregate; every command goes through these.
    pub handlers: Arc<Handlers>,
}

/// The command handlers of every aggregate, over one store.
pub struct Handlers {
    pub users: CommandHandler<domain::user::User>,
    pub categories: CommandHandler<domain::catalog::Category>,
    pub products: CommandHandler<domain::catalog::Product>,
    pub inventory: CommandHandler<domain::inventory::Inventory>,
    pub orders: CommandHandler<domain::order::Order>,
    pub payments: CommandHandler<domain::payment::Payment>,
    pub carts: CommandHandler<domain::cart::Cart>,
    pub coupons: CommandHandler<domain::coupon::Coupon>,
}

impl Handlers {
    /// Handlers over `store`, each caching up to `cache` recent states.
    pub fn new(store: &Arc<dyn commands::store::EventStore>, cache: u64) -> Arc<Self> {
        Arc::new(Handlers {
            users: CommandHandler::new(store.clone(), cache),
            categories: CommandHandler::new(store.clone(), cache),
            products: CommandHandler::new(store.clone(), cache),
            inventory: CommandHandler::new(store.clone(), cache),
            orders: CommandHandler::new(store.clone(), cache),
            payments: CommandHandler::new(store.clone(), cache),
            carts: CommandHandler::new(store.clone(), cache),
            coupons: CommandHandler::new(store.clone(), cache),
        })
    }
}

impl AppState {
    /// A state whose pool connects on first use and whose store is PostgreSQL: for routing
    /// tests that never touch a database (a route that does answers 503).
    pub fn connect_lazy(config: Config) -> Result<AppState, StartupError> {
        let pool = commands::store::postgres::pool_options()
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy(config.database_url.expose())
            .map_err(|e| StartupError::Database {
                database: crate::config::where_url_points(config.database_url.expose()),
                cause: e.to_string(),
            })?;
        let store: Arc<dyn commands::store::EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        Ok(AppState {
            jwt_secret: config.jwt_secret.clone().unwrap_or_else(Secret::random),
            config: Arc::new(config),
            handlers: Handlers::new(&store, 10_000),
            store,
            pool,
            store_kind: "postgres",
            nats: None,
            started: Instant::now(),
            metrics: metrics_recorder(),
        })
    }
}

/// The `/api/v1` routes, relative to that prefix. Each resource module adds its
/// `router()` here.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(crate::docs::api_routes())
        .merge(crate::auth::router())
        .merge(crate::catalog::router())
        .merge(crate::catalog_queries::router())
        .merge(crate::orders::router())
        .merge(crate::orders_export::router())
        .merge(crate::cart::router())
        .merge(crate::notifications::router())
        .merge(crate::audit::router())
        .merge(crate::users::router())
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
    let api = match RateLimiter::per_minute(config.rate_limit_per_minute) {
        Some(limiter) => api.route_layer(from_fn_with_state(Arc::new(limiter), rate_limit)),
        None => api,
    };
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
        .fallback(not_found)
        // After every route is added: it applies to the routes present when called.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
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
