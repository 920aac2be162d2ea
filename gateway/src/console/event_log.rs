//! The event log's pages: `/admin/streams` (search), `/admin/streams/{id}` (one stream's
//! events) and `/admin/events` (`$all`, filtered, paged both ways). Each renders the answer
//! of the same query as its `/api/v1/admin` twin; a query the API would refuse shows the
//! form again with the reason above it.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};

use super::links::{stream as stream_link, with_query};
use super::page::{html, layout, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::event_log::{self as log, EventView, EventsQuery, StreamQuery, StreamsQuery, READERS};
use crate::state::AppState;

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

pub fn field(id: &str, label: &str, value: Option<&str>, kind: &str, hint: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(id) type=(kind) value=[value] placeholder=(hint);
        }
    }
}

/// `GET /admin/streams`
pub async fn streams(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<StreamsQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (q, result) = match query(q) {
        Ok(q) => {
            let found = log::streams(&*state.store, &q).await;
            (q, found)
        }
        Err(e) => (StreamsQuery::default(), Err(e)),
    };
    let (status, answer) = shown(result)?;
    let body = html! {
        form.filters method="get" action="/admin/streams" role="search" {
            (field("category", "Category", q.category.as_deref(), "text", "order"))
            (field("id", "Stream id (* is any text)", q.id.as_deref(), "text", "order-*"))
            (field("active_since", "Active since (UTC)", q.active_since.as_deref(), "text", "2026-12-08T10:30"))
            button type="submit" { "Search" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No stream matches." },
            Ok(page) => {
                table #streams {
                    caption { "Streams in id order" }
                    thead { tr { th scope="col" { "Stream" } th scope="col" { "Category" } th scope="col" { "Events" } th scope="col" { "Last activity" } } }
                    tbody {
                        @for s in &page.items {
                            tr {
                                td { a.stream href=(stream_link(&s.stream_id)) { (s.stream_id) } }
                                td { (s.category) }
                                td.num { (s.revision + 1) }
                                td { time datetime=(s.updated_at.to_rfc3339()) { (s.updated_at.format("%Y-%m-%d %H:%M:%S")) } }
                            }
                        }
                    }
                }
                @if let Some(cursor) = &page.next_cursor {
                    nav.pager aria-label="Pages" {
                        a #next rel="next" href=(with_query("/admin/streams", &[
                            ("category", q.category.as_deref()), ("id", q.id.as_deref()),
                            ("active_since", q.active_since.as_deref()), ("cursor", Some(cursor)),
                        ])) { "Next streams →" }
                    }
                }
            }
        }
    };
    Ok(html(
        status,
        layout("Streams", Some(&signed.viewer()), body),
    ))
}

/// The cells of one event's metadata that lead elsewhere.
fn links_of(e: &EventView) -> Markup {
    html! {
        @if let Some(c) = e.correlation_id {
            a.correlation href=(with_query("/admin/events", &[("correlation_id", Some(&c.to_string()))])) title="Every event of this request or flow" { (short(c)) }
        } @else { "—" }
    }
}

pub fn short(id: uuid::Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

pub fn actor(e: &EventView) -> String {
    match (&e.actor_role, e.actor_id) {
        (Some(role), Some(id)) => format!("{role} {}", short(id)),
        (Some(role), None) => role.clone(),
        _ => "—".into(),
    }
}

/// `GET /admin/events`
pub async fn events(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (q, result) = match query(q) {
        Ok(q) => {
            let found = log::events(&*state.store, &q).await;
            (q, found)
        }
        Err(e) => (EventsQuery::default(), Err(e)),
    };
    let (status, answer) = shown(result)?;
    let filters = [
        ("category", q.category.as_deref()),
        ("type", q.event_type.as_deref()),
        ("from", q.from.as_deref()),
        ("to", q.to.as_deref()),
        ("correlation_id", q.correlation_id.as_deref()),
        ("causation_id", q.causation_id.as_deref()),
    ];
    let page_link = |cursor: (&'static str, &str)| {
        let mut pairs = filters.to_vec();
        pairs.push((cursor.0, Some(cursor.1)));
        with_query("/admin/events", &pairs)
    };
    let body = html! {
        form.filters method="get" action="/admin/events" role="search" {
            (field("category", "Category", q.category.as_deref(), "text", "order"))
            (field("type", "Event type", q.event_type.as_deref(), "text", "OrderPlaced"))
            (field("from", "From (UTC)", q.from.as_deref(), "text", "2026-12-08T10:30"))
            (field("to", "To (UTC)", q.to.as_deref(), "text", "2026-12-08T11:30"))
            (field("correlation_id", "Correlation id", q.correlation_id.as_deref(), "text", "a request's id"))
            (field("causation_id", "Causation id", q.causation_id.as_deref(), "text", "a command's or event's id"))
            button type="submit" { "Filter" }
        }
        @if let Some(c) = &q.correlation_id {
            p #filter-correlation { "Every event of correlation " code { (c) } ", newest first." }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) => {
                @if page.items.is_empty() {
                    p #empty { "No event matches." }
                } @else {
                    table #events {
                        caption { "Events, newest first" }
                        thead { tr {
                            th scope="col" { "Position" } th scope="col" { "Recorded (UTC)" }
                            th scope="col" { "Stream" } th scope="col" { "Rev" }
                            th scope="col" { "Type" } th scope="col" { "Actor" }
                            th scope="col" { "Correlation" }
                        } }
                        tbody {
                            @for e in &page.items {
                                tr.event {
                                    td { code { (e.position) } }
                                    td { (e.recorded_at.format("%Y-%m-%d %H:%M:%S")) }
                                    td { a.stream href=(stream_link(&e.stream_id)) { (e.stream_id) } }
                                    td.num { (e.revision) }
                                    td.type { (e.event_type) }
                                    td { (actor(e)) }
                                    td { (links_of(e)) }
                                }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if let Some(newer) = &page.newer {
                        a #newer rel="prev" href=(page_link(("after", newer))) { "← Newer" }
                    }
                    a #newest href=(with_query("/admin/events", &filters)) { "Newest" }
                    @if let Some(older) = &page.older {
                        a #older rel="next" href=(page_link(("before", older))) { "Older →" }
                    }
                }
            }
        }
    };
    Ok(html(status, layout("Events", Some(&signed.viewer()), body)))
}

pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `GET /admin/streams/{stream_id}`
pub async fn stream(
    State(state): State<AppState>,
    signed: Signed,
    Path(stream_id): Path<String>,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (_, result) = match query(q) {
        Ok(q) => {
            let found = log::stream(&*state.store, &stream_id, &q).await;
            (q, found)
        }
        Err(e) => (StreamQuery::default(), Err(e)),
    };
    let (status, answer) = shown(result)?;
    let here = stream_link(&stream_id);
    let body = html! {
        @match &answer {
            Err(refusal) => (refusal),
            Ok(s) => {
                p.summary { "Category " code { (s.category) } ", " (s.revision + 1) " events." }
                @for e in &s.items {
                    article.event id=(format!("rev-{}", e.revision)) {
                        h2 { "#" (e.revision) " " span.type { (e.event_type) } }
                        dl {
                            dt { "Schema version" } dd { (e.schema_version) }
                            dt { "Position" } dd { code { (e.position) } }
                            dt { "Recorded" } dd { (e.recorded_at.to_rfc3339()) }
                            @if let Some(at) = e.occurred_at { dt { "Occurred" } dd { (at.to_rfc3339()) } }
                            dt { "Actor" } dd { (actor(e)) }
                            dt { "Correlation" } dd {
                                @if let Some(c) = e.correlation_id {
                                    a.correlation href=(with_query("/admin/events", &[("correlation_id", Some(&c.to_string()))])) { (c) }
                                } @else { "—" }
                            }
                            dt { "Causation" } dd {
                                @if let Some(c) = e.causation_id {
                                    a.causation href=(with_query("/admin/events", &[("causation_id", Some(&c.to_string()))])) { (c) }
                                } @else { "—" }
                            }
                            dt { "Caused" } dd {
                                a.caused href=(with_query("/admin/events", &[("causation_id", Some(&e.id.to_string()))])) { "events caused by " (short(e.id)) }
                            }
                            dt { "State" } dd {
                                a.state href=(with_query("/admin/state", &[("stream", Some(&e.stream_id)), ("version", Some(&e.revision.to_string()))])) { "after this event" }
                                " · "
                                a.step href=(format!("{}/steps/{}", stream_link(&e.stream_id), e.revision)) { "what it changed" }
                            }
                        }
                        details open {
                            summary { "Data" }
                            pre.data { (pretty(&e.data)) }
                        }
                        details {
                            summary { "Metadata" }
                            pre.metadata { (pretty(&e.metadata)) }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if let Some(prev) = s.previous_from {
                        a rel="prev" href=(with_query(&here, &[("from", Some(&prev.to_string()))])) { "← Earlier events" }
                    }
                    @if let Some(next) = s.next_from {
                        a #later rel="next" href=(with_query(&here, &[("from", Some(&next.to_string()))])) { "Later events →" }
                    }
                }
            }
        }
    };
    Ok(html(
        status,
        layout(&stream_id, Some(&signed.viewer()), body),
    ))
}
