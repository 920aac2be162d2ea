//! UltraMarket's gateway: the HTTP face of the engine and the `ultramarket` binary that
//! runs it.
//!
//! # Layout
//!
//! - [`config`]: [`Config`](config::Config), one typed struct of flags with environment
//!   fallbacks, read once; secrets wrapped so they never print.
//! - [`startup`]: [`Application::build_as`](startup::Application::build_as) a
//!   [`Role`](startup::Role) (database created if missing, migrations, the event store,
//!   NATS when configured, the listener: `BIND` for the API, `METRICS_BIND` for the roles
//!   without it), the `with_*` roles and their background tasks (process managers under a
//!   lease each), and `run_until_stopped` (graceful shutdown).
//! - [`state`]: [`AppState`](state::AppState), what every handler can reach; it imports no
//!   resource module.
//! - [`router`]: `api_router()` (every `/api/v1`
//!   resource's `router()`, merged) and `app()`, the routes inside the middleware stack.
//! - [`middleware`]: request id and tracing span, HTTP metrics, security headers and CORS,
//!   client IP, per-IP rate limit.
//! - [`error`]: [`ApiError`](error::ApiError), the one error type, rendered as
//!   `application/problem+json`, and [`AppJson`](error::AppJson), the JSON extractor whose
//!   rejections are problems too.
//! - [`hashing`]: the bounded pool of argon2id threads every password hash goes through.
//! - [`views`]: the value shapes several resources' views share (money, addresses, pages).
//! - Resources, each a folder of routes, read-model queries and typed views over one
//!   concept's use cases in `commands`: [`orders`] (and its export), [`cart`], [`catalog`]
//!   (categories, products and stock, over `commands::catalog` and `commands::inventory`),
//!   [`coupons`] (staff's coupons and their use, over `commands::coupons`).
//! - [`tax`]: the store's tax rates by zone and whether prices include tax, over
//!   `commands::tax`.
//! - [`search`]: faceted search, suggestions and the staff's view of the search log, over
//!   the `SearchIndex` port of `projections::catalog::search_index` (ADR 0007); each
//!   gateway counts searches in memory and records them per interval (`search::log`).
//! - [`shop`] (`/store`), [`configuration`] (`/config`) and [`navigation`]
//!   (`/navigation/{menu}`): the store's settings, typed configuration keys and menus
//!   (issue 22), over the use cases of the same names in `commands`, read through
//!   [`followed`], the per-process cache that `$all` invalidates.
//! - [`pricing`]: staff's price rules over `commands::pricing`, the live rule set every
//!   reader of a price uses (ADR 0008), and `/products/{id}/price` explained.
//! - [`pc_builder`] (`/pc-builds`, `/pc-builder`): PC builds with their compatibility,
//!   share links and the cart; the rule set and the parts that fit, over
//!   `commands::pc_builder` and the `pc_builder` read model (issue 24).
//! - [`inventory`]: what inventory adds to the catalog's stock routes: low-stock thresholds
//!   and alerts, over `commands::inventory`.
//! - [`payments`]: the payment provider's signed webhook, and the provider and receiver
//!   `PAYMENT_PROVIDER` and `PAYMENT_WEBHOOK_SECRET` set up.
//! - [`shipping`] (issue 22): an order's shipments, their steps and tracking, the
//!   carriers' signed webhooks (`SHIPPING_WEBHOOK_SECRET`) and the fulfilment queue, over
//!   `commands::shipping` and the `shipping` read model; the shipping zones, methods and
//!   rates, and a cart's quote.
//! - [`vendors`] (issue 23): applying for a store, its page, admins' decisions and its
//!   terms, over `commands::vendors` and the `vendors` read model; [`reviews`]: verified
//!   buyers' reviews, their moderation and the vendor's reply, over `commands::reviews`
//!   and the `reviews` read model.
//! - [`ledger`] (issue 23 item 4): a store's ledger and payouts (JSON pages or CSV), and
//!   staff's payouts, over `commands::ledger` and the `ledger` read model.
//! - [`returns`] (issue 22): an order's returns, asked by its customer and moved by staff,
//!   over `commands::returns` and the `returns` read model.
//! - [`seed`]: `seed-demo`, a demo catalog written through the catalog's use cases.
//! - [`pruning`]: the periodic deletion of expired failed logins, refresh tokens and
//!   idempotency answers.
//! - [`health`]: `/health`, `/health/detailed`, `/metrics`.
//! - [`docs`]: `/api/v1/openapi.json` and the `/docs` page (assets in `gateway/assets/`).
//! - [`event_log`]: the event store's streams and `$all` for staff, admins and auditors
//!   (`/api/v1/admin/streams`, `/api/v1/admin/events`).
//! - [`audit_trail`]: the audit trail searched and exported, one request's whole trail
//!   (its events by causation, the read models they reached), and aggregates' states at a
//!   version or a time and step by step (`/api/v1/admin/audit`, `/api/v1/admin/streams/{id}/state`).
//! - [`operations`]: read models' status (checkpoint, lag, stalls), parked events with
//!   their retry, skip or discard (audited), and rebuilds with their progress, for staff
//!   (`/api/v1/admin/projections`, `/api/v1/admin/parked`, `/api/v1/admin/rebuilds`);
//!   `CONSOLE_READ_ONLY` turns every changing action off.
//! - [`dashboard`]: today's orders and revenue, 14 days of them, low stock and the read
//!   models' lag (`/api/v1/admin/dashboard`), the console home's figures.
//! - [`console`]: the back-office console at `/admin`, server-rendered pages over the same
//!   queries as the API (ADR 0009).
//!
//! # Data flow
//!
//! A request passes the middleware (id, metrics, headers, CORS, client IP, body limit, and
//! on `/api/v1` the rate limit), reaches a handler that extracts what it needs, and is
//! answered either by its result or by an [`ApiError`](error::ApiError). Commands go
//! through `commands` (load, decide, append) with the request id as correlation id; queries
//! read PostgreSQL read models. Background roles (the process managers, the relay, the
//! projection workers, the notifier) run beside the server in `serve`, or in processes of
//! their own (`relay`, `project`, `process`) that serve only health and metrics, each task
//! with the shared shutdown signal.

pub mod audit;
pub mod audit_trail;
pub mod auth;
pub mod cart;
pub mod catalog;
pub mod config;
pub mod configuration;
pub mod consistency;
pub mod console;
pub mod coupons;
pub mod dashboard;
pub mod docs;
pub mod error;
pub mod event_log;
pub mod followed;
pub mod hashing;
pub mod health;
pub mod inventory;
pub mod ledger;
pub mod middleware;
pub mod navigation;
pub mod notifications;
pub mod operations;
pub mod orders;
pub mod payments;
pub mod pricing;
pub mod pruning;
pub mod returns;
pub mod reviews;
pub mod router;
pub mod search;
pub mod seed;
pub mod shipping;
pub mod shop;
pub mod startup;
pub mod state;
pub mod tax;
pub mod users;
pub mod vendors;
pub mod views;

pub mod pc_builder;

#[cfg(test)]
mod tests;
