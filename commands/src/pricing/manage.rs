//! Staff's price-rule use cases, and the scheduler's tick.

use chrono::{DateTime, SubsecRound, Utc};
use domain::catalog::{Category, Product};
use domain::id::PriceRuleId;
use domain::pricing::{PriceRule, PriceRuleCommand, PriceRuleState, PriceRuleTerms, Scope};
use uuid::Uuid;

use super::error::PricingUseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The rule as a command left it.
#[derive(Debug, Clone)]
pub struct RuleDecided {
    pub rule_id: Uuid,
    pub state: PriceRuleState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

fn stream(rule_id: Uuid) -> String {
    CommandHandler::<PriceRule>::stream_id(rule_id)
}

/// A product or category scope names one that exists, so a typo does not make a rule that
/// never applies. (A variant's or a vendor's scope is not looked up: neither has a stream
/// of its own to read.)
async fn check_scope(handlers: &Handlers, terms: &PriceRuleTerms) -> Result<(), PricingUseError> {
    let missing = |what: &str| PricingUseError::Invalid {
        field: "scope".into(),
        message: format!("no such {what}"),
    };
    let failed = |e: String| PricingUseError::Failed(e);
    match &terms.scope {
        Scope::Product { product_id } => {
            let (p, _) = handlers
                .products
                .load(&CommandHandler::<Product>::stream_id(product_id))
                .await
                .map_err(|e| failed(e.to_string()))?;
            if p.created.is_none() {
                return Err(missing("product"));
            }
        }
        Scope::Category { category_id } => {
            let (c, _) = handlers
                .categories
                .load(&CommandHandler::<Category>::stream_id(category_id))
                .await
                .map_err(|e| failed(e.to_string()))?;
            if c.category_id.is_none() {
                return Err(missing("category"));
            }
        }
        Scope::Store | Scope::Variant { .. } | Scope::Vendor { .. } => {}
    }
    Ok(())
}

/// The terms checked, their window cut to whole seconds: a rule's boundaries are to the
/// second (ADR 0008), and a read model keeps no more than microseconds.
fn checked(mut terms: PriceRuleTerms) -> Result<PriceRuleTerms, PricingUseError> {
    let second = |t: Option<DateTime<Utc>>| t.map(|t| t.trunc_subsecs(0));
    terms.window.starts_at = second(terms.window.starts_at);
    terms.window.ends_at = second(terms.window.ends_at);
    terms.check().map_err(|e| PricingUseError::Invalid {
        field: e.field.into(),
        message: e.message,
    })?;
    Ok(terms)
}

/// The rule now, from its stream; `NotFound` when there is none.
pub async fn price_rule(
    handlers: &Handlers,
    rule_id: Uuid,
) -> Result<PriceRuleState, PricingUseError> {
    let (state, _) = handlers
        .price_rules
        .load(&stream(rule_id))
        .await
        .map_err(|e| PricingUseError::Failed(e.to_string()))?;
    if state.rule.is_none() {
        return Err(PricingUseError::NotFound);
    }
    Ok(state)
}

async fn decide(
    handlers: &Handlers,
    rule_id: Uuid,
    command: PriceRuleCommand,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    let handled = handlers
        .price_rules
        .handle(&stream(rule_id), command, meta.clone())
        .await?;
    Ok(RuleDecided {
        rule_id,
        state: price_rule(handlers, rule_id).await?,
        position: handled.position,
    })
}

/// Creates a rule, a draft unless `enabled`.
#[tracing::instrument(skip_all, err)]
pub async fn create_rule(
    handlers: &Handlers,
    terms: PriceRuleTerms,
    enabled: bool,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    let terms = checked(terms)?;
    check_scope(handlers, &terms).await?;
    let rule_id = Uuid::new_v4();
    let command = PriceRuleCommand::Create {
        rule_id: PriceRuleId::new(rule_id),
        terms,
        enabled,
        at: meta.occurred_at,
    };
    decide(handlers, rule_id, command, meta).await
}

/// Replaces a rule's terms; the version the next orders record goes up by one.
#[tracing::instrument(skip_all, err)]
pub async fn update_rule(
    handlers: &Handlers,
    rule_id: Uuid,
    terms: PriceRuleTerms,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    price_rule(handlers, rule_id).await?;
    let terms = checked(terms)?;
    check_scope(handlers, &terms).await?;
    let command = PriceRuleCommand::Update {
        terms,
        at: meta.occurred_at,
    };
    decide(handlers, rule_id, command, meta).await
}

/// Lets a rule apply within its window.
#[tracing::instrument(skip_all, err)]
pub async fn enable_rule(
    handlers: &Handlers,
    rule_id: Uuid,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    let command = PriceRuleCommand::Enable {
        at: meta.occurred_at,
    };
    decide(handlers, rule_id, command, meta).await
}

/// Takes a rule back to a draft; it no longer applies.
#[tracing::instrument(skip_all, err)]
pub async fn disable_rule(
    handlers: &Handlers,
    rule_id: Uuid,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    let command = PriceRuleCommand::Disable {
        at: meta.occurred_at,
    };
    decide(handlers, rule_id, command, meta).await
}

/// The scheduler's: records that the clock at `at` has made the rule active or expired.
/// A tick that changes nothing appends nothing, so the scheduler may repeat it.
#[tracing::instrument(skip_all, err)]
pub async fn tick_rule(
    handlers: &Handlers,
    rule_id: Uuid,
    at: DateTime<Utc>,
    meta: &CommandMeta,
) -> Result<RuleDecided, PricingUseError> {
    decide(handlers, rule_id, PriceRuleCommand::Tick { at }, meta).await
}
