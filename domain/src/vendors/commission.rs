//! What a store pays the marketplace of each sale: stacked fees (mercur #1357).
//!
//! A [`CommissionRule`] is a percent of the line's sale (in basis points) plus a fixed
//! amount, kept between a minimum and a maximum. A store's own rule is set by staff and
//! versioned: each change of the store's rule counts one up, so a line that records the
//! rule and its version can be recomputed in a dispute by replaying the store's stream. A
//! store without a rule of its own pays the store setting `vendors.default_commission_bp`
//! as a plain percent (version 0).
//!
//! # Rounding
//!
//! The percent of a line is rounded once, half away from zero, to the minor unit
//! (`Money::percent_bp`); the fixed part is added, then the minimum and the maximum are
//! applied, and the whole is never more than the sale itself nor less than zero. Of that
//! total, the fixed part (as much of it as the total holds) is the line's *fee* and the
//! rest its *commission*: the ledger posts them apart.

use serde::{Deserialize, Serialize};

/// A commission rate is in basis points: 10,000 is the whole price.
pub const MAX_COMMISSION_BP: u32 = 10_000;
/// The largest fixed part, minimum or maximum: a line's price bound (`MAX_PRICE`).
pub const MAX_COMMISSION_AMOUNT: i64 = crate::money::MAX_PRICE;

/// Stacked fees: `percent_bp` of the sale, plus `fixed`, at least `min`, at most `max`.
/// Amounts are minor units of the sale's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CommissionRule {
    /// Basis points of the line's sale (1000 = 10%).
    pub percent_bp: u32,
    /// Added to every line.
    #[serde(default)]
    pub fixed: i64,
    /// The least a line pays.
    #[serde(default)]
    pub min: i64,
    /// The most a line pays; `None`: no cap.
    #[serde(default)]
    pub max: Option<i64>,
}

/// Where a line's rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// The store's own rule, at the version recorded beside it.
    Vendor,
    /// The store setting `vendors.default_commission_bp` (version 0).
    Default,
}

impl RuleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSource::Vendor => "vendor",
            RuleSource::Default => "default",
        }
    }
}

/// What one line pays: the whole, and the fee part of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charge {
    /// The percent part after the bounds: `total - fee`.
    pub commission: i64,
    /// The fixed part, as much of it as the bounded total holds.
    pub fee: i64,
}

impl Charge {
    pub fn total(&self) -> i64 {
        self.commission + self.fee
    }
}

/// Why a rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("percent_bp: must be 0 to {MAX_COMMISSION_BP} (basis points), not {0}")]
    Percent(u32),
    #[error("{field}: must be 0 to {MAX_COMMISSION_AMOUNT} minor units, not {value}")]
    Amount { field: &'static str, value: i64 },
    #[error("min: {min} is more than max {max}")]
    MinAboveMax { min: i64, max: i64 },
}

impl RuleError {
    /// The field of the rule the refusal names.
    pub fn field(&self) -> &'static str {
        match self {
            RuleError::Percent(_) => "percent_bp",
            RuleError::Amount { field, .. } => field,
            RuleError::MinAboveMax { .. } => "min",
        }
    }
}

impl CommissionRule {
    /// A plain percent: what the store setting and the older `commission_bp` terms mean.
    pub const fn percent(percent_bp: u32) -> Self {
        CommissionRule {
            percent_bp,
            fixed: 0,
            min: 0,
            max: None,
        }
    }

    /// The rule if its parts are in range.
    pub fn check(self) -> Result<Self, RuleError> {
        if self.percent_bp > MAX_COMMISSION_BP {
            return Err(RuleError::Percent(self.percent_bp));
        }
        let amounts = [("fixed", self.fixed), ("min", self.min)]
            .into_iter()
            .chain(self.max.map(|m| ("max", m)));
        for (field, value) in amounts {
            if !(0..=MAX_COMMISSION_AMOUNT).contains(&value) {
                return Err(RuleError::Amount { field, value });
            }
        }
        if let Some(max) = self.max {
            if self.min > max {
                return Err(RuleError::MinAboveMax { min: self.min, max });
            }
        }
        Ok(self)
    }

    /// What a line whose sale (without tax) is `sale` minor units pays, by the rule and
    /// the rounding of the module's doc. A sale of zero or less pays nothing.
    pub fn charge(&self, sale: i64) -> Charge {
        if sale <= 0 {
            return Charge::default();
        }
        let scaled = i128::from(sale) * i128::from(self.percent_bp);
        let percent = (scaled + 5_000) / 10_000;
        let mut total = percent + i128::from(self.fixed);
        total = total.max(i128::from(self.min));
        if let Some(max) = self.max {
            total = total.min(i128::from(max));
        }
        let total = total.clamp(0, i128::from(sale)) as i64;
        let fee = self.fixed.clamp(0, total);
        Charge {
            commission: total - fee,
            fee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_fees_round_the_percent_once_then_bound_the_total() {
        let rule = CommissionRule {
            percent_bp: 1_250,
            fixed: 30,
            min: 50,
            max: Some(2_000),
        };
        // 12.5% of 1,004 is 125.5: rounded half away from zero to 126, plus 30.
        assert_eq!(
            rule.charge(1_004),
            Charge {
                commission: 126,
                fee: 30
            }
        );
        // 12.5% of 100 is 12.5 → 13, plus 30 is 43: the minimum of 50 lifts it.
        assert_eq!(rule.charge(100).total(), 50);
        assert_eq!(rule.charge(100).fee, 30);
        // The maximum caps a large line.
        assert_eq!(rule.charge(1_000_000).total(), 2_000);
        // Never more than the sale: a 40-cent line pays at most 40.
        assert_eq!(rule.charge(40).total(), 40);
        assert_eq!(rule.charge(40).fee, 30);
        assert_eq!(rule.charge(0), Charge::default());
    }

    #[test]
    fn rules_out_of_range_are_refused_naming_the_field() {
        assert_eq!(
            CommissionRule::percent(10_001).check().unwrap_err().field(),
            "percent_bp"
        );
        let negative = CommissionRule {
            fixed: -1,
            ..CommissionRule::percent(100)
        };
        assert_eq!(negative.check().unwrap_err().field(), "fixed");
        let crossed = CommissionRule {
            min: 500,
            max: Some(100),
            ..CommissionRule::percent(100)
        };
        assert_eq!(crossed.check().unwrap_err().field(), "min");
        assert!(CommissionRule::percent(10_000).check().is_ok());
    }
}
