//! The demo's console account: `seed-demo` leaves an admin behind, so a newcomer who runs
//! `serve`, then `seed-demo`, can open `/admin` at once. It is made as the bootstrap admin
//! is (`commands::accounts::bootstrap_admin`: verified, its ids derived from the e-mail, so
//! seeding again finds it), with a random password that is shown once, when it is made.
//! A shop that configures its own bootstrap admin gets no demo admin.

use chrono::Utc;
use commands::accounts::{self, Bootstrap};
use domain::value::Email;
use uuid::Uuid;

use super::steps::SeedError;
use crate::state::AppState;

/// The demo admin's e-mail (`.test` is reserved: no mail can ever reach it).
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.ultramarket.test";

/// What seeding did about the console's account.
#[derive(Debug, PartialEq, Eq)]
pub enum DemoAdmin {
    /// Made now: the only time its password is known.
    Created { email: String, password: String },
    /// Made by an earlier run; its password was shown then.
    Existed { email: String },
    /// `BOOTSTRAP_ADMIN_EMAIL` names the shop's own admin: no demo account is made.
    Configured { email: String },
}

/// The demo admin, made unless it exists or the shop has a bootstrap admin of its own.
pub async fn demo_admin(state: &AppState) -> Result<DemoAdmin, SeedError> {
    if let Some(email) = &state.config.bootstrap_admin_email {
        return Ok(DemoAdmin::Configured {
            email: email.clone(),
        });
    }
    let email = Email::parse(DEMO_ADMIN_EMAIL).map_err(|e| SeedError::Admin(e.message))?;
    // 128 random bits, written so it is easy to copy.
    let password = format!("demo-{}", Uuid::new_v4().simple());
    let hash = state
        .passwords
        .hash(password.clone())
        .await
        .map_err(|e| SeedError::Admin(e.to_string()))?;
    let done =
        accounts::bootstrap_admin(&state.handlers, &state.credentials, email, hash, Utc::now())
            .await
            .map_err(|e| SeedError::Admin(e.to_string()))?;
    let email = DEMO_ADMIN_EMAIL.to_owned();
    match done {
        Bootstrap::Created => Ok(DemoAdmin::Created { email, password }),
        Bootstrap::Exists => Ok(DemoAdmin::Existed { email }),
        Bootstrap::NotAnAdmin { .. } => Err(SeedError::Admin(format!(
            "{DEMO_ADMIN_EMAIL} belongs to an account that is not a working admin"
        ))),
    }
}
