//! The v1 shapes of `UserRegistered` and `PasswordChanged`, which carried the password hash
//! in the log, and their upcaster.
//!
//! An upcaster cannot write anywhere, so it names the v1 hash by an id derived from the
//! hash itself ([`legacy_credential`]); the write side, finding no credential under that id,
//! reads the stream's raw v1 event once and copies the hash into the credentials table
//! under the same id (`commands::accounts::credentials`). A log that must hold no hash at
//! all is rewritten with `umctl export --scrub-credentials` and imported into a fresh store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::messages::UserEvent;
use super::role::Role;
use crate::aggregate::{EventDecodeError, Upcast};
use crate::id::{CredentialId, UserId};
use crate::value::Email;

/// `UserRegistered` v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UserRegisteredV1 {
    pub user_id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub at: DateTime<Utc>,
}

/// `PasswordChanged` v1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PasswordChangedV1 {
    pub password_hash: String,
    pub reset: bool,
    pub at: DateTime<Utc>,
}

/// Where the ids of v1 hashes live: a UUID v5 namespace of its own.
const LEGACY_NAMESPACE: Uuid = Uuid::from_u128(0x6b1c_2a4e_8d3f_5e07_9a61_c4d2_f0b3_8e15);

/// The id a v1 event's hash is known by. An argon2 hash carries a random salt, so two
/// hashes, and their ids, never coincide.
pub fn legacy_credential(password_hash: &str) -> CredentialId {
    Uuid::new_v5(&LEGACY_NAMESPACE, password_hash.as_bytes()).into()
}

impl Upcast for UserEvent {
    fn current_version(event_type: &str) -> u32 {
        match event_type {
            "UserRegistered" | "PasswordChanged" => 2,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, version: u32, data: Value) -> Result<Value, EventDecodeError> {
        let bad = |e: serde_json::Error| EventDecodeError::BadShape {
            event_type: event_type.to_owned(),
            version,
            reason: e.to_string(),
        };
        match (event_type, version) {
            ("UserRegistered", 1) => {
                let v1: UserRegisteredV1 = serde_json::from_value(data).map_err(bad)?;
                Ok(serde_json::json!({
                    "user_id": v1.user_id,
                    "email": v1.email,
                    "credential": legacy_credential(&v1.password_hash),
                    "first_name": v1.first_name,
                    "last_name": v1.last_name,
                    "role": v1.role,
                    "at": v1.at,
                }))
            }
            ("PasswordChanged", 1) => {
                let v1: PasswordChangedV1 = serde_json::from_value(data).map_err(bad)?;
                Ok(serde_json::json!({
                    "credential": legacy_credential(&v1.password_hash),
                    "reset": v1.reset,
                    "at": v1.at,
                }))
            }
            _ => Err(EventDecodeError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
                current: Self::current_version(event_type),
            }),
        }
    }
}

/// The hash a v1 event of `event_type` carried, if it is one of the two that did.
pub fn legacy_hash(event_type: &str, version: u32, data: &Value) -> Option<String> {
    if version != 1 || !matches!(event_type, "UserRegistered" | "PasswordChanged") {
        return None;
    }
    data.get("password_hash")?.as_str().map(str::to_owned)
}
