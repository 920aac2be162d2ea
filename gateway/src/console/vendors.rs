//! The marketplace's stores in the back office (issue 23, issue 25 item 4):
//! `/admin/vendors`, the stores by status (the applications waiting first), from the
//! `vendors` read model (the query of `GET /api/v1/vendors`); `/admin/vendors/{id}`, one
//! store as its owner and staff see it, its dashboard (the figures of
//! `GET /api/v1/vendors/{id}/dashboard`) and its History tab; and an admin's decision on
//! it (approve, reject, suspend, reinstate) through the confirm step, as
//! `PUT /api/v1/vendors/{id}/status` makes it.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chrono::{Duration, Utc};
use commands::handler::CommandHandler;
use commands::store::{Direction, ReadFrom};
use domain::user::Role;
use domain::vendors::{Vendor, VendorStatus};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, money, problem, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::vendors::dashboard::{self, DashboardView};
use crate::vendors::views::VendorView;
use crate::vendors::{list, routes as decisions};
use crate::views::Money;

/// Stores on one page.
const PAGE: i64 = 25;
const STATUSES: &[&str] = &["pending", "approved", "rejected", "suspended"];
/// Who decides on a store, as the API has it.
const DECIDERS: &[Role] = &[Role::Admin];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorsQuery {
    status: Option<String>,
    offset: Option<i64>,
}

/// `GET /admin/vendors`: by default the applications waiting for a decision.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<VendorsQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = q.status.as_deref().unwrap_or("pending");
    let status = (status != "all").then_some(status);
    if let Some(s) = status.filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::invalid_query("status", format!("no status {s:?}")).into());
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let (total, rows) = list::page(&state.pool, status, PAGE, offset)
        .await
        .map_err(ApiError::from)?;
    let stores: Vec<VendorView> = rows.into_iter().map(VendorView::from).collect();
    let shown = status.unwrap_or("all");
    let page_link = |offset: i64| {
        with_query(
            "/admin/vendors",
            &[
                ("status", Some(shown)),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        form.filters method="get" action="/admin/vendors" role="search" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for s in STATUSES.iter().chain(&["all"]) {
                        option value=(s) selected[shown == *s] { (s) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        p #count { (total) " stores " (shown) }
        @if stores.is_empty() {
            p #empty { "No store is " (shown) "." }
        } @else {
            table #vendors {
                caption { "Stores, oldest application first" }
                thead { tr {
                    th scope="col" { "Store" } th scope="col" { "Slug" } th scope="col" { "Status" }
                    th scope="col" { "Applied (UTC)" } th scope="col" { "Rating" }
                } }
                tbody {
                    @for v in &stores {
                        tr {
                            td { a.vendor href=(format!("/admin/vendors/{}", v.id)) { (v.store_name) } }
                            td { code { (v.slug) } }
                            td.status { (v.status) }
                            td { (at(v.applied_at)) }
                            td.num { @match &v.rating {
                                Some(r) => { (format!("{:.2}", r.average)) " (" (r.count) ")" }
                                None => { "—" }
                            } }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if offset > 0 {
                    a #prev rel="prev" href=(page_link((offset - PAGE).max(0))) { "← Earlier" }
                }
                @if offset + PAGE < total {
                    a #next rel="next" href=(page_link(offset + PAGE)) { "Later →" }
                }
            }
        }
    };
    Ok(html(
        StatusCode::OK,
        layout("Stores", Some(&signed.viewer()), body),
    ))
}

/// The moves an admin may make from `status` (the domain's), each with its button's words.
fn moves(status: &str) -> impl Iterator<Item = (&'static str, &'static str)> {
    let from = status.parse::<VendorStatus>().ok();
    let to = from.map_or(&[][..], VendorStatus::moves);
    to.iter().map(move |&to| {
        let words = match (from, to) {
            (Some(VendorStatus::Suspended), VendorStatus::Approved) => "Reinstate",
            (_, VendorStatus::Approved) => "Approve",
            (_, VendorStatus::Rejected) => "Reject",
            (_, VendorStatus::Suspended) => "Suspend",
            (_, VendorStatus::Pending) => "Decide",
        };
        (to.as_str(), words)
    })
}

/// `GET /admin/vendors/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let vendor = commands::vendors::find(&state.handlers, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound("no such store".into()))?;
    let commission = commands::vendors::commission_of(&state.handlers, &vendor)
        .await
        .map_err(ApiError::from)?;
    let view = VendorView::private(&vendor, commission);
    let to = Utc::now().date_naive();
    let figures = dashboard::figures(
        &state.pool,
        id,
        to - Duration::days(dashboard::DEFAULT_DAYS - 1),
        to,
    )
    .await?;
    let stream = CommandHandler::<Vendor>::stream_id(id);
    // The handlers' store opens the contact and payout details it sealed (ADR 0005).
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<Vendor>(&events, |s| {
        s.vendor.as_ref().map(|v| {
            let (rule, version, _) = v.commission_rule(0);
            serde_json::json!({
                "store_name": v.store_name, "slug": v.slug, "description": v.description,
                "logo_url": v.logo_url, "status": v.status.as_str(),
                "status_reason": v.status_reason, "contact_email": v.contact_email,
                "trusted": v.terms.trusted,
                "commission": v.commission.map(|_| serde_json::json!({
                    "percent_bp": rule.percent_bp, "fixed": rule.fixed, "min": rule.min,
                    "max": rule.max, "version": version,
                })),
            })
        })
    })?;
    let private = view.private.as_ref();
    let body = html! {
        dl.summary {
            dt { "Status" } dd #status { (view.status) }
            @if let Some(reason) = private.and_then(|p| p.status_reason.as_deref()) {
                dt { "Why" } dd #status-reason { (reason) }
            }
            dt { "Slug" } dd { code { (view.slug) } }
            dt { "Owner" } dd { code { (id) } }
            @if let Some(p) = private {
                dt { "Contact" } dd { (p.contact_email) @if let Some(phone) = &p.contact_phone { ", " (phone) } }
                dt { "Commission" } dd #commission {
                    (format!("{}.{:02}%", p.commission.percent_bp / 100, p.commission.percent_bp % 100))
                    " (" (p.commission_source) ", version " (p.commission.version) ")"
                }
                dt { "Trusted" } dd { (if p.trusted { "yes: publishes without review" } else { "no: its products are reviewed" }) }
                dt { "Payout account" } dd { (if p.payout.is_some() { "given" } else { "none" }) }
            }
            dt { "Applied" } dd { (at(view.applied_at)) }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
        }
        @if DECIDERS.contains(&signed.role) && moves(&view.status).next().is_some() {
            p.actions {
                @for (to, label) in moves(&view.status) {
                    a.button href=(format!("/admin/vendors/{id}/status/{to}")) { (label) }
                    " "
                }
            }
        }
        (figures_of(&figures))
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&view.store_name, Some(&signed.viewer()), body),
    ))
}

/// The store's dashboard, as its owner reads it from the API.
fn figures_of(d: &DashboardView) -> Markup {
    html! {
        section #dashboard aria-labelledby="dashboard-title" {
            h2 #dashboard-title { "Dashboard, " (d.from) " to " (d.to) }
            @if d.days.is_empty() {
                p #no-sales { "No sale in these days." }
            } @else {
                table #sales {
                    caption { "Paid sales per UTC day" }
                    thead { tr {
                        th scope="col" { "Day" } th scope="col" { "Orders" } th scope="col" { "Units" }
                        th scope="col" { "Gross" } th scope="col" { "Given back" } th scope="col" { "Net" }
                    } }
                    tbody { @for day in &d.days {
                        tr {
                            td { (day.day) }
                            td.num { (day.orders) }
                            td.num { (day.units) }
                            td.num { (money(&Money::of(day.gross, &day.currency))) }
                            td.num { (money(&Money::of(day.cancelled, &day.currency))) " (" (day.cancelled_units) ")" }
                            td.num { (money(&Money::of(day.net, &day.currency))) }
                        }
                    } }
                }
            }
            h3 { "Top products" }
            @if d.top_products.is_empty() { p { "Nothing sold yet." } } @else {
                ol #top-products { @for p in &d.top_products {
                    li { (p.name.as_deref().unwrap_or("(gone)")) ": " (p.units) " units, " (money(&p.sales)) }
                } }
            }
            h3 { "Stock alerts" }
            @if d.stock_alerts.is_empty() { p #no-alerts { "No SKU is below its threshold." } } @else {
                ul #stock-alerts { @for a in &d.stock_alerts {
                    li { code { (a.sku) } " " (a.name) ": " (a.available) " available, threshold " (a.threshold) }
                } }
                @if d.stock_alert_count > d.stock_alerts.len() as i64 {
                    p { (d.stock_alert_count) " in all." }
                }
            }
            h3 { "Rating" }
            p #rating { @match d.rating.average {
                Some(avg) => { (format!("{avg:.2}")) " from " (d.rating.count) " reviews" }
                None => { "No review yet." }
            } }
        }
    }
}

fn title(to: &str) -> &'static str {
    match to {
        "rejected" => "Reject a store",
        "suspended" => "Suspend a store",
        _ => "Approve a store",
    }
}

/// What the confirm step says a decision will do.
fn question(signed: &Signed, id: Uuid, name: &str, status: &str, to: &str, reason: &str) -> Markup {
    let effect = match (status, to) {
        (_, "suspended") => "Its products leave the storefront at once (lists, search, product pages); nothing of it is sold until it is reinstated.",
        (_, "rejected") => "The application is turned down with this reason; it may still be approved later.",
        ("suspended", _) => "Its products come back to the storefront.",
        _ => "The store may sell: its owner becomes its vendor member (a customer account takes the role vendor), and its products go on sale as they are published.",
    };
    let label = moves(status)
        .find(|(t, _)| *t == to)
        .map_or("Decide", |(_, l)| l);
    let what = html! {
        p { "Store " strong { (name) } ", now " span.status { (status) } "." }
        p.effect { (effect) }
    };
    confirm::form(
        signed,
        &format!("/admin/vendors/{id}/status/{to}"),
        label,
        &format!("/admin/vendors/{id}"),
        reason,
        what,
    )
}

/// The store and its status now, and that `to` is a move from there.
async fn movable(state: &AppState, id: Uuid, to: &str) -> Result<(String, String), PageError> {
    let vendor = commands::vendors::find(&state.handlers, id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound("no such store".into()))?;
    let status = vendor.status.as_str().to_owned();
    if !moves(&status).any(|(t, _)| t == to) {
        return Err(ApiError::conflict(
            "invalid_status",
            format!("a {status} store cannot be made {to}"),
        )
        .into());
    }
    Ok((vendor.store_name, status))
}

/// `GET /admin/vendors/{id}/status/{to}`: the confirm step.
pub async fn confirm_status(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, to)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(DECIDERS)?;
    crate::operations::writable(&state)?;
    let (name, status) = movable(&state, id, &to).await?;
    let body = question(&signed, id, &name, &status, &to, "");
    Ok(html(
        StatusCode::OK,
        layout(title(&to), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/vendors/{id}/status/{to}`: decides, as the API does (the domain refuses a
/// move the status does not allow); a refusal (no reason to reject or suspend) shows the
/// confirm step again under it, the store read afresh only then.
pub async fn set_status(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, to)): Path<(Uuid, String)>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(DECIDERS)?;
    let form = confirm::accepted(&state, &signed, body)?;
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let meta = signed.command_meta(&request, &ip, &form.reason);
    match decisions::decide(&state, id, &to, reason, meta).await {
        Ok((view, _)) => {
            let body = html! {
                p.ok #outcome role="status" data-status=(view.status) {
                    (view.store_name) " is now " (view.status) "."
                }
                p { a #back href=(format!("/admin/vendors/{id}")) { "Back to the store" } }
            };
            Ok(html(
                StatusCode::OK,
                layout(title(&to), Some(&signed.viewer()), body),
            ))
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let (name, status) = movable(&state, id, &to).await?;
            let body = html! {
                (problem(&e))
                (question(&signed, id, &name, &status, &to, &form.reason))
            };
            Ok(html(
                e.status(),
                layout(title(&to), Some(&signed.viewer()), body),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
