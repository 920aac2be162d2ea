//! Aggregates over time, for every reader of the event log: `/admin/state` (a GET form of
//! a stream id and a version or a time; the aggregate's state then, as JSON) and the
//! stepper, `/admin/streams/{id}/steps/{revision}`: one event, the state before and after
//! it, and what it added, removed or changed, rendered here, with links to the events on
//! either side. Each renders what its `/api/v1/admin/streams/{id}/...` twin answers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::event_log::{actor, field, pretty};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::audit_trail::{self as trail, FieldChange, StateQuery};
use crate::error::ApiError;
use crate::event_log::READERS;
use crate::state::AppState;

/// `GET /admin/state`: the form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateForm {
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    stream: Option<String>,
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    version: Option<String>,
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    at: Option<String>,
}

/// The stepper's page of one event.
pub fn step_link(stream_id: &str, revision: u64) -> String {
    format!("{}/steps/{revision}", stream_link(stream_id))
}

/// `GET /admin/state`
pub async fn state(
    State(app): State<AppState>,
    signed: Signed,
    q: Result<Query<StateForm>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (form, result) = match q {
        Err(e) => (
            StateForm::default(),
            Some(Err(ApiError::bad_request("invalid_query", e.body_text()))),
        ),
        Ok(Query(form)) => {
            let result = match &form.stream {
                None => None,
                Some(stream) => {
                    let q = StateQuery {
                        version: form.version.clone(),
                        at: form.at.clone(),
                    };
                    Some(trail::state_at(&*app.store, stream, &q).await)
                }
            };
            (form, result)
        }
    };
    let (status, answer) = match result {
        None => (StatusCode::OK, None),
        Some(r) => {
            let (status, answer) = shown(r)?;
            (status, Some(answer))
        }
    };
    let body = html! {
        form.filters method="get" action="/admin/state" {
            (field("stream", "Stream id", form.stream.as_deref(), "text", "order-…"))
            (field("version", "At version", form.version.as_deref(), "text", "0, 1, … (blank: latest)"))
            (field("at", "Or at time (UTC)", form.at.as_deref(), "text", "2026-12-08T10:30"))
            button type="submit" { "Show state" }
        }
        @match &answer {
            None => p.hint { "An aggregate's state as of a version or a time, folded from its events with the domain's own rules." },
            Some(Err(refusal)) => (refusal),
            Some(Ok(s)) => {
                p.summary #state-of {
                    code { (s.stream_id) } " at version " strong #state-version { (s.version) }
                    " of " (s.last_version) " (" (s.events) " events, the last recorded " (at(s.recorded_at)) "). "
                    a href=(stream_link(&s.stream_id)) { "Its events" } " · "
                    a.step href=(step_link(&s.stream_id, s.version)) { "step through from here" }
                }
                @if s.placeholders > 0 {
                    p.notice { (s.placeholders) " sealed personal fields are folded as their erasure placeholders." }
                }
                pre #state { (pretty(&s.state)) }
            }
        }
    };
    Ok(html(
        status,
        layout("Aggregate state", Some(&signed.viewer()), body),
    ))
}

/// A value in the diff's table: strings bare, the rest as compact JSON, long ones cut (the
/// states below show them whole).
fn cell(v: &Option<Value>) -> Markup {
    let text = match v {
        None => return html! { span.muted { "—" } },
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let shown = if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    };
    html! { code { (shown) } }
}

fn changes_table(changes: &[FieldChange]) -> Markup {
    html! {
        @if changes.is_empty() {
            p #no-change { "This event changed nothing in the state." }
        } @else {
            table #changes {
                caption { "What the event changed" }
                thead { tr {
                    th scope="col" { "Field" } th scope="col" { "Change" }
                    th scope="col" { "Before" } th scope="col" { "After" }
                } }
                tbody {
                    @for c in changes {
                        tr class=(format!("change {}", c.change)) {
                            td { code { (if c.path.is_empty() { "(the whole state)" } else { c.path.as_str() }) } }
                            td.kind { (c.change) }
                            td { (cell(&c.before)) }
                            td { (cell(&c.after)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /admin/streams/{stream_id}/steps/{revision}`
pub async fn step(
    State(app): State<AppState>,
    signed: Signed,
    Path((stream_id, revision)): Path<(String, String)>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (status, answer) = shown(trail::step(&*app.store, &stream_id, &revision).await)?;
    let body = html! {
        @match &answer {
            Err(refusal) => (refusal),
            Ok(s) => {
                nav.pager aria-label="Steps" {
                    @if let Some(p) = s.previous { a #previous rel="prev" href=(step_link(&s.stream_id, p)) { "← Event #" (p) } }
                    a href=(stream_link(&s.stream_id)) { "All its events" }
                    a href=(with_query("/admin/state", &[("stream", Some(&s.stream_id)), ("version", Some(&s.revision.to_string()))])) { "State at #" (s.revision) }
                    @if let Some(n) = s.next { a #next rel="next" href=(step_link(&s.stream_id, n)) { "Event #" (n) " →" } }
                }
                p.summary #step-event {
                    "Event #" (s.revision) " of " (s.last_revision) ": " span.type { (s.event.event_type) }
                    ", recorded " (at(s.event.recorded_at)) ", by " (actor(&s.event)) "."
                }
                @if s.placeholders > 0 {
                    p.notice { (s.placeholders) " sealed personal fields are folded as their erasure placeholders." }
                }
                (changes_table(&s.changes))
                details {
                    summary { "The event's data" }
                    pre.data { (pretty(&s.event.data)) }
                }
                div.states {
                    section { h2 { "Before" } pre #before { (pretty(&s.before)) } }
                    section { h2 { "After" } pre #after { (pretty(&s.after)) } }
                }
            }
        }
    };
    Ok(html(
        status,
        layout(
            &format!("{stream_id} step by step"),
            Some(&signed.viewer()),
            body,
        ),
    ))
}
