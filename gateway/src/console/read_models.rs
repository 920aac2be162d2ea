//! The read models' pages: `/admin/projections` (each read model's checkpoint against the
//! head, its lag and trend, stalls; refreshed by htmx polling its `live` fragment), the
//! confirm step of a rebuild, and `/admin/rebuilds/{id}`, a rebuild's progress, live
//! until it has ended with the read model verified (or not). Each renders what
//! `crate::operations` answers the admin API.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::links::with_query;
use super::page::{at, html, layout, problem, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::operations::{self as ops, ProjectionsView, RebuildView, OPERATORS};
use crate::state::AppState;

/// The table, inside the element that polls for its next version every two seconds.
fn live_table(view: &ProjectionsView, writable: bool) -> Markup {
    html! {
        div #projections-live hx-get="/admin/projections/live" hx-trigger="every 2s" hx-swap="outerHTML" {
            p.summary {
                "Store head " code #head { (view.head.as_deref().unwrap_or("unknown")) }
                ". Stalled: events have waited " (view.stall_after_seconds)
                " s or more on a checkpoint that has not moved for as long."
            }
            table #projections {
                caption { "Read models, refreshed every two seconds" }
                thead { tr {
                    th scope="col" { "Read model" } th scope="col" { "Checkpoint" }
                    th scope="col" { "Lag (events)" } th scope="col" { "Oldest waiting" }
                    th scope="col" { "Trend" } th scope="col" { "Parked" }
                    th scope="col" { "State" } th scope="col" { "Last rebuild" }
                    @if writable { th scope="col" { "Action" } }
                } }
                tbody {
                    @for p in &view.items {
                        tr.projection data-name=(p.name) {
                            th scope="row" { (p.name) }
                            td { code { (p.position) } }
                            td.num.lag { (p.lag_events.map_or("—".into(), |n| n.to_string())) }
                            td.num { (p.lag_seconds.map_or("—".into(), |s| format!("{s:.1} s"))) }
                            td.trend { (p.lag_trend)
                                @if let Some(d) = p.lag_change.filter(|d| *d != 0) { " (" (format!("{d:+}")) ")" }
                            }
                            td.num {
                                @if p.parked > 0 {
                                    a.parked href=(with_query("/admin/parked", &[("projection", Some(&p.name))])) { (p.parked) }
                                } @else { "0" }
                            }
                            td.state {
                                @if p.stalled { strong.stalled { "Stalled" } }
                                @else if p.caught_up { span.ok { "Caught up" } }
                                @else { span { "Behind" } }
                            }
                            td {
                                @if let Some(r) = &p.rebuild {
                                    a href=(format!("/admin/rebuilds/{}", r.id)) { (r.state) } " " (at(r.started_at))
                                } @else { "—" }
                            }
                            @if writable {
                                td { a.rebuild href=(format!("/admin/projections/{}/rebuild", p.name)) { "Rebuild…" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /admin/projections`
pub async fn list(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let view = ops::read_models(&state).await?;
    let body = html! {
        (confirm::read_only_notice(&state))
        (live_table(&view, !state.config.console_read_only))
    };
    Ok(html(
        StatusCode::OK,
        layout("Projections", Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/projections/live`: the table alone, for the page's polling.
pub async fn live(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let view = ops::read_models(&state).await?;
    Ok(html(
        StatusCode::OK,
        live_table(&view, !state.config.console_read_only),
    ))
}

fn rebuild_question(signed: &Signed, name: &str, reason: &str) -> Markup {
    let what = html! {
        p { "Rebuild the read model " strong { (name) } " from the event store: it is replayed into a shadow schema while the live tables keep answering, swapped in, then compared table by table with a fresh replay." }
    };
    confirm::form(
        signed,
        &format!("/admin/projections/{name}/rebuild"),
        &format!("Rebuild {name}"),
        "/admin/projections",
        reason,
        what,
    )
}

/// `GET /admin/projections/{name}/rebuild`: the confirm step.
pub async fn confirm_rebuild(
    State(state): State<AppState>,
    signed: Signed,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    ops::writable(&state)?;
    if projections::by_name(&name).is_none() {
        return Err(ApiError::NotFound(format!("there is no read model {name:?}")).into());
    }
    let body = rebuild_question(&signed, &name, "");
    Ok(html(
        StatusCode::OK,
        layout(&format!("Rebuild {name}"), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/projections/{name}/rebuild`: starts it, then to its progress.
pub async fn start_rebuild(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    Path(name): Path<String>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let form = confirm::accepted(&state, &signed, body)?;
    let by = signed.acting(&request);
    match ops::start_rebuild(&state, by, &name, &form.reason).await {
        Ok(view) => Ok((
            StatusCode::SEE_OTHER,
            [(LOCATION, format!("/admin/rebuilds/{}", view.id))],
        )
            .into_response()),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let body = html! { (problem(&e)) (rebuild_question(&signed, &name, &form.reason)) };
            Ok(html(
                e.status(),
                layout(&format!("Rebuild {name}"), Some(&signed.viewer()), body),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// A rebuild's progress; polls for its next version every second until it has ended.
fn progress(r: &RebuildView) -> Markup {
    let url = format!("/admin/rebuilds/{}/live", r.id);
    let body = html! {
        dl.rebuild {
            dt { "Read model" } dd { (r.projection) }
            dt { "State" } dd #rebuild-state data-state=(r.state) { (r.state) }
            dt { "Events replayed" } dd #rebuild-events { (r.events) }
            dt { "Position" } dd { code { (r.position.as_deref().unwrap_or("—")) } " of head " code { (r.head.as_deref().unwrap_or("—")) } }
            dt { "Started" } dd { (at(r.started_at)) " by " (r.actor_role) }
            dt { "Reason" } dd { (r.reason) }
            @if let Some(done) = r.finished_at { dt { "Ended" } dd { (at(done)) } }
        }
        @match r.state.as_str() {
            "verified" => p.ok #rebuild-verdict role="status" { "Rebuilt, swapped in, and verified: every table equals a fresh replay of the log." },
            "mismatch" | "failed" => p.error #rebuild-verdict role="alert" { (r.error.as_deref().unwrap_or(&r.state)) },
            _ => progress #rebuild-progress aria-label="Rebuild in progress" {},
        }
    };
    html! {
        @if r.finished() {
            div #rebuild-live { (body) }
        } @else {
            div #rebuild-live hx-get=(url) hx-trigger="every 1s" hx-swap="outerHTML" { (body) }
        }
    }
}

/// `GET /admin/rebuilds/{id}`
pub async fn rebuild(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let r = ops::rebuild_progress(&state, id).await?;
    let body = html! {
        (progress(&r))
        p { a href="/admin/projections" { "Back to the read models" } }
    };
    Ok(html(
        StatusCode::OK,
        layout(
            &format!("Rebuild of {}", r.projection),
            Some(&signed.viewer()),
            body,
        ),
    ))
}

/// `GET /admin/rebuilds/{id}/live`: the progress alone, for the page's polling.
pub async fn rebuild_live(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let r = ops::rebuild_progress(&state, id).await?;
    Ok(html(StatusCode::OK, progress(&r)))
}
