//! Reviews in the back office (issues 23 and 25): `/admin/reviews`, every product's
//! reviews, the published ones by default (what the storefront shows, what moderation
//! reads), newest first, paged on the server and filtered by status and product (the
//! query of `GET /api/v1/admin/reviews`); `/admin/reviews/{id}`, one review as the API
//! shows it with its History tab folded from its events; and hiding or restoring a review
//! through the confirm step, with a reason, as `PUT /api/v1/reviews/{id}/status` does it
//! (`commands::reviews::moderate_review`), refused when the console is read-only.
//!
//! The reviews domain has two statuses, `published` and `hidden`: a review shows as soon
//! as a verified buyer writes it, so nothing waits for approval, and shoppers cannot
//! report one.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::handler::CommandHandler;
use commands::reviews::{self as use_case, ReviewUseError};
use commands::store::{Direction, ReadFrom};
use domain::reviews::{Review, ReviewRecord, ReviewState};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::forms::{answered, see_other};
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, shown, PageError};
use super::products::as_viewer;
use super::session::Signed;
use crate::auth::STAFF;
use crate::catalog::listing;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::reviews::admin::{self, AdminReviewsQuery, STATUSES};
use crate::reviews::views::ReviewView;
use crate::state::AppState;

/// Reviews on one page.
const PAGE: i64 = 25;

/// Characters of a review's body the list shows; its page shows it whole.
const EXCERPT: usize = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewsPageQuery {
    status: Option<String>,
    product_id: Option<String>,
    offset: Option<i64>,
}

/// Where a review in `status` may go: the status and the button's word.
fn move_from(status: &str) -> Option<(&'static str, &'static str)> {
    match status {
        "published" => Some(("hidden", "Hide")),
        "hidden" => Some(("published", "Restore")),
        _ => None,
    }
}

fn excerpt(text: &str) -> String {
    if text.chars().count() > EXCERPT {
        format!("{}…", text.chars().take(EXCERPT).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// `GET /admin/reviews`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<ReviewsPageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("published")
        .to_owned();
    let product = q
        .product_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let query = AdminReviewsQuery {
        status: Some(status.clone()),
        product_id: product.clone(),
        limit: Some(PAGE),
        offset: Some(q.offset.unwrap_or(0).max(0)),
    };
    let result = match query.filter() {
        Ok(filter) => admin::page(&state.pool, &filter).await,
        Err(e) => Err(e),
    };
    let (code, answer) = shown(result)?;
    let writable = !state.config.console_read_only;
    let link = |offset: i64| {
        with_query(
            "/admin/reviews",
            &[
                ("status", Some(&status)),
                ("product_id", product.as_deref()),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        (confirm::read_only_notice(&state))
        form.filters method="get" action="/admin/reviews" role="search" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for s in STATUSES.iter().chain(&["all"]) {
                        option value=(s) selected[status == *s] { (s) }
                    }
                }
            }
            div.field {
                label for="product_id" { "Product id" }
                input #product_id name="product_id" type="search" value=[product.as_deref()] autocomplete="off" placeholder="any product";
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No review matches." },
            Ok(page) => {
                p #count { (page.total) " reviews" }
                table #reviews {
                    caption { "Newest first" }
                    thead { tr {
                        th scope="col" { "Review" } th scope="col" { "Product" } th scope="col" { "Rating" }
                        th scope="col" { "Author" } th scope="col" { "Status" } th scope="col" { "Written (UTC)" }
                        @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for item in &page.items {
                            @let r = &item.review;
                            tr.review data-review=(r.id) {
                                td {
                                    a.review href=(format!("/admin/reviews/{}", r.id)) { (r.title) }
                                    br;
                                    small.body { (excerpt(&r.body)) }
                                }
                                td { a.product href=(format!("/admin/products/{}", r.product_id)) {
                                    (item.product_name.clone().unwrap_or_else(|| r.product_id.to_string()))
                                } }
                                td.num.rating { (r.rating) "/5" }
                                td { code.author { (r.author_id) } }
                                td.status { (r.status) }
                                td { (at(r.created_at)) }
                                @if writable {
                                    td { @if let Some((to, label)) = move_from(&r.status) {
                                        a.moderate href=(format!("/admin/reviews/{}/status/{to}", r.id)) { (label) "…" }
                                    } }
                                }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 { a #prev rel="prev" href=(link((page.offset - page.limit).max(0))) { "← Newer" } }
                    @if page.offset + page.limit < page.total { a #next rel="next" href=(link(page.offset + page.limit)) { "Older →" } }
                }
            }
        }
    };
    Ok(html(code, layout("Reviews", Some(&signed.viewer()), body)))
}

/// The review as the write side has it; `None` once its author withdrew it.
async fn current(state: &AppState, id: Uuid) -> Result<Option<ReviewRecord>, ApiError> {
    match use_case::review(&state.handlers, id).await {
        Ok(r) => Ok(Some(r)),
        Err(ReviewUseError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The review, or a 404 once it is withdrawn or when there is none.
async fn moderated(state: &AppState, id: Uuid) -> Result<ReviewRecord, ApiError> {
    current(state, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such review, or withdrawn".into()))
}

/// The name of the product, as the catalog has it now.
async fn product_name(state: &AppState, signed: &Signed, product: Uuid) -> Option<String> {
    listing::product(&state.pool, &product.to_string(), &as_viewer(signed))
        .await
        .ok()
        .map(|p| p.name)
}

/// The review as its History tab diffs it: its API answer, and whether it is withdrawn.
fn review_view(s: &ReviewState) -> Option<serde_json::Value> {
    s.review.as_ref().and_then(|r| {
        let mut v = serde_json::to_value(ReviewView::from(r)).ok()?;
        v["withdrawn"] = r.withdrawn.into();
        Some(v)
    })
}

/// `GET /admin/reviews/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let stream = CommandHandler::<Review>::stream_id(id);
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    if events.is_empty() {
        return Err(ApiError::NotFound("no such review".into()).into());
    }
    let changes = history::changes::<Review>(&events, review_view)?;
    let record = current(&state, id).await?;
    let writable = !state.config.console_read_only;
    let summary = match &record {
        None => {
            html! { p.notice #withdrawn { "Its author withdrew this review: it no longer shows or counts." } }
        }
        Some(r) => {
            let view = ReviewView::from(r);
            let product = view.product_id;
            let name = product_name(&state, &signed, product).await;
            html! {
                dl.summary {
                    dt { "Status" } dd #status { (view.status) }
                    @if let Some(why) = &r.moderation_reason { dt { "Why" } dd #moderation-reason { (why) } }
                    dt { "Product" } dd { a.product href=(format!("/admin/products/{product}")) { (name.unwrap_or_else(|| product.to_string())) } }
                    dt { "Rating" } dd #rating { (view.rating) "/5" }
                    dt { "Title" } dd #title { (view.title) }
                    dt { "Text" } dd #text { (view.body) }
                    @if !view.images.is_empty() {
                        dt { "Images" } dd { ul { @for i in &view.images { li { a href=(i) rel="noopener noreferrer" { (i) } } } } }
                    }
                    dt { "Author" } dd { code #author { (view.author_id) } }
                    dt { "Verified purchase" } dd title=(view.verification) { "yes: " (view.proof_event_ids.len()) " events of its order prove it" }
                    dt { "Helpful" } dd { (view.helpful_count) }
                    @if let Some(reply) = &view.reply { dt { "Vendor's reply" } dd #reply { (reply.body) " (" (at(reply.at)) ")" } }
                    dt { "Written" } dd { (at(view.created_at)) }
                    dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
                }
                p { a #of-product href=(with_query("/admin/reviews", &[("status", Some("all")), ("product_id", Some(&product.to_string()))])) { "Every review of this product" } }
                @if writable {
                    @if let Some((to, label)) = move_from(&view.status) {
                        nav.actions aria-label="Actions" {
                            a #moderate href=(format!("/admin/reviews/{id}/status/{to}")) { (label) "…" }
                        }
                    }
                }
            }
        }
    };
    let title = record
        .as_ref()
        .map_or_else(|| "A withdrawn review".to_owned(), |r| r.text.title.clone());
    let body = html! {
        (confirm::read_only_notice(&state))
        (summary)
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&title, Some(&signed.viewer()), body),
    ))
}

fn action_title(to: &str) -> &'static str {
    if to == "hidden" {
        "Hide a review"
    } else {
        "Restore a review"
    }
}

/// The confirm step of moving `r` to `to`.
fn question(signed: &Signed, r: &ReviewRecord, to: &str, reason: &str) -> Markup {
    let id = r.review_id.as_uuid();
    let effect = if to == "hidden" {
        "The review leaves the storefront: only its author and staff see it, and the product's rating is folded again without it."
    } else {
        "The review shows on the storefront again, and counts in the product's rating once more."
    };
    let label = if to == "hidden" {
        "Hide the review"
    } else {
        "Restore the review"
    };
    let what = html! {
        dl.summary {
            dt { "Review" } dd { (r.text.title) }
            dt { "Rating" } dd { (r.text.rating) "/5" }
            dt { "Status" } dd { (if r.visible { "published" } else { "hidden" }) }
        }
        p.effect { (effect) }
    };
    confirm::form(
        signed,
        &format!("/admin/reviews/{id}/status/{to}"),
        label,
        &format!("/admin/reviews/{id}"),
        reason,
        what,
    )
}

/// The review, and that `to` is where its status may go.
async fn movable(state: &AppState, id: Uuid, to: &str) -> Result<ReviewRecord, PageError> {
    if !STATUSES.contains(&to) {
        return Err(ApiError::NotFound(format!("no status {to:?}: hidden or published")).into());
    }
    let r = moderated(state, id).await?;
    let status = if r.visible { "published" } else { "hidden" };
    if move_from(status).is_none_or(|(t, _)| t != to) {
        return Err(ApiError::conflict(
            "invalid_status",
            format!("the review is {status} already"),
        )
        .into());
    }
    Ok(r)
}

/// `GET /admin/reviews/{id}/status/{to}`: the confirm step.
pub async fn confirm_status(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, to)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let r = movable(&state, id, &to).await?;
    let body = question(&signed, &r, &to, "");
    Ok(html(
        StatusCode::OK,
        layout(action_title(&to), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/reviews/{id}/status/{to}`: hides or restores it, as the API does, then
/// shows the review once the reviews read model (the storefront's list, the rating) has
/// it; a refusal (no reason) shows the confirm step again under it.
pub async fn set_status(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, to)): Path<(Uuid, String)>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let form = confirm::accepted(&state, &signed, body)?;
    let r = movable(&state, id, &to).await?;
    let result = async {
        let reason = crate::operations::reason(&form.reason)?.to_owned();
        let meta = signed.command_meta(&request, &ip, &reason);
        let outcome =
            use_case::moderate_review(&state.handlers, id, to == "published", reason, meta).await?;
        crate::consistency::reached(&state, "reviews", outcome.position).await?;
        Ok(see_other(&format!("/admin/reviews/{id}")))
    }
    .await;
    answered(&signed, action_title(&to), result, || {
        question(&signed, &r, &to, &form.reason)
    })
}
