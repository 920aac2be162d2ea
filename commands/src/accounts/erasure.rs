//! Forgetting a person (the GDPR's right to erasure; ADR 0005): their e-mail's claim is
//! released, `UserErased` is recorded, their data key is destroyed and their password
//! hashes deleted. The log keeps every event, whose personal fields can no longer be
//! opened and read as erased; every read model drops what it holds of them on
//! `UserErased`, as a rebuild does.
//!
//! Each step is idempotent, so an erasure cut short is finished by asking again: the claim
//! goes first, while the e-mail can still be read; then the key and the hashes; the event
//! last, so whoever reads it finds the key gone already (and forgets any copy it cached),
//! and the event's own metadata, sealed with that key, records no address of the request.

use domain::user::{ErasedBy, UserCommand, UserError, UserStatus};
use uuid::Uuid;

use super::account::{self, AccountError, EMAIL_KEY};
use super::credentials::Credentials;
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::store::Position;
use crate::unique::{self, UniqueError};

/// Erases `user_id`, for `by`. Answers where `UserErased` sits in `$all` (`None` when the
/// person was erased before). Erasing an erased person again finishes what a cut-short
/// erasure left and appends nothing.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn erase(
    handlers: &Handlers,
    credentials: &Credentials,
    user_id: Uuid,
    by: ErasedBy,
    meta: CommandMeta,
) -> Result<Option<Position>, AccountError> {
    let account = account::get(handlers, user_id).await?;
    if account.status != UserStatus::Erased {
        let email = account.email.as_str();
        match unique::release(handlers, EMAIL_KEY, email, user_id, &meta).await {
            // Not held by them (released by an erasure cut short, or never claimed by an
            // account made before claims): nothing to give back.
            Ok(()) | Err(UniqueError::NotHeld { .. } | UniqueError::Taken { .. }) => {}
            Err(UniqueError::Store(e)) => return Err(e.into()),
        }
    }
    handlers.keys.erase(user_id).await?;
    credentials.erase(user_id).await?;
    let command = UserCommand::Erase {
        by,
        at: meta.occurred_at,
    };
    match account::run(handlers, user_id, command, meta).await {
        Ok(position) => Ok(position),
        Err(AccountError::Rejected(UserError::Erased)) => Ok(None),
        Err(e) => Err(e),
    }
}
