//! What the account's aggregate is asked ([`UserCommand`]) and what it records
//! ([`UserEvent`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::preferences::{ConsentSource, Preferences};
use super::role::Role;
use super::tokens::TokenId;
use crate::id::{AddressId, CredentialId, UserId};
use crate::value::{Address, Email};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    Register {
        user_id: UserId,
        email: Email,
        /// The password hash, already kept in the credentials table under this id.
        credential: CredentialId,
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
        credential: CredentialId,
        at: DateTime<Utc>,
    },
    /// A new password chosen by the user (`reset` when through a reset token).
    ChangePassword {
        credential: CredentialId,
        reset: bool,
        at: DateTime<Utc>,
    },
    /// Ends every session: tokens issued before stop working.
    SignOutEverywhere {
        at: DateTime<Utc>,
    },
    /// Records what the person consents to, all four at once.
    SetPreferences {
        preferences: Preferences,
        source: ConsentSource,
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
    /// Forget the person (the GDPR's right to erasure): the write side destroys their
    /// data key, so every personal field ever recorded about them reads as erased.
    Erase {
        by: ErasedBy,
        at: DateTime<Utc>,
    },
}

/// Who asked for an erasure: the person, after signing in again, or an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErasedBy {
    Subject,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum UserEvent {
    /// v2: `credential` names the password hash, which v1 carried itself.
    UserRegistered {
        user_id: UserId,
        #[schemars(extend("x-personal" = crate::privacy::declaration::email("/user_id")))]
        email: Email,
        credential: CredentialId,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
        first_name: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("/user_id")))]
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
    /// `reset`: through a reset token, which this consumes. v2: `credential` names the
    /// new hash, which v1 carried itself.
    PasswordChanged {
        credential: CredentialId,
        reset: bool,
        at: DateTime<Utc>,
    },
    ProfileUpdated {
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("$stream")))]
        first_name: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("$stream")))]
        last_name: Option<String>,
        at: DateTime<Utc>,
    },
    AddressAdded {
        address_id: AddressId,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("$stream")))]
        label: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::address("$stream")))]
        address: Address,
    },
    AddressUpdated {
        address_id: AddressId,
        #[schemars(extend("x-personal" = crate::privacy::declaration::optional("$stream")))]
        label: Option<String>,
        #[schemars(extend("x-personal" = crate::privacy::declaration::address("$stream")))]
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
    /// The owner (or an admin) ended every session of the account.
    SignedOutEverywhere {
        at: DateTime<Utc>,
    },
    /// What the person consents to from now on, and who recorded it.
    PreferencesChanged {
        preferences: Preferences,
        source: ConsentSource,
        at: DateTime<Utc>,
    },
    /// The person was forgotten: their data key is destroyed, and every read model drops
    /// what it holds of them. Holds no personal data itself; the audit trail keeps it.
    UserErased {
        by: ErasedBy,
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
    SignedOutEverywhere,
    PreferencesChanged,
    UserErased,
});
