//! Dynamic pricing: price rules, and the one engine that turns list prices into the prices
//! a shopper pays.
//!
//! - [`rule`]: what a rule is (a scope, an adjustment, a window, a priority, whether it
//!   stacks, a customer segment) and the checks a rule's terms must pass.
//! - [`engine`]: the pure evaluation. Given the rules, the clock, the customer's segments
//!   and the lines, it answers each line's final price and, rule by rule, why.
//!
//! The engine is the only place a price is computed: product reads, the cart, checkout and
//! the order all call it, so what is shown is what is charged.

pub mod engine;
pub mod rule;

pub use engine::{
    price_lines, Applied, Customer, Outcome, PricedLine, PricingError, PricingLine, Step,
};
pub use rule::{Adjustment, PriceRule, PriceRuleTerms, RuleError, Scope, Segment, Tier, Window};
