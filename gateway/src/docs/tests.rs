//! The document against the routers: every route (those of `docs/api.md` and the rest) is
//! documented with its method, secured routes name the bearer scheme, and the problem
//! answers a client must expect are declared as `application/problem+json`.

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::config::Config;
use crate::router::app;
use crate::state::AppState;

/// One operation: method, path as OpenAPI writes it, whether it takes a bearer token,
/// and the problem statuses its handler answers.
struct Route {
    method: &'static str,
    path: &'static str,
    bearer: bool,
    problems: &'static [u16],
}

const fn r(method: &'static str, path: &'static str, problems: &'static [u16]) -> Route {
    Route {
        method,
        path,
        bearer: false,
        problems,
    }
}

const fn secured(method: &'static str, path: &'static str, problems: &'static [u16]) -> Route {
    Route {
        method,
        path,
        bearer: true,
        problems,
    }
}

/// Every route the server answers, documented. A route added to a router without a
/// line here fails `every_route_in_the_source_is_listed`; one listed here but missing
/// from the document fails `every_route_is_documented_...`.
const ROUTES: &[Route] = &[
    // operations
    r("get", "/health", &[]),
    r("get", "/health/detailed", &[]),
    r("get", "/metrics", &[]),
    r("get", "/api/v1/openapi.json", &[]),
    // auth (docs/api.md § Auth)
    r("post", "/api/v1/auth/register", &[400, 409, 422]),
    r("post", "/api/v1/auth/login", &[400, 401, 403, 422, 429]),
    r("post", "/api/v1/auth/refresh", &[400, 401, 403, 422]),
    r("post", "/api/v1/auth/logout", &[400, 422]),
    secured("post", "/api/v1/auth/logout-all", &[401]),
    r("post", "/api/v1/auth/verify-email", &[400, 409, 422]),
    secured(
        "post",
        "/api/v1/auth/resend-verification",
        &[401, 403, 409, 429],
    ),
    r("post", "/api/v1/auth/forgot-password", &[400, 422]),
    r("post", "/api/v1/auth/reset-password", &[400, 403, 409, 422]),
    secured("get", "/api/v1/auth/profile", &[401, 404]),
    secured("put", "/api/v1/auth/profile", &[400, 401, 409, 422]),
    // catalog (docs/api.md § Catalog, § Inventory)
    secured("post", "/api/v1/categories", &[400, 401, 403, 409, 422]),
    r("get", "/api/v1/categories", &[400]),
    r("get", "/api/v1/categories/{id}", &[404]),
    r("get", "/api/v1/categories/{id}/products", &[400, 404]),
    secured("post", "/api/v1/products", &[400, 401, 403, 409, 422]),
    r("get", "/api/v1/products", &[400, 403, 503]),
    r("get", "/api/v1/products/search", &[400]),
    r("get", "/api/v1/products/{id}", &[404]),
    secured(
        "put",
        "/api/v1/products/{id}",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured("delete", "/api/v1/products/{id}", &[400, 401, 403, 404]),
    // catalog administration (issue 21)
    secured(
        "put",
        "/api/v1/categories/{id}",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/products/{id}/publish",
        &[400, 401, 403, 404, 409],
    ),
    secured(
        "post",
        "/api/v1/products/{id}/unpublish",
        &[400, 401, 403, 404, 409],
    ),
    secured(
        "post",
        "/api/v1/products/{id}/reject",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/products/{id}/images",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "delete",
        "/api/v1/products/{id}/images/{image_id}",
        &[400, 401, 403, 404],
    ),
    secured(
        "post",
        "/api/v1/products/{id}/variants",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "put",
        "/api/v1/products/{id}/variants/{variant_id}",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "delete",
        "/api/v1/products/{id}/variants/{variant_id}",
        &[400, 401, 403, 404, 409],
    ),
    secured("get", "/api/v1/inventory", &[400, 403]),
    secured("get", "/api/v1/inventory/{sku}", &[400, 401, 403, 404]),
    secured(
        "post",
        "/api/v1/inventory/{sku}/receive",
        &[400, 401, 403, 422],
    ),
    secured(
        "post",
        "/api/v1/inventory/{sku}/adjust",
        &[400, 401, 403, 409, 422],
    ),
    // cart (docs/api.md § Cart); a guest calls these without a token
    secured("get", "/api/v1/cart", &[]),
    secured("delete", "/api/v1/cart", &[]),
    secured("post", "/api/v1/cart/items", &[422]),
    secured("put", "/api/v1/cart/items/{item_id}", &[404, 422]),
    secured("delete", "/api/v1/cart/items/{item_id}", &[404]),
    secured("post", "/api/v1/cart/coupon", &[422]),
    secured("delete", "/api/v1/cart/coupon", &[]),
    secured("post", "/api/v1/cart/checkout", &[422]),
    secured("post", "/api/v1/cart/merge", &[422]),
    // saved for later, sharing, copying (docs/api.md § Cart)
    secured(
        "post",
        "/api/v1/cart/items/{item_id}/save-for-later",
        &[404, 422],
    ),
    secured(
        "post",
        "/api/v1/cart/saved/{item_id}/move-to-cart",
        &[404, 422],
    ),
    secured("delete", "/api/v1/cart/saved/{item_id}", &[404]),
    secured("post", "/api/v1/cart/share", &[422]),
    secured("delete", "/api/v1/cart/share", &[]),
    r("get", "/api/v1/carts/shared/{token}", &[404]),
    secured("post", "/api/v1/cart/copy", &[404, 422]),
    // orders and payments (docs/api.md § Orders and payments)
    secured("post", "/api/v1/orders", &[400, 401, 422]),
    secured("get", "/api/v1/orders", &[400, 401, 422, 503]),
    secured("get", "/api/v1/orders/{id}", &[400, 401, 404, 503]),
    secured("delete", "/api/v1/orders/{id}", &[400, 401, 404, 409, 422]),
    secured(
        "get",
        "/api/v1/orders/user/{user_id}",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/orders/history/{user_id}",
        &[400, 401, 403, 503],
    ),
    secured(
        "post",
        "/api/v1/orders/{id}/payment",
        &[400, 401, 402, 403, 404, 409, 422],
    ),
    secured(
        "put",
        "/api/v1/orders/{id}/status",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/orders/{id}/refund",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/orders/{id}/cancellations",
        &[400, 401, 403, 404, 409, 422, 503],
    ),
    r(
        "post",
        "/api/v1/payments/webhook",
        &[400, 401, 404, 409, 422, 503],
    ),
    // back office (docs/api.md § Back office, § Operations)
    secured("get", "/api/v1/notifications", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/audit", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/orders/export", &[400, 401, 403, 503]),
    // users (the seed's user service)
    secured("get", "/api/v1/users", &[400, 401, 403, 422, 503]),
    secured("post", "/api/v1/users", &[400, 401, 403, 409, 422]),
    secured("get", "/api/v1/users/{id}", &[400, 401, 404, 503]),
    secured("put", "/api/v1/users/{id}", &[400, 401, 403, 404, 409, 422]),
    secured("delete", "/api/v1/users/{id}", &[400, 401, 403, 404, 409]),
    secured(
        "post",
        "/api/v1/users/{id}/reactivate",
        &[400, 401, 403, 404, 409],
    ),
    secured("get", "/api/v1/users/{id}/addresses", &[400, 401, 404, 503]),
    secured(
        "post",
        "/api/v1/users/{id}/erase",
        &[400, 401, 403, 404, 422],
    ),
    secured("get", "/api/v1/users/{id}/export", &[400, 401, 404, 503]),
    secured("get", "/api/v1/users/{id}/preferences", &[400, 401, 404]),
    secured(
        "put",
        "/api/v1/users/{id}/preferences",
        &[400, 401, 404, 422],
    ),
    secured(
        "post",
        "/api/v1/users/{id}/addresses",
        &[400, 401, 404, 409, 422],
    ),
    secured(
        "put",
        "/api/v1/users/{id}/addresses/{address_id}",
        &[400, 401, 404, 409, 422],
    ),
    secured(
        "delete",
        "/api/v1/users/{id}/addresses/{address_id}",
        &[400, 401, 404, 409],
    ),
    // coupons (docs/api.md § Coupons), staff only
    secured("post", "/api/v1/coupons", &[400, 401, 403, 409, 422]),
    secured("get", "/api/v1/coupons", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/coupons/{code}", &[400, 401, 403, 404, 503]),
    secured("put", "/api/v1/coupons/{code}", &[400, 401, 403, 404, 422]),
    secured(
        "post",
        "/api/v1/coupons/{code}/deactivate",
        &[401, 403, 404],
    ),
    secured(
        "post",
        "/api/v1/coupons/{code}/reactivate",
        &[401, 403, 404],
    ),
    // inventory (docs/api.md § Inventory): thresholds, alerts, warehouses
    secured(
        "put",
        "/api/v1/inventory/{sku}/threshold",
        &[400, 401, 403, 404, 422],
    ),
    secured("get", "/api/v1/inventory/alerts", &[400, 401, 403, 503]),
    secured(
        "post",
        "/api/v1/inventory/{sku}/transfer",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured("get", "/api/v1/inventory/report", &[400, 401, 403, 503]),
    secured("post", "/api/v1/warehouses", &[400, 401, 403, 409, 422]),
    secured("get", "/api/v1/warehouses", &[400, 401, 403, 503]),
    secured("get", "/api/v1/warehouses/{code}", &[401, 403, 404, 503]),
    secured("delete", "/api/v1/warehouses/{code}", &[401, 403, 404]),
    // tax (docs/api.md § Tax)
    secured("get", "/api/v1/tax-rates", &[400, 401, 403, 422]),
    secured("get", "/api/v1/tax-rates/{zone}", &[401, 403, 404]),
    secured("put", "/api/v1/tax-rates/{zone}", &[400, 401, 403, 422]),
    secured("delete", "/api/v1/tax-rates/{zone}", &[401, 403, 404]),
    r("get", "/api/v1/tax-settings", &[]),
    secured("put", "/api/v1/tax-settings", &[400, 401, 403, 422]),
    // search (docs/api.md § Search)
    r("get", "/api/v1/search", &[400, 503]),
    r("get", "/api/v1/search/suggestions", &[400, 503]),
    secured("get", "/api/v1/search/queries", &[400, 401, 403, 503]),
    // store settings, configuration, navigation (docs/api.md § Store settings, configuration and navigation)
    r("get", "/api/v1/store", &[400, 401]),
    secured("put", "/api/v1/store", &[400, 401, 403, 422]),
    secured("get", "/api/v1/config", &[400, 401, 403, 422]),
    r("get", "/api/v1/config/{key}", &[400, 401, 403, 404]),
    secured("put", "/api/v1/config/{key}", &[400, 401, 403, 404, 422]),
    r("get", "/api/v1/navigation/{menu}", &[400, 404]),
    secured(
        "put",
        "/api/v1/navigation/{menu}",
        &[400, 401, 403, 404, 422],
    ),
    // pricing (docs/api.md § Pricing)
    secured("post", "/api/v1/pricing/rules", &[400, 401, 403, 422]),
    secured("get", "/api/v1/pricing/rules", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/pricing/rules/{id}", &[401, 403, 404]),
    secured(
        "put",
        "/api/v1/pricing/rules/{id}",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "post",
        "/api/v1/pricing/rules/{id}/enable",
        &[401, 403, 404],
    ),
    secured(
        "post",
        "/api/v1/pricing/rules/{id}/disable",
        &[401, 403, 404],
    ),
    r("get", "/api/v1/products/{id}/price", &[400, 404, 422]),
    // PC builder (docs/api.md § PC builder); creating a build takes an optional bearer
    r("post", "/api/v1/pc-builds", &[400, 401, 422]),
    secured("get", "/api/v1/pc-builds", &[400, 401, 422, 503]),
    secured("get", "/api/v1/pc-builds/{id}", &[400, 401, 404, 503]),
    r("get", "/api/v1/pc-builds/shared/{token}", &[404, 503]),
    secured(
        "put",
        "/api/v1/pc-builds/{id}/components",
        &[400, 401, 404, 422],
    ),
    secured("post", "/api/v1/pc-builds/{id}/share", &[401, 404]),
    secured("post", "/api/v1/pc-builds/{id}/cart", &[401, 404, 422]),
    r("get", "/api/v1/pc-builder/rules", &[]),
    r(
        "get",
        "/api/v1/pc-builder/compatible",
        &[400, 401, 404, 422, 503],
    ),
    // the event log (docs/api.md § Event log), staff, admins and auditors
    secured("get", "/api/v1/admin/streams", &[400, 401, 403]),
    secured(
        "get",
        "/api/v1/admin/streams/{stream_id}",
        &[400, 401, 403, 404],
    ),
    secured("get", "/api/v1/admin/events", &[400, 401, 403]),
    // the audit trail and aggregates over time (docs/api.md § Audit trail and aggregates
    // over time): the trail for auditors and admins, states for the event log's readers
    secured("get", "/api/v1/admin/audit", &[400, 401, 403, 422]),
    secured("get", "/api/v1/admin/audit/export", &[400, 401, 403]),
    secured(
        "get",
        "/api/v1/admin/audit/correlations/{correlation_id}",
        &[401, 403, 404],
    ),
    secured(
        "get",
        "/api/v1/admin/audit/correlations/{correlation_id}/export",
        &[400, 401, 403, 404],
    ),
    secured(
        "get",
        "/api/v1/admin/streams/{stream_id}/state",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "get",
        "/api/v1/admin/streams/{stream_id}/steps/{revision}",
        &[401, 403, 404, 422],
    ),
    // operations (docs/api.md § Operations (back office)), staff and admins
    secured("get", "/api/v1/admin/projections", &[401, 403]),
    secured(
        "post",
        "/api/v1/admin/projections/{name}/rebuild",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "get",
        "/api/v1/admin/projections/{name}/rebuild",
        &[401, 403, 404],
    ),
    secured("get", "/api/v1/admin/rebuilds/{id}", &[400, 401, 403, 404]),
    secured("get", "/api/v1/admin/consumers", &[401, 403, 503]),
    secured("get", "/api/v1/admin/dashboard", &[401, 403]),
    secured("post", "/api/v1/admin/sql", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/admin/parked", &[400, 401, 403, 422]),
    secured("get", "/api/v1/admin/parked/actions", &[400, 401, 403, 422]),
    secured(
        "post",
        "/api/v1/admin/parked/{id}/retry",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/admin/parked/{id}/skip",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "post",
        "/api/v1/admin/parked/{id}/discard",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "post",
        "/api/v1/admin/outbox/{id}/retry",
        &[400, 401, 403, 404, 409, 422],
    ),
    // shipping (docs/api.md § Shipping)
    secured(
        "post",
        "/api/v1/orders/{id}/shipments",
        &[400, 401, 403, 404, 409, 422, 503],
    ),
    secured("get", "/api/v1/orders/{id}/shipments", &[400, 401, 404]),
    secured(
        "put",
        "/api/v1/shipments/{id}/status",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured("get", "/api/v1/shipments/{id}/tracking", &[400, 401, 404]),
    r(
        "post",
        "/api/v1/shipping/webhooks/{carrier}",
        &[400, 401, 404, 409, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/fulfilment/queue",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/shipping/carriers/performance",
        &[400, 401, 403, 503],
    ),
    // vendors (docs/api.md § Vendors)
    secured("post", "/api/v1/vendors", &[400, 401, 409, 422]),
    r("get", "/api/v1/vendors", &[400, 401, 403, 422, 503]),
    r("get", "/api/v1/vendors/{id}", &[400, 401, 404, 503]),
    secured(
        "put",
        "/api/v1/vendors/{id}/status",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "put",
        "/api/v1/vendors/{id}/terms",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "put",
        "/api/v1/vendors/{id}/commission",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "get",
        "/api/v1/vendors/me/orders",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/{id}/orders",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/me/dashboard",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/{id}/dashboard",
        &[400, 401, 403, 422, 503],
    ),
    // ledger (docs/api.md § Vendors' ledger and payouts)
    secured(
        "get",
        "/api/v1/vendors/me/ledger",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/me/payouts",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/{id}/ledger",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "get",
        "/api/v1/vendors/{id}/payouts",
        &[400, 401, 403, 422, 503],
    ),
    secured(
        "post",
        "/api/v1/vendors/{id}/payouts",
        &[400, 401, 403, 404, 409, 422],
    ),
    secured(
        "post",
        "/api/v1/vendors/{id}/adjustments",
        &[400, 401, 403, 404, 422],
    ),
    // reviews (docs/api.md § Reviews)
    secured(
        "post",
        "/api/v1/products/{id}/reviews",
        &[400, 401, 403, 404, 409, 422],
    ),
    r("get", "/api/v1/products/{id}/reviews", &[400, 422, 503]),
    secured("put", "/api/v1/reviews/{id}", &[400, 401, 403, 404, 422]),
    secured("delete", "/api/v1/reviews/{id}", &[400, 401, 403, 404]),
    secured(
        "post",
        "/api/v1/reviews/{id}/helpful",
        &[400, 401, 403, 404],
    ),
    secured(
        "put",
        "/api/v1/reviews/{id}/status",
        &[400, 401, 403, 404, 422],
    ),
    secured(
        "put",
        "/api/v1/reviews/{id}/reply",
        &[400, 401, 403, 404, 422],
    ),
    secured("get", "/api/v1/admin/reviews", &[400, 401, 403, 422, 503]),
    secured("get", "/api/v1/shipping/zones", &[400, 401, 403]),
    secured(
        "get",
        "/api/v1/shipping/zones/{code}",
        &[400, 401, 403, 404],
    ),
    secured(
        "put",
        "/api/v1/shipping/zones/{code}",
        &[400, 401, 403, 422],
    ),
    secured("delete", "/api/v1/shipping/zones/{code}", &[401, 403, 404]),
    r("get", "/api/v1/shipping/quote", &[400, 401, 422]),
    // returns (docs/api.md § Returns)
    secured(
        "post",
        "/api/v1/orders/{id}/returns",
        &[400, 401, 403, 404, 422],
    ),
    secured("get", "/api/v1/orders/{id}/returns", &[400, 401, 404]),
    secured(
        "put",
        "/api/v1/returns/{id}/status",
        &[400, 401, 403, 404, 409, 422, 503],
    ),
];

/// Routes of `docs/api.md` with no operation in the document yet: not routed, or routed
/// by a module without `#[utoipa::path]` annotations. Documenting one means moving it
/// to [`ROUTES`]; until then `the_document_holds_only_listed_routes_...` refuses it.
const NOT_YET_DOCUMENTED: &[(&str, &str)] = &[("get", "/api/v1/orders/export")];

/// Served, and not API operations: the docs page and its assets.
const NOT_DOCUMENTED: &[(&str, &str)] = &[
    ("get", "/docs"),
    ("get", "/docs/app.js"),
    ("get", "/docs/style.css"),
    // The console's pages and assets (ADR 0009): HTML, over the documented admin API.
    ("get", "/admin"),
    ("get", "/admin/login"),
    ("post", "/admin/login"),
    ("post", "/admin/logout"),
    ("get", "/admin/streams"),
    ("get", "/admin/streams/{stream_id}"),
    ("get", "/admin/events"),
    ("get", "/admin/audit"),
    ("get", "/admin/audit/export"),
    ("get", "/admin/audit/correlations/{correlation_id}"),
    ("get", "/admin/audit/correlations/{correlation_id}/export"),
    ("get", "/admin/state"),
    ("get", "/admin/streams/{stream_id}/steps/{revision}"),
    ("get", "/admin/tail"),
    ("get", "/admin/tail/live"),
    ("get", "/admin/orders"),
    ("get", "/admin/orders/{id}"),
    ("get", "/admin/vendors"),
    ("get", "/admin/vendors/{id}"),
    ("get", "/admin/vendors/{id}/status/{to}"),
    ("post", "/admin/vendors/{id}/status/{to}"),
    ("get", "/admin/pricing"),
    ("get", "/admin/pricing/new"),
    ("post", "/admin/pricing/new"),
    ("get", "/admin/pricing/{id}"),
    ("get", "/admin/pricing/{id}/{action}"),
    ("post", "/admin/pricing/{id}/{action}"),
    ("get", "/admin/projections"),
    ("get", "/admin/projections/live"),
    ("get", "/admin/projections/{name}/rebuild"),
    ("post", "/admin/projections/{name}/rebuild"),
    ("get", "/admin/rebuilds/{id}"),
    ("get", "/admin/rebuilds/{id}/live"),
    ("get", "/admin/parked"),
    ("get", "/admin/consumers"),
    ("get", "/admin/outbox"),
    ("get", "/admin/outbox/{id}/retry"),
    ("post", "/admin/outbox/{id}/retry"),
    ("get", "/admin/health"),
    ("get", "/admin/sql"),
    ("post", "/admin/sql"),
    ("get", "/admin/parked/{id}/{action}"),
    ("post", "/admin/parked/{id}/{action}"),
    ("get", "/admin/dashboard/live"),
    ("get", "/admin/orders/{id}/{action}"),
    ("post", "/admin/orders/{id}/{action}"),
    ("get", "/admin/products"),
    ("get", "/admin/products/new"),
    ("post", "/admin/products/new"),
    ("get", "/admin/products/{id}"),
    ("get", "/admin/products/{id}/edit"),
    ("post", "/admin/products/{id}/edit"),
    ("get", "/admin/products/{id}/images"),
    ("post", "/admin/products/{id}/images"),
    ("get", "/admin/products/{id}/publish"),
    ("post", "/admin/products/{id}/publish"),
    ("get", "/admin/products/{id}/unpublish"),
    ("post", "/admin/products/{id}/unpublish"),
    ("get", "/admin/stock/{sku}/{action}"),
    ("post", "/admin/stock/{sku}/{action}"),
    ("get", "/admin/coupons"),
    ("get", "/admin/coupons/new"),
    ("post", "/admin/coupons/new"),
    ("get", "/admin/coupons/{code}"),
    ("get", "/admin/coupons/{code}/{action}"),
    ("post", "/admin/coupons/{code}/{action}"),
    ("get", "/admin/customers"),
    ("get", "/admin/customers/{id}"),
    ("get", "/admin/customers/{id}/{action}"),
    ("post", "/admin/customers/{id}/{action}"),
    ("get", "/admin/products/{id}/variants/new"),
    ("post", "/admin/products/{id}/variants/new"),
    ("get", "/admin/products/{id}/variants/{variant_id}/{action}"),
    (
        "post",
        "/admin/products/{id}/variants/{variant_id}/{action}",
    ),
    ("get", "/admin/reviews"),
    ("get", "/admin/reviews/{id}"),
    ("get", "/admin/reviews/{id}/status/{to}"),
    ("post", "/admin/reviews/{id}/status/{to}"),
    ("get", "/admin/assets/htmx.min.js"),
    ("get", "/admin/assets/console.css"),
];

/// Error answers whose body is not a problem, by design.
const NOT_PROBLEMS: &[(&str, &str)] = &[("/health/detailed", "503")];

/// An answer as declared, or the shared response component its `$ref` names.
fn resolve<'a>(doc: &'a Value, answer: &'a Value) -> &'a Value {
    match answer["$ref"].as_str() {
        Some(name) => {
            let name = name
                .strip_prefix("#/components/responses/")
                .unwrap_or_else(|| panic!("{name} is not a response component"));
            &doc["components"]["responses"][name]
        }
        None => answer,
    }
}

/// Whether `answer` (resolved) carries the problem body with its media type.
fn is_problem(doc: &Value, answer: &Value) -> bool {
    resolve(doc, answer)["content"]["application/problem+json"]["schema"]["$ref"]
        == "#/components/schemas/Problem"
}

fn document() -> Value {
    serde_json::to_value(super::openapi()).unwrap()
}

fn listed() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect()
}

/// What `doc` gets wrong against [`ROUTES`], one line each.
fn coverage_failures(doc: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    for route in ROUTES {
        let (m, p) = (route.method, route.path);
        let Some(op) = doc["paths"][p][m].as_object() else {
            failures.push(format!("{m} {p}: not documented"));
            continue;
        };
        let security = op.get("security").cloned().unwrap_or(Value::Null);
        let bearer = security
            .as_array()
            .is_some_and(|s| s.iter().any(|req| req.get("bearer").is_some()));
        if route.bearer && !bearer {
            failures.push(format!("{m} {p}: no bearer security ({security})"));
        }
        if !route.bearer && !security.is_null() {
            failures.push(format!("{m} {p}: public, yet declares {security}"));
        }
        let responses = &op["responses"];
        if !responses
            .as_object()
            .is_some_and(|r| r.keys().any(|s| s.starts_with('2')))
        {
            failures.push(format!("{m} {p}: no success answer"));
        }
        for status in route.problems {
            if !is_problem(doc, &responses[status.to_string()]) {
                failures.push(format!("{m} {p}: {status} is not a documented problem"));
            }
        }
    }
    if doc["components"]["securitySchemes"]["bearer"]["bearerFormat"] != "JWT" {
        failures.push("no bearer JWT security scheme".into());
    }
    failures
}

#[test]
fn every_route_is_documented_with_its_security_and_problems() {
    let failures = coverage_failures(&document());
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The check itself: a route dropped from the document, a secured route that stops
/// naming the scheme, and a problem status left out are each caught.
#[test]
fn the_coverage_check_catches_what_goes_missing() {
    let mut doc = document();
    doc["paths"]["/api/v1/orders/{id}/refund"]
        .as_object_mut()
        .unwrap()
        .remove("post");
    doc["paths"]["/api/v1/auth/profile"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("security");
    doc["paths"]["/api/v1/auth/register"]["post"]["responses"]
        .as_object_mut()
        .unwrap()
        .remove("409");
    assert_eq!(
        coverage_failures(&doc),
        [
            "post /api/v1/auth/register: 409 is not a documented problem",
            "get /api/v1/auth/profile: no bearer security (null)",
            "post /api/v1/orders/{id}/refund: not documented",
        ]
    );
}

/// The answers no handler chooses (the rate limit, a failure, and the body limit where
/// there is a body) are declared on every `/api/v1` operation, through the shared set.
#[test]
fn every_api_operation_declares_the_shared_problems() {
    let doc = document();
    for route in ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &doc["paths"][route.path][route.method];
        let mut statuses = vec!["429", "500"];
        if op.get("requestBody").is_some() {
            statuses.push("413");
        }
        for status in statuses {
            assert!(
                is_problem(&doc, &op["responses"][status]),
                "{} {}: no {status}",
                route.method,
                route.path
            );
        }
    }
    assert_eq!(
        doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["413"]["$ref"],
        "#/components/responses/PayloadTooLarge"
    );
}

/// Nothing documented that the list (and so the routers) lacks, and every error
/// answer the document declares anywhere carries the problem body.
#[test]
fn the_document_holds_only_listed_routes_and_problem_errors() {
    let doc = document();
    let listed = listed();
    let mut extra = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            if !listed.contains(&(method.clone(), path.clone())) {
                extra.push(format!("{} {path}", method.to_uppercase()));
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                if !(status.starts_with('4') || status.starts_with('5'))
                    || NOT_PROBLEMS.contains(&(path.as_str(), status.as_str()))
                {
                    continue;
                }
                let content = &resolve(&doc, answer)["content"];
                let media: Vec<&String> = content
                    .as_object()
                    .map(|c| c.keys().collect())
                    .unwrap_or_default();
                assert!(
                    media == ["application/problem+json"] && is_problem(&doc, answer),
                    "{method} {path} {status} must answer a Problem: {answer}"
                );
            }
        }
    }
    assert!(extra.is_empty(), "documented but not listed: {extra:#?}");
    for (name, response) in doc["components"]["responses"].as_object().unwrap() {
        assert!(is_problem(&doc, response), "shared response {name}");
    }
    // A name two modules both use would silently keep only one of the schemas.
    for name in ["Problem", "User", "TokenPair", "Order", "Address", "Money"] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name}"
        );
    }
}

/// `(method, full path)` of every `.route(...)` call under `src/`, read from the
/// source, since axum cannot list a router's routes. Paths outside `/health`,
/// `/metrics` and `/docs` are nested under `/api/v1`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let needle = [".", "route("].concat();
    let mut found = BTreeSet::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // `src/bin/` holds tools (the benchmark adds its own baseline route to the
            // app it runs); the `ultramarket` server is the library's router.
            if path.is_dir() {
                if !path.ends_with("src/bin") {
                    dirs.push(path);
                }
                continue;
            }
            // The middleware tests' own routes (`/echo`, ...) exist only there.
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("src/tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut rest = text.as_str();
            while let Some(at) = rest.find(&needle) {
                rest = &rest[at + needle.len()..];
                let Some(literal) = rest.trim_start().strip_prefix('"') else {
                    continue;
                };
                let Some(end) = literal.find('"') else {
                    continue;
                };
                let route = &literal[..end];
                // The method routers: up to the parenthesis that closes `.route(`.
                let after = &literal[end + 1..];
                let mut depth = 1;
                let close = after
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(after.len(), |(i, _)| i);
                let methods = &after[..close];
                // The console's pages (`src/console/`) sit at `/admin`, beside the API.
                let console = path
                    .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
                    .is_ok_and(|rel| rel.starts_with("console"));
                let full = if console
                    || ["/health", "/metrics", "/docs"]
                        .iter()
                        .any(|top| route.starts_with(top))
                {
                    route.to_owned()
                } else {
                    format!("/api/v1{route}")
                };
                for m in ["get", "post", "put", "delete", "patch"] {
                    let call = format!("{m}(");
                    let called = methods.match_indices(&call).any(|(i, _)| {
                        i == 0
                            || !methods.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && methods.as_bytes()[i - 1] != b'_'
                    });
                    if called {
                        found.insert((m.to_owned(), full.clone()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_route_in_the_source_is_listed() {
    let source = routes_in_source();
    let listed = listed();
    let exempt: BTreeSet<(String, String)> = NOT_DOCUMENTED
        .iter()
        .chain(NOT_YET_DOCUMENTED)
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = source
        .difference(&listed)
        .filter(|r| !exempt.contains(r))
        .collect();
    assert!(
        unlisted.is_empty(),
        "routed but not in ROUTES (document them, then list them): {unlisted:#?}"
    );
    let unrouted: Vec<_> = listed.difference(&source).collect();
    assert!(unrouted.is_empty(), "listed but not routed: {unrouted:#?}");
}

/// The source scan could list a route no router mounts: each listed route must reach
/// a handler in the real app, not the 404/405 fallbacks.
#[tokio::test]
async fn every_listed_route_reaches_a_handler() {
    let config = Config::from_args_ignoring_env([
        "ultramarket",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/unused",
    ])
    .unwrap();
    let app = app(AppState::connect_lazy(config).unwrap());
    let probes = ROUTES.iter().map(|route| {
        let app = app.clone();
        let uri = route
            .path
            .replace("{sku}", "SKU-1")
            .replace("{id}", "00000000-0000-0000-0000-000000000001")
            .replace("{item_id}", "00000000-0000-0000-0000-000000000001")
            .replace("{user_id}", "00000000-0000-0000-0000-000000000001")
            .replace("{token}", "a-share-token");
        let request = Request::builder()
            .method(route.method.to_uppercase().as_str())
            .uri(&uri)
            // Queries refuse this before reading the database, which is absent here.
            .header("x-consistency-token", "not-a-position")
            .body(Body::empty())
            .unwrap();
        async move {
            let answer = app.oneshot(request).await.unwrap();
            let status = answer.status();
            let body = to_bytes(answer.into_body(), usize::MAX).await.unwrap();
            (
                route,
                uri,
                status,
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
    });
    for (route, uri, status, body) in futures::future::join_all(probes).await {
        let fallback = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && body.contains("no such route"));
        assert!(
            !fallback,
            "{} {uri} reached no handler: {status} {body}",
            route.method
        );
    }
}
