//! The notifier: the process manager that delivers the outbox.
//!
//! One step ([`Notifier::try_next`]) takes the due rows (the read model's [`due`] query),
//! claims each through its `notification-<id>` stream (`StartDelivery`, appended with the
//! version it was loaded at, so two workers cannot both send it), renders the message, hands
//! it to the [`Transport`] and records `NotificationSent` or `NotificationFailed` with a
//! backoff. The read model learns the outcome from those events like any other, so a
//! rebuild keeps what was sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use commands::handler::{Actor, CommandError, CommandHandler, CommandMeta};
use commands::store::EventStore;
use domain::notification::{
    LinkTokens, Links, Notification, NotificationCommand, NotificationError, NotificationEvent,
    RenderError, Template,
};
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use super::read_model::{due, OutboxRow};
use super::transport::{LogTransport, Message, Smtp, Transport, TransportError};

/// The notifier's settings, flags with environment fallbacks (flatten into the binary's).
#[derive(Debug, Clone, clap::Args)]
pub struct NotifierSettings {
    /// Where people open links from e-mails (the storefront).
    #[arg(
        long,
        env = "PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,
    /// The SMTP server: `smtp://host:port` (a local relay), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS and AUTH) or `smtps://user:pass@host` (implicit TLS); unset, messages are
    /// written to the server's log, links included (development only).
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of e-mails.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "UltraMarket <no-reply@ultramarket.local>",
        global = true
    )]
    pub mail_from: String,
    /// Attempts at a message before it is marked failed.
    #[arg(long, env = "NOTIFY_MAX_ATTEMPTS", default_value_t = 5, global = true)]
    pub notify_max_attempts: u32,
    /// How often the outbox is polled, in milliseconds.
    #[arg(long, env = "NOTIFY_POLL_MS", default_value_t = 1000, global = true)]
    pub notify_poll_ms: u64,
}

impl NotifierSettings {
    /// The transport these settings name: SMTP when `SMTP_URL` is set, else the log.
    pub fn transport(&self) -> Result<Arc<dyn Transport>, TransportError> {
        Ok(
            match self.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
                Some(url) => Arc::new(Smtp::from_url(url, &self.mail_from)?),
                None => {
                    tracing::warn!(
                        "SMTP_URL is not set: e-mails, live verification and password reset links \
                     included, are written to this log. Fine on a developer's machine; set \
                     SMTP_URL wherever someone else can read the log"
                    );
                    Arc::new(LogTransport)
                }
            },
        )
    }
}

/// Renders `row` into the message its recipient receives, the one place a verification or
/// reset link is signed. Only the notifier calls it, right before the transport: the
/// message goes to the recipient's mailbox and nowhere else. `public_url` is where people
/// open links (the storefront); `tokens` signs the token a link carries.
pub fn render(
    row: &OutboxRow,
    tokens: &dyn LinkTokens,
    public_url: &str,
) -> Result<Message, RenderError> {
    rendered(row, public_url, Links::Signed(tokens))
}

/// `row` as anyone but its recipient may read it (the outbox API, staff and admins): the
/// message as sent, its verification or reset link withheld. Whatever the row holds (a
/// row of an older engine included), this cannot produce a link: it has no key to sign one.
pub fn preview(row: &OutboxRow, public_url: &str) -> Result<Message, RenderError> {
    rendered(row, public_url, Links::Withheld)
}

fn rendered(row: &OutboxRow, public_url: &str, links: Links<'_>) -> Result<Message, RenderError> {
    let template = Template::parse(&row.template)
        .ok_or_else(|| RenderError::UnknownTemplate(row.template.clone()))?;
    Ok(Message {
        to: row.recipient.clone(),
        subject: row.subject.clone(),
        body: template.body(&row.payload, public_url, links)?,
    })
}

/// How long a claim holds before another worker may try the message again.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);
/// Rows taken per step.
const BATCH: i64 = 50;

/// Waits 30 s after the first failure, doubling up to an hour.
pub fn backoff(attempt: u32) -> chrono::Duration {
    let seconds = 30i64.saturating_mul(1 << attempt.saturating_sub(1).min(7));
    chrono::Duration::seconds(seconds.min(3_600))
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Command(#[from] CommandError<NotificationError>),
}

/// What one step did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub sent: usize,
    pub failed: usize,
    /// Rows another worker holds, or already settled in the stream but not yet in the
    /// read model.
    pub skipped: usize,
}

impl Outcome {
    pub fn is_idle(&self) -> bool {
        self.sent + self.failed == 0
    }
}

/// Delivers the outbox.
pub struct Notifier {
    pool: PgPool,
    handler: CommandHandler<Notification>,
    tokens: Arc<dyn LinkTokens + Send + Sync>,
    transport: Arc<dyn Transport>,
    settings: NotifierSettings,
}

impl Notifier {
    /// A notifier whose links are signed by `tokens` (the gateway's
    /// `commands::accounts::email_tokens::EmailTokens`, keyed alike, so it opens them).
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        tokens: impl LinkTokens + Send + Sync + 'static,
        transport: Arc<dyn Transport>,
        settings: NotifierSettings,
    ) -> Self {
        Notifier {
            pool,
            handler: CommandHandler::new(store, 10_000),
            tokens: Arc::new(tokens),
            transport,
            settings,
        }
    }

    /// Delivers what is due now: one step of the loop.
    #[tracing::instrument(skip_all, err)]
    pub async fn try_next(&self) -> Result<Outcome, NotifyError> {
        let rows = due(&self.pool, BATCH).await?;
        let mut outcome = Outcome::default();
        for row in rows {
            match self.deliver(&row).await? {
                Some(true) => outcome.sent += 1,
                Some(false) => outcome.failed += 1,
                None => outcome.skipped += 1,
            }
        }
        Ok(outcome)
    }

    /// `Some(sent)` when this worker made an attempt, `None` when it had no claim.
    async fn deliver(&self, row: &OutboxRow) -> Result<Option<bool>, NotifyError> {
        let stream = CommandHandler::<Notification>::stream_id(row.notification_id);
        let now = Utc::now();
        let claim = NotificationCommand::StartDelivery {
            max_attempts: self.settings.notify_max_attempts.max(1),
            lease_until: now + LEASE,
            at: now,
        };
        let handled = match self.handler.handle(&stream, claim, meta(row, now)).await {
            Ok(h) => h,
            Err(CommandError::Rejected(e)) => {
                tracing::debug!(notification = %row.notification_id, reason = %e, "not claimed");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(attempt) = handled.events.iter().find_map(|e| match e {
            NotificationEvent::DeliveryStarted { attempt, .. } => Some(*attempt),
            _ => None,
        }) else {
            return Ok(None);
        };
        let result = match render(row, &*self.tokens, &self.settings.public_url) {
            Ok(message) => self.transport.send(&message).await.map_err(|e| e.0),
            Err(e) => Err(e.to_string()),
        };
        let at = Utc::now();
        let (command, sent) = match result {
            Ok(()) => (NotificationCommand::RecordSent { attempt, at }, true),
            Err(error) => {
                tracing::warn!(notification = %row.notification_id, attempt, %error, transport = self.transport.name(), "delivery failed");
                let retry_at =
                    (attempt < self.settings.notify_max_attempts).then(|| at + backoff(attempt));
                (
                    NotificationCommand::RecordFailure {
                        attempt,
                        error,
                        retry_at,
                        at,
                    },
                    false,
                )
            }
        };
        self.handler.handle(&stream, command, meta(row, at)).await?;
        Ok(Some(sent))
    }

    /// Steps until `stop` turns true, pausing when the outbox is empty. A failing step
    /// (the database away) is logged and retried after the pause, never the end of the
    /// task.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), NotifyError> {
        let pause = Duration::from_millis(self.settings.notify_poll_ms.max(10));
        tracing::info!(
            transport = self.transport.name(),
            "notification worker started"
        );
        loop {
            let idle = match self.try_next().await {
                Ok(outcome) => outcome.is_idle(),
                Err(e) => {
                    tracing::error!(error = %e, "notification step failed; retrying");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    () = tokio::time::sleep(pause) => {}
                }
            } else if *stop.borrow() {
                return Ok(());
            }
        }
    }
}

/// The worker's commands are the engine's own, correlated by the notification. Their ids
/// are fresh: a second claim after a lapsed lease must not pass for a retry of the first
/// (the store would recognise the event ids and append nothing).
fn meta(row: &OutboxRow, at: DateTime<Utc>) -> CommandMeta {
    let mut meta = CommandMeta::new(Uuid::new_v4(), row.notification_id, Actor::system(), at);
    meta.causation_id = row.notification_id;
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::id::UserId;
    use domain::user::{TokenId, TokenPurpose};

    struct Plain;

    impl LinkTokens for Plain {
        fn issue(&self, _: TokenPurpose, user: UserId, token_id: TokenId) -> String {
            format!("{}.{token_id}", user.as_uuid())
        }
    }

    #[test]
    fn rows_render_with_their_stored_subject() {
        let row = OutboxRow {
            notification_id: Uuid::new_v4(),
            recipient: "ann@example.com".into(),
            template: "verify_email".into(),
            subject: "Confirm".into(),
            payload: serde_json::json!({ "user_id": Uuid::new_v4(), "token_id": Uuid::new_v4() }),
        };
        let m = render(&row, &Plain, "https://shop.example/").unwrap();
        assert_eq!(
            (m.to.as_str(), m.subject.as_str()),
            ("ann@example.com", "Confirm")
        );
        assert!(domain::notification::link_of(&m.body).is_some());
        let row = OutboxRow {
            template: "nonsense".into(),
            ..row
        };
        assert!(matches!(
            render(&row, &Plain, "x"),
            Err(RenderError::UnknownTemplate(_))
        ));
    }

    #[test]
    fn previews_withhold_the_link_the_message_carries() {
        let row = OutboxRow {
            notification_id: Uuid::new_v4(),
            recipient: "ann@example.com".into(),
            template: "password_reset".into(),
            subject: "Reset".into(),
            payload: serde_json::json!({ "user_id": Uuid::new_v4(), "token_id": Uuid::new_v4() }),
        };
        let sent = render(&row, &Plain, "https://shop.example").unwrap();
        let shown = preview(&row, "https://shop.example").unwrap();
        let token = domain::notification::link_of(&sent.body)
            .and_then(domain::notification::token_of)
            .unwrap();
        assert!(!shown.body.contains(token), "{}", shown.body);
        assert!(shown.body.contains(domain::notification::WITHHELD_LINK));
        assert_eq!((shown.to, shown.subject), (sent.to, sent.subject));
    }

    #[test]
    fn without_smtp_url_mail_goes_to_the_log() {
        let settings = |smtp_url: Option<&str>| NotifierSettings {
            public_url: "https://shop.example".into(),
            smtp_url: smtp_url.map(Into::into),
            mail_from: "no-reply@shop.example".into(),
            notify_max_attempts: 1,
            notify_poll_ms: 10,
        };
        assert_eq!(settings(None).transport().unwrap().name(), "log");
        assert_eq!(settings(Some(" ")).transport().unwrap().name(), "log");
        let smtp = settings(Some("smtp://relay:25")).transport().unwrap();
        assert_eq!(smtp.name(), "smtp");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(3).num_seconds(), 120);
        assert_eq!(backoff(30).num_seconds(), 3_600);
    }
}
