//! Where messages leave the engine: the [`Transport`] port and its two adapters.
//!
//! - [`LogTransport`], without `SMTP_URL`: the server's log is the mailbox, as with Django's
//!   and Rails' console mail backends. The whole message, its live link included, is
//!   written to the log (the link in a field of its own, `link`), so a developer who
//!   started the engine with two commands can still verify an address or reset a
//!   password. A deployment that others can reach sets `SMTP_URL`: whoever reads the log
//!   of a log-transport server reads every reset link, and the engine says so at start.
//! - [`Smtp`], with `SMTP_URL`: `lettre`'s async SMTP client on tokio. `SMTP_URL` takes
//!   lettre's connection URLs, `scheme://user:pass@host:port/ehlo-name?tls=mode`:
//!
//!   | `SMTP_URL` | what happens |
//!   | --- | --- |
//!   | `smtp://host:port` | plain SMTP, no TLS, no AUTH (port 25 by default): a local relay such as Postfix or Mailpit, which does the rest |
//!   | `smtp://user:pass@host:587?tls=required` | STARTTLS, refused if the server does not offer it, then AUTH (PLAIN or LOGIN): a hosted mail service |
//!   | `smtp://user:pass@host:587?tls=opportunistic` | STARTTLS when offered, else plain (open to a man in the middle: for testing) |
//!   | `smtps://user:pass@host` | implicit TLS (port 465 by default), then AUTH |
//!
//!   User and password are percent-encoded; without them no AUTH is sent. A path names the
//!   EHLO name (`ultramarket` otherwise). Server certificates are checked against the
//!   Mozilla roots built in (`webpki-roots`).
//!
//! TLS is rustls with the *ring* provider passed to each connection: nothing installs a
//! process-wide provider, which the `eventstore` crate insists on installing itself (it
//! panics if another was first; see `commands/tests/esdb_coexist.rs`).

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// One message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// Where messages leave the engine.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    async fn send(&self, message: &Message) -> Result<(), TransportError>;
}

/// No mail server: each message is written to the server's log, link and all (see the
/// module's doc). The outbox API never shows the link; this log is the development
/// stand-in for the recipient's mailbox.
pub struct LogTransport;

/// The message of the log line [`LogTransport`] writes for each e-mail.
pub const LOGGED_MAIL: &str = "e-mail written to the log (no SMTP_URL)";

#[async_trait]
impl Transport for LogTransport {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, message: &Message) -> Result<(), TransportError> {
        // One line per message whatever the log format: the body is escaped (`?`), and the
        // link, what a developer wants from it, stands alone.
        let link = domain::notification::link_of(&message.body).unwrap_or("-");
        tracing::info!(
            target: "ultramarket::mail",
            to = %message.to,
            subject = %message.subject,
            link = %link,
            body = ?message.body,
            "{LOGGED_MAIL}"
        );
        Ok(())
    }
}

/// SMTP through `lettre`, as `SMTP_URL` describes it (see the module's doc).
pub struct Smtp {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, named in errors; the URL itself may hold a password.
    server: String,
    timeout: Duration,
}

impl Smtp {
    pub fn from_url(url: &str, from: &str) -> Result<Self, TransportError> {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        if !matches!(scheme, "smtp" | "smtps") {
            return Err(TransportError(
                "SMTP_URL must start with smtp:// or smtps://".into(),
            ));
        }
        // Never echo the URL: it may carry a password.
        let bad = |e: lettre::transport::smtp::Error| TransportError(format!("SMTP_URL: {e}"));
        let timeout = Duration::from_secs(30);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(bad)?
            .timeout(Some(timeout));
        let authority_and_path = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, ehlo) = authority_and_path
            .split_once('/')
            .unwrap_or((authority_and_path, ""));
        if ehlo.trim_matches('/').is_empty() {
            builder = builder.hello_name(ClientId::Domain("ultramarket".into()));
        }
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host_port.is_empty() || host_port.starts_with(':') {
            return Err(TransportError("SMTP_URL names no host".into()));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| TransportError(format!("MAIL_FROM {from:?}: {e}")))?;
        Ok(Smtp {
            mailer: builder.build(),
            from,
            server: host_port.to_owned(),
            timeout,
        })
    }

    async fn conversation(&self, message: &Message) -> Result<(), TransportError> {
        // A recipient or subject with a line break would inject headers.
        if [&message.to, &message.subject]
            .iter()
            .any(|s| s.contains(['\r', '\n']))
        {
            return Err(TransportError("a header contains a line break".into()));
        }
        let to = message
            .to
            .parse::<Mailbox>()
            .map_err(|e| TransportError(format!("recipient {:?}: {e}", message.to)))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| TransportError(format!("smtp: {e}")))?;
        self.mailer
            .send(email)
            .await
            .map_err(|e| TransportError(format!("smtp {}: {e}", self.server)))?;
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
            .map_err(|_| {
                TransportError(format!(
                    "smtp {}: no answer within {:?}",
                    self.server, self.timeout
                ))
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked() {
        let from = "UltraMarket <no-reply@shop.example>";
        assert_eq!(
            Smtp::from_url("smtp://mail.local:2525", from)
                .unwrap()
                .server,
            "mail.local:2525"
        );
        for url in [
            "smtp://relay",
            "smtp://user:p%40ss@relay:587?tls=required",
            "smtp://relay:587?tls=opportunistic",
            "smtps://user:pass@relay",
            "smtps://relay:465/mail.shop.example",
        ] {
            assert!(Smtp::from_url(url, from).is_ok(), "{url}");
        }
        let secret = Smtp::from_url("http://user:hunter2@relay", from)
            .err()
            .unwrap();
        assert!(!secret.0.contains("hunter2"), "{secret}");
        assert!(Smtp::from_url("smtp://relay?tls=sometimes", from).is_err());
        assert!(Smtp::from_url("smtp://", from).is_err());
        assert!(Smtp::from_url("smtp://relay", "not an address").is_err());
    }

    /// The `eventstore` crate installs its own process-wide rustls provider and panics if
    /// one is there already: building TLS transports must leave that slot empty.
    #[test]
    fn tls_transports_install_no_process_wide_crypto_provider() {
        for url in [
            "smtps://relay.example",
            "smtp://relay.example:587?tls=required",
        ] {
            Smtp::from_url(url, "no-reply@shop.example").unwrap();
        }
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }
}
