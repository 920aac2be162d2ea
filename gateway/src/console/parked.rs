//! `/admin/parked`: events a read model refused, with their error, and the confirm step
//! of retrying, skipping or discarding one; below, the actions staff took, with who, when
//! and why. Each renders what `crate::operations` answers the admin API.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, problem, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::operations::{self as ops, ParkedAction, ParkedQuery, ParkedView, OPERATORS};
use crate::state::AppState;

/// The action named in a path, or a 404.
fn action_of(name: &str) -> Result<ParkedAction, ApiError> {
    match name {
        "retry" => Ok(ParkedAction::Retry),
        "skip" => Ok(ParkedAction::Skip),
        "discard" => Ok(ParkedAction::Discard),
        _ => Err(ApiError::NotFound(format!(
            "no action {name:?} on a parked event: retry, skip or discard"
        ))),
    }
}

/// `GET /admin/parked`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<ParkedQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let (q, result) = match q {
        Ok(Query(q)) => {
            let found = ops::list(&state, &q).await;
            (q, found)
        }
        Err(e) => (
            ParkedQuery::default(),
            Err(ApiError::bad_request("invalid_query", e.body_text())),
        ),
    };
    let (status, answer) = shown(result)?;
    let actions = ops::actions(&state, Some(20), Some(0)).await?;
    let writable = !state.config.console_read_only;
    let names: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
    let body = html! {
        (confirm::read_only_notice(&state))
        form.filters method="get" action="/admin/parked" role="search" {
            div.field {
                label for="projection" { "Read model" }
                select #projection name="projection" {
                    option value="" { "Any" }
                    @for n in &names {
                        option value=(n) selected[q.projection.as_deref() == Some(*n)] { (n) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No event is parked." },
            Ok(page) => {
                table #parked {
                    caption { (page.total) " parked, oldest first" }
                    thead { tr {
                        th scope="col" { "Read model" } th scope="col" { "Event" }
                        th scope="col" { "Stream" } th scope="col" { "Position" }
                        th scope="col" { "Error" } th scope="col" { "Tries" }
                        th scope="col" { "Parked" }
                        @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for p in &page.items {
                            tr.parked id=(format!("parked-{}", p.id)) {
                                td { (p.projection) }
                                td.type { (p.event_type) }
                                td { a.stream href=(stream_link(&p.stream_id)) { (p.stream_id) } }
                                td { code { (p.position) } }
                                td.error-text { (p.error) }
                                td.num { (p.attempts) }
                                td { (at(p.parked_at)) }
                                @if writable {
                                    td.actions {
                                        a.retry href=(format!("/admin/parked/{}/retry", p.id)) { "Retry…" } " "
                                        a.skip href=(format!("/admin/parked/{}/skip", p.id)) { "Skip…" } " "
                                        a.discard href=(format!("/admin/parked/{}/discard", p.id)) { "Discard…" }
                                    }
                                }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 {
                        a rel="prev" href=(with_query("/admin/parked", &[("projection", q.projection.as_deref()), ("offset", Some(&(page.offset - page.limit).max(0).to_string()))])) { "← Earlier" }
                    }
                    @if page.offset + page.limit < page.total {
                        a rel="next" href=(with_query("/admin/parked", &[("projection", q.projection.as_deref()), ("offset", Some(&(page.offset + page.limit).to_string()))])) { "Later →" }
                    }
                }
            }
        }
        h2 { "Actions taken" }
        @if actions.items.is_empty() {
            p #no-actions { "No action was taken on a parked event yet." }
        } @else {
            table #actions {
                caption { "The latest " (actions.items.len()) " of " (actions.total) ", newest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "Outcome" } th scope="col" { "Read model" } th scope="col" { "Event" }
                    th scope="col" { "Reason" }
                } }
                tbody {
                    @for a in &actions.items {
                        tr.action {
                            td { (at(a.acted_at)) }
                            td { (a.actor_role) @if let Some(id) = a.actor_id { " " span title=(id) { (id.simple().to_string()[..8]) } } }
                            td { (a.action) }
                            td.outcome { (a.outcome) @if let Some(e) = &a.error { ": " (e) } }
                            td { (a.projection) }
                            td.type { (a.event_type) }
                            td.reason { (a.reason) }
                        }
                    }
                }
            }
        }
    };
    Ok(html(
        status,
        layout("Parked events", Some(&signed.viewer()), body),
    ))
}

/// What the confirm step says an action will do.
fn question(signed: &Signed, p: &ParkedView, action: ParkedAction, reason: &str) -> Markup {
    let effect = match action {
        ParkedAction::Retry => "Applies the event to the read model now, after the events that followed it. If the read model takes it, the park ends; if not, it stays parked with the new error.",
        ParkedAction::Skip => "Ends the park: the read model goes on without the event. A rebuild replays it, and parks it again if it still fails.",
        ParkedAction::Discard => "Ends the park for good: the read model goes on without the event, and a rebuild that fails on it drops it without parking it.",
    };
    let label = match action {
        ParkedAction::Retry => "Retry the event",
        ParkedAction::Skip => "Skip the event",
        ParkedAction::Discard => "Discard the event",
    };
    let what = html! {
        dl.parked-event {
            dt { "Read model" } dd { (p.projection) }
            dt { "Event" } dd { span.type { (p.event_type) } " " code { (p.event_id) } }
            dt { "Stream" } dd { a href=(stream_link(&p.stream_id)) { (p.stream_id) } }
            dt { "Position" } dd { code { (p.position) } }
            dt { "Error" } dd.error-text #parked-error { (p.error) }
            dt { "Tries" } dd { (p.attempts) }
        }
        p.effect { (effect) }
    };
    confirm::form(
        signed,
        &format!("/admin/parked/{}/{}", p.id, action.as_str()),
        label,
        "/admin/parked",
        reason,
        what,
    )
}

fn title(action: ParkedAction) -> &'static str {
    match action {
        ParkedAction::Retry => "Retry a parked event",
        ParkedAction::Skip => "Skip a parked event",
        ParkedAction::Discard => "Discard a parked event",
    }
}

/// `GET /admin/parked/{id}/{action}`: the confirm step.
pub async fn confirm_action(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let action = action_of(&action)?;
    ops::writable(&state)?;
    let parked = ParkedView::from(ops::find_parked(&state, id).await?);
    let body = question(&signed, &parked, action, "");
    Ok(html(
        StatusCode::OK,
        layout(title(action), Some(&signed.viewer()), body),
    ))
}

/// `POST /admin/parked/{id}/{action}`: acts, and says what came of it; a refusal (a
/// retry the read model refused again) shows the confirm step again under it.
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    Path((id, action)): Path<(Uuid, String)>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let action = action_of(&action)?;
    let form = confirm::accepted(&state, &signed, body)?;
    let before = ops::find_parked(&state, id).await?;
    let by = signed.acting(&request);
    match ops::act(&state, by, id, action, &form.reason).await {
        Ok(done) => {
            let body = html! {
                p.ok #outcome role="status" data-outcome=(done.outcome) {
                    @match done.outcome {
                        "applied" => { "Retried: " (before.projection) " took the event, and the park ended." }
                        "skipped" => { "Skipped: " (before.projection) " goes on without the event." }
                        _ => { "Discarded: " (before.projection) " goes on without the event, in rebuilds too." }
                    }
                }
                p { a #back href="/admin/parked" { "Back to the parked events" } }
            };
            Ok(html(
                StatusCode::OK,
                layout(title(action), Some(&signed.viewer()), body),
            ))
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            // The park as it stands now (a failed retry recorded a new error).
            let now = ops::find_parked(&state, id).await.map(ParkedView::from);
            let body = html! {
                (problem(&e))
                @match &now {
                    Ok(p) => (question(&signed, p, action, &form.reason)),
                    Err(_) => p { a href="/admin/parked" { "Back to the parked events" } },
                }
            };
            Ok(html(
                e.status(),
                layout(title(action), Some(&signed.viewer()), body),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
