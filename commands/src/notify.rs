//! The notification worker: delivers the `notifications` read model's outbox, and the
//! e-mail tokens its verification and reset links carry.
//!
//! The outbox rows are derived from events (see `projections::notifications`); this module
//! only moves them along. One step ([`Notifier::try_next`]) takes the due rows, claims
//! each through its `notification-<id>` stream (`StartDelivery`, appended with the version
//! it was loaded at, so two workers cannot both send it), renders the message, hands it to
//! the [`Transport`] and records `NotificationSent` or `NotificationFailed` with a backoff.
//! The read model learns the outcome from those events like any other, so a rebuild keeps
//! what was sent.
//!
//! Tokens: what a user receives is `base64url(user id ‖ token id ‖ HMAC-SHA256(secret,
//! purpose ‖ user id ‖ token id)[..16])`. The user's stream records only the token id and
//! its expiry; the gateway checks the MAC before it sends `ConfirmEmail` or
//! `ResetPassword`, and the worker computes the same token again when it renders a link,
//! so no secret is ever stored, in the log or in a read model.
//!
//! Transport: without `SMTP_URL` a message is delivered to the outbox alone: it is logged,
//! marked sent, and staff read it through the outbox. With `SMTP_URL` (`smtp://host:port`)
//! it goes to that relay over plain SMTP (no TLS, no authentication: a local relay such as
//! Postfix or Mailpit, which does the rest).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::id::UserId;
use domain::money::Money;
use domain::notification::{Notification, NotificationCommand, NotificationError};
use domain::user::{TokenId, TokenPurpose};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use uuid::Uuid;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::store::EventStore;

/// What a notification says; the read model names it, the worker renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    VerifyEmail,
    PasswordReset,
    OrderConfirmation,
    OrderShipped,
    LowStock,
}

impl Template {
    pub const ALL: [Template; 5] = [
        Template::VerifyEmail,
        Template::PasswordReset,
        Template::OrderConfirmation,
        Template::OrderShipped,
        Template::LowStock,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Template::VerifyEmail => "verify_email",
            Template::PasswordReset => "password_reset",
            Template::OrderConfirmation => "order_confirmation",
            Template::OrderShipped => "order_shipped",
            Template::LowStock => "low_stock",
        }
    }

    pub fn parse(s: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

/// Bytes of the MAC kept in a token: 128 bits, beyond guessing within a token's lifetime.
const TAG_LEN: usize = 16;
const TOKEN_LEN: usize = 16 + 16 + TAG_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
}

/// Issues and opens the tokens of verification and reset links.
#[derive(Clone)]
pub struct EmailTokens {
    secret: Arc<[u8]>,
}

impl std::fmt::Debug for EmailTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmailTokens(***)")
    }
}

impl EmailTokens {
    /// Tokens keyed by `secret` (the engine uses `JWT_SECRET`; the purpose prefix inside
    /// the MAC keeps the two uses apart).
    pub fn new(secret: &[u8]) -> Self {
        EmailTokens {
            secret: secret.into(),
        }
    }

    fn tag(&self, purpose: TokenPurpose, user: Uuid, token: Uuid) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"ultramarket-email-token:v1:");
        mac.update(purpose.as_str().as_bytes());
        mac.update(user.as_bytes());
        mac.update(token.as_bytes());
        mac
    }

    /// The token the user receives for `token_id`.
    pub fn issue(&self, purpose: TokenPurpose, user: UserId, token_id: TokenId) -> String {
        let (user, token) = (user.as_uuid(), token_id.as_uuid());
        let tag = self.tag(purpose, user, token).finalize().into_bytes();
        let mut raw = Vec::with_capacity(TOKEN_LEN);
        raw.extend_from_slice(user.as_bytes());
        raw.extend_from_slice(token.as_bytes());
        raw.extend_from_slice(&tag[..TAG_LEN]);
        base64url_encode(&raw)
    }

    /// The user and token id inside `token`, once its MAC for `purpose` checks out.
    pub fn open(
        &self,
        purpose: TokenPurpose,
        token: &str,
    ) -> Result<(UserId, TokenId), TokenError> {
        let raw = base64url_decode(token.trim()).ok_or(TokenError::Malformed)?;
        if raw.len() != TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let user = Uuid::from_slice(&raw[..16]).map_err(|_| TokenError::Malformed)?;
        let id = Uuid::from_slice(&raw[16..32]).map_err(|_| TokenError::Malformed)?;
        // `verify_truncated_left` compares in constant time.
        self.tag(purpose, user, id)
            .verify_truncated_left(&raw[32..])
            .map_err(|_| TokenError::BadSignature)?;
        Ok((UserId::new(user), TokenId::new(id)))
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5): safe in a URL's query without escaping.
fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = B64.iter().position(|b| b == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Rendering

/// One message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// An outbox row as the worker reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub notification_id: Uuid,
    pub recipient: String,
    pub template: String,
    pub subject: String,
    pub payload: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("unknown template {0:?}")]
    UnknownTemplate(String),
    #[error("payload of {template}: {reason}")]
    Payload {
        template: &'static str,
        reason: String,
    },
}

/// The verification or reset link inside a rendered message: what a test, or a person
/// reading the outbox, follows.
pub fn link_of(body: &str) -> Option<&str> {
    body.split_whitespace().find(|w| w.contains("?token="))
}

/// The token inside a link.
pub fn token_of(link: &str) -> Option<&str> {
    link.split_once("?token=").map(|(_, t)| t)
}

/// Renders `row` into a message. `public_url` is where people open links (the storefront).
pub fn render(
    row: &OutboxRow,
    tokens: &EmailTokens,
    public_url: &str,
) -> Result<Message, RenderError> {
    let template = Template::parse(&row.template)
        .ok_or_else(|| RenderError::UnknownTemplate(row.template.clone()))?;
    let bad = |reason: &str| RenderError::Payload {
        template: template.as_str(),
        reason: reason.to_owned(),
    };
    let p = &row.payload;
    let text = |key: &str| p.get(key).and_then(Value::as_str);
    let uuid = |key: &str| text(key).and_then(|s| Uuid::parse_str(s).ok());
    let base = public_url.trim_end_matches('/');
    let greeting = match text("first_name") {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    };
    let link = |purpose: TokenPurpose, path: &str| -> Result<String, RenderError> {
        let user = uuid("user_id").ok_or_else(|| bad("no user_id"))?;
        let token_id = uuid("token_id").ok_or_else(|| bad("no token_id"))?;
        let token = tokens.issue(purpose, UserId::new(user), TokenId::new(token_id));
        Ok(format!("{base}/{path}?token={token}"))
    };
    let expires = text("expires_at").unwrap_or("soon");
    let body = match template {
        Template::VerifyEmail => format!(
            "{greeting}\n\nPlease confirm your e-mail address by opening this link:\n\n{}\n\n\
             The link works once and expires at {expires}. If you did not create an \
             UltraMarket account, ignore this message.\n",
            link(TokenPurpose::VerifyEmail, "verify-email")?
        ),
        Template::PasswordReset => format!(
            "{greeting}\n\nSomeone asked to reset the password of your UltraMarket account. \
             To choose a new one, open this link:\n\n{}\n\n\
             The link works once and expires at {expires}. If it was not you, ignore this \
             message: your password stays as it is.\n",
            link(TokenPurpose::ResetPassword, "reset-password")?
        ),
        Template::OrderConfirmation => {
            let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
            let money = |v: Option<&Value>| {
                v.and_then(|v| serde_json::from_value::<Money>(v.clone()).ok())
                    .map(|m| m.to_string())
                    .unwrap_or_default()
            };
            let lines: String = p
                .get("lines")
                .and_then(Value::as_array)
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| {
                            format!(
                                "  {} x {} at {}\n",
                                l.get("quantity").and_then(Value::as_u64).unwrap_or(0),
                                l.get("sku").and_then(Value::as_str).unwrap_or("?"),
                                money(l.get("unit_price"))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{greeting}\n\nThank you for your order {order}.\n\n{lines}\nTotal: {}\n\n\
                 Follow it at {base}/orders/{order}\n",
                money(p.get("total"))
            )
        }
        Template::OrderShipped => {
            let order = text("order_id").ok_or_else(|| bad("no order_id"))?;
            let tracking = match text("tracking_number") {
                Some(t) => format!("Tracking number: {t}\n\n"),
                None => String::new(),
            };
            format!(
                "{greeting}\n\nYour order {order} has shipped.\n\n{tracking}\
                 Follow it at {base}/orders/{order}\n"
            )
        }
        Template::LowStock => format!(
            "{greeting}\n\nStock of {} is low: {} available (threshold {}).\n",
            text("sku").ok_or_else(|| bad("no sku"))?,
            p.get("available").and_then(Value::as_i64).unwrap_or(0),
            p.get("threshold").and_then(Value::as_u64).unwrap_or(0),
        ),
    };
    Ok(Message {
        to: row.recipient.clone(),
        subject: row.subject.clone(),
        body,
    })
}

// ---------------------------------------------------------------------------------------
// Transports

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Where messages leave the engine.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn send(&self, message: &Message) -> Result<(), TransportError>;
}

/// No mail server: the outbox is the delivery, and the log says what was delivered.
pub struct OutboxOnly;

#[async_trait]
impl Transport for OutboxOnly {
    fn name(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, message: &Message) -> Result<(), TransportError> {
        // The body carries a live token: it stays out of the log.
        tracing::info!(to = %message.to, subject = %message.subject, "notification delivered to the outbox");
        Ok(())
    }
}

/// Plain SMTP to a relay (`smtp://host:port`, port 25 by default).
pub struct Smtp {
    host: String,
    port: u16,
    from: String,
    timeout: Duration,
}

impl Smtp {
    pub fn from_url(url: &str, from: &str) -> Result<Self, TransportError> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| {
            TransportError(format!("SMTP_URL must be smtp://host:port, not {url:?}"))
        })?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(TransportError(
                "SMTP_URL: authentication is not supported; point it at a local relay".into(),
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse()
                    .map_err(|_| TransportError(format!("SMTP_URL: bad port {p:?}")))?,
            ),
            None => (authority.to_owned(), 25),
        };
        if host.is_empty() {
            return Err(TransportError("SMTP_URL names no host".into()));
        }
        Ok(Smtp {
            host,
            port,
            from: from.to_owned(),
            timeout: Duration::from_secs(30),
        })
    }

    async fn conversation(&self, message: &Message) -> Result<(), TransportError> {
        let io =
            |e: std::io::Error| TransportError(format!("smtp {}:{}: {e}", self.host, self.port));
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(io)?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        async fn reply(
            read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
            want: char,
        ) -> Result<(), TransportError> {
            let last = loop {
                let mut line = String::new();
                let n = read
                    .read_line(&mut line)
                    .await
                    .map_err(|e| TransportError(format!("smtp: {e}")))?;
                if n == 0 {
                    return Err(TransportError(
                        "smtp: the server closed the connection".into(),
                    ));
                }
                // "250-..." continues a multi-line reply; "250 ..." ends it.
                if line.as_bytes().get(3) != Some(&b'-') {
                    break line.trim_end().to_owned();
                }
            };
            if last.starts_with(want) {
                Ok(())
            } else {
                Err(TransportError(format!("smtp: {last}")))
            }
        }
        let address = |s: &str| {
            let s = s.trim();
            match (s.rfind('<'), s.rfind('>')) {
                (Some(a), Some(b)) if a < b => s[a + 1..b].to_owned(),
                _ => s.to_owned(),
            }
        };
        // A recipient or subject with a line break would inject SMTP commands or headers.
        if [&message.to, &message.subject, &self.from]
            .iter()
            .any(|s| s.contains(['\r', '\n']))
        {
            return Err(TransportError("a header contains a line break".into()));
        }
        reply(&mut read, '2').await?;
        let steps: [(String, char); 4] = [
            ("EHLO ultramarket\r\n".into(), '2'),
            (format!("MAIL FROM:<{}>\r\n", address(&self.from)), '2'),
            (format!("RCPT TO:<{}>\r\n", address(&message.to)), '2'),
            ("DATA\r\n".into(), '3'),
        ];
        for (command, want) in steps {
            write.write_all(command.as_bytes()).await.map_err(io)?;
            reply(&mut read, want).await?;
        }
        // Dot-stuffing: a body line starting with "." must not end the message early.
        let body: String = message
            .body
            .lines()
            .map(|l| {
                if l.starts_with('.') {
                    format!(".{l}\r\n")
                } else {
                    format!("{l}\r\n")
                }
            })
            .collect();
        let data = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}.\r\n",
            self.from,
            message.to,
            message.subject,
            Utc::now().to_rfc2822(),
        );
        write.write_all(data.as_bytes()).await.map_err(io)?;
        reply(&mut read, '2').await?;
        let _ = write.write_all(b"QUIT\r\n").await;
        Ok(())
    }
}

#[async_trait]
impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Message) -> Result<(), TransportError> {
        tokio::time::timeout(self.timeout, self.conversation(message))
            .await
            .map_err(|_| TransportError(format!("smtp: no answer within {:?}", self.timeout)))?
    }
}

// ---------------------------------------------------------------------------------------
// The worker

/// The worker's settings, flags with environment fallbacks (flatten into the binary's).
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
    /// An SMTP relay (`smtp://host:port`); unset, messages are delivered to the outbox only.
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
    /// The transport these settings name.
    pub fn transport(&self) -> Result<Arc<dyn Transport>, TransportError> {
        Ok(match &self.smtp_url {
            Some(url) => Arc::new(Smtp::from_url(url, &self.mail_from)?),
            None => Arc::new(OutboxOnly),
        })
    }
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
    tokens: EmailTokens,
    transport: Arc<dyn Transport>,
    settings: NotifierSettings,
}

impl Notifier {
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        tokens: EmailTokens,
        transport: Arc<dyn Transport>,
        settings: NotifierSettings,
    ) -> Self {
        Notifier {
            pool,
            handler: CommandHandler::new(store, 10_000),
            tokens,
            transport,
            settings,
        }
    }

    /// Delivers what is due now: one step of the loop.
    #[tracing::instrument(skip_all, err)]
    pub async fn try_next(&self) -> Result<Outcome, NotifyError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "select notification_id, recipient, template, subject, payload
               from notifications.notifications
              where status = 'pending' and coalesce(next_attempt_at, created_at) <= now()
              order by created_at limit $1",
        )
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
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
            domain::notification::NotificationEvent::DeliveryStarted { attempt, .. } => {
                Some(*attempt)
            }
            _ => None,
        }) else {
            return Ok(None);
        };
        let result = match render(row, &self.tokens, &self.settings.public_url) {
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
    let mut meta = CommandMeta::new(
        Uuid::new_v4(),
        row.notification_id,
        crate::handler::Actor::system(),
        at,
    );
    meta.causation_id = row.notification_id;
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for n in 0..20usize {
            let bytes: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
            let text = base64url_encode(&bytes);
            assert!(!text.contains(['+', '/', '=']));
            assert_eq!(base64url_decode(&text), Some(bytes));
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("ab*d"), None);
    }

    #[test]
    fn tokens_open_only_with_their_secret_and_purpose() {
        let tokens = EmailTokens::new(b"secret one");
        let user = UserId::new(Uuid::new_v4());
        let id = TokenId::new(Uuid::new_v4());
        let token = tokens.issue(TokenPurpose::VerifyEmail, user, id);
        assert_eq!(token.len(), 64);
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, &token),
            Ok((user, id))
        );
        assert_eq!(
            tokens.open(TokenPurpose::ResetPassword, &token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            EmailTokens::new(b"secret two").open(TokenPurpose::VerifyEmail, &token),
            Err(TokenError::BadSignature)
        );
        // Another user's id with this tag.
        let mut forged = base64url_decode(&token).unwrap();
        forged[0] ^= 1;
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, &base64url_encode(&forged)),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, "short"),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn links_carry_the_recomputed_token() {
        let tokens = EmailTokens::new(b"k");
        let user = Uuid::new_v4();
        let token_id = Uuid::new_v4();
        let row = OutboxRow {
            notification_id: Uuid::new_v4(),
            recipient: "ann@example.com".into(),
            template: "verify_email".into(),
            subject: "Confirm".into(),
            payload: serde_json::json!({ "user_id": user, "token_id": token_id, "first_name": "Ann" }),
        };
        let m = render(&row, &tokens, "https://shop.example/").unwrap();
        let link = link_of(&m.body).unwrap();
        assert!(link.starts_with("https://shop.example/verify-email?token="));
        assert_eq!(
            tokens.open(TokenPurpose::VerifyEmail, token_of(link).unwrap()),
            Ok((UserId::new(user), TokenId::new(token_id)))
        );
        assert!(m.body.starts_with("Hello Ann,"));
        let row = OutboxRow {
            template: "nonsense".into(),
            ..row
        };
        assert!(matches!(
            render(&row, &tokens, "x"),
            Err(RenderError::UnknownTemplate(_))
        ));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 60);
        assert_eq!(backoff(3).num_seconds(), 120);
        assert_eq!(backoff(30).num_seconds(), 3_600);
    }

    #[test]
    fn smtp_urls_are_checked() {
        let s = Smtp::from_url("smtp://mail.local:2525", "a@b").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("mail.local", 2525));
        assert_eq!(Smtp::from_url("smtp://relay", "a@b").unwrap().port, 25);
        assert!(Smtp::from_url("smtps://relay", "a@b").is_err());
        assert!(Smtp::from_url("smtp://user:pw@relay", "a@b").is_err());
    }
}
