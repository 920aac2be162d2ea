//! What the account routes answer: the user, a token pair, a message. Each is the body
//! its handler serializes and the schema the OpenAPI document shows.

use commands::accounts::{AccountError, RegisterError};
use domain::user::{Account, Role, UserError, UserStatus};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// A user as every account answer shapes it, from the write side's state (so an answer
/// shows the change it reports, whatever the read models have caught up with).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    #[schema(value_type = String)]
    pub role: Role,
    /// `pending`, `active` or `suspended`.
    #[schema(value_type = String)]
    pub status: UserStatus,
    pub email_verified: bool,
}

impl From<&Account> for UserView {
    fn from(a: &Account) -> Self {
        UserView {
            id: a.user_id.as_uuid(),
            email: a.email.as_str().to_owned(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            role: a.role,
            status: a.status,
            email_verified: a.email_verified,
        }
    }
}

/// An access token (a JWT for `Authorization: Bearer`) and the opaque refresh token that
/// buys the next pair, once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
}

/// A sentence for people; the status code is what a client branches on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: &'static str,
}

/// A name or label the account routes accept: one line, trimmed, none when blank, refused
/// over 100 characters or with control characters, the field named
/// (`domain::user::clean_name`).
pub fn name(field: &'static str, v: Option<String>) -> Result<Option<String>, ApiError> {
    domain::user::clean_name(field, v).map_err(too_long)
}

/// `Invalid` (free text too long or with control characters) as the 422 that names the
/// field; anything else as a refusal.
fn too_long(e: UserError) -> ApiError {
    match e {
        UserError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
        other => ApiError::conflict("rejected", other.to_string()),
    }
}

/// Opening an account: a taken e-mail is `email_taken`, other refusals `rejected`.
impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::EmailTaken => {
                ApiError::conflict("email_taken", "an account with this e-mail exists")
            }
            RegisterError::Rejected(e) => too_long(e),
            RegisterError::Store(e) => e.into(),
            RegisterError::Failed(e) => ApiError::internal(e),
        }
    }
}

/// A change to an existing account: a missing account or address is 404 (the user
/// routes show another's account as missing too), a field too long 422, any other
/// refusal 409 `rejected`.
impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Rejected(UserError::NotRegistered) => {
                ApiError::NotFound("no such user".into())
            }
            AccountError::Rejected(UserError::UnknownAddress(_)) => {
                ApiError::NotFound("no such address".into())
            }
            AccountError::Rejected(e) => too_long(e),
            AccountError::Store(e) => e.into(),
            AccountError::Failed(e) => ApiError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::DateTime;
    use domain::user::{Account, Role, UserStatus};
    use domain::value::Email;
    use serde_json::json;
    use uuid::Uuid;

    use super::UserView;

    /// The account answers of `/auth`: docs/api.md's seven fields, no more (no times).
    #[test]
    fn a_user_shows_the_seven_fields_of_the_contract() {
        let id = Uuid::from_u128(7);
        let account = Account {
            user_id: id.into(),
            email: Email::parse("Ann@Example.com").unwrap(),
            credential: Uuid::from_u128(8).into(),
            first_name: None,
            last_name: Some("Lee".into()),
            role: Role::Customer,
            status: UserStatus::Suspended,
            email_verified: true,
            addresses: BTreeMap::new(),
            created_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            security_version: 0,
            preferences: Default::default(),
        };
        assert_eq!(
            serde_json::to_value(UserView::from(&account)).unwrap(),
            json!({
                "id": id, "email": "ann@example.com", "first_name": null, "last_name": "Lee",
                "role": "customer", "status": "suspended", "email_verified": true,
            })
        );
    }
}
