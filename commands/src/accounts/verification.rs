//! E-mail verification and password reset: issuing a link's token, and spending one.
//!
//! A token a user presents has had its MAC checked by the caller (with the server
//! secret, see `EmailTokens`); here the user's stream decides whether it is the latest of
//! its kind, unused and unexpired. The messages themselves are derived from the
//! `…Requested` events by the notifications read model and sent by the worker.

use chrono::Duration;
use domain::user::{TokenId, UserCommand, UserError, UserEvent};
use domain::value::Email;
use uuid::Uuid;

use crate::accounts::account::{self, AccountError, Changed, EMAIL_KEY};
use crate::accounts::credentials::Credentials;
use crate::handler::{CommandError, CommandMeta, Handled};
use crate::handlers::Handlers;
use crate::store::StoreError;
use crate::unique;

/// How long a verification link works.
pub const VERIFICATION_TTL: Duration = Duration::hours(24);
/// How long a reset link works: short, since it hands over the account.
pub const RESET_TTL: Duration = Duration::hours(1);

/// Why a link was not issued or not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The account's rules refuse it: a used, expired or superseded token, an address
    /// already verified, a link asked for moments ago, a suspended account.
    #[error(transparent)]
    Refused(UserError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler could not decide: contention, an unreadable event, shutdown.
    #[error(transparent)]
    Failed(CommandError<UserError>),
}

impl From<CommandError<UserError>> for TokenError {
    fn from(e: CommandError<UserError>) -> Self {
        AccountError::from(e).into()
    }
}

impl From<AccountError> for TokenError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Rejected(e) => TokenError::Refused(e),
            AccountError::Store(e) => TokenError::Store(e),
            AccountError::Failed(e) => TokenError::Failed(e),
        }
    }
}

/// Issues a verification token to `user_id` (after registration, or a resend); earlier
/// links stop working.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn request_verification(
    handlers: &Handlers,
    user_id: Uuid,
    meta: CommandMeta,
) -> Result<Handled<UserEvent>, TokenError> {
    let at = meta.occurred_at;
    let command = UserCommand::RequestEmailVerification {
        token_id: TokenId::new(Uuid::new_v4()),
        expires_at: at + VERIFICATION_TTL,
        at,
    };
    Ok(handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await?)
}

/// Confirms `user_id`'s e-mail with verification token `token_id`.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn confirm_email(
    handlers: &Handlers,
    user_id: Uuid,
    token_id: TokenId,
    meta: CommandMeta,
) -> Result<Changed, TokenError> {
    let command = UserCommand::ConfirmEmail {
        token_id,
        at: meta.occurred_at,
    };
    let handled = handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await?;
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position: handled.position,
    })
}

/// Issues a reset token to whoever holds `email`, if anyone. Nothing tells the caller
/// whether an account exists: an unknown address, a link asked for moments ago and a
/// suspended account all end quietly (logged at debug); only failures are errors. The
/// event's actor is whoever `meta` names (anonymous, from the form): the account is its
/// target, never its actor, or anyone could act in the account's name in the trail.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    handlers: &Handlers,
    email: &Email,
    meta: CommandMeta,
) -> Result<(), AccountError> {
    let Some(user_id) = unique::owner_of(handlers, EMAIL_KEY, email.as_str()).await? else {
        tracing::debug!("password reset asked for an unknown e-mail");
        return Ok(());
    };
    let at = meta.occurred_at;
    let command = UserCommand::RequestPasswordReset {
        token_id: TokenId::new(Uuid::new_v4()),
        expires_at: at + RESET_TTL,
        at,
    };
    match handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await
    {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(e)) => {
            tracing::debug!(%user_id, reason = %e, "no password reset issued");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets `user_id`'s password (already hashed) with reset token `token_id`. The new
/// password raises the account's security version, which cuts its access tokens; the
/// caller ends its refresh tokens, which live outside the log.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn reset_password(
    handlers: &Handlers,
    credentials: &Credentials,
    user_id: Uuid,
    token_id: TokenId,
    password_hash: String,
    meta: CommandMeta,
) -> Result<Changed, TokenError> {
    let credential = credentials
        .keep(user_id, &password_hash)
        .await
        .map_err(TokenError::Store)?;
    let command = UserCommand::ResetPassword {
        token_id,
        credential,
        at: meta.occurred_at,
    };
    let handled = match handlers
        .users
        .handle(&account::stream(user_id), command, meta)
        .await
    {
        Ok(handled) => handled,
        Err(e) => {
            credentials.discard(user_id, credential).await;
            return Err(e.into());
        }
    };
    credentials.retire_all_but(user_id, credential).await;
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position: handled.position,
    })
}
