//! Sign-in facts: what the gateway records in an account's `session` stream when someone
//! signs in, fails to, signs out, or has a refresh-token family revoked (see
//! `domain::session`). Checking the password and the tokens is the gateway's; these use
//! cases only put the outcome in the log, where the audit trail and NATS find it.

use std::convert::Infallible;

use domain::id::UserId;
use domain::session::{Session, SessionCommand};
use uuid::Uuid;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

pub use domain::session::{Revocation, SignInFailure};

/// The stream of `user_id`'s sessions.
pub fn stream(user_id: Uuid) -> String {
    CommandHandler::<Session>::stream_id(user_id)
}

/// A sign-in fact could not be recorded: the store failed, or the handler is stopping.
pub type SessionError = CommandError<Infallible>;

/// What happened to `user_id`'s sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFact {
    SignedIn { family_id: Uuid },
    SignInFailed { reason: SignInFailure },
    SignedOut { family_id: Uuid },
    Revoked { family_id: Uuid, reason: Revocation },
}

/// Records `fact` in `user_id`'s session stream, with the client's address and user agent
/// from `meta`; answers where it sits in `$all`.
#[tracing::instrument(skip_all, fields(%user_id), err)]
pub async fn record(
    handlers: &Handlers,
    user_id: Uuid,
    fact: SessionFact,
    meta: CommandMeta,
) -> Result<Option<Position>, SessionError> {
    let at = meta.occurred_at;
    let user = UserId::new(user_id);
    let command = match fact {
        SessionFact::SignedIn { family_id } => SessionCommand::RecordSignIn {
            user_id: user,
            family_id,
            at,
        },
        SessionFact::SignInFailed { reason } => SessionCommand::RecordFailedSignIn {
            user_id: user,
            reason,
            at,
        },
        SessionFact::SignedOut { family_id } => SessionCommand::RecordSignOut {
            user_id: user,
            family_id,
            at,
        },
        SessionFact::Revoked { family_id, reason } => SessionCommand::RecordRevocation {
            user_id: user,
            family_id,
            reason,
            at,
        },
    };
    let handled = handlers
        .sessions
        .handle(&stream(user_id), command, meta)
        .await?;
    Ok(handled.position)
}
