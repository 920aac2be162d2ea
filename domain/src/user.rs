//! A person with an account: registration, verification, credentials, profile, addresses,
//! role and suspension. The password is hashed outside (argon2, in the gateway) and the
//! hash kept outside the log, in the accounts context's credentials table: the log, which
//! NATS and exports carry, names only the [`CredentialId`] in force. Events of schema v1
//! carried the hash itself; their upcaster (`user/legacy.rs`) names it by an id derived
//! from it, under which the write side copies it into the table on first use.
//!
//! Every change that must end the sessions already open (a new password, a new role, a
//! suspension, signing out everywhere) raises the account's `security_version`; access
//! tokens carry the version they were issued at, and one that is behind is refused.
//!
//! E-mail verification and password reset go through single-use, expiring tokens. The
//! stream records only a token's id and expiry; what the user receives is that id with a MAC
//! the gateway computes from a server secret, so the log holds nothing that would let a
//! reader of it verify an address or take over an account. Only the latest token of each
//! purpose is accepted, once, before it expires.
//!
//! The aggregate is here; below it in `user/` sit its [`Role`] and [`UserStatus`], its
//! commands and events (`messages`), what the stream records of each token
//! ([`Tokens`]), [`UserError`], the v1 shapes and their upcaster (`legacy`), and the
//! given/when/then tests in `user/tests.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::aggregate::Aggregate;
use crate::id::{AddressId, CredentialId, UserId};
use crate::value::{Address, Email};

pub struct User;

mod error;
mod legacy;
mod messages;
mod preferences;
mod role;
mod tokens;

pub use error::UserError;
pub use legacy::{legacy_credential, legacy_hash, PasswordChangedV1, UserRegisteredV1};
pub use messages::{ErasedBy, UserCommand, UserEvent};
pub use preferences::{ConsentSource, Preferences};
pub use role::{Role, UserStatus};
pub use tokens::{IssuedToken, TokenId, TokenPurpose, Tokens, TOKEN_REISSUE_INTERVAL};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    pub registered: Option<Account>,
    pub tokens: Tokens,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: UserId,
    pub email: Email,
    /// The password hash in force, in the credentials table.
    pub credential: CredentialId,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub email_verified: bool,
    pub addresses: BTreeMap<AddressId, (Option<String>, Address)>,
    pub created_at: DateTime<Utc>,
    /// Raised by every change that ends the sessions already open: a new password, a new
    /// role, a suspension, signing out everywhere. Access tokens carry it.
    pub security_version: u32,
    /// What the person consents to.
    pub preferences: Preferences,
}

pub const MAX_ADDRESSES: usize = 20;
const MAX_NAME: usize = crate::value::MAX_PERSON_NAME;

/// A name or an address label as an account keeps it: one line (`crate::value::line`: no
/// control characters, which would travel into e-mail headers), trimmed, absent when
/// blank, at most 100 characters. The edge cleans what it is sent with this before any
/// work, so a refusal costs no e-mail claim and no password hash; `decide` holds the same
/// rule.
pub fn clean_name(field: &'static str, v: Option<String>) -> Result<Option<String>, UserError> {
    Ok(crate::value::optional_line(field, v.as_deref(), MAX_NAME)?)
}

/// The address an erased account's e-mail reads as (its declaration's `erased` value).
pub fn erased_email() -> Email {
    Email::parse("erased@erased.invalid").expect("a valid address")
}

fn check_name(field: &'static str, v: &Option<String>) -> Result<(), UserError> {
    if let Some(s) = v {
        crate::value::line(field, s, MAX_NAME)?;
    }
    Ok(())
}

impl Aggregate for User {
    const CATEGORY: &'static str = "user";
    type State = UserState;
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;

    fn decide(s: &UserState, cmd: &UserCommand) -> Result<Vec<UserEvent>, UserError> {
        use UserCommand as C;
        use UserEvent as E;
        if let C::Register {
            user_id,
            email,
            credential,
            first_name,
            last_name,
            role,
            at,
        } = cmd
        {
            if s.registered.is_some() {
                return Err(UserError::AlreadyRegistered);
            }
            if credential.as_uuid().is_nil() {
                return Err(UserError::MissingCredential);
            }
            check_name("first_name", first_name)?;
            check_name("last_name", last_name)?;
            return Ok(vec![E::UserRegistered {
                user_id: *user_id,
                email: email.clone(),
                credential: *credential,
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                role: *role,
                at: *at,
            }]);
        }
        let a = s.registered.as_ref().ok_or(UserError::NotRegistered)?;
        if a.status == UserStatus::Erased {
            // Nothing is left to change; erasing again is no change either.
            return match cmd {
                C::Erase { .. } => Ok(vec![]),
                _ => Err(UserError::Erased),
            };
        }
        let active = || {
            if a.status == UserStatus::Suspended {
                Err(UserError::Suspended)
            } else {
                Ok(())
            }
        };
        Ok(match cmd {
            C::Register { .. } => unreachable!("handled above"),
            C::VerifyEmail { at } => {
                if a.email_verified {
                    vec![]
                } else {
                    vec![E::EmailVerified { at: *at }]
                }
            }
            C::RequestEmailVerification {
                token_id,
                expires_at,
                at,
            } => {
                active()?;
                if a.email_verified {
                    return Err(UserError::EmailAlreadyVerified);
                }
                if !s
                    .tokens
                    .may_issue(TokenPurpose::VerifyEmail, *token_id, *expires_at, *at)?
                {
                    return Ok(vec![]);
                }
                vec![E::EmailVerificationRequested {
                    token_id: *token_id,
                    expires_at: *expires_at,
                    at: *at,
                }]
            }
            C::ConfirmEmail { token_id, at } => {
                s.tokens.check(TokenPurpose::VerifyEmail, *token_id, *at)?;
                if a.email_verified {
                    return Err(UserError::EmailAlreadyVerified);
                }
                vec![E::EmailVerified { at: *at }]
            }
            C::RequestPasswordReset {
                token_id,
                expires_at,
                at,
            } => {
                active()?;
                if !s
                    .tokens
                    .may_issue(TokenPurpose::ResetPassword, *token_id, *expires_at, *at)?
                {
                    return Ok(vec![]);
                }
                vec![E::PasswordResetRequested {
                    token_id: *token_id,
                    expires_at: *expires_at,
                    at: *at,
                }]
            }
            C::ResetPassword {
                token_id,
                credential,
                at,
            } => {
                active()?;
                s.tokens
                    .check(TokenPurpose::ResetPassword, *token_id, *at)?;
                if credential.as_uuid().is_nil() {
                    return Err(UserError::MissingCredential);
                }
                vec![E::PasswordChanged {
                    credential: *credential,
                    reset: true,
                    at: *at,
                }]
            }
            C::ChangePassword {
                credential,
                reset,
                at,
            } => {
                active()?;
                if credential.as_uuid().is_nil() {
                    return Err(UserError::MissingCredential);
                }
                vec![E::PasswordChanged {
                    credential: *credential,
                    reset: *reset,
                    at: *at,
                }]
            }
            // Always recorded, even when suspended: ending sessions is never refused.
            C::SignOutEverywhere { at } => vec![E::SignedOutEverywhere { at: *at }],
            // Never refused either, suspended or not: consent may always be withdrawn.
            C::SetPreferences {
                preferences,
                source,
                at,
            } => {
                if *preferences == a.preferences {
                    vec![]
                } else {
                    vec![E::PreferencesChanged {
                        preferences: *preferences,
                        source: *source,
                        at: *at,
                    }]
                }
            }
            C::UpdateProfile {
                first_name,
                last_name,
                at,
            } => {
                active()?;
                check_name("first_name", first_name)?;
                check_name("last_name", last_name)?;
                if *first_name == a.first_name && *last_name == a.last_name {
                    vec![]
                } else {
                    vec![E::ProfileUpdated {
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                        at: *at,
                    }]
                }
            }
            C::AddAddress {
                address_id,
                label,
                address,
            } => {
                active()?;
                if a.addresses.contains_key(address_id) {
                    return Ok(vec![]);
                }
                if a.addresses.len() >= MAX_ADDRESSES {
                    return Err(UserError::TooManyAddresses(MAX_ADDRESSES));
                }
                check_name("label", label)?;
                vec![E::AddressAdded {
                    address_id: *address_id,
                    label: label.clone(),
                    address: address.clone(),
                }]
            }
            C::UpdateAddress {
                address_id,
                label,
                address,
            } => {
                active()?;
                if !a.addresses.contains_key(address_id) {
                    return Err(UserError::UnknownAddress(*address_id));
                }
                check_name("label", label)?;
                vec![E::AddressUpdated {
                    address_id: *address_id,
                    label: label.clone(),
                    address: address.clone(),
                }]
            }
            C::RemoveAddress { address_id } => {
                if !a.addresses.contains_key(address_id) {
                    return Err(UserError::UnknownAddress(*address_id));
                }
                vec![E::AddressRemoved {
                    address_id: *address_id,
                }]
            }
            C::ChangeRole { role } => {
                if *role == a.role {
                    return Err(UserError::SameRole(role.as_str()));
                }
                vec![E::RoleChanged {
                    from: a.role,
                    to: *role,
                }]
            }
            C::Suspend { reason, at } => {
                active()?;
                let reason = crate::value::paragraphs("reason", reason, crate::value::MAX_REASON)?;
                if reason.is_empty() {
                    return Err(UserError::MissingReason);
                }
                vec![E::UserSuspended { reason, at: *at }]
            }
            C::Reactivate { at } => {
                if a.status != UserStatus::Suspended {
                    return Err(UserError::NotSuspended);
                }
                vec![E::UserReactivated { at: *at }]
            }
            C::Erase { by, at } => vec![E::UserErased { by: *by, at: *at }],
        })
    }

    fn evolve(mut s: UserState, event: &UserEvent) -> UserState {
        use UserEvent as E;
        if let E::UserRegistered {
            user_id,
            email,
            credential,
            first_name,
            last_name,
            role,
            at,
        } = event
        {
            s.registered = Some(Account {
                user_id: *user_id,
                email: email.clone(),
                credential: *credential,
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                role: *role,
                status: UserStatus::Pending,
                email_verified: false,
                addresses: BTreeMap::new(),
                created_at: *at,
                security_version: 0,
                preferences: Preferences::default(),
            });
            return s;
        }
        let Some(a) = s.registered.as_mut() else {
            return s;
        };
        match event {
            E::UserRegistered { .. } => {}
            E::EmailVerified { .. } => {
                a.email_verified = true;
                if a.status == UserStatus::Pending {
                    a.status = UserStatus::Active;
                }
                s.tokens.spend_latest(TokenPurpose::VerifyEmail);
            }
            E::EmailVerificationRequested {
                token_id,
                expires_at,
                at,
            }
            | E::PasswordResetRequested {
                token_id,
                expires_at,
                at,
            } => {
                let purpose = if matches!(event, E::EmailVerificationRequested { .. }) {
                    TokenPurpose::VerifyEmail
                } else {
                    TokenPurpose::ResetPassword
                };
                s.tokens.issued.insert(
                    *token_id,
                    IssuedToken {
                        purpose,
                        issued_at: *at,
                        expires_at: *expires_at,
                        used: false,
                    },
                );
                match purpose {
                    TokenPurpose::VerifyEmail => s.tokens.latest_verification = Some(*token_id),
                    TokenPurpose::ResetPassword => s.tokens.latest_reset = Some(*token_id),
                }
            }
            E::PasswordChanged {
                credential, reset, ..
            } => {
                a.credential = *credential;
                a.security_version += 1;
                if *reset {
                    s.tokens.spend_latest(TokenPurpose::ResetPassword);
                } else {
                    // A password the user changed knowingly retires any outstanding reset
                    // link: it was asked for before, by whoever asked.
                    s.tokens.latest_reset = None;
                }
            }
            E::ProfileUpdated {
                first_name,
                last_name,
                ..
            } => {
                a.first_name = first_name.clone();
                a.last_name = last_name.clone();
            }
            E::AddressAdded {
                address_id,
                label,
                address,
            }
            | E::AddressUpdated {
                address_id,
                label,
                address,
            } => {
                a.addresses
                    .insert(*address_id, (label.clone(), address.clone()));
            }
            E::AddressRemoved { address_id } => {
                a.addresses.remove(address_id);
            }
            E::RoleChanged { to, .. } => {
                a.role = *to;
                a.security_version += 1;
            }
            E::UserSuspended { .. } => {
                a.status = UserStatus::Suspended;
                a.security_version += 1;
            }
            E::SignedOutEverywhere { .. } => a.security_version += 1,
            E::PreferencesChanged { preferences, .. } => a.preferences = *preferences,
            E::UserErased { .. } => {
                // As the fields read once the key is gone, so the state kept in memory
                // matches a replay.
                a.email = erased_email();
                a.first_name = None;
                a.last_name = None;
                a.addresses.clear();
                a.preferences = Preferences::default();
                a.status = UserStatus::Erased;
                a.security_version += 1;
            }
            E::UserReactivated { .. } => {
                a.status = if a.email_verified {
                    UserStatus::Active
                } else {
                    UserStatus::Pending
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests;
