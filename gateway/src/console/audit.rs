//! The audit trail's pages, for auditors and admins: `/admin/audit` (the trail searched by
//! actor, correlation id, event type, resource and time, paged on the server, with CSV and
//! JSON downloads of the whole result under the same filters), `/admin/audit/export`, and
//! `/admin/audit/correlations/{id}`, one request's timeline: the request as the trail
//! recorded it, every event it caused nested by causation, and the read models each event
//! has reached or not yet. Each renders what its `/api/v1/admin/audit` twin answers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::event_log::{actor, field, short};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::audit::{AuditPage, READERS};
use crate::audit_trail::{self as trail, ExportQuery, Timeline, TrailQuery};
use crate::error::ApiError;
use crate::state::AppState;

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// The console page of one correlation's timeline.
pub fn timeline_link(correlation_id: uuid::Uuid) -> String {
    format!("/admin/audit/correlations/{correlation_id}")
}

fn trail_table(page: &AuditPage) -> Markup {
    html! {
        table #trail {
            caption { "Audit trail, newest first" }
            thead { tr {
                th scope="col" { "Recorded (UTC)" } th scope="col" { "Type" }
                th scope="col" { "Stream" } th scope="col" { "Actor" }
                th scope="col" { "Correlation" } th scope="col" { "Client" }
            } }
            tbody {
                @for e in &page.items {
                    tr.entry {
                        td { (at(e.created_at)) }
                        td.type { (e.action) }
                        td { a.stream href=(stream_link(&e.stream_id)) { (e.stream_id) } " #" (e.stream_version) }
                        td { (e.role) @if let Some(u) = e.user_id { " " small.actor title=(u) { (short(u)) } } }
                        td {
                            @if let Some(c) = e.correlation_id {
                                a.correlation href=(timeline_link(c)) title="This request's whole trail" { (short(c)) }
                            } @else { "—" }
                        }
                        td { (e.ip_address.as_deref().unwrap_or("—"))
                            @if let Some(r) = &e.client_request_id { br; small { "X-Request-Id " (r) } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /admin/audit`
pub async fn search(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<TrailQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let (q, result) = match query(q) {
        Ok(q) => {
            let found = trail::search(&state.pool, &q).await;
            (q, found)
        }
        Err(e) => (TrailQuery::default(), Err(e)),
    };
    let (status, answer) = shown(result)?;
    let filters = q.pairs();
    let export = |format: &'static str| {
        let mut pairs = filters.clone();
        pairs.push(("format", Some(format)));
        with_query("/admin/audit/export", &pairs)
    };
    let body = html! {
        form.filters method="get" action="/admin/audit" role="search" {
            (field("actor", "Actor (user id)", q.actor.as_deref(), "text", "a user's id"))
            (field("correlation_id", "Correlation id", q.correlation_id.as_deref(), "text", "a request's id"))
            (field("type", "Event type", q.event_type.as_deref(), "text", "OrderPlaced"))
            (field("resource", "Resource (type or type:id)", q.resource.as_deref(), "text", "order"))
            (field("from", "From (UTC)", q.from.as_deref(), "text", "2026-12-08T10:30"))
            (field("to", "To (UTC)", q.to.as_deref(), "text", "2026-12-08T11:30"))
            button type="submit" { "Search" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) => {
                p.summary #trail-total {
                    (page.total) " entries"
                    @if page.total > 0 { ", " (page.offset + 1) " to " (page.offset + page.items.len() as i64) " shown" }
                    ". Download them all: "
                    a #export-csv href=(export("csv")) hx-boost="false" download { "CSV" } " · "
                    a #export-json href=(export("json")) hx-boost="false" download { "JSON" }
                }
                @if page.items.is_empty() {
                    p #empty { "No entry matches." }
                } @else {
                    (trail_table(page))
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 {
                        a #newer rel="prev" href=(paged(&filters, page.limit, (page.offset - page.limit).max(0))) { "← Newer" }
                    }
                    @if page.offset + page.limit < page.total {
                        a #older rel="next" href=(paged(&filters, page.limit, page.offset + page.limit)) { "Older →" }
                    }
                }
            }
        }
    };
    Ok(html(
        status,
        layout("Audit trail", Some(&signed.viewer()), body),
    ))
}

fn paged(filters: &[(&'static str, Option<&str>)], limit: i64, offset: i64) -> String {
    let (limit, offset) = (limit.to_string(), offset.to_string());
    let mut pairs = filters.to_vec();
    pairs.push(("limit", Some(&limit)));
    pairs.push(("offset", Some(&offset)));
    with_query("/admin/audit", &pairs)
}

/// `GET /admin/audit/export`: the download itself, or the page of its refusal.
pub async fn export(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<TrailQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    Ok(trail::export(&state.pool, &query(q)?).await?)
}

/// `GET /admin/audit/correlations/{correlation_id}/export`
pub async fn export_timeline(
    State(state): State<AppState>,
    signed: Signed,
    Path(correlation_id): Path<String>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let q = query(q)?;
    let t = trail::timeline(&*state.store, &state.pool, &correlation_id).await?;
    Ok(trail::timeline_file(&t, &q)?)
}

fn request_of(t: &Timeline) -> Markup {
    html! {
        section #request aria-labelledby="request-title" {
            h2 #request-title { "The request" }
            @match &t.request {
                None => p.notice { "The audit trail has not recorded this flow yet: its events are below as the log holds them." },
                Some(r) => dl.rebuild {
                    dt { "Correlation id" } dd { code #correlation { (t.correlation_id) } }
                    dt { "Who" } dd #request-actor { (r.role) @if let Some(a) = r.actor_id { " " code { (a) } } }
                    dt { "When" } dd { (at(r.at)) }
                    dt { "Client address" } dd { (r.ip_address.as_deref().unwrap_or("—")) }
                    dt { "User agent" } dd { (r.user_agent.as_deref().unwrap_or("—")) }
                    dt { "Client's request id" } dd { (r.client_request_id.as_deref().unwrap_or("—")) }
                    dt { "Command" } dd { (r.command_id.map_or("—".into(), |c| c.to_string())) }
                    dt { "Audited events" } dd { (r.audited_events) }
                }
            }
        }
    }
}

/// `GET /admin/audit/correlations/{correlation_id}`
pub async fn timeline(
    State(state): State<AppState>,
    signed: Signed,
    Path(correlation_id): Path<String>,
) -> Result<Response, PageError> {
    signed.require(READERS)?;
    let t = trail::timeline(&*state.store, &state.pool, &correlation_id).await?;
    let export = |format: &'static str| {
        with_query(
            &format!("/admin/audit/correlations/{}/export", t.correlation_id),
            &[("format", Some(format))],
        )
    };
    let body = html! {
        (request_of(&t))
        section #caused aria-labelledby="caused-title" {
            h2 #caused-title { "What it caused" }
            p.summary {
                (t.events.len()) " events, each under the event that caused it, with the read models it is for. "
                "Download this timeline: "
                a #export-csv href=(export("csv")) hx-boost="false" download { "CSV" } " · "
                a #export-json href=(export("json")) hx-boost="false" download { "JSON" }
                ". Its entries "
                a href=(with_query("/admin/audit", &[("correlation_id", Some(&correlation_id))])) { "in the audit trail" } "."
            }
            @if t.truncated {
                p.note { "The first " (trail::MAX_EVENTS) " events; the event log's correlation filter pages through them all." }
            }
            ol.timeline #timeline {
                @for item in &t.events {
                    @let e = &item.event;
                    li class=(format!("event depth-{}", item.depth.min(6))) id=(format!("event-{}", e.id)) data-type=(e.event_type) {
                        p.what {
                            span.type { (e.event_type) } " on "
                            a.stream href=(stream_link(&e.stream_id)) { (e.stream_id) } " #" (e.revision)
                            " · " (at(e.recorded_at)) " · " (actor(e))
                            " · " a.step href=(format!("{}/steps/{}", stream_link(&e.stream_id), e.revision)) { "what it changed" }
                        }
                        @if let Some(cause) = item.caused_by {
                            p.cause { "Caused by " a href=(format!("#event-{cause}")) { (short(cause)) } }
                        }
                        @if item.read_models.is_empty() {
                            p.muted { "No read model wants it." }
                        } @else {
                            ul.read-models aria-label="Read models" {
                                @for m in &item.read_models {
                                    @if m.reached {
                                        li.reached data-read-model=(m.name) { (m.name) ": reached" }
                                    } @else {
                                        li.pending data-read-model=(m.name) { (m.name) ": not yet" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html(
        StatusCode::OK,
        layout(
            &format!("Trail of {}", short(t.correlation_id)),
            Some(&signed.viewer()),
            body,
        ),
    ))
}
