//! `GET /api/v1/notifications?to=`: the outbox (staff), read from the `notifications`
//! read model, each message rendered as it was (or will be) sent, with its verification or
//! reset link withheld (`projections::notifications::preview`).
//!
//! The link is withheld from every reader, admins included: a staff member who could read
//! the admin's reset link here could ask for one and take the admin's account over. The
//! link reaches the recipient's mailbox only (SMTP, or the server's log without
//! `SMTP_URL`); this module has no key to sign one.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::user::Role;
use projections::notifications::{preview, OutboxRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

const READERS: &[Role] = &[Role::Staff, Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new().route("/notifications", get(list))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list), components(schemas(NotificationView, NotificationPage)))]
pub struct NotificationsApi;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    /// Only messages to this address.
    to: Option<String>,
    /// `pending`, `sent` or `failed`.
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// One message of the outbox, rendered as it was (or will be) sent, its verification or
/// reset link withheld.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// `email`.
    pub channel: String,
    pub to: String,
    pub template: String,
    pub subject: String,
    /// The rendered text, a verification or reset link replaced by a note that it went to
    /// the recipient's mailbox only; `null` when this engine cannot render the message,
    /// which is shown rather than hidden.
    pub body: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One page of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl NotificationView {
    /// `row` with its body rendered for links under `public_url`, any secret link withheld.
    fn rendered(row: Row, public_url: &str) -> Self {
        let outbox = OutboxRow {
            notification_id: row.notification_id,
            recipient: row.recipient,
            template: row.template,
            subject: row.subject,
            payload: row.payload,
        };
        let body = preview(&outbox, public_url).ok().map(|m| m.body);
        NotificationView {
            id: outbox.notification_id,
            channel: row.channel,
            to: outbox.recipient,
            template: outbox.template,
            subject: outbox.subject,
            body,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
        }
    }
}

/// A row of `notifications.notifications`.
#[derive(sqlx::FromRow)]
struct Row {
    notification_id: Uuid,
    channel: String,
    recipient: String,
    template: String,
    subject: String,
    payload: Value,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

/// The outbox, newest first, each message with its rendered body, links to verify an
/// address or reset a password withheld (they go to the recipient's mailbox only).
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    params(OutboxQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the outbox covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the outbox, newest first", body = NotificationPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`status`, `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<OutboxQuery>, QueryRejection>,
) -> Result<Json<NotificationPage>, ApiError> {
    user.require(READERS)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    if let Some(s) = q.status.as_deref() {
        if !["pending", "sent", "failed"].contains(&s) {
            return Err(ApiError::invalid_field(
                "status",
                "one of pending, sent, failed",
            ));
        }
    }
    caught_up(&state, &headers, "notifications").await?;
    let filter = "($1::text is null or lower(recipient) = lower($1))
          and ($2::text is null or status = $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from notifications.notifications where {filter}"
    )))
    .bind(&q.to)
    .bind(&q.status)
    .fetch_one(&state.pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select notification_id, channel, recipient, template, subject, payload, status,
                attempts, last_error, created_at, sent_at
           from notifications.notifications where {filter}
          order by created_at desc, notification_id limit $3 offset $4"
    )))
    .bind(&q.to)
    .bind(&q.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let public_url = &state.config.notifier.public_url;
    Ok(Json(NotificationPage {
        items: rows
            .into_iter()
            .map(|r| NotificationView::rendered(r, public_url))
            .collect(),
        total,
        limit,
        offset,
    }))
}
