//! The new account a sign-up or an admin's `POST /users` asks for: its fields checked, its
//! password judged against them and hashed on the bounded pool.

use commands::accounts::NewAccount;
use domain::value::Email;

use super::password::check_policy;
use super::view::name;
use crate::error::ApiError;
use crate::state::AppState;

/// 422 naming the field for a bad e-mail, name or weak password; 503 `busy` when the
/// hashing pool is full.
pub async fn new_account(
    state: &AppState,
    email: &str,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
) -> Result<NewAccount, ApiError> {
    let email = Email::parse(email).map_err(|e| ApiError::invalid_field("email", e.message))?;
    let first_name = name("first_name", first_name)?;
    let last_name = name("last_name", last_name)?;
    check_policy(
        &password,
        &[
            email.as_str(),
            first_name.as_deref().unwrap_or_default(),
            last_name.as_deref().unwrap_or_default(),
        ],
    )?;
    Ok(NewAccount {
        email,
        password_hash: state.passwords.hash(password).await?,
        first_name,
        last_name,
    })
}
