//! Money in integer minor units with an ISO 4217 currency (invariant 8): no floats.
//!
//! # Bounds
//!
//! Amounts are `i64`, but what the rules let in is far smaller, so no sum or product the
//! engine makes can leave `i64`: a unit price is at most [`MAX_PRICE`] (10^9 minor units,
//! ten million in a two-decimal currency), and a total (a cart's subtotal, an order's total,
//! a payment, a refund, a coupon's amount or minimum) at most [`MAX_TOTAL`] (10^12). A
//! cart or an order holds at most 100 lines of at most 10,000 units, so even its unbounded
//! intermediate sums stay below 10^15; read models that add up many totals saturate
//! instead of failing (see `projections`).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be three uppercase letters (ISO 4217), got {0:?}")]
    InvalidCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
    #[error("amount must be at most {0} minor units")]
    TooLarge(i64),
}

/// The largest unit price, in minor units (10,000,000.00 in a two-decimal currency).
pub const MAX_PRICE: i64 = 1_000_000_000;
/// The largest total, in minor units: a cart's subtotal, an order's total, a payment, a
/// refund, a coupon's fixed amount or minimum order.
pub const MAX_TOTAL: i64 = 1_000_000_000_000;

/// An ISO 4217 code, e.g. `USD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(MoneyError::InvalidCurrency(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters get in.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

impl schemars::JsonSchema for Currency {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[A-Z]{3}$" })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"amount": 1999, "currency": "USD"}`: 19.99 US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// The share of `quantity` more units, `before` of them taken already, when `self` is
    /// what all `units` cost: `⌊self·(before+quantity)/units⌋ − ⌊self·before/units⌋`. The
    /// shares of every unit, however they are taken (a return or a cancellation at a
    /// time), add up to exactly `self`; no cent is lost to rounding.
    pub fn share_of_units(self, units: u32, before: u32, quantity: u32) -> Money {
        let units = i128::from(units.max(1));
        let upto = |n: u32| i128::from(self.amount) * i128::from(n) / units;
        let share = upto(before.saturating_add(quantity)) - upto(before);
        Money::new(i64::try_from(share).unwrap_or(0), self.currency)
    }

    pub const fn zero(currency: Currency) -> Self {
        Money {
            amount: 0,
            currency,
        }
    }

    /// A price or a total: refuses negative amounts.
    pub fn non_negative(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money { amount, currency })
    }

    /// A unit price: 0 to [`MAX_PRICE`].
    pub fn price(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        Money::non_negative(amount, currency)?.at_most(MAX_PRICE)
    }

    /// Refuses an amount above `max` (a bound such as [`MAX_PRICE`] or [`MAX_TOTAL`]).
    pub fn at_most(self, max: i64) -> Result<Self, MoneyError> {
        if self.amount > max {
            return Err(MoneyError::TooLarge(max));
        }
        Ok(self)
    }

    fn same(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    pub fn checked_mul(self, factor: u32) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(i64::from(factor))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// `basis_points`/10,000 of this amount, rounded half away from zero.
    pub fn percent_bp(self, basis_points: u32) -> Result<Money, MoneyError> {
        let scaled = i128::from(self.amount) * i128::from(basis_points);
        let rounded = if scaled >= 0 {
            (scaled + 5_000) / 10_000
        } else {
            (scaled - 5_000) / 10_000
        };
        let amount = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same(&other)?;
        Ok(if self.amount <= other.amount {
            self
        } else {
            other
        })
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_api_shape() {
        let m = Money::new(1999, Currency::USD);
        assert_eq!(
            serde_json::to_value(m).unwrap(),
            serde_json::json!({"amount": 1999, "currency": "USD"})
        );
        let bad: Result<Money, _> =
            serde_json::from_value(serde_json::json!({"amount": 1, "currency": "usd"}));
        assert!(bad.is_err());
        let float: Result<Money, _> =
            serde_json::from_value(serde_json::json!({"amount": 19.99, "currency": "USD"}));
        assert!(float.is_err(), "no floats");
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let usd = Money::new(100, Currency::USD);
        let eur = Money::new(100, Currency::parse("EUR").unwrap());
        assert!(matches!(
            usd.checked_add(eur),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, Currency::USD).checked_add(usd),
            Err(MoneyError::Overflow)
        );
        assert_eq!(usd.checked_mul(3).unwrap().amount, 300);
    }

    #[test]
    fn prices_and_totals_have_bounds() {
        assert_eq!(
            Money::price(MAX_PRICE, Currency::USD),
            Ok(Money::new(MAX_PRICE, Currency::USD))
        );
        // The amount of the attack: 2^62 minor units.
        assert_eq!(
            Money::price(1 << 62, Currency::USD),
            Err(MoneyError::TooLarge(MAX_PRICE))
        );
        assert_eq!(Money::price(-1, Currency::USD), Err(MoneyError::Negative));
        assert_eq!(
            Money::new(MAX_TOTAL + 1, Currency::USD).at_most(MAX_TOTAL),
            Err(MoneyError::TooLarge(MAX_TOTAL))
        );
        // The largest cart the rules allow (100 lines of 10,000 at the largest price) is
        // far inside i64, so its unbounded sum is computed exactly and then refused.
        let line = Money::new(MAX_PRICE, Currency::USD)
            .checked_mul(10_000)
            .unwrap();
        let mut sum = Money::zero(Currency::USD);
        for _ in 0..100 {
            sum = sum.checked_add(line).unwrap();
        }
        assert_eq!(sum.amount, 1_000_000_000_000_000);
        assert!(sum.at_most(MAX_TOTAL).is_err());
        assert_eq!(
            Money::new(1 << 62, Currency::USD).checked_mul(4),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn basis_points_round_half_away_from_zero() {
        let m = Money::new(1999, Currency::USD);
        assert_eq!(m.percent_bp(825).unwrap().amount, 165); // 164.9175
        assert_eq!(
            Money::new(50, Currency::USD)
                .percent_bp(1000)
                .unwrap()
                .amount,
            5
        );
        assert_eq!(
            Money::new(5, Currency::USD)
                .percent_bp(1000)
                .unwrap()
                .amount,
            1
        ); // 0.5
    }
}
