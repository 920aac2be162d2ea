//! `/admin/tail`: the newest events of `$all` as they arrive, for every reader of the event
//! log. The list polls its fragment (`/admin/tail/live`) every two seconds through htmx;
//! pausing is a link to the same page with `paused=1`, which renders the list without its
//! trigger, so nothing polls and no script is needed; resuming links back. The list is
//! what `GET /api/v1/admin/events` answers for the same filters.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::event_log::{actor, field};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::event_log::{self as log, EventPage, EventsQuery, READERS};
use crate::state::AppState;

/// How many of the newest events the tail shows.
const SHOWN: &str = "25";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailQuery {
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    category: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::views::blank_as_none",
        rename = "type"
    )]
    event_type: Option<String>,
    /// Anything but blank: paused.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    paused: Option<String>,
}

impl TailQuery {
    fn filters(&self) -> [(&'static str, Option<&str>); 2] {
        [
            ("category", self.category.as_deref()),
            ("type", self.event_type.as_deref()),
        ]
    }

    async fn newest(&self, app: &AppState) -> Result<EventPage, ApiError> {
        let q = EventsQuery {
            category: self.category.clone(),
            event_type: self.event_type.clone(),
            limit: Some(SHOWN.into()),
            ..EventsQuery::default()
        };
        log::events(&*app.store, &q).await
    }
}

fn query(q: Result<Query<TailQuery>, QueryRejection>) -> Result<TailQuery, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// The list; live, it carries the trigger that fetches its next version.
fn list(q: &TailQuery, page: &EventPage, live: bool) -> Markup {
    let rows = html! {
        @if page.items.is_empty() {
            p #empty { "No event yet." }
        } @else {
            table #tail-events {
                caption { (if live { "The newest events, refreshed every two seconds" } else { "The newest events when paused" }) }
                thead { tr {
                    th scope="col" { "Position" } th scope="col" { "Recorded (UTC)" }
                    th scope="col" { "Type" } th scope="col" { "Stream" } th scope="col" { "Actor" }
                } }
                tbody {
                    @for e in &page.items {
                        tr.event {
                            td { code { (e.position) } }
                            td { (at(e.recorded_at)) }
                            td.type { (e.event_type) }
                            td { a.stream href=(stream_link(&e.stream_id)) { (e.stream_id) } " #" (e.revision) }
                            td { (actor(e)) }
                        }
                    }
                }
            }
        }
    };
    html! {
        @if live {
            div #tail data-state="live" hx-get=(with_query("/admin/tail/live", &q.filters())) hx-trigger="every 2s" hx-swap="outerHTML" { (rows) }
        } @else {
            div #tail data-state="paused" { (rows) }
        }
    }
}

/// `GET /admin/tail`
pub async fn show(
    State(app): State<AppState>,
    signed: Signed,
    q: Result<Query<TailQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (q, result) = match query(q) {
        Ok(q) => {
            let found = q.newest(&app).await;
            (q, found)
        }
        Err(e) => (TailQuery::default(), Err(e)),
    };
    let (status, answer) = shown(result)?;
    let live = q.paused.is_none();
    let mut paused = q.filters().to_vec();
    paused.push(("paused", Some("1")));
    let body = html! {
        form.filters method="get" action="/admin/tail" role="search" {
            (field("category", "Category", q.category.as_deref(), "text", "order"))
            (field("type", "Event type", q.event_type.as_deref(), "text", "OrderPlaced"))
            button type="submit" { "Follow" }
        }
        p.buttons #tail-control {
            @if live {
                span.ok { "Live: new events appear as they are recorded." }
                a #pause href=(with_query("/admin/tail", &paused)) { "Pause" }
            } @else {
                span.notice { "Paused: the list stays as it is." }
                a #resume href=(with_query("/admin/tail", &q.filters())) { "Resume" }
            }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) => (list(&q, page, live)),
        }
    };
    Ok(html(
        status,
        layout("Live tail", Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/tail/live`: the list alone, for the page's polling.
pub async fn live(
    State(app): State<AppState>,
    signed: Signed,
    q: Result<Query<TailQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let q = query(q)?;
    let page = q.newest(&app).await?;
    Ok(html(
        axum::http::StatusCode::OK,
        list(&q, &page, q.paused.is_none()),
    ))
}
