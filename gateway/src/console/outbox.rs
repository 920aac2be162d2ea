//! `/admin/outbox`: the notifications' deliveries and failures (what `GET /notifications`
//! answers), and the confirm step of retrying a failed one (`POST
//! /api/v1/admin/outbox/{id}/retry`, through `crate::operations::retry_notification`),
//! offered unless the console is read-only or retention dropped the message's content.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::links::with_query;
use super::page::{at, html, layout, problem, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::notifications::{self, NotificationView};
use crate::operations::{self as ops, OPERATORS};
use crate::state::AppState;

const TITLE: &str = "Retry a notification";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    status: Option<String>,
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    to: Option<String>,
    offset: Option<i64>,
}

/// Whether the console offers to retry `m`: failed, its content still kept.
fn retryable(m: &NotificationView) -> bool {
    m.status == "failed" && m.to.is_some()
}

/// `GET /admin/outbox`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<OutboxQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let (q, result) = match q {
        Ok(Query(q)) => {
            let found = notifications::outbox(
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
    let writable = !state.config.console_read_only;
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
        (confirm::read_only_notice(&state))
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
        p.hint { "Failed messages used up their delivery attempts (NOTIFY_MAX_ATTEMPTS); pending ones are sent or retried by the notification worker. A failed message can be retried, for a fresh round of attempts, until retention drops its content." }
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
                        @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for m in &page.items {
                            tr.message id=(format!("message-{}", m.id)) data-status=(m.status) {
                                td { (m.created_at.format("%Y-%m-%d %H:%M:%S")) }
                                td { (m.to.as_deref().unwrap_or("(erased by retention)")) }
                                td { (m.subject) }
                                td.state { @if m.status == "failed" { strong.stalled { (m.status) } } @else { (m.status) } }
                                td.num { (m.attempts) }
                                td.error-text { (m.last_error.as_deref().unwrap_or("")) }
                                td { (m.sent_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()) }
                                @if writable {
                                    td.actions {
                                        @if retryable(m) {
                                            a.retry href=(format!("/admin/outbox/{}/retry", m.id)) { "Retry…" }
                                        }
                                    }
                                }
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

/// The confirm step: the message, and what a retry does.
fn question(signed: &Signed, m: &NotificationView, reason: &str) -> Markup {
    let what = html! {
        dl.notification {
            dt { "To" } dd { (m.to.as_deref().unwrap_or("(erased by retention)")) }
            dt { "Subject" } dd { (m.subject) }
            dt { "Template" } dd { code { (m.template) } }
            dt { "Created" } dd { (at(m.created_at)) }
            dt { "State" } dd #message-status { (m.status) }
            dt { "Attempts" } dd { (m.attempts) }
            dt { "Last error" } dd.error-text #message-error { (m.last_error.as_deref().unwrap_or("")) }
        }
        p.effect { "Gives the message a fresh round of delivery attempts (NOTIFY_MAX_ATTEMPTS), which the notification worker starts at once. If they all fail, it is failed again, with the new error." }
    };
    confirm::form(
        signed,
        &format!("/admin/outbox/{}/retry", m.id),
        "Retry the delivery",
        "/admin/outbox?status=failed",
        reason,
        what,
    )
}

/// `GET /admin/outbox/{id}/retry`: the confirm step.
pub async fn confirm_retry(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    ops::writable(&state)?;
    let m = notifications::find(&state, id).await?;
    Ok(html(
        StatusCode::OK,
        layout(TITLE, Some(&signed.viewer()), question(&signed, &m, "")),
    ))
}

/// `POST /admin/outbox/{id}/retry`: retries, then shows the message as the outbox has it
/// with the retry in; a refusal (sent already, content dropped, no reason) shows the
/// confirm step again under it.
pub async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(OPERATORS)?;
    let form = confirm::accepted(&state, &signed, body)?;
    let meta = signed.command_meta(&request, &ip, form.reason.trim());
    match ops::retry_notification(&state, id, meta, &form.reason).await {
        Ok((done, position)) => {
            // The retry is recorded whatever this says: a read model still behind only
            // means the page shows the message as it was, and says so.
            let caught_up = crate::consistency::reached(&state, "notifications", position)
                .await
                .is_ok();
            let m = notifications::find(&state, id).await?;
            let body = html! {
                p.ok #outcome role="status" data-outcome="retried" {
                    "Retried: round " (done.round) " of delivery attempts is open, and the message is "
                    strong #message-status { (m.status) } ". The notification worker sends it now."
                }
                @if !caught_up {
                    p.notice { "The outbox has not caught up with the retry yet: it shows the message pending shortly." }
                }
                p { a #back href="/admin/outbox" { "Back to the outbox" } }
            };
            Ok(html(
                StatusCode::OK,
                layout(TITLE, Some(&signed.viewer()), body),
            ))
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let now = notifications::find(&state, id).await;
            let body = html! {
                (problem(&e))
                @match &now {
                    Ok(m) if retryable(m) => (question(&signed, m, &form.reason)),
                    _ => p { a href="/admin/outbox" { "Back to the outbox" } },
                }
            };
            Ok(html(
                e.status(),
                layout(TITLE, Some(&signed.viewer()), body),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
