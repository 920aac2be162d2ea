//! A person with an account: registration, verification, credentials, profile, addresses,
//! role and suspension. The password hash is computed outside (argon2, in the gateway) and
//! arrives inside the command; the password itself never reaches the domain.
//!
//! E-mail verification and password reset go through single-use, expiring tokens. The
//! stream records only a token's id and expiry; what the user receives is that id with a MAC
//! the gateway computes from a server secret, so the log holds nothing that would let a
//! reader of it verify an address or take over an account. Only the latest token of each
//! purpose is accepted, once, before it expires.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{AddressId, UserId};
use crate::value::{Address, Email};

pub struct User;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Vendor,
    Staff,
    Admin,
    Analyst,
    Auditor,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Vendor => "vendor",
            Role::Staff => "staff",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Pending,
    Active,
    Suspended,
}

/// Names one e-mail verification or password reset token.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct TokenId(Uuid);

impl TokenId {
    pub const fn new(id: Uuid) -> Self {
        TokenId(id)
    }

    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Uuid> for TokenId {
    fn from(id: Uuid) -> Self {
        TokenId(id)
    }
}

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }
}

/// How soon after a token another of the same purpose may be issued: a resend or a
/// forgotten-password form cannot be used to flood someone's mailbox.
pub const TOKEN_REISSUE_INTERVAL: Duration = Duration::seconds(60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    Register {
        user_id: UserId,
        email: Email,
        password_hash: String,
        first_name: Option<String>,
        last_name: Option<String>,
        role: Role,
        at: DateTime<Utc>,
    },
    /// The address is known to be the user's without a token (the bootstrap admin, whose
    /// address an operator configured).
    VerifyEmail {
        at: DateTime<Utc>,
    },
    /// Issues a verification token (at registration, or a resend).
    RequestEmailVerification {
        token_id: TokenId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The user presented verification token `token_id` (its MAC already checked).
    ConfirmEmail {
        token_id: TokenId,
        at: DateTime<Utc>,
    },
    /// Issues a password reset token (the forgotten-password form).
    RequestPasswordReset {
        token_id: TokenId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A new password through reset token `token_id` (its MAC already checked).
    ResetPassword {
        token_id: TokenId,
        password_hash: String,
        at: DateTime<Utc>,
    },
    /// A new password chosen by the user (`reset` when through a reset token).
    ChangePassword {
        password_hash: String,
        reset: bool,
        at: DateTime<Utc>,
    },
    UpdateProfile {
        first_name: Option<String>,
        last_name: Option<String>,
        at: DateTime<Utc>,
    },
    AddAddress {
        address_id: AddressId,
        label: Option<String>,
        address: Address,
    },
    UpdateAddress {
        address_id: AddressId,
        label: Option<String>,
        address: Address,
    },
    RemoveAddress {
        address_id: AddressId,
    },
    ChangeRole {
        role: Role,
    },
    Suspend {
        reason: String,
        at: DateTime<Utc>,
    },
    Reactivate {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum UserEvent {
    UserRegistered {
        user_id: UserId,
        email: Email,
        password_hash: String,
        first_name: Option<String>,
        last_name: Option<String>,
        role: Role,
        at: DateTime<Utc>,
    },
    EmailVerified {
        at: DateTime<Utc>,
    },
    EmailVerificationRequested {
        token_id: TokenId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    PasswordResetRequested {
        token_id: TokenId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// `reset`: through a reset token, which this consumes.
    PasswordChanged {
        password_hash: String,
        reset: bool,
        at: DateTime<Utc>,
    },
    ProfileUpdated {
        first_name: Option<String>,
        last_name: Option<String>,
        at: DateTime<Utc>,
    },
    AddressAdded {
        address_id: AddressId,
        label: Option<String>,
        address: Address,
    },
    AddressUpdated {
        address_id: AddressId,
        label: Option<String>,
        address: Address,
    },
    AddressRemoved {
        address_id: AddressId,
    },
    RoleChanged {
        from: Role,
        to: Role,
    },
    UserSuspended {
        reason: String,
        at: DateTime<Utc>,
    },
    UserReactivated {
        at: DateTime<Utc>,
    },
}

crate::domain_event!(UserEvent {
    UserRegistered,
    EmailVerified,
    EmailVerificationRequested,
    PasswordResetRequested,
    PasswordChanged,
    ProfileUpdated,
    AddressAdded,
    AddressUpdated,
    AddressRemoved,
    RoleChanged,
    UserSuspended,
    UserReactivated,
});
impl Upcast for UserEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    pub registered: Option<Account>,
    pub tokens: Tokens,
}

/// Every verification and reset token issued to the account, and the latest of each
/// purpose (the only one accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub issued: BTreeMap<TokenId, IssuedToken>,
    pub latest_verification: Option<TokenId>,
    pub latest_reset: Option<TokenId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub purpose: TokenPurpose,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

impl Tokens {
    fn latest(&self, purpose: TokenPurpose) -> Option<TokenId> {
        match purpose {
            TokenPurpose::VerifyEmail => self.latest_verification,
            TokenPurpose::ResetPassword => self.latest_reset,
        }
    }

    /// Whether `token_id` may be spent for `purpose` at `at`, and if not, why.
    pub fn check(
        &self,
        purpose: TokenPurpose,
        token_id: TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), UserError> {
        let token = self
            .issued
            .get(&token_id)
            .filter(|t| t.purpose == purpose)
            .ok_or(UserError::UnknownToken)?;
        if token.used {
            return Err(UserError::TokenUsed);
        }
        if self.latest(purpose) != Some(token_id) {
            return Err(UserError::TokenSuperseded);
        }
        if at >= token.expires_at {
            return Err(UserError::TokenExpired);
        }
        Ok(())
    }

    /// Refuses a new token while the latest of its purpose is younger than
    /// [`TOKEN_REISSUE_INTERVAL`]; a retry of the same request (same id) is recognised.
    fn may_issue(
        &self,
        purpose: TokenPurpose,
        token_id: TokenId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, UserError> {
        if self.issued.contains_key(&token_id) {
            return Ok(false);
        }
        if expires_at <= at {
            return Err(UserError::TokenExpiresBeforeIssued);
        }
        let last = self.latest(purpose).and_then(|id| self.issued.get(&id));
        if let Some(last) = last {
            let next = last.issued_at + TOKEN_REISSUE_INTERVAL;
            if !last.used && at < next {
                return Err(UserError::TokenRecentlyIssued {
                    retry_after_secs: (next - at).num_seconds().max(1),
                });
            }
        }
        Ok(true)
    }

    fn spend_latest(&mut self, purpose: TokenPurpose) {
        if let Some(t) = self.latest(purpose).and_then(|id| self.issued.get_mut(&id)) {
            t.used = true;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Role,
    pub status: UserStatus,
    pub email_verified: bool,
    pub addresses: BTreeMap<AddressId, (Option<String>, Address)>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("the account already exists")]
    AlreadyRegistered,
    #[error("no such account")]
    NotRegistered,
    #[error("the account is suspended")]
    Suspended,
    #[error("the account is not suspended")]
    NotSuspended,
    #[error("{field}: must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("a password hash is required")]
    MissingPasswordHash,
    #[error("an account holds at most {0} addresses")]
    TooManyAddresses(usize),
    #[error("no address {0}")]
    UnknownAddress(AddressId),
    #[error("the account already has the role {0}")]
    SameRole(&'static str),
    #[error("a suspension needs a reason")]
    MissingReason,
    #[error("the e-mail address is already verified")]
    EmailAlreadyVerified,
    #[error("no such token was issued to this account")]
    UnknownToken,
    #[error("the token has already been used")]
    TokenUsed,
    #[error("a newer token has replaced this one")]
    TokenSuperseded,
    #[error("the token has expired")]
    TokenExpired,
    #[error("a token must expire after it is issued")]
    TokenExpiresBeforeIssued,
    #[error("a token was issued moments ago; another may be asked for in {retry_after_secs} s")]
    TokenRecentlyIssued { retry_after_secs: i64 },
}

pub const MAX_ADDRESSES: usize = 20;
const MAX_NAME: usize = 100;

fn check_name(field: &'static str, v: &Option<String>) -> Result<(), UserError> {
    match v {
        Some(s) if s.chars().count() > MAX_NAME => Err(UserError::TooLong {
            field,
            max: MAX_NAME,
        }),
        _ => Ok(()),
    }
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
            password_hash,
            first_name,
            last_name,
            role,
            at,
        } = cmd
        {
            if s.registered.is_some() {
                return Err(UserError::AlreadyRegistered);
            }
            if password_hash.is_empty() {
                return Err(UserError::MissingPasswordHash);
            }
            check_name("first_name", first_name)?;
            check_name("last_name", last_name)?;
            return Ok(vec![E::UserRegistered {
                user_id: *user_id,
                email: email.clone(),
                password_hash: password_hash.clone(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                role: *role,
                at: *at,
            }]);
        }
        let a = s.registered.as_ref().ok_or(UserError::NotRegistered)?;
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
                password_hash,
                at,
            } => {
                active()?;
                s.tokens
                    .check(TokenPurpose::ResetPassword, *token_id, *at)?;
                if password_hash.is_empty() {
                    return Err(UserError::MissingPasswordHash);
                }
                vec![E::PasswordChanged {
                    password_hash: password_hash.clone(),
                    reset: true,
                    at: *at,
                }]
            }
            C::ChangePassword {
                password_hash,
                reset,
                at,
            } => {
                active()?;
                if password_hash.is_empty() {
                    return Err(UserError::MissingPasswordHash);
                }
                vec![E::PasswordChanged {
                    password_hash: password_hash.clone(),
                    reset: *reset,
                    at: *at,
                }]
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
                if reason.trim().is_empty() {
                    return Err(UserError::MissingReason);
                }
                vec![E::UserSuspended {
                    reason: reason.trim().to_owned(),
                    at: *at,
                }]
            }
            C::Reactivate { at } => {
                if a.status != UserStatus::Suspended {
                    return Err(UserError::NotSuspended);
                }
                vec![E::UserReactivated { at: *at }]
            }
        })
    }

    fn evolve(mut s: UserState, event: &UserEvent) -> UserState {
        use UserEvent as E;
        if let E::UserRegistered {
            user_id,
            email,
            password_hash,
            first_name,
            last_name,
            role,
            at,
        } = event
        {
            s.registered = Some(Account {
                user_id: *user_id,
                email: email.clone(),
                password_hash: password_hash.clone(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                role: *role,
                status: UserStatus::Pending,
                email_verified: false,
                addresses: BTreeMap::new(),
                created_at: *at,
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
                password_hash,
                reset,
                ..
            } => {
                a.password_hash = password_hash.clone();
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
            E::RoleChanged { to, .. } => a.role = *to,
            E::UserSuspended { .. } => a.status = UserStatus::Suspended,
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
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn token(n: u128) -> TokenId {
        TokenId::new(Uuid::from_u128(n))
    }

    fn given(commands: &[UserCommand]) -> UserState {
        let register = UserCommand::Register {
            user_id: UserId::new(Uuid::from_u128(1)),
            email: Email::parse("ann@example.com").unwrap(),
            password_hash: "$argon2id$old".into(),
            first_name: None,
            last_name: None,
            role: Role::Customer,
            at: at(0),
        };
        std::iter::once(&register)
            .chain(commands)
            .fold(UserState::default(), |s, c| {
                let events = User::decide(&s, c).expect("a given command succeeds");
                events.iter().fold(s, User::evolve)
            })
    }

    fn request_verification(n: u128, minute: i64) -> UserCommand {
        UserCommand::RequestEmailVerification {
            token_id: token(n),
            expires_at: at(minute + 60),
            at: at(minute),
        }
    }

    fn request_reset(n: u128, minute: i64) -> UserCommand {
        UserCommand::RequestPasswordReset {
            token_id: token(n),
            expires_at: at(minute + 60),
            at: at(minute),
        }
    }

    fn confirm(n: u128, minute: i64) -> UserCommand {
        UserCommand::ConfirmEmail {
            token_id: token(n),
            at: at(minute),
        }
    }

    fn reset(n: u128, minute: i64) -> UserCommand {
        UserCommand::ResetPassword {
            token_id: token(n),
            password_hash: "$argon2id$new".into(),
            at: at(minute),
        }
    }

    #[test]
    fn the_latest_verification_token_verifies_once() {
        let s = given(&[request_verification(10, 0)]);
        assert_eq!(
            User::decide(&s, &confirm(10, 5)),
            Ok(vec![UserEvent::EmailVerified { at: at(5) }])
        );
        let s = given(&[request_verification(10, 0), confirm(10, 5)]);
        let a = s.registered.as_ref().unwrap();
        assert_eq!((a.email_verified, a.status), (true, UserStatus::Active));
        assert_eq!(User::decide(&s, &confirm(10, 6)), Err(UserError::TokenUsed));
        assert_eq!(
            User::decide(&s, &request_verification(11, 7)),
            Err(UserError::EmailAlreadyVerified)
        );
    }

    #[test]
    fn expired_superseded_and_unknown_verification_tokens_are_refused() {
        let s = given(&[request_verification(10, 0)]);
        assert_eq!(
            User::decide(&s, &confirm(10, 60)),
            Err(UserError::TokenExpired)
        );
        assert_eq!(
            User::decide(&s, &confirm(99, 1)),
            Err(UserError::UnknownToken)
        );

        let s = given(&[request_verification(10, 0), request_verification(11, 2)]);
        assert_eq!(
            User::decide(&s, &confirm(10, 3)),
            Err(UserError::TokenSuperseded)
        );
        assert!(User::decide(&s, &confirm(11, 3)).is_ok());
        // A reset token is no verification token, whatever its id.
        let s = given(&[request_reset(20, 0)]);
        assert_eq!(
            User::decide(&s, &confirm(20, 1)),
            Err(UserError::UnknownToken)
        );
    }

    #[test]
    fn tokens_are_not_reissued_within_the_interval_but_a_retry_is_recognised() {
        let s = given(&[request_verification(10, 0)]);
        assert_eq!(
            User::decide(
                &s,
                &UserCommand::RequestEmailVerification {
                    token_id: token(11),
                    expires_at: at(60),
                    at: at(0) + Duration::seconds(20),
                }
            ),
            Err(UserError::TokenRecentlyIssued {
                retry_after_secs: 40
            })
        );
        assert_eq!(User::decide(&s, &request_verification(10, 0)), Ok(vec![]));
        assert_eq!(
            User::decide(
                &s,
                &UserCommand::RequestPasswordReset {
                    token_id: token(12),
                    expires_at: at(0),
                    at: at(1),
                }
            ),
            Err(UserError::TokenExpiresBeforeIssued)
        );
    }

    #[test]
    fn a_reset_token_changes_the_password_once() {
        let s = given(&[request_reset(20, 0)]);
        assert_eq!(
            User::decide(&s, &reset(20, 10)),
            Ok(vec![UserEvent::PasswordChanged {
                password_hash: "$argon2id$new".into(),
                reset: true,
                at: at(10),
            }])
        );
        let s = given(&[request_reset(20, 0), reset(20, 10)]);
        assert_eq!(
            s.registered.as_ref().unwrap().password_hash,
            "$argon2id$new"
        );
        assert_eq!(User::decide(&s, &reset(20, 11)), Err(UserError::TokenUsed));
        // Once spent, a new reset may be asked for at once.
        assert!(User::decide(&s, &request_reset(21, 11)).is_ok());

        let s = given(&[request_reset(20, 0)]);
        assert_eq!(
            User::decide(&s, &reset(20, 61)),
            Err(UserError::TokenExpired)
        );
    }

    #[test]
    fn a_knowing_password_change_retires_the_reset_link_and_suspension_blocks_resets() {
        let s = given(&[
            request_reset(20, 0),
            UserCommand::ChangePassword {
                password_hash: "$argon2id$chosen".into(),
                reset: false,
                at: at(1),
            },
        ]);
        assert_eq!(
            User::decide(&s, &reset(20, 2)),
            Err(UserError::TokenSuperseded)
        );
        let s = given(&[
            request_reset(20, 0),
            UserCommand::Suspend {
                reason: "fraud".into(),
                at: at(1),
            },
        ]);
        assert_eq!(User::decide(&s, &reset(20, 2)), Err(UserError::Suspended));
        assert_eq!(
            User::decide(&s, &request_reset(21, 5)),
            Err(UserError::Suspended)
        );
    }

    #[test]
    fn token_events_replay_from_their_stored_form() {
        use crate::aggregate::DomainEvent;
        let s = given(&[request_verification(10, 0), request_reset(20, 1)]);
        let events = [
            UserEvent::EmailVerificationRequested {
                token_id: token(10),
                expires_at: at(60),
                at: at(0),
            },
            UserEvent::PasswordResetRequested {
                token_id: token(20),
                expires_at: at(61),
                at: at(1),
            },
        ];
        let replayed = events.iter().fold(given(&[]), |st, e| {
            let back =
                UserEvent::from_data(e.event_type(), e.schema_version(), e.to_data()).unwrap();
            User::evolve(st, &back)
        });
        assert_eq!(replayed, s);
    }
}
