//! How the engine runs: `/admin/health` (what `/health/detailed` answers: PostgreSQL, the
//! store, NATS, every follower of `$all`, the process's tasks) and `/admin/consumers` (the
//! JetStream consumers, pending and redelivered). Each renders what its JSON twin answers.
//! The outbox has a module of its own (`outbox`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use maud::{html, Markup};

use super::page::{html, layout, shown, PageError};
use super::session::Signed;
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
