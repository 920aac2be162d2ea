//! The first admin, from `BOOTSTRAP_ADMIN_EMAIL` and `BOOTSTRAP_ADMIN_PASSWORD`.

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::unique::{self, UniqueError};
use domain::user::{Role, User, UserCommand};
use domain::value::Email;
use uuid::Uuid;

use super::password::{check_policy, hash_password};
use crate::state::AppState;

/// Why the bootstrap admin could not be made; the process does not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BootstrapError(String);

/// Creates the bootstrap admin unless its e-mail already belongs to an account (then an
/// admin was made before, or the operator chose an address in use: either way nothing is
/// overwritten). Ids derive from the e-mail, so two gateways starting at once make one.
pub async fn bootstrap_admin(state: &AppState) -> Result<(), BootstrapError> {
    let (Some(email), Some(password)) = (
        &state.config.bootstrap_admin_email,
        &state.config.bootstrap_admin_password,
    ) else {
        return Ok(());
    };
    let fail = BootstrapError;
    let email =
        Email::parse(email).map_err(|e| fail(format!("BOOTSTRAP_ADMIN_EMAIL: {}", e.message)))?;
    check_policy(password.expose()).map_err(|e| fail(format!("BOOTSTRAP_ADMIN_PASSWORD: {e}")))?;
    let user_id = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("bootstrap-admin:{email}").as_bytes(),
    );
    let meta = CommandMeta::new(
        Uuid::new_v5(&user_id, b"register"),
        user_id,
        Actor::system(),
        Utc::now(),
    );
    match unique::claim(&*state.store, "email", email.as_str(), user_id, &meta).await {
        Ok(()) => {}
        Err(UniqueError::Taken { .. }) => return Ok(()),
        Err(e) => return Err(fail(e.to_string())),
    }
    let stream = CommandHandler::<User>::stream_id(user_id);
    let (existing, _) = state
        .handlers
        .users
        .load(&stream)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if existing.registered.is_some() {
        return Ok(());
    }
    let password_hash = hash_password(password.expose().to_owned())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let register = UserCommand::Register {
        user_id: user_id.into(),
        email: email.clone(),
        password_hash,
        first_name: None,
        last_name: None,
        role: Role::Admin,
        at: meta.occurred_at,
    };
    state
        .handlers
        .users
        .handle(&stream, register, meta.clone())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut verified = meta.clone();
    verified.command_id = Uuid::new_v5(&user_id, b"verify");
    state
        .handlers
        .users
        .handle(
            &stream,
            UserCommand::VerifyEmail {
                at: meta.occurred_at,
            },
            verified,
        )
        .await
        .map_err(|e| fail(e.to_string()))?;
    tracing::info!(%email, "created the bootstrap admin");
    Ok(())
}
