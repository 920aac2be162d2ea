//! A price rule's life: created as a draft, enabled by staff (then scheduled, active or
//! already expired by its window), changed (each change raises its version), disabled back
//! to a draft. The scheduler records when a rule goes live and when it ends, so the audit
//! trail shows it; the engine reads the window and the clock itself (ADR 0008), so a
//! scheduler that lags never charges an ended rule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rule::{PriceRuleTerms, Rule, RuleError, Window};
use crate::aggregate::{Aggregate, Upcast};
use crate::id::PriceRuleId;

pub struct PriceRule;

/// Where a rule stands, as staff see it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Not enabled: written, never applied.
    #[default]
    Draft,
    /// Enabled, its window not started.
    Scheduled,
    Active,
    /// Enabled, its window over.
    Expired,
}

impl RuleStatus {
    /// The status of a rule `enabled` or not, with `window`, at `at`.
    pub fn at(enabled: bool, window: &Window, at: DateTime<Utc>) -> RuleStatus {
        if !enabled {
            RuleStatus::Draft
        } else if window.contains(at) {
            RuleStatus::Active
        } else if window.starts_at.is_some_and(|s| at < s) {
            RuleStatus::Scheduled
        } else {
            RuleStatus::Expired
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceRuleCommand {
    Create {
        rule_id: PriceRuleId,
        terms: PriceRuleTerms,
        /// Staff may create a rule enabled at once.
        enabled: bool,
        at: DateTime<Utc>,
    },
    /// Replaces the terms; a change that changes nothing records nothing.
    Update {
        terms: PriceRuleTerms,
        at: DateTime<Utc>,
    },
    Enable {
        at: DateTime<Utc>,
    },
    /// Back to a draft: no longer applied.
    Disable {
        at: DateTime<Utc>,
    },
    /// The scheduler's: records the status the clock has brought the rule to, if it moved.
    Tick {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PriceRuleEvent {
    PriceRuleCreated {
        rule_id: PriceRuleId,
        terms: PriceRuleTerms,
        enabled: bool,
        at: DateTime<Utc>,
    },
    PriceRuleUpdated {
        terms: PriceRuleTerms,
        /// The version these terms are; order lines record it.
        version: u32,
        at: DateTime<Utc>,
    },
    PriceRuleEnabled {
        at: DateTime<Utc>,
    },
    PriceRuleDisabled {
        at: DateTime<Utc>,
    },
    /// The scheduler saw the window start.
    PriceRuleActivated {
        at: DateTime<Utc>,
    },
    /// The scheduler saw the window end.
    PriceRuleExpired {
        at: DateTime<Utc>,
    },
}

crate::domain_event!(PriceRuleEvent {
    PriceRuleCreated,
    PriceRuleUpdated,
    PriceRuleEnabled,
    PriceRuleDisabled,
    PriceRuleActivated,
    PriceRuleExpired,
});
impl Upcast for PriceRuleEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceRuleState {
    pub rule: Option<Rule>,
    pub status: RuleStatus,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceRuleError {
    #[error("the price rule already exists")]
    AlreadyCreated,
    #[error("no such price rule")]
    NotCreated,
    #[error(transparent)]
    Invalid(#[from] RuleError),
}

impl Aggregate for PriceRule {
    const CATEGORY: &'static str = "price_rule";
    type State = PriceRuleState;
    type Command = PriceRuleCommand;
    type Event = PriceRuleEvent;
    type Error = PriceRuleError;

    fn decide(
        s: &PriceRuleState,
        cmd: &PriceRuleCommand,
    ) -> Result<Vec<PriceRuleEvent>, PriceRuleError> {
        use PriceRuleCommand as C;
        use PriceRuleEvent as E;
        if let C::Create {
            rule_id,
            terms,
            enabled,
            at,
        } = cmd
        {
            if s.rule.is_some() {
                return Err(PriceRuleError::AlreadyCreated);
            }
            terms.check()?;
            return Ok(vec![E::PriceRuleCreated {
                rule_id: *rule_id,
                terms: terms.clone(),
                enabled: *enabled,
                at: *at,
            }]);
        }
        let rule = s.rule.as_ref().ok_or(PriceRuleError::NotCreated)?;
        Ok(match cmd {
            C::Create { .. } => unreachable!("handled above"),
            C::Update { terms, at } => {
                terms.check()?;
                if *terms == rule.terms {
                    vec![]
                } else {
                    vec![E::PriceRuleUpdated {
                        terms: terms.clone(),
                        version: rule.version + 1,
                        at: *at,
                    }]
                }
            }
            C::Enable { at } if !rule.enabled => vec![E::PriceRuleEnabled { at: *at }],
            C::Disable { at } if rule.enabled => vec![E::PriceRuleDisabled { at: *at }],
            C::Enable { .. } | C::Disable { .. } => vec![],
            C::Tick { at } => match RuleStatus::at(rule.enabled, &rule.terms.window, *at) {
                now if now == s.status => vec![],
                RuleStatus::Active => vec![E::PriceRuleActivated { at: *at }],
                RuleStatus::Expired => vec![E::PriceRuleExpired { at: *at }],
                // The clock does not move a rule back to scheduled or draft.
                RuleStatus::Scheduled | RuleStatus::Draft => vec![],
            },
        })
    }

    fn evolve(mut s: PriceRuleState, event: &PriceRuleEvent) -> PriceRuleState {
        use PriceRuleEvent as E;
        let at = match event {
            E::PriceRuleCreated {
                rule_id,
                terms,
                enabled,
                at,
            } => {
                s.rule = Some(Rule {
                    id: *rule_id,
                    version: 1,
                    terms: terms.clone(),
                    enabled: *enabled,
                });
                *at
            }
            E::PriceRuleUpdated { terms, version, at } => {
                if let Some(r) = s.rule.as_mut() {
                    r.terms = terms.clone();
                    r.version = *version;
                }
                *at
            }
            E::PriceRuleEnabled { at } | E::PriceRuleDisabled { at } => {
                if let Some(r) = s.rule.as_mut() {
                    r.enabled = matches!(event, E::PriceRuleEnabled { .. });
                }
                *at
            }
            E::PriceRuleActivated { at } | E::PriceRuleExpired { at } => *at,
        };
        if let Some(r) = &s.rule {
            s.status = RuleStatus::at(r.enabled, &r.terms.window, at);
        }
        s.updated_at = Some(at);
        s
    }
}
