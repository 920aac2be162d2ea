//! What every account use case shares: the user's stream, the account as the write side
//! has it (for answers the read model may not have caught up with), and how a command
//! on an existing account fails.

use domain::user::{Account, User, UserCommand, UserError};
use domain::value::Email;
use uuid::Uuid;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};
use crate::unique;

/// The uniqueness kind an account's e-mail is claimed under (`commands::unique`).
pub const EMAIL_KEY: unique::Kind = unique::Kind::personal("email");

/// The stream of user `user_id`.
pub fn stream(user_id: Uuid) -> String {
    CommandHandler::<User>::stream_id(user_id)
}

/// The account after a command, and where the command's events sit in `$all` (`None`
/// when it appended nothing), for the answer's consistency token.
#[derive(Debug, Clone)]
pub struct Changed {
    pub account: Account,
    pub position: Option<Position>,
}

/// Why a command on an account did not happen: the rules refused it, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The account's rules refuse the command (`NotRegistered` when there is no account).
    #[error(transparent)]
    Rejected(UserError),
    #[error(transparent)]
    Store(StoreError),
    /// The command handler could not decide: contention, an unreadable event, shutdown.
    #[error(transparent)]
    Failed(CommandError<UserError>),
}

impl From<CommandError<UserError>> for AccountError {
    fn from(e: CommandError<UserError>) -> Self {
        match e {
            CommandError::Rejected(e) => AccountError::Rejected(e),
            CommandError::Store(e) => AccountError::Store(e),
            other => AccountError::Failed(other),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        AccountError::Store(e)
    }
}

/// Runs `command` on `user_id`'s account; answers where its events sit in `$all` (`None`
/// when it appended nothing).
pub async fn run(
    handlers: &Handlers,
    user_id: Uuid,
    command: UserCommand,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    Ok(handlers
        .users
        .handle(&stream(user_id), command, meta)
        .await?
        .position)
}

/// The account `user_id`, if registered.
pub async fn find(handlers: &Handlers, user_id: Uuid) -> Result<Option<Account>, AccountError> {
    let (state, _) = handlers.users.load(&stream(user_id)).await?;
    Ok(state.registered)
}

/// The account `user_id`, or `Rejected(NotRegistered)`.
pub async fn get(handlers: &Handlers, user_id: Uuid) -> Result<Account, AccountError> {
    find(handlers, user_id)
        .await?
        .ok_or(AccountError::Rejected(UserError::NotRegistered))
}

/// The account that holds `email`, if any: the write side's uniqueness stream names it,
/// so a sign-in never depends on a read model having caught up.
pub async fn find_by_email(
    handlers: &Handlers,
    email: &Email,
) -> Result<Option<Account>, AccountError> {
    match unique::owner_of(handlers, EMAIL_KEY, email.as_str()).await? {
        Some(user_id) => find(handlers, user_id).await,
        None => Ok(None),
    }
}
