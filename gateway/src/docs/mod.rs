//! The API's description and its reader: `GET /api/v1/openapi.json` (OpenAPI 3.1, from the
//! `#[utoipa::path]` annotations of the handlers) and `GET /docs`, a small page served from
//! the binary (no CDN, no build step) that fetches that document, lists the operations and
//! can send requests.
//!
//! A resource module documents itself with its own `#[derive(OpenApi)]` listing its
//! handlers (paths written in full, `/api/v1/...`) and is merged in [`openapi`].

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::responses::CommonProblems;
use crate::error::{FieldError, Problem};
use crate::middleware::security::DOCS_CSP;
use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../../assets/docs/index.html");
const APP_JS: &str = include_str!("../../assets/docs/app.js");
const STYLE_CSS: &str = include_str!("../../assets/docs/style.css");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "UltraMarket API",
        description = "The HTTP API of the UltraMarket commerce engine. Errors are \
            `application/problem+json` with a stable `code` (see the `Problem` schema)."
    ),
    paths(openapi_json),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "docs", description = "This document"))
)]
struct ApiDoc;

/// Declares the `bearer` scheme that authenticated operations name in `security(...)`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole API's description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // Each resource module's `OpenApi` joins here, next to its `router()` in `api_router`.
    doc.merge(crate::health::HealthApi::openapi());
    doc.merge(crate::cart::CartApi::openapi());
    doc.merge(crate::payments::PaymentsApi::openapi());
    doc.merge(crate::notifications::NotificationsApi::openapi());
    doc.merge(crate::audit::AuditApi::openapi());
    doc.merge(crate::auth::AuthApi::openapi());
    doc.merge(crate::auth::EmailApi::openapi());
    doc.merge(crate::catalog::CatalogApi::openapi());
    doc.merge(crate::orders::OrdersApi::openapi());
    doc.merge(crate::orders::export::OrdersExportApi::openapi());
    doc.merge(crate::users::UsersApi::openapi());
    doc.merge(crate::users::AddressesApi::openapi());
    doc.merge(crate::users::ErasureApi::openapi());
    doc.merge(crate::users::ExportApi::openapi());
    doc.merge(crate::users::PreferencesApi::openapi());
    doc.merge(crate::coupons::CouponsApi::openapi());
    doc.merge(crate::inventory::InventoryApi::openapi());
    doc.merge(crate::tax::TaxApi::openapi());
    doc.merge(crate::search::SearchApi::openapi());
    doc.merge(crate::shop::ShopApi::openapi());
    doc.merge(crate::configuration::ConfigApi::openapi());
    doc.merge(crate::navigation::NavigationApi::openapi());
    doc.merge(crate::pricing::PricingApi::openapi());
    doc.merge(crate::pc_builder::PcBuilderApi::openapi());
    doc.merge(crate::event_log::EventLogApi::openapi());
    doc.merge(crate::audit_trail::AuditTrailApi::openapi());
    doc.merge(crate::operations::OperationsApi::openapi());
    doc.merge(crate::dashboard::DashboardApi::openapi());
    doc.merge(crate::shipping::ShippingApi::openapi());
    doc.merge(crate::vendors::VendorsApi::openapi());
    doc.merge(crate::ledger::LedgerApi::openapi());
    doc.merge(crate::vendors::orders::VendorOrdersApi::openapi());
    doc.merge(crate::vendors::dashboard::VendorDashboardApi::openapi());
    doc.merge(crate::reviews::ReviewsApi::openapi());
    doc.merge(crate::returns::ReturnsApi::openapi());
    // After the merges: it adds the shared problems to every operation they brought.
    CommonProblems.modify(&mut doc);
    doc
}

/// `/openapi.json`, nested under `/api/v1` by `api_router`.
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// `/docs` and its assets, with a policy that lets the page run its own script.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docs", get(index))
        .route("/docs/app.js", get(app_js))
        .route("/docs/style.css", get(style_css))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        ))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json"))
)]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}

async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
}

async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
}

#[cfg(test)]
mod tests;
