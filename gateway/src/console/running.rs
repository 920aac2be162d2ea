//! How the engine runs: `/admin/health` (what `/health/detailed` answers: PostgreSQL, the
//! store, NATS, every follower of `$all`, the process's tasks), `/admin/consumers` (the
//! JetStream consumers, pending and redelivered) and `/admin/outbox` (the notifications'
//! deliveries and failures). Each renders what its JSON twin answers.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use maud::{html, Markup};
use serde::Deserialize;

use super::links::with_query;
use super::page::{html, layout, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::health::{Check, CheckStatus};
use crate::operations::{self as ops, OPERATORS};
use crate::state::AppState;

fn check(name: &str, c: &Check) -> Markup {
    let (word, class) = match c.status {
        CheckStatus::Up => ("up", "ok"),
        CheckStatus::Down => ("down", "stalled"),
        CheckStatus::NotConfigured => ("not configured", "muted"),
    };
    html! {
        tr.check data-name=(name) data-status=(word) {
            th scope="row" { (name) }
            td { strong class=(class) { (word) } }
            td.num { (c.latency_ms.map_or("—".into(), |ms| format!("{ms:.1} ms"))) }
            td.error-text { (c.error.as_deref().unwrap_or("")) }
        }
    }
}

/// `GET /admin/health`
pub async fn health(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let (code, Json(r)) = crate::health::detailed(State(state.clone())).await;
    let c = &r.components;
    let body = html! {
        p.summary #health-status data-status=(r.status) {
            "Status " strong { (r.status) } " (HTTP " (code.as_u16()) "). This process runs as "
            code { (r.role) } ", up for " (r.uptime_seconds) " s. "
            a href="/admin/health" { "Check again" }
        }
        table #checks {
            caption { "Dependencies, each checked within 2 s" }
            thead { tr { th scope="col" { "Dependency" } th scope="col" { "State" } th scope="col" { "Answered in" } th scope="col" { "Error" } } }
            tbody {
                (check("PostgreSQL", &c.postgres))
                (check(&format!("Event store ({})", c.event_store.kind), &c.event_store.check))
                (check("NATS", &c.nats))
                (check("Checkpoints", &c.projections.check))
            }
        }
        p { "Store head " code { (c.event_store.head.as_deref().unwrap_or("unknown")) } ". Payments: " (c.payments.provider) "." }
        table #followers {
            caption { "Every follower of $all" }
            thead { tr { th scope="col" { "Kind" } th scope="col" { "Name" } th scope="col" { "Position" } th scope="col" { "Caught up" } th scope="col" { "Moved" } } }
            tbody {
                @for f in &c.projections.checkpoints {
                    tr {
                        td { (f.kind) } td { (f.name) } td { code { (f.position) } }
                        td { @if f.caught_up { span.ok { "yes" } } @else { "no" } }
                        td { (f.updated_at.format("%Y-%m-%d %H:%M:%S")) }
                    }
                }
            }
        }
        h2 { "Tasks of this process" }
        ul #tasks {
            @for t in &r.tasks {
                li { (t.name) @if let Some(l) = &t.lease { " — lease " (l.state) } }
            }
        }
    };
    Ok(html(
        StatusCode::OK,
        layout("Health", Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/consumers`
pub async fn consumers(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let (status, answer) = shown(ops::consumers(&state).await)?;
    let body = html! {
        @match &answer {
            Err(refusal) => (refusal),
            Ok(v) if !v.configured => p #not-configured { "NATS_URL is not set: the read models follow the store in process, and there is no JetStream consumer." },
            Ok(v) if !v.stream_exists => p #no-stream { "The stream " code { (v.stream) } " does not exist yet: the relay creates it." },
            Ok(v) => {
                table #consumers {
                    caption { "Consumers of the stream " (v.stream) ", one per read model" }
                    thead { tr {
                        th scope="col" { "Consumer" } th scope="col" { "Pending" }
                        th scope="col" { "Unacknowledged" } th scope="col" { "Redelivered" }
                        th scope="col" { "Waiting pulls" } th scope="col" { "Delivered (stream seq)" }
                        th scope="col" { "Acknowledged up to" }
                    } }
                    tbody {
                        @for c in &v.items {
                            tr.consumer data-name=(c.name) {
                                th scope="row" { (c.name) }
                                td.num.pending { (c.pending) }
                                td.num { (c.ack_pending) }
                                td.num.redelivered { (c.redelivered) }
                                td.num { (c.waiting) }
                                td.num { (c.delivered_stream_sequence) }
                                td.num { (c.ack_floor_stream_sequence) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html(
        status,
        layout("JetStream consumers", Some(&signed.viewer()), body),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    status: Option<String>,
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    to: Option<String>,
    offset: Option<i64>,
}

/// `GET /admin/outbox`
pub async fn outbox(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<OutboxQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let (q, result) = match q {
        Ok(Query(q)) => {
            let found = crate::notifications::outbox(
                &state,
                q.to.as_deref(),
                q.status.as_deref(),
                Some(20),
                q.offset,
            )
            .await;
            (q, found)
        }
        Err(e) => (
            OutboxQuery::default(),
            Err(ApiError::bad_request("invalid_query", e.body_text())),
        ),
    };
    let (status, answer) = shown(result)?;
    let link = |offset: i64| {
        with_query(
            "/admin/outbox",
            &[
                ("status", q.status.as_deref()),
                ("to", q.to.as_deref()),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        form.filters method="get" action="/admin/outbox" role="search" {
            div.field {
                label for="status" { "State" }
                select #status name="status" {
                    option value="" { "Any" }
                    @for s in ["pending", "sent", "failed"] {
                        option value=(s) selected[q.status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            div.field {
                label for="to" { "Recipient" }
                input #to name="to" type="email" value=[q.to.as_deref()] placeholder="ann@example.com";
            }
            button type="submit" { "Show" }
        }
        p.hint { "Failed messages used up their delivery attempts (NOTIFY_MAX_ATTEMPTS); pending ones are sent or retried by the notification worker." }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No message matches." },
            Ok(page) => {
                table #outbox {
                    caption { (page.total) " messages, newest first" }
                    thead { tr {
                        th scope="col" { "Created" } th scope="col" { "To" } th scope="col" { "Subject" }
                        th scope="col" { "State" } th scope="col" { "Attempts" } th scope="col" { "Last error" }
                        th scope="col" { "Sent" }
                    } }
                    tbody {
                        @for m in &page.items {
                            tr.message data-status=(m.status) {
                                td { (m.created_at.format("%Y-%m-%d %H:%M:%S")) }
                                td { (m.to.as_deref().unwrap_or("(erased by retention)")) }
                                td { (m.subject) }
                                td { @if m.status == "failed" { strong.stalled { (m.status) } } @else { (m.status) } }
                                td.num { (m.attempts) }
                                td.error-text { (m.last_error.as_deref().unwrap_or("")) }
                                td { (m.sent_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 { a rel="prev" href=(link((page.offset - page.limit).max(0))) { "← Newer" } }
                    @if page.offset + page.limit < page.total { a rel="next" href=(link(page.offset + page.limit)) { "Older →" } }
                }
            }
        }
    };
    Ok(html(status, layout("Outbox", Some(&signed.viewer()), body)))
}
