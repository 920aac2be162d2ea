//! The payment of one order: charge attempts, the capture, and refunds against it.
//!
//! The card network is outside the domain: the command side asks a `PaymentProvider` and
//! hands its answer to `decide` inside the command. The built-in [`test_provider`] is the
//! pure rule the `test` provider follows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::aggregate::{Aggregate, EventDecodeError, Upcast};
use crate::id::OrderId;
use crate::money::{Money, MoneyError, MAX_TOTAL};

pub struct Payment;

/// What a provider answered to a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChargeOutcome {
    Captured { reference: String },
    Declined { code: String, message: String },
}

/// The `test` provider: `tok_visa` captures, `tok_chargeDeclined` declines with
/// `card_declined`, anything else declines with `invalid_token`.
pub fn test_provider(token: &str, attempt: u32, order_id: OrderId) -> ChargeOutcome {
    match token {
        "tok_visa" => ChargeOutcome::Captured {
            reference: format!("test_ch_{}_{attempt}", order_id.as_uuid().simple()),
        },
        "tok_chargeDeclined" => ChargeOutcome::Declined {
            code: "card_declined".into(),
            message: "Your card was declined.".into(),
        },
        _ => ChargeOutcome::Declined {
            code: "invalid_token".into(),
            message: "The card token is not recognised by the test provider.".into(),
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentCommand {
    /// Charge `amount` for `order_id`; `outcome` is the provider's answer to the charge
    /// numbered `attempt` (the provider's idempotency key is the order and the attempt).
    Charge {
        order_id: OrderId,
        attempt: u32,
        amount: Money,
        method: String,
        provider: String,
        outcome: ChargeOutcome,
        at: DateTime<Utc>,
    },
    Refund {
        amount: Money,
        reason: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PaymentEvent {
    PaymentAuthorized {
        order_id: OrderId,
        amount: Money,
        method: String,
        provider: String,
        attempt: u32,
        at: DateTime<Utc>,
    },
    PaymentCaptured {
        order_id: OrderId,
        amount: Money,
        reference: String,
        at: DateTime<Utc>,
    },
    PaymentFailed {
        order_id: OrderId,
        amount: Money,
        code: String,
        message: String,
        attempt: u32,
        at: DateTime<Utc>,
    },
    PaymentRefunded {
        order_id: OrderId,
        amount: Money,
        reason: String,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(PaymentEvent {
    PaymentAuthorized,
    PaymentCaptured,
    PaymentFailed,
    PaymentRefunded,
});

/// `PaymentFailed` v1 stored the provider's answer as one text, `"<code>: <message>"`; v2
/// keeps the code apart so the API can answer `code: "card_declined"` without parsing.
impl Upcast for PaymentEvent {
    fn current_version(event_type: &str) -> u32 {
        match event_type {
            "PaymentFailed" => 2,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, version: u32, data: Value) -> Result<Value, EventDecodeError> {
        let bad = |reason: String| EventDecodeError::BadShape {
            event_type: event_type.to_owned(),
            version,
            reason,
        };
        match (event_type, version) {
            ("PaymentFailed", 1) => {
                let v1: PaymentFailedV1 =
                    serde_json::from_value(data).map_err(|e| bad(e.to_string()))?;
                let (code, message) = match v1.error.split_once(": ") {
                    Some((code, message)) => (code.to_owned(), message.to_owned()),
                    None => ("declined".to_owned(), v1.error.clone()),
                };
                Ok(serde_json::json!({
                    "order_id": v1.order_id,
                    "amount": v1.amount,
                    "code": code,
                    "message": message,
                    "attempt": v1.attempt,
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

/// The stored shape of `PaymentFailed` version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PaymentFailedV1 {
    pub order_id: OrderId,
    pub amount: Money,
    /// `"<code>: <message>"`.
    pub error: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentState {
    pub order_id: Option<OrderId>,
    pub attempts: u32,
    pub captured: Option<Money>,
    pub refunded: Option<Money>,
    pub reference: Option<String>,
}

impl PaymentState {
    pub fn refundable(&self) -> Option<Money> {
        let captured = self.captured?;
        Some(match self.refunded {
            Some(r) => captured
                .checked_sub(r)
                .unwrap_or(Money::zero(captured.currency)),
            None => captured,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the order is already paid")]
    AlreadyCaptured,
    #[error("a payment must be a positive amount")]
    NonPositiveAmount,
    #[error("nothing was captured, so nothing can be refunded")]
    NothingCaptured,
    #[error("refund of {requested} exceeds the {refundable} still refundable")]
    RefundExceedsCaptured { requested: Money, refundable: Money },
    #[error("money: {0}")]
    Money(#[from] MoneyError),
}

impl Aggregate for Payment {
    const CATEGORY: &'static str = "payment";
    type State = PaymentState;
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;

    fn decide(s: &PaymentState, cmd: &PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        use PaymentEvent as E;
        match cmd {
            PaymentCommand::Charge {
                order_id,
                attempt: asked,
                amount,
                method,
                provider,
                outcome,
                at,
            } => {
                if s.captured.is_some() {
                    // Two requests raced with one idempotency key and the provider gave
                    // both the one capture: it is recorded already.
                    return match outcome {
                        ChargeOutcome::Captured { reference }
                            if s.reference.as_ref() == Some(reference) =>
                        {
                            Ok(vec![])
                        }
                        _ => Err(PaymentError::AlreadyCaptured),
                    };
                }
                if *asked <= s.attempts && matches!(outcome, ChargeOutcome::Declined { .. }) {
                    // This attempt's decline is recorded already (the same race).
                    return Ok(vec![]);
                }
                if amount.amount <= 0 {
                    return Err(PaymentError::NonPositiveAmount);
                }
                amount.at_most(MAX_TOTAL)?;
                let attempt = s.attempts + 1;
                Ok(match outcome {
                    ChargeOutcome::Captured { reference } => vec![
                        E::PaymentAuthorized {
                            order_id: *order_id,
                            amount: *amount,
                            method: method.clone(),
                            provider: provider.clone(),
                            attempt,
                            at: *at,
                        },
                        E::PaymentCaptured {
                            order_id: *order_id,
                            amount: *amount,
                            reference: reference.clone(),
                            at: *at,
                        },
                    ],
                    ChargeOutcome::Declined { code, message } => vec![E::PaymentFailed {
                        order_id: *order_id,
                        amount: *amount,
                        code: code.clone(),
                        message: message.clone(),
                        attempt,
                        at: *at,
                    }],
                })
            }
            PaymentCommand::Refund { amount, reason, at } => {
                let refundable = s.refundable().ok_or(PaymentError::NothingCaptured)?;
                if amount.amount <= 0 {
                    return Err(PaymentError::NonPositiveAmount);
                }
                if amount.checked_sub(refundable)?.amount > 0 {
                    return Err(PaymentError::RefundExceedsCaptured {
                        requested: *amount,
                        refundable,
                    });
                }
                Ok(vec![E::PaymentRefunded {
                    order_id: s.order_id.ok_or(PaymentError::NothingCaptured)?,
                    amount: *amount,
                    reason: reason.clone(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut s: PaymentState, event: &PaymentEvent) -> PaymentState {
        use PaymentEvent as E;
        match event {
            E::PaymentAuthorized {
                order_id, attempt, ..
            } => {
                s.order_id = Some(*order_id);
                s.attempts = *attempt;
            }
            E::PaymentCaptured {
                order_id,
                amount,
                reference,
                ..
            } => {
                s.order_id = Some(*order_id);
                s.captured = Some(*amount);
                s.reference = Some(reference.clone());
            }
            E::PaymentFailed {
                order_id, attempt, ..
            } => {
                s.order_id = Some(*order_id);
                s.attempts = *attempt;
            }
            E::PaymentRefunded { amount, .. } => {
                s.refunded = Some(match s.refunded {
                    Some(r) => r.checked_add(*amount).unwrap_or(r),
                    None => *amount,
                });
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::DomainEvent;

    /// A real `PaymentFailed` as version 1 stored it reads as today's event.
    #[test]
    fn payment_failed_v1_upcasts_to_v2() {
        let stored = serde_json::json!({
            "order_id": "7b1d3c5e-0f4a-4d1b-9a51-3c2e8f6a9b10",
            "amount": { "amount": 3151, "currency": "USD" },
            "error": "card_declined: Your card was declined.",
            "attempt": 1,
            "at": "2026-11-20T10:15:00Z"
        });
        let event = PaymentEvent::from_data("PaymentFailed", 1, stored).unwrap();
        match &event {
            PaymentEvent::PaymentFailed {
                code,
                message,
                amount,
                attempt,
                ..
            } => {
                assert_eq!(code, "card_declined");
                assert_eq!(message, "Your card was declined.");
                assert_eq!(amount.amount, 3151);
                assert_eq!(*attempt, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            event.schema_version(),
            2,
            "it is written back as the current version"
        );
        let v3 = PaymentEvent::from_data("PaymentFailed", 3, event.to_data());
        assert!(matches!(
            v3,
            Err(EventDecodeError::UnknownVersion {
                version: 3,
                current: 2,
                ..
            })
        ));
    }
}
