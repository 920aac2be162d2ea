//! The back-office console at `/admin` (issue 25, ADR 0009): server-rendered HTML pages
//! for the people who run and audit the shop, served by the binary with every asset
//! embedded.
//!
//! # Layout
//!
//! - `routes`: the `/admin` router, its Content-Security-Policy and its assets.
//! - `session`: signing in to the console (the same accounts and sign-in as the API), the
//!   session cookie, the signed-in extractor, and the CSRF token of every form.
//! - `page`: the layout every page shares, and how an error becomes a page.
//! - `links`: query strings and paths as the pages write them.
//! - One module per page family: `sign_in` (sign-in and sign-out), `home` (the dashboard,
//!   live, with its chart drawn as SVG on the server, and what each role may open),
//!   `event_log` (streams, one stream, `$all`), `audit` (the audit trail
//!   searched at `/admin/audit` with its CSV and JSON downloads, and one correlation id's
//!   timeline at `/admin/audit/correlations/{id}`: the request, every event it caused
//!   nested by causation, each read model `reached` or `not yet`), `time_travel` (an
//!   aggregate's state at a version or a time at `/admin/state`, and the stepper at
//!   `/admin/streams/{id}/steps/{revision}`: one event, the state before and after, the
//!   fields it changed), `tail` (`/admin/tail`, the newest events of `$all` polled every
//!   two seconds, paused by a link that drops the polling), `orders` (the orders' back
//!   office: a page of orders, one order with its lines and History tab) and
//!   `order_actions` (ship, refund), `products` (the catalog: a page of products,
//!   searchable; one product with its images, variants, stock per warehouse and History
//!   tab), `product_forms` (create, edit, add an image, publish, unpublish),
//!   `variant_forms` (a product's variants: add, edit, remove), `stock`
//!   (receive, adjust), `customers` (admins: accounts, one with its History tab; suspend,
//!   change role), `coupons` (list, create, deactivate), `read_models`
//!   (read models' status, live; rebuilds and their progress), `parked` (parked events and
//!   the actions on them), `running` (health, JetStream consumers), `outbox` (the
//!   notifications' deliveries and failures; retrying a failed one), `sql`
//!   (analysts' read-only SQL over the read models), `vendors` (the marketplace's stores:
//!   a page by status, one store with its dashboard and History tab, an admin's decision
//!   on it), `pricing` (price rules by priority; one rule with its History tab; creating,
//!   enabling and disabling one), `reviews` (every product's reviews at `/admin/reviews`,
//!   by status and product; one review with its History tab; hiding and restoring one).
//! - `history`: an entity's History tab, folded from its events (who, when, why, a diff).
//! - `confirm`: the confirm step every changing action goes through (a page, a reason,
//!   the form token), and the notice of a read-only console; `forms`: what the commerce
//!   forms share (the checks of a sent form, amounts as people type them, the form shown
//!   again under its refusal).
//!
//! A commerce page changes things through the use cases its API routes call, as the
//! signed-in account (`Signed::command_meta`), the confirm step's reason kept in the
//! events (`reason` in their metadata when the command has no reason of its own), so the
//! entity's History tab says why.
//!
//! A page calls the same query as its JSON twin under `/api/v1/admin` and renders it:
//! what a page shows, a script can read.

mod audit;
mod confirm;
mod coupons;
mod customers;
mod event_log;
mod forms;
mod history;
mod home;
mod links;
mod order_actions;
mod orders;
mod outbox;
mod page;
mod parked;
mod pricing;
mod product_forms;
mod products;
mod read_models;
mod reviews;
mod routes;
mod running;
mod session;
mod sign_in;
mod sql;
mod stock;
mod tail;
mod time_travel;
mod variant_forms;
mod vendors;

pub use routes::{router, CONSOLE_CSP};
pub use session::CONSOLE_ROLES;
