//! The delivery of one notification: the `notification-<id>` stream's aggregate.
//!
//! What to send is derived from other streams' events by the `notifications` read model;
//! this stream, `notification-<id>`, records only what happened to the message: each attempt
//! is claimed (`DeliveryStarted`, with a lease) before anything leaves the engine, then ends
//! `NotificationSent` or `NotificationFailed`. Claiming through the stream's expected
//! version means two workers racing for the same message cannot both send it: the second
//! append conflicts, and deciding again finds the attempt in flight. A worker that dies
//! mid-attempt leaves a lease that runs out, after which another may try.
//!
//! A delivery given up (its last attempt failed with no retry) stays failed until staff
//! retry it (`Retry`, from the console's outbox page): `NotificationRetried` opens a fresh
//! round of attempts, numbered from 1 again, so the worker's attempt bound applies to the
//! round and a retried message gets as many tries as a new one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};

pub struct Notification;

/// Names one notification; derived from the event that caused it, so deriving it twice
/// (a rebuild, a second worker) names the same one.
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
pub struct NotificationId(Uuid);

impl NotificationId {
    pub const fn new(id: Uuid) -> Self {
        NotificationId(id)
    }

    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The notification that event `source` causes for `recipient` (`""` when the event has
    /// one recipient).
    pub fn derive(source: Uuid, recipient: &str) -> Self {
        NotificationId(Uuid::new_v5(
            &source,
            format!("notification:{recipient}").as_bytes(),
        ))
    }
}

impl std::fmt::Display for NotificationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The longest error text kept; a transport can answer with whole pages.
pub const MAX_ERROR_LEN: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationCommand {
    /// Claims the next attempt until `lease_until`; refused while another attempt is in
    /// flight, after delivery, before a scheduled retry, or past `max_attempts`.
    StartDelivery {
        max_attempts: u32,
        lease_until: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The transport accepted the message.
    RecordSent { attempt: u32, at: DateTime<Utc> },
    /// The transport refused it; `retry_at` is when to try again, `None` to give up.
    RecordFailure {
        attempt: u32,
        error: String,
        retry_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    /// Staff ask for a fresh round of attempts at a delivery that was given up; refused
    /// unless it was.
    Retry { at: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum NotificationEvent {
    DeliveryStarted {
        attempt: u32,
        lease_until: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    NotificationSent {
        attempt: u32,
        at: DateTime<Utc>,
    },
    NotificationFailed {
        attempt: u32,
        error: String,
        /// `None`: no more attempts; the notification has failed.
        retry_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    /// A delivery given up gets a fresh round of attempts (who asked, and why, are in the
    /// event's metadata).
    NotificationRetried {
        /// The round this opens: 2 for the first retry (the first round is 1).
        round: u32,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(NotificationEvent {
    DeliveryStarted,
    NotificationSent,
    NotificationFailed,
    NotificationRetried,
});
impl Upcast for NotificationEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationState {
    /// Attempts started in this round.
    pub attempts: u32,
    /// Rounds of attempts before this one: how often staff retried a given-up delivery.
    pub retries: u32,
    /// The attempt in flight and when its claim lapses.
    pub in_flight: Option<(u32, DateTime<Utc>)>,
    /// When the last failure asked to be retried.
    pub retry_at: Option<DateTime<Utc>>,
    pub sent: bool,
    pub gave_up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("the notification was already sent")]
    AlreadySent,
    #[error("delivery was given up after {0} attempts")]
    GaveUp(u32),
    #[error("attempt {attempt} is in flight until {until}")]
    InFlight { attempt: u32, until: DateTime<Utc> },
    #[error("the next attempt is due at {0}")]
    NotDue(DateTime<Utc>),
    #[error("all {0} attempts are spent")]
    AttemptsExhausted(u32),
    #[error("attempt {0} is not the one in flight")]
    NotInFlight(u32),
    #[error("a lease must end after it starts")]
    LeaseInThePast,
    #[error("only a delivery that was given up can be retried; this one is still pending")]
    NotGivenUp,
}

impl Aggregate for Notification {
    const CATEGORY: &'static str = "notification";
    type State = NotificationState;
    type Command = NotificationCommand;
    type Event = NotificationEvent;
    type Error = NotificationError;

    fn decide(
        s: &NotificationState,
        cmd: &NotificationCommand,
    ) -> Result<Vec<NotificationEvent>, NotificationError> {
        use NotificationCommand as C;
        use NotificationEvent as E;
        if s.sent {
            return Err(NotificationError::AlreadySent);
        }
        if let C::Retry { at } = cmd {
            if let Some((attempt, until)) = s.in_flight.filter(|(_, until)| at < until) {
                return Err(NotificationError::InFlight { attempt, until });
            }
            if !s.gave_up {
                return Err(NotificationError::NotGivenUp);
            }
            return Ok(vec![E::NotificationRetried {
                round: s.retries + 2,
                at: *at,
            }]);
        }
        if s.gave_up {
            return Err(NotificationError::GaveUp(s.attempts));
        }
        Ok(match cmd {
            C::StartDelivery {
                max_attempts,
                lease_until,
                at,
            } => {
                if let Some((attempt, until)) = s.in_flight {
                    if *at < until {
                        return Err(NotificationError::InFlight { attempt, until });
                    }
                }
                if let Some(due) = s.retry_at.filter(|due| at < due) {
                    return Err(NotificationError::NotDue(due));
                }
                if s.attempts >= *max_attempts {
                    return Err(NotificationError::AttemptsExhausted(s.attempts));
                }
                if lease_until <= at {
                    return Err(NotificationError::LeaseInThePast);
                }
                vec![E::DeliveryStarted {
                    attempt: s.attempts + 1,
                    lease_until: *lease_until,
                    at: *at,
                }]
            }
            // A sender whose lease lapsed may still have delivered: the fact is recorded
            // whichever attempt it was, since the message did leave.
            C::RecordSent { attempt, at } => {
                if *attempt == 0 || *attempt > s.attempts {
                    return Err(NotificationError::NotInFlight(*attempt));
                }
                vec![E::NotificationSent {
                    attempt: *attempt,
                    at: *at,
                }]
            }
            C::RecordFailure {
                attempt,
                error,
                retry_at,
                at,
            } => {
                if s.in_flight.map(|(a, _)| a) != Some(*attempt) {
                    return Err(NotificationError::NotInFlight(*attempt));
                }
                vec![E::NotificationFailed {
                    attempt: *attempt,
                    error: error.chars().take(MAX_ERROR_LEN).collect(),
                    retry_at: *retry_at,
                    at: *at,
                }]
            }
            C::Retry { .. } => unreachable!("decided above"),
        })
    }

    fn evolve(mut s: NotificationState, event: &NotificationEvent) -> NotificationState {
        match event {
            NotificationEvent::DeliveryStarted {
                attempt,
                lease_until,
                ..
            } => {
                s.attempts = *attempt;
                s.in_flight = Some((*attempt, *lease_until));
                s.retry_at = None;
            }
            NotificationEvent::NotificationSent { .. } => {
                s.sent = true;
                s.in_flight = None;
            }
            NotificationEvent::NotificationFailed { retry_at, .. } => {
                s.in_flight = None;
                s.retry_at = *retry_at;
                s.gave_up = retry_at.is_none();
            }
            NotificationEvent::NotificationRetried { round, .. } => {
                s.retries = round.saturating_sub(1);
                s.attempts = 0;
                s.in_flight = None;
                s.retry_at = None;
                s.gave_up = false;
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn start(now: i64) -> NotificationCommand {
        NotificationCommand::StartDelivery {
            max_attempts: 2,
            lease_until: at(now) + Duration::seconds(30),
            at: at(now),
        }
    }

    fn given(commands: &[NotificationCommand]) -> NotificationState {
        commands.iter().fold(NotificationState::default(), |s, c| {
            let events = Notification::decide(&s, c).expect("a given command succeeds");
            events.iter().fold(s, Notification::evolve)
        })
    }

    #[test]
    fn a_claimed_attempt_blocks_a_second_sender_until_its_lease_lapses() {
        let s = given(&[start(0)]);
        assert_eq!(
            Notification::decide(&s, &start(10)),
            Err(NotificationError::InFlight {
                attempt: 1,
                until: at(30)
            })
        );
        // The first worker died: after the lease another may claim attempt 2.
        assert!(matches!(
            Notification::decide(&s, &start(31)).unwrap()[..],
            [NotificationEvent::DeliveryStarted { attempt: 2, .. }]
        ));
    }

    #[test]
    fn a_sent_notification_is_never_claimed_again() {
        let s = given(&[
            start(0),
            NotificationCommand::RecordSent {
                attempt: 1,
                at: at(1),
            },
        ]);
        assert!(s.sent);
        assert_eq!(
            Notification::decide(&s, &start(100)),
            Err(NotificationError::AlreadySent)
        );
    }

    #[test]
    fn failures_wait_for_their_retry_and_the_last_one_gives_up() {
        let fail = |attempt, retry_at| NotificationCommand::RecordFailure {
            attempt,
            error: "x".repeat(5_000),
            retry_at,
            at: at(2),
        };
        let s = given(&[start(0), fail(1, Some(at(60)))]);
        assert_eq!(
            Notification::decide(&s, &start(59)),
            Err(NotificationError::NotDue(at(60)))
        );
        let events = Notification::decide(&s, &fail(1, None));
        assert_eq!(events, Err(NotificationError::NotInFlight(1)));

        let s = given(&[start(0), fail(1, Some(at(60))), start(60)]);
        let events = Notification::decide(&s, &fail(2, None)).unwrap();
        match &events[..] {
            [NotificationEvent::NotificationFailed { error, .. }] => {
                assert_eq!(error.len(), MAX_ERROR_LEN, "long errors are cut")
            }
            other => panic!("unexpected {other:?}"),
        }
        let s = events.iter().fold(s, Notification::evolve);
        assert_eq!(
            Notification::decide(&s, &start(1_000)),
            Err(NotificationError::GaveUp(2))
        );
    }

    fn fail(attempt: u32, retry_at: Option<DateTime<Utc>>, now: i64) -> NotificationCommand {
        NotificationCommand::RecordFailure {
            attempt,
            error: "550 mailbox unavailable".into(),
            retry_at,
            at: at(now),
        }
    }

    /// A delivery given up: both attempts of its round (`start` allows 2) failed.
    fn given_up() -> NotificationState {
        given(&[
            start(0),
            fail(1, Some(at(60)), 1),
            start(60),
            fail(2, None, 61),
        ])
    }

    #[test]
    fn a_given_up_delivery_retried_gets_a_fresh_round_of_attempts() {
        let s = given_up();
        assert!(s.gave_up);
        let retry = NotificationCommand::Retry { at: at(100) };
        let events = Notification::decide(&s, &retry).unwrap();
        assert_eq!(
            events,
            [NotificationEvent::NotificationRetried {
                round: 2,
                at: at(100)
            }]
        );
        let s = events.iter().fold(s, Notification::evolve);
        assert_eq!((s.attempts, s.retries, s.gave_up), (0, 1, false));
        // The round's attempts count from 1 again, and the bound of 2 applies to them.
        let s = given_up();
        let s = [retry.clone(), start(101), fail(1, Some(at(130)), 102)]
            .iter()
            .fold(s, |s, c| {
                let events = Notification::decide(&s, c).unwrap();
                events.iter().fold(s, Notification::evolve)
            });
        assert_eq!(s.attempts, 1);
        let events = Notification::decide(&s, &start(130)).unwrap();
        assert!(matches!(
            events[..],
            [NotificationEvent::DeliveryStarted { attempt: 2, .. }]
        ));
        let s = events.iter().fold(s, Notification::evolve);
        let events = Notification::decide(&s, &fail(2, None, 131)).unwrap();
        let s = events.iter().fold(s, Notification::evolve);
        assert_eq!(
            Notification::decide(&s, &start(200)),
            Err(NotificationError::GaveUp(2))
        );
        // Given up again, it may be retried again: the third round.
        assert!(matches!(
            Notification::decide(&s, &NotificationCommand::Retry { at: at(300) }).unwrap()[..],
            [NotificationEvent::NotificationRetried { round: 3, .. }]
        ));
    }

    #[test]
    fn only_a_given_up_delivery_is_retried() {
        let retry = |now| NotificationCommand::Retry { at: at(now) };
        assert_eq!(
            Notification::decide(&NotificationState::default(), &retry(0)),
            Err(NotificationError::NotGivenUp),
            "never attempted"
        );
        assert_eq!(
            Notification::decide(&given(&[start(0)]), &retry(10)),
            Err(NotificationError::InFlight {
                attempt: 1,
                until: at(30)
            })
        );
        assert_eq!(
            Notification::decide(&given(&[start(0), fail(1, Some(at(60)), 1)]), &retry(10)),
            Err(NotificationError::NotGivenUp),
            "waiting for its next attempt"
        );
        let sent = given(&[
            start(0),
            NotificationCommand::RecordSent {
                attempt: 1,
                at: at(1),
            },
        ]);
        assert_eq!(
            Notification::decide(&sent, &retry(10)),
            Err(NotificationError::AlreadySent)
        );
        // Retried once, it is pending again: a second retry is refused.
        let s = given_up();
        let events = Notification::decide(&s, &retry(100)).unwrap();
        let s = events.iter().fold(s, Notification::evolve);
        assert_eq!(
            Notification::decide(&s, &retry(101)),
            Err(NotificationError::NotGivenUp)
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let s = NotificationState {
            attempts: 2,
            ..Default::default()
        };
        assert_eq!(
            Notification::decide(&s, &start(0)),
            Err(NotificationError::AttemptsExhausted(2))
        );
    }
}
