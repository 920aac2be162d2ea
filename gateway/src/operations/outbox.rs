//! Retrying a notification whose delivery was given up: `NotificationRetried` on its
//! `notification-<id>` stream opens a fresh round of attempts, the `notifications` read
//! model makes its row pending again, and the notification worker sends it like a new one.
//! The staff member and their reason go into the event's metadata, so the audit trail says
//! who retried what, and why.
//!
//! Refused (409 `content_dropped`) once retention dropped the message's content: there is
//! nothing left to send. The rule is the read model's own (`Retention::keeps_outbox_content`
//! by the failure's time), so a retry racing the retention pass changes nothing there either.

use chrono::{DateTime, Utc};
use commands::handler::{CommandError, CommandHandler, CommandMeta};
use commands::store::Position;
use domain::notification::NotificationEvent;
use domain::notification::{Notification, NotificationCommand, NotificationError};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::guard::{self, writable};
use crate::error::ApiError;
use crate::state::AppState;

/// A retried notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxRetryView {
    pub id: Uuid,
    /// The round of attempts the retry opened: 2 for the first retry.
    pub round: u32,
    /// `pending`: the notification worker sends it as soon as the outbox shows it so.
    pub status: String,
}

/// What a retry needs to know of the outbox row.
#[derive(sqlx::FromRow)]
struct Row {
    status: String,
    content_kept: bool,
    updated_at: DateTime<Utc>,
}

/// Retries the notification `id` as `meta`'s actor, for `reason`: a 403 `read_only` when
/// the console is read-only, a 404 when the outbox has no such message, a 409
/// `content_dropped` once retention dropped its content, `already_sent` when it was
/// delivered, `not_failed` while its delivery is still pending or in flight.
pub async fn retry(
    state: &AppState,
    id: Uuid,
    mut meta: CommandMeta,
    reason: &str,
) -> Result<(OutboxRetryView, Option<Position>), ApiError> {
    writable(state)?;
    let reason = guard::reason(reason)?;
    let row: Row = sqlx::query_as(
        "select status, payload is not null as content_kept, updated_at
           from notifications.notifications where notification_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no notification {id} in the outbox")))?;
    let now = Utc::now();
    let kept = projections::retention::in_force().keeps_outbox_content(row.updated_at, now);
    if row.status == "failed" && !(row.content_kept && kept) {
        return Err(ApiError::conflict(
            "content_dropped",
            "retention dropped this message's content (its address and what its body is \
             rendered from): there is nothing left to send",
        ));
    }
    meta.reason = Some(reason.to_owned());
    let stream = CommandHandler::<Notification>::stream_id(id);
    let handled = state
        .handlers
        .notifications
        .handle(&stream, NotificationCommand::Retry { at: now }, meta)
        .await
        .map_err(refusal)?;
    let round = handled
        .events
        .iter()
        .find_map(|e| match e {
            NotificationEvent::NotificationRetried { round, .. } => Some(*round),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a retry appended no NotificationRetried"))?;
    tracing::info!(notification = %id, round, "notification retried by staff");
    Ok((
        OutboxRetryView {
            id,
            round,
            status: "pending".into(),
        },
        handled.position,
    ))
}

fn refusal(e: CommandError<NotificationError>) -> ApiError {
    match e {
        CommandError::Rejected(e @ NotificationError::AlreadySent) => {
            ApiError::conflict("already_sent", e.to_string())
        }
        CommandError::Rejected(e) => ApiError::conflict(
            "not_failed",
            format!("only a message whose delivery failed for good can be retried: {e}"),
        ),
        CommandError::Contended { .. } => ApiError::conflict(
            "conflict",
            "the notification worker kept changing this message; try again",
        ),
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}
