//! The account's rules, given / when / then, and replays of what they record.

use chrono::Duration;
use uuid::Uuid;

use super::*;

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
}

fn cred(n: u128) -> CredentialId {
    CredentialId::new(Uuid::from_u128(0xc0de_0000 + n))
}

fn token(n: u128) -> TokenId {
    TokenId::new(Uuid::from_u128(n))
}

fn given(commands: &[UserCommand]) -> UserState {
    let register = UserCommand::Register {
        user_id: UserId::new(Uuid::from_u128(1)),
        email: Email::parse("ann@example.com").unwrap(),
        credential: cred(1),
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
        credential: cred(2),
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
            credential: cred(2),
            reset: true,
            at: at(10),
        }])
    );
    let s = given(&[request_reset(20, 0), reset(20, 10)]);
    assert_eq!(s.registered.as_ref().unwrap().credential, cred(2));
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
            credential: cred(3),
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

/// What ends the sessions already open raises the security version; nothing else does.
#[test]
fn the_security_version_rises_with_password_role_suspension_and_signing_out_everywhere() {
    let version = |s: &UserState| s.registered.as_ref().unwrap().security_version;
    let names = UserCommand::UpdateProfile {
        first_name: Some("Ann".into()),
        last_name: None,
        at: at(1),
    };
    let base = given(&[request_verification(10, 0), confirm(10, 1), names.clone()]);
    assert_eq!(version(&base), 0);
    let steps = [
        UserCommand::ChangeRole { role: Role::Staff },
        UserCommand::ChangePassword {
            credential: cred(4),
            reset: false,
            at: at(2),
        },
        UserCommand::SignOutEverywhere { at: at(3) },
        UserCommand::Suspend {
            reason: "fraud".into(),
            at: at(4),
        },
        // Signing out everywhere is never refused, suspended or not.
        UserCommand::SignOutEverywhere { at: at(5) },
    ];
    let mut all = vec![request_verification(10, 0), confirm(10, 1), names];
    for (n, step) in steps.into_iter().enumerate() {
        all.push(step);
        assert_eq!(
            version(&given(&all)),
            n as u32 + 1,
            "after {:?}",
            all.last()
        );
    }
    all.push(UserCommand::Reactivate { at: at(6) });
    assert_eq!(
        version(&given(&all)),
        5,
        "a reactivation revives no old token"
    );
}

/// A v1 event carried the hash; it reads back naming it by the id derived from it.
#[test]
fn v1_events_with_a_hash_upcast_to_the_credential_derived_from_it() {
    use crate::aggregate::DomainEvent;
    let registered = serde_json::json!({
        "user_id": Uuid::from_u128(1),
        "email": "ann@example.com",
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk",
        "first_name": "Ann",
        "last_name": null,
        "role": "staff",
        "at": at(0),
    });
    let changed = serde_json::json!({
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3",
        "reset": true,
        "at": at(1),
    });
    let old = legacy_credential("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk");
    let new = legacy_credential("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3");
    assert_ne!(old, new);
    let e = UserEvent::from_data("UserRegistered", 1, registered.clone()).unwrap();
    let s = User::evolve(UserState::default(), &e);
    let a = s.registered.as_ref().unwrap();
    assert_eq!((a.credential, a.role), (old, Role::Staff));
    let e = UserEvent::from_data("PasswordChanged", 1, changed.clone()).unwrap();
    assert_eq!(
        e,
        UserEvent::PasswordChanged {
            credential: new,
            reset: true,
            at: at(1)
        }
    );
    assert!(
        !e.to_data().to_string().contains("argon2"),
        "v2 holds no hash"
    );
    assert_eq!(e.schema_version(), 2);
    assert_eq!(
        legacy_hash("PasswordChanged", 1, &changed).as_deref(),
        Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3")
    );
    assert_eq!(legacy_hash("PasswordChanged", 2, &e.to_data()), None);
    assert!(matches!(
        UserEvent::from_data("UserRegistered", 1, serde_json::json!({"email": 3})),
        Err(crate::EventDecodeError::BadShape { .. })
    ));
}

/// Consent is recorded when it changes, with its source, and may always be withdrawn.
#[test]
fn preferences_are_recorded_when_they_change_even_when_suspended() {
    let yes = Preferences {
        marketing_email: true,
        ..Preferences::default()
    };
    let set = |p: Preferences, source: ConsentSource| UserCommand::SetPreferences {
        preferences: p,
        source,
        at: at(1),
    };
    let s = given(&[]);
    assert_eq!(
        s.registered.as_ref().unwrap().preferences,
        Preferences::default()
    );
    assert_eq!(
        User::decide(&s, &set(yes, ConsentSource::User)),
        Ok(vec![UserEvent::PreferencesChanged {
            preferences: yes,
            source: ConsentSource::User,
            at: at(1)
        }])
    );
    let s = given(&[set(yes, ConsentSource::User)]);
    assert_eq!(s.registered.as_ref().unwrap().preferences, yes);
    assert_eq!(
        User::decide(&s, &set(yes, ConsentSource::Admin)),
        Ok(vec![])
    );
    let suspended = given(&[
        set(yes, ConsentSource::User),
        UserCommand::Suspend {
            reason: "fraud".into(),
            at: at(2),
        },
    ]);
    let withdrawn = User::decide(
        &suspended,
        &set(Preferences::default(), ConsentSource::Admin),
    );
    assert_eq!(withdrawn.map(|e| e.len()), Ok(1));
}

/// An erasure leaves the account as a replay reads it once the key is gone, cuts its
/// sessions, and refuses everything after it but another erasure, which is no change.
#[test]
fn an_erased_account_keeps_nothing_personal_and_takes_no_more_commands() {
    let address: Address = serde_json::from_value(serde_json::json!({
        "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
    }))
    .unwrap();
    let s = given(&[
        UserCommand::UpdateProfile {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            at: at(1),
        },
        UserCommand::AddAddress {
            address_id: AddressId::new(Uuid::from_u128(9)),
            label: Some("home".into()),
            address,
        },
    ]);
    let before = s.registered.clone().unwrap().security_version;
    let erase = UserCommand::Erase {
        by: ErasedBy::Subject,
        at: at(2),
    };
    let events = User::decide(&s, &erase).unwrap();
    assert_eq!(
        events,
        vec![UserEvent::UserErased {
            by: ErasedBy::Subject,
            at: at(2)
        }]
    );
    let s = events.iter().fold(s, User::evolve);
    let a = s.registered.clone().unwrap();
    assert_eq!(a.status, UserStatus::Erased);
    assert_eq!(a.email, erased_email());
    assert_eq!((a.first_name, a.last_name), (None, None));
    assert!(a.addresses.is_empty());
    assert_eq!(a.security_version, before + 1, "sessions are cut");
    assert_eq!(
        User::decide(&s, &erase),
        Ok(vec![]),
        "erasing again changes nothing"
    );
    for refused in [
        UserCommand::VerifyEmail { at: at(3) },
        UserCommand::Reactivate { at: at(3) },
        UserCommand::UpdateProfile {
            first_name: Some("Ann".into()),
            last_name: None,
            at: at(3),
        },
    ] {
        assert_eq!(
            User::decide(&s, &refused),
            Err(UserError::Erased),
            "{refused:?}"
        );
    }
}
