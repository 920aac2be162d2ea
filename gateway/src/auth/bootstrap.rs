//! The first admin, from `BOOTSTRAP_ADMIN_EMAIL` and `BOOTSTRAP_ADMIN_PASSWORD`; the use
//! case is `commands::accounts::bootstrap_admin`.

use chrono::Utc;
use commands::accounts::{self, Bootstrap};
use domain::value::Email;

use super::password::check_policy;
use crate::state::AppState;

/// Why the bootstrap admin could not be made; the process does not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BootstrapError(String);

/// Creates the bootstrap admin unless its e-mail already belongs to an account (then an
/// admin was made before, or the operator chose an address in use: either way nothing is
/// overwritten).
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
    check_policy(password.expose(), &[email.as_str()])
        .map_err(|e| fail(format!("BOOTSTRAP_ADMIN_PASSWORD: {e}")))?;
    let password_hash = state
        .passwords
        .hash(password.expose().to_owned())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let done = accounts::bootstrap_admin(&state.handlers, email.clone(), password_hash, Utc::now())
        .await
        .map_err(|e| fail(e.to_string()))?;
    if done == Bootstrap::Created {
        tracing::info!(%email, "created the bootstrap admin");
    }
    Ok(())
}
