//! Notifications (an e-mail to a customer, an alert to staff).
//!
//! - [`delivery`]: the `notification-<id>` stream's aggregate: each attempt is claimed,
//!   then recorded sent or failed, so two workers never both send a message.
//! - [`template`]: what a message says: the [`Template`] and the pure rendering of its
//!   subject and body from the data the `notifications` read model keeps.

pub mod delivery;
pub mod template;

pub use delivery::{
    Notification, NotificationCommand, NotificationError, NotificationEvent, NotificationId,
    NotificationState, MAX_ERROR_LEN,
};
pub use template::{link_of, token_of, LinkTokens, Links, RenderError, Template, WITHHELD_LINK};
