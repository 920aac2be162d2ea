//! Verification and reset tokens as the account's stream records them: each token's id,
//! purpose and expiry, and the latest of each purpose (the only one accepted, once).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::UserError;

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
    pub(super) fn latest(&self, purpose: TokenPurpose) -> Option<TokenId> {
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
    pub(super) fn may_issue(
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

    pub(super) fn spend_latest(&mut self, purpose: TokenPurpose) {
        if let Some(t) = self.latest(purpose).and_then(|id| self.issued.get_mut(&id)) {
            t.used = true;
        }
    }
}
