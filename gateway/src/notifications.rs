//! `GET /api/v1/notifications?to=`: the outbox (staff), read from the `notifications`
//! read model, each message rendered as it was (or will be) sent.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::user::Role;
use projections::notifications::{render, OutboxRow};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

const READERS: &[Role] = &[Role::Staff, Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new().route("/notifications", get(list))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list))]
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

/// The outbox, newest first, each message with its rendered body.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    params(OutboxQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the outbox covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{items, total, limit, offset}`; each item: id, channel, to, template, subject, body, status, attempts, last_error, created_at, sent_at", body = Object),
        (status = 400, description = "`invalid_query`: an unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`status`, `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<OutboxQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
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
    let total: i64 = sqlx::query_scalar(&format!(
        "select count(*) from notifications.notifications where {filter}"
    ))
    .bind(&q.to)
    .bind(&q.status)
    .fetch_one(&state.pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "select notification_id, channel, recipient, template, subject, payload, status,
                attempts, last_error, created_at, sent_at
           from notifications.notifications where {filter}
          order by created_at desc, notification_id limit $3 offset $4"
    ))
    .bind(&q.to)
    .bind(&q.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let tokens = crate::auth::email_tokens(&state);
    let public_url = &state.config.notifier.public_url;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let outbox = OutboxRow {
                notification_id: r.notification_id,
                recipient: r.recipient.clone(),
                template: r.template.clone(),
                subject: r.subject.clone(),
                payload: r.payload.clone(),
            };
            // A message the engine cannot render is shown without a body, not hidden.
            let body = render(&outbox, &tokens, public_url).ok().map(|m| m.body);
            json!({
                "id": r.notification_id,
                "channel": r.channel,
                "to": r.recipient,
                "template": r.template,
                "subject": r.subject,
                "body": body,
                "status": r.status,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "created_at": r.created_at,
                "sent_at": r.sent_at,
            })
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "total": total, "limit": limit, "offset": offset }),
    ))
}
