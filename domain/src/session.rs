//! Sign-ins: the facts of an account's sessions (a login, a failed login, a logout, a
//! refresh-token family revoked because one of its tokens was used twice), one stream per
//! account (`session-<user id>`).
//!
//! They are events rather than rows of the gateway's session tables so that the audit
//! trail, NATS and exports carry them like every other fact, with the client's address
//! and user agent from the command's metadata. The tokens themselves never enter the log:
//! a session is named by its refresh-token family id, which opens nothing.
//!
//! Nothing forbids a sign-in fact (the gateway has already checked the password, the
//! lockout and the token when it records one), so `decide` only records, and the state
//! only counts what happened, for people reading a stream with `umctl`.

use std::convert::Infallible;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::id::UserId;

pub struct Session;

/// Why a login with an existing account's e-mail did not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInFailure {
    /// The password was wrong.
    WrongPassword,
    /// The password was right, but the account is suspended.
    Suspended,
}

/// Why a refresh-token family was revoked by the engine rather than by its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    /// A spent refresh token of the family was presented again: it was copied.
    RefreshTokenReused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    RecordSignIn {
        user_id: UserId,
        family_id: Uuid,
        at: DateTime<Utc>,
    },
    RecordFailedSignIn {
        user_id: UserId,
        reason: SignInFailure,
        at: DateTime<Utc>,
    },
    RecordSignOut {
        user_id: UserId,
        family_id: Uuid,
        at: DateTime<Utc>,
    },
    RecordRevocation {
        user_id: UserId,
        family_id: Uuid,
        reason: Revocation,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SessionEvent {
    /// A login succeeded and opened refresh-token family `family_id`.
    SignedIn {
        user_id: UserId,
        family_id: Uuid,
        at: DateTime<Utc>,
    },
    /// A login named this account and did not sign in.
    SignInFailed {
        user_id: UserId,
        reason: SignInFailure,
        at: DateTime<Utc>,
    },
    /// The owner signed out of family `family_id`.
    SignedOut {
        user_id: UserId,
        family_id: Uuid,
        at: DateTime<Utc>,
    },
    /// The engine revoked family `family_id`.
    SessionRevoked {
        user_id: UserId,
        family_id: Uuid,
        reason: Revocation,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(SessionEvent {
    SignedIn,
    SignInFailed,
    SignedOut,
    SessionRevoked,
});
impl Upcast for SessionEvent {}

/// What an account's sessions came to, for people reading the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionState {
    pub sign_ins: u64,
    pub failed_sign_ins: u64,
    pub sign_outs: u64,
    pub revocations: u64,
    pub last_sign_in: Option<DateTime<Utc>>,
}

impl Aggregate for Session {
    const CATEGORY: &'static str = "session";
    type State = SessionState;
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = Infallible;

    fn decide(_: &SessionState, cmd: &SessionCommand) -> Result<Vec<SessionEvent>, Infallible> {
        use SessionCommand as C;
        use SessionEvent as E;
        Ok(vec![match cmd.clone() {
            C::RecordSignIn {
                user_id,
                family_id,
                at,
            } => E::SignedIn {
                user_id,
                family_id,
                at,
            },
            C::RecordFailedSignIn {
                user_id,
                reason,
                at,
            } => E::SignInFailed {
                user_id,
                reason,
                at,
            },
            C::RecordSignOut {
                user_id,
                family_id,
                at,
            } => E::SignedOut {
                user_id,
                family_id,
                at,
            },
            C::RecordRevocation {
                user_id,
                family_id,
                reason,
                at,
            } => E::SessionRevoked {
                user_id,
                family_id,
                reason,
                at,
            },
        }])
    }

    fn evolve(mut s: SessionState, event: &SessionEvent) -> SessionState {
        match event {
            SessionEvent::SignedIn { at, .. } => {
                s.sign_ins += 1;
                s.last_sign_in = Some(*at);
            }
            SessionEvent::SignInFailed { .. } => s.failed_sign_ins += 1,
            SessionEvent::SignedOut { .. } => s.sign_outs += 1,
            SessionEvent::SessionRevoked { .. } => s.revocations += 1,
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_sign_in_when_it_is_replayed_then_it_is_counted() {
        let user_id = UserId::new(Uuid::new_v4());
        let at = Utc::now();
        let family_id = Uuid::new_v4();
        let events = Session::decide(
            &SessionState::default(),
            &SessionCommand::RecordSignIn {
                user_id,
                family_id,
                at,
            },
        )
        .unwrap();
        assert_eq!(
            events,
            vec![SessionEvent::SignedIn {
                user_id,
                family_id,
                at
            }]
        );
        let state = events.iter().fold(SessionState::default(), Session::evolve);
        assert_eq!((state.sign_ins, state.last_sign_in), (1, Some(at)));
    }
}
