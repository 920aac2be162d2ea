//! Changes to an account's standing and names: the profile, the role, suspension, and
//! ending every session.

use domain::user::{ConsentSource, Preferences, Role, UserCommand};
use uuid::Uuid;

use crate::accounts::account::{self, AccountError, Changed};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::store::Position;

/// The reason recorded when an admin gives none.
pub const DEFAULT_SUSPENSION_REASON: &str = "suspended by an admin";

/// Both names, set together; `None` clears one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Sets the names of `user_id` (its owner, or an admin).
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn update_profile(
    handlers: &Handlers,
    user_id: Uuid,
    names: Names,
    meta: CommandMeta,
) -> Result<Changed, AccountError> {
    update_user(handlers, user_id, Some(names), None, meta).await
}

/// Sets the names and the role of `user_id`, each when given (the caller checks that a
/// role change comes from an admin). The role an account already has is not a
/// conflict: the request states the wanted result.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn update_user(
    handlers: &Handlers,
    user_id: Uuid,
    names: Option<Names>,
    role: Option<Role>,
    meta: CommandMeta,
) -> Result<Changed, AccountError> {
    let stream = account::stream(user_id);
    let mut position = None;
    if let Some(names) = names {
        let command = UserCommand::UpdateProfile {
            first_name: names.first_name,
            last_name: names.last_name,
            at: meta.occurred_at,
        };
        position = handlers
            .users
            .handle(&stream, command, meta.clone())
            .await?
            .position;
    }
    if let Some(role) = role {
        if account::get(handlers, user_id).await?.role != role {
            let mut change = meta.clone();
            change.command_id = Uuid::new_v5(&meta.command_id, b"change-role");
            change.causation_id = meta.command_id;
            let handled = handlers
                .users
                .handle(&stream, UserCommand::ChangeRole { role }, change)
                .await?;
            position = handled.position.or(position);
        }
    }
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position,
    })
}

/// Suspends `user_id`: it can no longer sign in, and its history stays. A blank reason
/// records [`DEFAULT_SUSPENSION_REASON`].
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn suspend(
    handlers: &Handlers,
    user_id: Uuid,
    reason: Option<String>,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_SUSPENSION_REASON.into());
    let command = UserCommand::Suspend {
        reason,
        at: meta.occurred_at,
    };
    account::run(handlers, user_id, command, meta).await
}

/// Lets a suspended `user_id` sign in again (an admin). It comes back `active`, or
/// `pending` while its e-mail is unverified; the sessions it had stay ended. Refused
/// unless the account is suspended.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn reactivate(
    handlers: &Handlers,
    user_id: Uuid,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    let command = UserCommand::Reactivate {
        at: meta.occurred_at,
    };
    account::run(handlers, user_id, command, meta).await
}

/// Ends every session of `user_id` (its owner, or an admin): the access tokens issued
/// before stop working at once, through the security version this raises. Refresh tokens
/// live outside the log; the caller revokes them.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn sign_out_everywhere(
    handlers: &Handlers,
    user_id: Uuid,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    let command = UserCommand::SignOutEverywhere {
        at: meta.occurred_at,
    };
    account::run(handlers, user_id, command, meta).await
}

/// Records what `user_id` consents to (its owner, or an admin: `source` says which). A
/// choice equal to the recorded one appends nothing.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn set_preferences(
    handlers: &Handlers,
    user_id: Uuid,
    preferences: Preferences,
    source: ConsentSource,
    meta: CommandMeta,
) -> Result<Changed, AccountError> {
    let command = UserCommand::SetPreferences {
        preferences,
        source,
        at: meta.occurred_at,
    };
    let position = account::run(handlers, user_id, command, meta).await?;
    Ok(Changed {
        account: account::get(handlers, user_id).await?,
        position,
    })
}
