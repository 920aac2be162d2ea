//! Dynamic pricing: price rules, and the one engine that turns list prices into the prices
//! a shopper pays.
//!
//! - [`rule`]: what a rule is (a scope, an adjustment, a window, a priority, whether it
//!   stacks, a customer segment) and the checks a rule's terms must pass.
//! - [`aggregate`]: a rule's life (draft, scheduled, active, expired), one stream per rule.
//! - [`engine`]: the pure evaluation. Given the rules, the clock, the customer's segments
//!   and the lines, it answers each line's final price and, rule by rule, why.
//!
//! The engine is the only place a price is computed: product reads, the cart, checkout and
//! the order all call it, so what is shown is what is charged.

pub mod aggregate;
pub mod engine;
pub mod rule;

pub use aggregate::{
    PriceRule, PriceRuleCommand, PriceRuleError, PriceRuleEvent, PriceRuleState, RuleStatus,
};

pub use engine::{
    price_lines, Applied, Customer, Outcome, PricedLine, PricingError, PricingLine, Step,
};
pub use rule::{Adjustment, PriceRuleTerms, Rule, RuleError, Scope, Segment, Tier, Window};
