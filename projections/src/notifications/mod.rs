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
//!   STARTTLS or implicit TLS, with AUTH) or the outbox alone.

mod delivery;
pub mod notifier;
pub mod read_model;
pub mod transport;

pub use notifier::{backoff, render, Notifier, NotifierSettings, NotifyError, Outcome, LEASE};
pub use read_model::{due, NotificationsProjection, OutboxRow};
pub use transport::{Message, OutboxOnly, Smtp, Transport, TransportError};
