//! The `/admin` router: the pages, their assets, and the headers every console answer
//! carries (a strict Content-Security-Policy, `Cache-Control: no-store` on pages).

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use super::{
    audit, coupons, customers, event_log, home, order_actions, orders, outbox, parked, pricing,
    product_forms, products, read_models, reviews, running, sign_in, sql, stock, tail, time_travel,
    variant_forms, vendors,
};
use crate::state::AppState;

/// Only this origin's scripts, styles and images; no inline script or style, no framing,
/// forms posted back here only.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const HTMX_JS: &str = include_str!("../../assets/console/htmx-2.0.11.min.js");
const CONSOLE_CSS: &str = include_str!("../../assets/console/console.css");

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/admin", get(home::show))
        .route("/admin/dashboard/live", get(home::dashboard_live))
        .route("/admin/login", get(sign_in::show).post(sign_in::submit))
        .route("/admin/logout", post(sign_in::sign_out_page))
        .route("/admin/streams", get(event_log::streams))
        .route("/admin/streams/{stream_id}", get(event_log::stream))
        .route("/admin/events", get(event_log::events))
        .route("/admin/audit", get(audit::search))
        .route("/admin/audit/export", get(audit::export))
        .route(
            "/admin/audit/correlations/{correlation_id}",
            get(audit::timeline),
        )
        .route(
            "/admin/audit/correlations/{correlation_id}/export",
            get(audit::export_timeline),
        )
        .route("/admin/state", get(time_travel::state))
        .route(
            "/admin/streams/{stream_id}/steps/{revision}",
            get(time_travel::step),
        )
        .route("/admin/tail", get(tail::show))
        .route("/admin/tail/live", get(tail::live))
        .route("/admin/orders", get(orders::list))
        .route("/admin/orders/{id}", get(orders::one))
        .route("/admin/vendors", get(vendors::list))
        .route("/admin/vendors/{id}", get(vendors::one))
        .route(
            "/admin/vendors/{id}/status/{to}",
            get(vendors::confirm_status).post(vendors::set_status),
        )
        .route(
            "/admin/orders/{id}/{action}",
            get(order_actions::form).post(order_actions::act),
        )
        .route("/admin/products", get(products::list))
        .route(
            "/admin/products/new",
            get(product_forms::new_form).post(product_forms::create),
        )
        .route("/admin/products/{id}", get(products::one))
        .route(
            "/admin/products/{id}/edit",
            get(product_forms::edit_form).post(product_forms::update),
        )
        .route(
            "/admin/products/{id}/images",
            get(product_forms::image_form).post(product_forms::add_image),
        )
        .route(
            "/admin/products/{id}/publish",
            get(product_forms::publish_form).post(product_forms::publish),
        )
        .route(
            "/admin/products/{id}/unpublish",
            get(product_forms::unpublish_form).post(product_forms::unpublish),
        )
        .route(
            "/admin/products/{id}/variants/new",
            get(variant_forms::new_form).post(variant_forms::create),
        )
        .route(
            "/admin/products/{id}/variants/{variant_id}/{action}",
            get(variant_forms::form).post(variant_forms::act),
        )
        .route("/admin/reviews", get(reviews::list))
        .route("/admin/reviews/{id}", get(reviews::one))
        .route(
            "/admin/reviews/{id}/status/{to}",
            get(reviews::confirm_status).post(reviews::set_status),
        )
        .route(
            "/admin/stock/{sku}/{action}",
            get(stock::form).post(stock::act),
        )
        .route("/admin/coupons", get(coupons::list))
        .route(
            "/admin/coupons/new",
            get(coupons::new_form).post(coupons::create),
        )
        .route("/admin/coupons/{code}", get(coupons::one))
        .route(
            "/admin/coupons/{code}/{action}",
            get(coupons::switch_form).post(coupons::switch),
        )
        .route("/admin/pricing", get(pricing::list))
        .route(
            "/admin/pricing/new",
            get(pricing::new_form).post(pricing::create),
        )
        .route("/admin/pricing/{id}", get(pricing::one))
        .route(
            "/admin/pricing/{id}/{action}",
            get(pricing::switch_form).post(pricing::switch),
        )
        .route("/admin/customers", get(customers::list))
        .route("/admin/customers/{id}", get(customers::one))
        .route(
            "/admin/customers/{id}/{action}",
            get(customers::form).post(customers::act),
        )
        .route("/admin/projections", get(read_models::list))
        .route("/admin/projections/live", get(read_models::live))
        .route(
            "/admin/projections/{name}/rebuild",
            get(read_models::confirm_rebuild).post(read_models::start_rebuild),
        )
        .route("/admin/rebuilds/{id}", get(read_models::rebuild))
        .route("/admin/rebuilds/{id}/live", get(read_models::rebuild_live))
        .route("/admin/parked", get(parked::list))
        .route("/admin/consumers", get(running::consumers))
        .route("/admin/outbox", get(outbox::list))
        .route(
            "/admin/outbox/{id}/retry",
            get(outbox::confirm_retry).post(outbox::retry),
        )
        .route("/admin/health", get(running::health))
        .route("/admin/sql", get(sql::show).post(sql::run))
        .route(
            "/admin/parked/{id}/{action}",
            get(parked::confirm_action).post(parked::act),
        )
        // A signed-in page must not outlive its reader in a cache.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let assets = Router::new()
        .route("/admin/assets/htmx.min.js", get(htmx_js))
        .route("/admin/assets/console.css", get(console_css));
    pages
        .merge(assets)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONSOLE_CSP),
        ))
}

async fn htmx_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        HTMX_JS,
    )
}

async fn console_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CONSOLE_CSS,
    )
}
