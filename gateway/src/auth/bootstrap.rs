//! The first admin, from `BOOTSTRAP_ADMIN_EMAIL` and `BOOTSTRAP_ADMIN_PASSWORD`; the use
//! case is `commands::accounts::bootstrap_admin`.
//!
//! An admin that was asked for and cannot be had stops the start: an error in the log and
//! a non-zero exit, never a server that runs without the admin its operator believes in.
//! The quiet alternative was the dangerous one: when someone registered the admin's
//! address first, the engine used to start "with" an admin that was in fact that
//! someone's customer account.

use chrono::Utc;
use commands::accounts::{self, Bootstrap};
use domain::value::Email;

use super::password::check_policy;
use crate::state::AppState;

/// Why the bootstrap admin could not be made; the process does not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BootstrapError(String);

/// Creates the bootstrap admin unless its e-mail already belongs to an active admin (an
/// earlier start made it). Anything else that keeps the admin from being there, a weak
/// or malformed setting or an address held by another kind of account, is an error, logged
/// here and returned so that the process does not start; nothing is overwritten.
pub async fn bootstrap_admin(state: &AppState) -> Result<(), BootstrapError> {
    let (Some(email), Some(password)) = (
        &state.config.bootstrap_admin_email,
        &state.config.bootstrap_admin_password,
    ) else {
        return Ok(());
    };
    let fail = |message: String| {
        tracing::error!(error = %message, "the bootstrap admin cannot be created");
        BootstrapError(message)
    };
    let email =
        Email::parse(email).map_err(|e| fail(format!("BOOTSTRAP_ADMIN_EMAIL: {}", e.message)))?;
    check_policy(password.expose(), &[email.as_str()])
        .map_err(|e| fail(format!("BOOTSTRAP_ADMIN_PASSWORD: {e}")))?;
    let password_hash = state
        .passwords
        .hash(password.expose().to_owned())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let done = accounts::bootstrap_admin(
        &state.handlers,
        &state.credentials,
        email.clone(),
        password_hash,
        Utc::now(),
    )
    .await
    .map_err(|e| fail(e.to_string()))?;
    match done {
        Bootstrap::Created => tracing::info!(%email, "created the bootstrap admin"),
        Bootstrap::Exists => {}
        Bootstrap::NotAnAdmin {
            owner,
            role,
            suspended,
        } => {
            let what = match (role, suspended) {
                (None, _) => "a claim with no account".to_owned(),
                (Some(_), true) => "a suspended account".to_owned(),
                (Some(role), false) => format!("an account with the role {}", role.as_str()),
            };
            return Err(fail(format!(
                "BOOTSTRAP_ADMIN_EMAIL {email} belongs to {what} (user {owner}), not to an \
                 active admin; nothing was changed. Choose another address, or make that \
                 account an admin and unset BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD"
            )));
        }
    }
    Ok(())
}
