//! A price rule's terms and the checks they pass before any event records them.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{CategoryId, PriceRuleId, ProductId, UserId, VariantId};
use crate::money::{Money, MAX_TOTAL};

/// The most tiers one rule holds.
pub const MAX_TIERS: usize = 20;
/// The largest X or Y of a "buy X get Y".
pub const MAX_BUY_GET: u32 = 1_000;
/// The longest rule name, in characters.
pub const MAX_NAME: usize = 200;
/// Priorities run from `-MAX_PRIORITY` to `MAX_PRIORITY`; higher is applied first.
pub const MAX_PRIORITY: i32 = 1_000_000;

/// Which lines a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every line of the store.
    Store,
    Product {
        product_id: ProductId,
    },
    Variant {
        variant_id: VariantId,
    },
    /// Lines whose product is filed in the category or any of its subcategories.
    Category {
        category_id: CategoryId,
    },
    /// Lines sold by the vendor.
    Vendor {
        vendor_id: UserId,
    },
}

/// One step of a quantity tier: from `min_quantity` units in scope on, `basis_points` off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tier {
    pub min_quantity: u32,
    pub basis_points: u32,
}

/// What a rule takes off. Percentages are basis points (1,000 = 10%).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Adjustment {
    /// A share of the line's current price.
    PercentOff { basis_points: u32 },
    /// An amount off each unit, in the rule's currency.
    AmountOff { amount: Money },
    /// Each unit's price becomes `amount` when that is lower than its current price.
    SetPrice { amount: Money },
    /// A percentage off by the number of units in the rule's scope across the cart: the
    /// tier with the greatest `min_quantity` not above that number.
    Tiered { tiers: Vec<Tier> },
    /// In every group of `buy + get` units in scope across the cart, the `get` cheapest
    /// units are `basis_points` off (10,000: free).
    BuyXGetY {
        buy: u32,
        get: u32,
        basis_points: u32,
    },
}

/// Who a rule is for. A customer may belong to several segments; a rule applies when it
/// names any one of them.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Segment {
    All,
    /// Customers with no placed order yet.
    NewCustomers,
    /// A segment of the analytics' RFM scoring, by name (`champions`, `at_risk`, ...).
    Rfm {
        name: String,
    },
}

/// When a rule is live: from `starts_at` (included) until `ends_at` (excluded). A missing
/// bound is open. At the exact second a rule ends, the next one may start, and never both.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Window {
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= at) && self.ends_at.is_none_or(|e| at < e)
    }
}

/// A rule's terms, as staff write them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceRuleTerms {
    pub name: String,
    pub scope: Scope,
    pub adjustment: Adjustment,
    #[serde(default)]
    pub window: Window,
    /// Higher first; ties go to the lower rule id.
    #[serde(default)]
    pub priority: i32,
    /// Whether the rule combines with others. A rule that does not stack applies only to a
    /// line no other rule has changed, and no rule applies after it.
    #[serde(default)]
    pub stacks: bool,
    #[serde(default = "everyone")]
    pub segment: Segment,
}

fn everyone() -> Segment {
    Segment::All
}

/// A rule as the engine sees it: its terms, the version of those terms (raised by each
/// change, recorded on the order line so a dispute replays the rule as it was), and
/// whether staff have enabled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: PriceRuleId,
    pub version: u32,
    pub terms: PriceRuleTerms,
    pub enabled: bool,
}

impl Rule {
    /// Whether the rule takes part at `at` for a customer in `segments`.
    pub fn live(&self, at: DateTime<Utc>, segments: &BTreeSet<Segment>) -> bool {
        self.enabled
            && self.terms.window.contains(at)
            && (self.terms.segment == Segment::All || segments.contains(&self.terms.segment))
    }
}

/// Terms a rule refuses, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError {
        field,
        message: message.into(),
    }
}

fn check_bp(field: &'static str, bp: u32) -> Result<(), RuleError> {
    if (1..=10_000).contains(&bp) {
        Ok(())
    } else {
        Err(invalid(field, "must be 1 to 10000 (basis points)"))
    }
}

impl PriceRuleTerms {
    /// Every check a rule's terms pass; the first failure is answered.
    pub fn check(&self) -> Result<(), RuleError> {
        let name = self.name.trim();
        if name.is_empty() || self.name.chars().count() > MAX_NAME {
            return Err(invalid(
                "name",
                format!("must be 1 to {MAX_NAME} characters"),
            ));
        }
        match &self.adjustment {
            Adjustment::PercentOff { basis_points } => {
                check_bp("adjustment.basis_points", *basis_points)?
            }
            Adjustment::AmountOff { amount } | Adjustment::SetPrice { amount } => {
                if amount.amount <= 0 || amount.amount > MAX_TOTAL {
                    return Err(invalid(
                        "adjustment.amount",
                        format!("must be above 0 and at most {MAX_TOTAL}"),
                    ));
                }
            }
            Adjustment::Tiered { tiers } => {
                if tiers.is_empty() || tiers.len() > MAX_TIERS {
                    return Err(invalid(
                        "adjustment.tiers",
                        format!(
                            "1 to {MAX_TIERS} tiers, min_quantity at least 1 and strictly rising"
                        ),
                    ));
                }
                let rising = tiers
                    .windows(2)
                    .all(|w| w[0].min_quantity < w[1].min_quantity);
                if !rising || tiers[0].min_quantity == 0 {
                    return Err(invalid(
                        "adjustment.tiers",
                        format!(
                            "1 to {MAX_TIERS} tiers, min_quantity at least 1 and strictly rising"
                        ),
                    ));
                }
                tiers
                    .iter()
                    .try_for_each(|t| check_bp("adjustment.tiers", t.basis_points))?;
            }
            Adjustment::BuyXGetY {
                buy,
                get,
                basis_points,
            } => {
                let range = 1..=MAX_BUY_GET;
                if !range.contains(buy) || !range.contains(get) {
                    return Err(invalid(
                        "adjustment",
                        format!("buy and get must be 1 to {MAX_BUY_GET}"),
                    ));
                }
                check_bp("adjustment.basis_points", *basis_points)?;
            }
        }
        if let (Some(s), Some(e)) = (self.window.starts_at, self.window.ends_at) {
            if s >= e {
                return Err(invalid("window", "starts_at must be before ends_at"));
            }
        }
        if self.priority.unsigned_abs() > MAX_PRIORITY.unsigned_abs() {
            return Err(invalid(
                "priority",
                format!("must be between -{MAX_PRIORITY} and {MAX_PRIORITY}"),
            ));
        }
        if let Segment::Rfm { name } = &self.segment {
            let ok = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                return Err(invalid(
                    "segment.name",
                    "must be 1 to 64 lower-case letters, digits or underscores",
                ));
            }
        }
        Ok(())
    }
}
