//! The `notifications` read model: the outbox that `commands::notify::Notifier` delivers.
//!
//! A row is derived from the event that causes a message (a verification or reset request,
//! a placed or shipped order, a low-stock alert, one row per staff member), its recipient
//! from the model's own copy of registrations, and its delivery state from the
//! `notification-<id>` stream the worker writes. Everything comes from events, so a rebuild
//! gives the same rows, sent ones included. No secret is stored: links are rendered from
//! `payload.token_id` at send time.

use async_trait::async_trait;
use commands::notify::Template;
use commands::store::RecordedEvent;
use domain::inventory::InventoryEvent;
use domain::notification::{NotificationEvent, NotificationId};
use domain::order::OrderEvent;
use domain::user::{Role, UserEvent};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::{decode, Projection, ProjectionError};

pub struct NotificationsProjection;

/// Who receives low-stock alerts.
const STAFF_ROLES: [Role; 2] = [Role::Staff, Role::Admin];

/// The first block of an id, enough for a person to tell orders apart in a subject.
fn short(id: Uuid) -> String {
    id.simple().to_string()[..8].to_uppercase()
}

struct NewNotification<'a> {
    recipient_key: &'a str,
    recipient: &'a str,
    user_id: Option<Uuid>,
    template: Template,
    subject: String,
    payload: Value,
}

async fn queue(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    n: NewNotification<'_>,
) -> Result<(), sqlx::Error> {
    let id = NotificationId::derive(event.id, n.recipient_key);
    sqlx::query(
        "insert into notifications (notification_id, source_event_id, channel, recipient, user_id,
             template, subject, payload, status, created_at, updated_at)
         values ($1, $2, 'email', $3, $4, $5, $6, $7, 'pending', $8, $8)
         on conflict (notification_id) do nothing",
    )
    .bind(id.as_uuid())
    .bind(event.id)
    .bind(n.recipient)
    .bind(n.user_id)
    .bind(n.template.as_str())
    .bind(n.subject)
    .bind(n.payload)
    .bind(event.recorded_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The e-mail and first name of `user_id`, if the model has seen it register.
async fn recipient(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as("select email, first_name from recipients where user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
}

async fn to_user(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    user_id: Uuid,
    template: Template,
    subject: String,
    mut payload: Value,
) -> Result<(), sqlx::Error> {
    // An order placed for an account this model never saw register has nobody to tell.
    let Some((email, first_name)) = recipient(tx, user_id).await? else {
        return Ok(());
    };
    payload["user_id"] = json!(user_id);
    payload["first_name"] = json!(first_name);
    queue(
        tx,
        event,
        NewNotification {
            recipient_key: "",
            recipient: &email,
            user_id: Some(user_id),
            template,
            subject,
            payload,
        },
    )
    .await
}

impl NotificationsProjection {
    async fn user(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(user_id) = event.stream_uuid() else {
            return Ok(());
        };
        let e = decode::<UserEvent>(event)?;
        match e {
            UserEvent::UserRegistered {
                email,
                first_name,
                role,
                ..
            } => {
                sqlx::query(
                    "insert into recipients (user_id, email, first_name, role) values ($1, $2, $3, $4)
                     on conflict (user_id) do nothing",
                )
                .bind(user_id)
                .bind(email.as_str())
                .bind(first_name)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?;
            }
            UserEvent::ProfileUpdated { first_name, .. } => {
                sqlx::query("update recipients set first_name = $2 where user_id = $1")
                    .bind(user_id)
                    .bind(first_name)
                    .execute(&mut *tx)
                    .await?;
            }
            UserEvent::RoleChanged { to, .. } => {
                sqlx::query("update recipients set role = $2 where user_id = $1")
                    .bind(user_id)
                    .bind(to.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            UserEvent::EmailVerificationRequested {
                token_id,
                expires_at,
                ..
            } => {
                let payload = json!({ "token_id": token_id, "expires_at": expires_at });
                to_user(
                    tx,
                    event,
                    user_id,
                    Template::VerifyEmail,
                    "Confirm your e-mail address".into(),
                    payload,
                )
                .await?;
            }
            UserEvent::PasswordResetRequested {
                token_id,
                expires_at,
                ..
            } => {
                let payload = json!({ "token_id": token_id, "expires_at": expires_at });
                to_user(
                    tx,
                    event,
                    user_id,
                    Template::PasswordReset,
                    "Reset your UltraMarket password".into(),
                    payload,
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn order(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if !matches!(event.event_type.as_str(), "OrderPlaced" | "OrderShipped") {
            return Ok(());
        }
        let Some(order_id) = event.stream_uuid() else {
            return Ok(());
        };
        let e = decode::<OrderEvent>(event)?;
        match e {
            OrderEvent::OrderPlaced {
                user_id,
                lines,
                totals,
                ..
            } => {
                let user_id = user_id.as_uuid();
                sqlx::query(
                    "insert into order_recipients (order_id, user_id) values ($1, $2)
                     on conflict (order_id) do nothing",
                )
                .bind(order_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                let payload = json!({
                    "order_id": order_id,
                    "lines": lines.iter().map(|l| json!({
                        "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price,
                    })).collect::<Vec<_>>(),
                    "total": totals.total,
                });
                to_user(
                    tx,
                    event,
                    user_id,
                    Template::OrderConfirmation,
                    format!("Your UltraMarket order {} is confirmed", short(order_id)),
                    payload,
                )
                .await?;
            }
            OrderEvent::OrderShipped {
                tracking_number, ..
            } => {
                let user: Option<Uuid> =
                    sqlx::query_scalar("select user_id from order_recipients where order_id = $1")
                        .bind(order_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(user_id) = user {
                    let payload =
                        json!({ "order_id": order_id, "tracking_number": tracking_number });
                    to_user(
                        tx,
                        event,
                        user_id,
                        Template::OrderShipped,
                        format!("Your UltraMarket order {} has shipped", short(order_id)),
                        payload,
                    )
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn inventory(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.event_type != "LowStockDetected" {
            return Ok(());
        }
        let e = decode::<InventoryEvent>(event)?;
        let InventoryEvent::LowStockDetected {
            sku,
            available,
            threshold,
        } = e
        else {
            return Ok(());
        };
        let roles: Vec<&str> = STAFF_ROLES.iter().map(Role::as_str).collect();
        // Ordered so a rebuild inserts the same rows in the same order.
        let staff: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
            "select user_id, email, first_name from recipients where role = any($1) order by user_id",
        )
        .bind(&roles)
        .fetch_all(&mut *tx)
        .await?;
        for (user_id, email, first_name) in staff {
            let key = user_id.to_string();
            let payload = json!({
                "sku": sku, "available": available, "threshold": threshold,
                "user_id": user_id, "first_name": first_name,
            });
            queue(
                tx,
                event,
                NewNotification {
                    recipient_key: &key,
                    recipient: &email,
                    user_id: Some(user_id),
                    template: Template::LowStock,
                    subject: format!("Low stock: {} ({available} left)", sku.as_str()),
                    payload,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn delivery(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(id) = event.stream_uuid() else {
            return Ok(());
        };
        let e = decode::<NotificationEvent>(event)?;
        let query = match e {
            // The lease keeps other workers off until it lapses.
            NotificationEvent::DeliveryStarted {
                attempt,
                lease_until,
                at,
            } => sqlx::query(
                "update notifications set attempts = $2, next_attempt_at = $3, updated_at = $4
                  where notification_id = $1 and status = 'pending'",
            )
            .bind(id)
            .bind(attempt as i32)
            .bind(lease_until)
            .bind(at),
            NotificationEvent::NotificationSent { attempt, at } => sqlx::query(
                "update notifications set status = 'sent', attempts = greatest(attempts, $2),
                     sent_at = $3, next_attempt_at = null, updated_at = $3
                  where notification_id = $1",
            )
            .bind(id)
            .bind(attempt as i32)
            .bind(at),
            // A late failure report never undoes a delivery another attempt made.
            NotificationEvent::NotificationFailed {
                attempt,
                error,
                retry_at,
                at,
            } => sqlx::query(
                "update notifications set
                     status = case when $4::timestamptz is null then 'failed' else 'pending' end,
                     attempts = greatest(attempts, $2), last_error = $3,
                     next_attempt_at = $4, updated_at = $5
                  where notification_id = $1 and status <> 'sent'",
            )
            .bind(id)
            .bind(attempt as i32)
            .bind(error)
            .bind(retry_at)
            .bind(at),
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }
}

#[async_trait]
impl Projection for NotificationsProjection {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn schema(&self) -> &'static str {
        "notifications"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(
            (event.category(), event.event_type.as_str()),
            ("user" | "notification", _)
                | ("order", "OrderPlaced" | "OrderShipped")
                | ("inventory", "LowStockDetected")
        )
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/notifications.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        match event.category() {
            "user" => self.user(tx, event).await,
            "order" => self.order(tx, event).await,
            "inventory" => self.inventory(tx, event).await,
            "notification" => self.delivery(tx, event).await,
            _ => Ok(()),
        }
    }
}
