//! The layout every console page shares, and how a refusal or a failure becomes a page.
//!
//! Pages carry no inline script and no `style` attribute: the policy in `routes` allows
//! only this origin's files. htmx reads its settings from a `<meta>` element, and is told
//! not to inject its indicator styles, not to evaluate anything and not to keep pages in
//! the browser's storage (a console page holds what only its reader may see).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::user::Role;
use maud::{html, Markup, DOCTYPE};

use super::links::with_query;
use crate::error::ApiError;

/// htmx's settings. Every answer is swapped in, errors too: an error page is a page.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;

/// Who the page is for, as the header shows it: the role, the pages it may open and the
/// token the sign-out form carries.
pub struct Viewer<'a> {
    pub user_id: uuid::Uuid,
    pub role: Role,
    pub csrf: &'a str,
}

/// The navigation: the pages `role` may open.
pub fn pages_for(role: Role) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut pages = vec![("/admin", "Home", "What you may open")];
    if crate::event_log::READERS.contains(&role) {
        pages.push((
            "/admin/streams",
            "Streams",
            "Search the log's streams by category, id and last activity",
        ));
        pages.push((
            "/admin/events",
            "Events",
            "Browse every event of $all, filtered, newest first",
        ));
        pages.push((
            "/admin/tail",
            "Live tail",
            "The newest events of $all as they arrive; pause and resume",
        ));
        pages.push((
            "/admin/state",
            "State",
            "An aggregate's state at a version or a time; step through its events",
        ));
    }
    if crate::audit::READERS.contains(&role) {
        pages.push((
            "/admin/audit",
            "Audit trail",
            "Who did what, when: search, export, follow a request to every event and read model",
        ));
    }
    if crate::auth::STAFF.contains(&role) {
        pages.push((
            "/admin/orders",
            "Orders",
            "Search orders; open one for its lines and its history",
        ));
        pages.push((
            "/admin/products",
            "Products",
            "Search products; create, edit, add images, publish; receive and adjust stock",
        ));
        pages.push((
            "/admin/coupons",
            "Coupons",
            "Coupons with their use; create one, deactivate one",
        ));
        pages.push((
            "/admin/pricing",
            "Pricing",
            "Price rules by priority; create one, enable or disable it, with its history",
        ));
        pages.push((
            "/admin/vendors",
            "Stores",
            "The marketplace's stores: applications to decide, each store's figures and history",
        ));
        pages.push((
            "/admin/reviews",
            "Reviews",
            "Every product's reviews by status: hide or restore one, with its history",
        ));
    }
    if crate::users::ADMINS.contains(&role) {
        pages.push((
            "/admin/customers",
            "Customers",
            "Search accounts; suspend one or change its role, with its history",
        ));
    }
    if crate::operations::OPERATORS.contains(&role) {
        pages.push((
            "/admin/projections",
            "Projections",
            "Each read model's checkpoint, lag and stalls, live; rebuild one",
        ));
        pages.push((
            "/admin/parked",
            "Parked events",
            "Events a read model refused, with their error: retry, skip or discard",
        ));
        pages.push((
            "/admin/consumers",
            "Consumers",
            "JetStream consumers of the read models: pending and redelivered",
        ));
        pages.push((
            "/admin/outbox",
            "Outbox",
            "Notifications: deliveries and failures",
        ));
        pages.push((
            "/admin/health",
            "Health",
            "PostgreSQL, the store, NATS and every follower of $all",
        ));
    }
    if crate::operations::SQL_READERS.contains(&role) {
        pages.push((
            "/admin/sql",
            "SQL",
            "Read-only SQL over the read models, with CSV download",
        ));
    }
    pages
}

/// A whole page: `title` as its heading, `body` under it.
pub fn layout(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · UltraMarket console" }
                link rel="stylesheet" href="/admin/assets/console.css";
                script src="/admin/assets/htmx.min.js" defer {}
            }
            body hx-boost="true" {
                a.skip href="#main" { "Skip to content" }
                header.bar {
                    a.brand href="/admin" { "UltraMarket console" }
                    @if let Some(v) = viewer {
                        nav aria-label="Console pages" {
                            ul {
                                @for (href, name, _) in pages_for(v.role) {
                                    li { a href=(href) { (name) } }
                                }
                            }
                        }
                        form.signout method="post" action="/admin/logout" hx-boost="false" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            span.role title=(format!("account {}", v.user_id)) { "Signed in as " (v.role.as_str()) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML answer.
pub fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// Nobody is signed in (or the session ended): to the sign-in page, then back to
    /// `next`.
    SignIn { next: String },
    /// Refused or failed, as the API would answer it.
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<commands::store::StoreError> for PageError {
    fn from(e: commands::store::StoreError) -> Self {
        PageError::Api(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let to = with_query("/admin/login", &[("next", Some(&next))]);
                (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
            }
            PageError::Api(e) => error_page(&e),
        }
    }
}

/// The page of an error: what went wrong in words, as the API's problem says it; a
/// failure of ours is logged and named only by its code.
pub fn error_page(e: &ApiError) -> Response {
    let status = e.status();
    let detail = if status.is_server_error() {
        tracing::error!(error = %e, "console page failed");
        "Something failed on our side; try again shortly.".to_owned()
    } else {
        e.to_string()
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let body = html! {
        p.error #problem role="alert" data-code=(e.code()) { (detail) }
        @if let ApiError::InvalidQuery(fields) = e {
            ul.errors { @for f in fields { li { code { (f.field) } ": " (f.message) } } }
        }
        p { a href="/admin" { "Back to the console" } }
    };
    html(status, layout(title, None, body))
}

/// A refusal of the query, above the form that can fix it.
pub fn problem(e: &ApiError) -> Markup {
    html! {
        p.error #problem role="alert" data-code=(e.code()) { (e.to_string()) }
        @if let ApiError::InvalidQuery(fields) = e {
            ul.errors { @for f in fields { li { code { (f.field) } ": " (f.message) } } }
        }
    }
}

/// The answer of `result`, or its refusal as a page of `status` (a failure of ours is an
/// error page).
pub fn shown<T>(result: Result<T, ApiError>) -> Result<(StatusCode, Result<T, Markup>), PageError> {
    match result {
        Ok(found) => Ok((StatusCode::OK, Ok(found))),
        Err(e) if e.status().is_client_error() => Ok((e.status(), Err(problem(&e)))),
        Err(e) => Err(e.into()),
    }
}

/// A time as the pages show it (UTC, to the second), machine-readable in its element.
pub fn at(t: chrono::DateTime<chrono::Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S")) } }
}

/// An amount as people read it, in its currency's minor units (`12.50 USD`).
pub fn money(m: &crate::views::Money) -> String {
    match domain::money::Currency::parse(&m.currency) {
        Ok(c) => domain::money::Money::new(m.amount, c).to_string(),
        Err(_) => format!("{} {}", m.amount, m.currency),
    }
}
