//! The price engine: pure, deterministic for a rule set, a clock and a customer, and blind
//! to the order of the lines.
//!
//! # The rule
//! 1. A rule looks at a line when its scope covers the line; it takes part when it is
//!    enabled, the clock is inside its window and it is for one of the customer's segments.
//! 2. The rules that take part are walked highest priority first, ties by rule id, so
//!    several segments or an equal priority never make the answer depend on arrival order.
//! 3. Each rule takes an amount off the line's current total (never more than is left), so
//!    a line never goes below zero and never above its list total. A rule that does not
//!    stack applies only to a line no rule has changed yet, and ends the walk.
//! 4. Quantity tiers and "buy X get Y" count units over every line in the rule's scope.
//!    Buy X get Y discounts the cheapest units (by list price, ties by product then variant
//!    id), so the same cart gets the same discount however its lines are ordered (Medusa
//!    #16396 applied a buy-get rule in 2 of 6 orderings).
//!
//! Amounts are minor units; each rule rounds once per line, half up, in `i128`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rule::{Adjustment, Rule, Scope, Segment};
use crate::id::{CategoryId, PriceRuleId, ProductId, UserId, VariantId};
use crate::money::Money;

/// One line to price: what it is, where it is filed, who sells it, its list price and
/// quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingLine {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    /// The product's category and every ancestor of it, for category scopes.
    pub categories: Vec<CategoryId>,
    pub vendor_id: Option<UserId>,
    /// The list price of one unit.
    pub unit_price: Money,
    pub quantity: u32,
}

impl PricingLine {
    fn key(&self) -> (ProductId, Option<VariantId>) {
        (self.product_id, self.variant_id)
    }

    fn list_total(&self) -> i128 {
        i128::from(self.unit_price.amount) * i128::from(self.quantity)
    }
}

/// The customer a price is for: the segments they belong to (`All` needs no mention).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    pub segments: BTreeSet<Segment>,
}

/// What one rule did to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// It took `amount_off` (minor units) off the line.
    Applied { amount_off: i64 },
    /// Disabled, or the clock is outside its window.
    NotLive,
    /// For a segment the customer is not in.
    NotForCustomer,
    /// It does not stack and another rule changed the line first, or a rule that does not
    /// stack applied before it.
    NotCombinable,
    /// It is live and in scope, but takes nothing off here (a tier not reached, a set
    /// price above the current one, no unit of the line among the discounted ones).
    NothingOff,
    /// Its amount is in another currency than the line's price.
    OtherCurrency,
}

/// One rule's part in a line's price, in the order the engine considered them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub rule_id: PriceRuleId,
    pub rule_version: u32,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A rule that changed a line, as the order line records it: a dispute replays the rule
/// at that version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Applied {
    pub rule_id: PriceRuleId,
    pub rule_version: u32,
    pub amount_off: i64,
}

/// A priced line: its list total, what it costs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub list_total: i64,
    pub total: i64,
    /// Every rule whose scope covers the line, in the order considered.
    pub steps: Vec<Step>,
}

impl PricedLine {
    /// The rules that took something off, in the order applied.
    pub fn applied(&self) -> Vec<Applied> {
        self.steps
            .iter()
            .filter_map(|s| match s.outcome {
                Outcome::Applied { amount_off } => Some(Applied {
                    rule_id: s.rule_id,
                    rule_version: s.rule_version,
                    amount_off,
                }),
                _ => None,
            })
            .collect()
    }

    /// The discount taken off the list total.
    pub fn discount(&self) -> i64 {
        self.list_total - self.total
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// Two lines of one product and variant: a cart merges them, so the caller erred.
    #[error("two lines of product {0} with the same variant")]
    DuplicateLine(ProductId),
    #[error("a line's list total is above what an order may hold")]
    TooLarge,
}

fn covers(scope: &Scope, line: &PricingLine) -> bool {
    match scope {
        Scope::Store => true,
        Scope::Product { product_id } => line.product_id == *product_id,
        Scope::Variant { variant_id } => line.variant_id == Some(*variant_id),
        Scope::Category { category_id } => line.categories.contains(category_id),
        Scope::Vendor { vendor_id } => line.vendor_id == Some(*vendor_id),
    }
}

fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    (numerator + denominator / 2) / denominator
}

/// What a cart-wide adjustment knows before any line is walked: for a tier, the units in
/// scope; for buy X get Y, how many units of each line are discounted.
enum CartWide {
    None,
    Units(u64),
    Discounted(Vec<u64>),
}

fn cart_wide(rule: &Rule, lines: &[PricingLine]) -> CartWide {
    let in_scope = || {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| covers(&rule.terms.scope, l))
    };
    match &rule.terms.adjustment {
        Adjustment::Tiered { .. } => {
            CartWide::Units(in_scope().map(|(_, l)| u64::from(l.quantity)).sum())
        }
        Adjustment::BuyXGetY { buy, get, .. } => {
            let units: u64 = in_scope().map(|(_, l)| u64::from(l.quantity)).sum();
            let group = u64::from(*buy) + u64::from(*get);
            let mut left = units / group * u64::from(*get);
            let mut cheapest: Vec<_> = in_scope().collect();
            cheapest.sort_by_key(|(_, l)| (l.unit_price.amount, l.key()));
            let mut discounted = vec![0; lines.len()];
            for (i, l) in cheapest {
                let take = left.min(u64::from(l.quantity));
                discounted[i] = take;
                left -= take;
            }
            CartWide::Discounted(discounted)
        }
        _ => CartWide::None,
    }
}

/// What `rule` takes off `line`, `index` in the cart, whose current total is `current`.
fn amount_off(
    rule: &Rule,
    wide: &CartWide,
    index: usize,
    line: &PricingLine,
    current: i128,
) -> Result<i128, Outcome> {
    let quantity = i128::from(line.quantity);
    let same_currency = |m: &Money| {
        if m.currency == line.unit_price.currency {
            Ok(i128::from(m.amount))
        } else {
            Err(Outcome::OtherCurrency)
        }
    };
    let off = match (&rule.terms.adjustment, wide) {
        (Adjustment::PercentOff { basis_points }, _) => {
            round_half_up(current * i128::from(*basis_points), 10_000)
        }
        (Adjustment::AmountOff { amount }, _) => same_currency(amount)? * quantity,
        (Adjustment::SetPrice { amount }, _) => current - same_currency(amount)? * quantity,
        (Adjustment::Tiered { tiers }, CartWide::Units(units)) => tiers
            .iter()
            .rev()
            .find(|t| u64::from(t.min_quantity) <= *units)
            .map_or(0, |t| {
                round_half_up(current * i128::from(t.basis_points), 10_000)
            }),
        (Adjustment::BuyXGetY { basis_points, .. }, CartWide::Discounted(units)) => {
            // The discounted units' share of the current total, so earlier rules count.
            let d = i128::from(units[index]);
            round_half_up(
                current * d * i128::from(*basis_points),
                quantity.max(1) * 10_000,
            )
        }
        _ => 0,
    };
    Ok(off.clamp(0, current))
}

/// Prices every line under `rules` at `at` for `customer`. The answer is in the order of
/// `lines`, and the same for any order of them.
pub fn price_lines(
    rules: &[Rule],
    at: DateTime<Utc>,
    customer: &Customer,
    lines: &[PricingLine],
) -> Result<Vec<PricedLine>, PricingError> {
    let mut keys = BTreeSet::new();
    for l in lines {
        if !keys.insert(l.key()) {
            return Err(PricingError::DuplicateLine(l.product_id));
        }
        if l.list_total() > i128::from(i64::MAX) {
            return Err(PricingError::TooLarge);
        }
    }
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| (std::cmp::Reverse(r.terms.priority), r.id));
    // Cart-wide figures are computed once per rule, and only for live rules.
    let mut wide: BTreeMap<PriceRuleId, CartWide> = BTreeMap::new();
    for r in &ordered {
        if r.live(at, &customer.segments) {
            wide.insert(r.id, cart_wide(r, lines));
        }
    }

    let priced = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let list_total = line.list_total();
            let mut current = list_total;
            let mut steps = Vec::new();
            let mut changed = false;
            let mut closed = false;
            for rule in ordered.iter().filter(|r| covers(&r.terms.scope, line)) {
                let outcome = if !rule.enabled || !rule.terms.window.contains(at) {
                    Outcome::NotLive
                } else if !rule.live(at, &customer.segments) {
                    Outcome::NotForCustomer
                } else if closed || (changed && !rule.terms.stacks) {
                    Outcome::NotCombinable
                } else {
                    match amount_off(rule, &wide[&rule.id], index, line, current) {
                        Err(outcome) => outcome,
                        Ok(0) => Outcome::NothingOff,
                        Ok(off) => {
                            current -= off;
                            changed = true;
                            closed = !rule.terms.stacks;
                            Outcome::Applied {
                                amount_off: off as i64,
                            }
                        }
                    }
                };
                steps.push(Step {
                    rule_id: rule.id,
                    rule_version: rule.version,
                    outcome,
                });
            }
            PricedLine {
                list_total: list_total as i64,
                total: current as i64,
                steps,
            }
        })
        .collect();
    Ok(priced)
}
