//! Notifications: the outbox read model and the notifier, the process manager that
//! delivers it. One concept, one owner of the `notifications` schema: the notifier reads
//! the outbox only through the read model's [`due`] query.
//!
//! - [`read_model`]: the `notifications` projection (rows derived from the events that
//!   cause a message, with their rendered subjects) and [`due`], the rows to send now.
//! - `delivery`: a row's delivery columns, folded from its `notification-<id>` stream.
//! - [`notifier`]: claims each due row through its stream, renders it
//!   (`domain::notification::Template`), sends it and records the outcome as events.
//! - [`transport`]: where messages leave: SMTP through `lettre` (plain to a local relay,
//!   STARTTLS or implicit TLS, with AUTH) or, without `SMTP_URL`, the server's log.
//!
//! A verification or reset link is a secret (whoever holds a reset link owns the
//! account), so it exists only in the message handed to the transport: the read model
//! keeps the token's id, the notifier signs the link at send time ([`render`]), and every
//! other reader gets the message with its link withheld ([`preview`]).

mod delivery;
pub mod notifier;
pub mod read_model;
mod stores;
pub mod transport;

pub use notifier::{
    backoff, preview, render, Notifier, NotifierSettings, NotifyError, Outcome, LEASE,
};
pub use read_model::{due, NotificationsProjection, OutboxRow};
pub use transport::{LogTransport, Message, Smtp, Transport, TransportError, LOGGED_MAIL};
