//! A notification's delivery columns, folded from its `notification-<id>` stream as the
//! notifier reports each attempt.

use chrono::{DateTime, Utc};
use domain::notification::NotificationEvent;
use uuid::Uuid;

use crate::retention::Retention;

/// A notification's delivery columns.
#[derive(sqlx::FromRow)]
pub(crate) struct Delivery {
    pub(crate) notification_id: Uuid,
    pub(crate) status: String,
    pub(crate) attempts: i32,
    pub(crate) last_error: Option<String>,
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl Delivery {
    /// Folds one event of the notification's stream in, as the worker reports it (or
    /// staff retry it, under `retention`).
    pub(crate) fn fold(&mut self, event: &NotificationEvent, retention: Retention) {
        match event {
            // The lease keeps other workers off until it lapses.
            NotificationEvent::DeliveryStarted {
                attempt,
                lease_until,
                at,
            } => {
                if self.status == "pending" {
                    self.attempts = *attempt as i32;
                    self.next_attempt_at = Some(*lease_until);
                    self.updated_at = *at;
                }
            }
            NotificationEvent::NotificationSent { attempt, at } => {
                self.status = "sent".into();
                self.attempts = self.attempts.max(*attempt as i32);
                self.sent_at = Some(*at);
                self.next_attempt_at = None;
                self.updated_at = *at;
            }
            // A late failure report never undoes a delivery another attempt made.
            NotificationEvent::NotificationFailed {
                attempt,
                error,
                retry_at,
                at,
            } => {
                if self.status != "sent" {
                    self.status = if retry_at.is_some() {
                        "pending"
                    } else {
                        "failed"
                    }
                    .into();
                    self.attempts = self.attempts.max(*attempt as i32);
                    self.last_error = Some(error.clone());
                    self.next_attempt_at = *retry_at;
                    self.updated_at = *at;
                }
            }
            // Staff retried a delivery given up: pending again and due now, its attempts
            // those of the new round. `last_error` stays: it says why the round before
            // failed until an attempt of this one reports. A retry made once retention had
            // dropped the content (the gateway refuses those, so only a race gets here)
            // changes nothing: there is nothing left to send, and deciding by the event's
            // own time keeps a rebuild equal to the live table.
            NotificationEvent::NotificationRetried { at, .. } => {
                if self.status == "failed" && retention.keeps_outbox_content(self.updated_at, *at) {
                    self.status = "pending".into();
                    self.attempts = 0;
                    self.next_attempt_at = None;
                    self.updated_at = *at;
                }
            }
        }
    }
}
