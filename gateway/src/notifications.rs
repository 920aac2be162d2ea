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
    /// The address; `null` once retention dropped the message's content
    /// (`RETENTION_OUTBOX_DAYS` after it was sent or failed for good).
    pub to: Option<String>,
    pub template: String,
    pub subject: String,
    /// The rendered text, a verification or reset link replaced by a note that it went to
    /// the recipient's mailbox only; `null` once retention dropped the message's content,
    /// or when this engine cannot render the message, which is shown rather than hidden.
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
        let body = match (&row.recipient, &row.payload) {
            (Some(recipient), Some(payload)) => {
                let outbox = OutboxRow {
                    notification_id: row.notification_id,
                    recipient: recipient.clone(),
                    template: row.template.clone(),
                    subject: row.subject.clone(),
                    payload: payload.clone(),
                };
                preview(&outbox, public_url).ok().map(|m| m.body)
            }
            _ => None,
        };
        NotificationView {
            id: row.notification_id,
            channel: row.channel,
            to: row.recipient,
            template: row.template,
            subject: row.subject,
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
    recipient: Option<String>,
    template: String,
    subject: String,
    payload: Option<Value>,
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
    caught_up(&state, &headers, "notifications").await?;
    Ok(Json(
        outbox(
            &state,
            q.to.as_deref(),
            q.status.as_deref(),
            q.limit,
            q.offset,
        )
        .await?,
    ))
}

/// One page of the outbox, newest first (to `to`, in `status`, when given), each message
/// rendered with its secret links withheld: what `GET /notifications` answers, and what
/// the console's outbox page shows.
pub async fn outbox(
    state: &AppState,
    to: Option<&str>,
    status: Option<&str>,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<NotificationPage, ApiError> {
    let (limit, offset) = ApiError::page(limit, offset)?;
    if let Some(s) = status {
        if !["pending", "sent", "failed"].contains(&s) {
            return Err(ApiError::invalid_field(
                "status",
                "one of pending, sent, failed",
            ));
        }
    }
    let filter = "($1::text is null or lower(recipient) = lower($1))
          and ($2::text is null or status = $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from notifications.notifications where {filter}"
    )))
    .bind(to)
    .bind(status)
    .fetch_one(&state.pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select notification_id, channel, recipient, template, subject, payload, status,
                attempts, last_error, created_at, sent_at
           from notifications.notifications where {filter}
          order by created_at desc, notification_id limit $3 offset $4"
    )))
    .bind(to)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let public_url = &state.config.notifier.public_url;
    Ok(NotificationPage {
        items: rows
            .into_iter()
            .map(|r| NotificationView::rendered(r, public_url))
            .collect(),
        total,
        limit,
        offset,
    })
}

/// The outbox's message `id`, rendered as [`outbox`] renders it, or a 404.
pub async fn find(state: &AppState, id: Uuid) -> Result<NotificationView, ApiError> {
    let row: Row = sqlx::query_as(
        "select notification_id, channel, recipient, template, subject, payload, status,
                attempts, last_error, created_at, sent_at
           from notifications.notifications where notification_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no notification {id} in the outbox")))?;
    Ok(NotificationView::rendered(
        row,
        &state.config.notifier.public_url,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recipient: Option<&str>, payload: Option<Value>) -> Row {
        Row {
            notification_id: Uuid::new_v4(),
            channel: "email".into(),
            recipient: recipient.map(str::to_owned),
            template: "order_shipped".into(),
            subject: "Your UltraMarket order 0A1B2C3D has shipped".into(),
            payload,
            status: "sent".into(),
            attempts: 1,
            last_error: None,
            created_at: Utc::now(),
            sent_at: Some(Utc::now()),
        }
    }

    /// A message whose content retention dropped still lists, as sent, with neither
    /// address nor body; one that keeps its content is rendered.
    #[test]
    fn a_message_past_retention_shows_without_address_or_body() {
        let dropped = NotificationView::rendered(row(None, None), "https://shop.example");
        assert_eq!((dropped.to, dropped.body), (None, None));
        assert_eq!(dropped.status, "sent");
        let payload = serde_json::json!({
            "order_id": Uuid::new_v4(), "tracking_number": "1Z999", "first_name": "Ada"
        });
        let kept = NotificationView::rendered(
            row(Some("ada@example.com"), Some(payload)),
            "https://shop.example",
        );
        assert_eq!(kept.to.as_deref(), Some("ada@example.com"));
        assert!(kept.body.is_some_and(|b| b.contains("1Z999")));
    }
}
