//! The account's rules, given / when / then, and replays of what they record.

use chrono::Duration;
use uuid::Uuid;

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

/// Names and labels: trimmed, blank is absent, 100 characters and no more.
#[test]
fn a_name_is_trimmed_blank_is_absent_and_long_is_refused() {
    assert_eq!(
        clean_name("first_name", Some("  Ann ".into())),
        Ok(Some("Ann".into()))
    );
    assert_eq!(clean_name("first_name", Some("   ".into())), Ok(None));
    assert_eq!(clean_name("first_name", None), Ok(None));
    assert_eq!(
        clean_name("label", Some("é".repeat(100))),
        Ok(Some("é".repeat(100)))
    );
    assert_eq!(
        clean_name("label", Some("x".repeat(101))),
        Err(UserError::Invalid {
            field: "label",
            reason: "must be at most 100 characters".into()
        })
    );
    assert_eq!(
        clean_name(
            "first_name",
            Some("Ann\r\nBcc: everyone@example.com".into())
        ),
        Err(UserError::Invalid {
            field: "first_name",
            reason: "must be one line without control characters".into()
        })
    );
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
        let back = UserEvent::from_data(e.event_type(), e.schema_version(), e.to_data()).unwrap();
        User::evolve(st, &back)
    });
    assert_eq!(replayed, s);
}
