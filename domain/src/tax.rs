//! Tax: the store's table of rates by country and region, whether its prices include tax,
//! and the one rule that turns a line's taxable amount into its tax ([ADR 0006]).
//!
//! The table is one aggregate in one stream ([`TAX_TABLE_ID`]): it is small, every
//! checkout reads all of it, and a change to it is rare and made by staff.
//!
//! A rate is in parts per million (8.875% = 88,750), so real rates need no rounding before
//! the tax does. Tax is computed once per order line on the line's total, never per unit,
//! and rounded once, in `i128`: the amount recorded is the amount charged.
//!
//! [ADR 0006]: ../../docs/adr/0006-tax-and-discounts-per-line.md

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::money::{Money, MoneyError};
use crate::value::{line, Address};

/// The id of the one tax table's stream.
pub const TAX_TABLE_ID: Uuid = Uuid::from_u128(0x7a8_0000_0000_0000_0000_0000_0000_0001);

/// Parts per million in a whole: a rate of [`PPM`] is 100%.
pub const PPM: u32 = 1_000_000;
/// The highest rate the table takes: 100%.
pub const MAX_RATE_PPM: u32 = PPM;
/// The most rates one table holds.
pub const MAX_RATES: usize = 2_000;
/// The longest name of a rate ("VAT", "NY sales tax").
pub const MAX_RATE_NAME: usize = 100;

/// How a line's tax is rounded to the currency's minor unit. Recorded with every line, so
/// a later change of rule never reinterprets an order already placed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half a minor unit rounds up (away from zero): the commercial rounding tax
    /// authorities in the EU and the US ask for.
    #[default]
    HalfUp,
}

impl Rounding {
    /// `numerator / denominator` rounded by this rule; both are non-negative.
    fn divide(self, numerator: i128, denominator: i128) -> i128 {
        match self {
            Rounding::HalfUp => (2 * numerator + denominator) / (2 * denominator),
        }
    }
}

/// The tax of one order line, as the order records it: all integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LineTax {
    /// Parts per million.
    pub rate_ppm: u32,
    /// Whether `taxable` already includes the tax (tax-inclusive prices).
    pub inclusive: bool,
    pub rounding: Rounding,
    /// What the rate applies to: the line's total less its share of the discount.
    pub taxable: Money,
    /// The tax, in minor units.
    pub amount: Money,
}

impl LineTax {
    /// What the line adds to the order's total beyond `taxable`: the tax when prices
    /// exclude it, nothing when they include it.
    pub fn added(&self) -> Money {
        if self.inclusive {
            Money::zero(self.amount.currency)
        } else {
            self.amount
        }
    }
}

/// The tax on `taxable` at `rate_ppm`. Exclusive prices: `taxable × rate`. Inclusive
/// prices: the part of `taxable` that is tax, `taxable × rate / (1 + rate)`. One rounding.
pub fn line_tax(
    taxable: Money,
    rate_ppm: u32,
    inclusive: bool,
    rounding: Rounding,
) -> Result<LineTax, MoneyError> {
    if taxable.amount < 0 {
        return Err(MoneyError::Negative);
    }
    let rate = i128::from(rate_ppm.min(MAX_RATE_PPM));
    let scale = i128::from(PPM);
    let denominator = if inclusive { scale + rate } else { scale };
    let amount = rounding.divide(i128::from(taxable.amount) * rate, denominator);
    let amount = i64::try_from(amount).map_err(|_| MoneyError::Overflow)?;
    Ok(LineTax {
        rate_ppm: rate_ppm.min(MAX_RATE_PPM),
        inclusive,
        rounding,
        taxable,
        amount: Money::new(amount, taxable.currency),
    })
}

/// Parts per million as a percentage, exactly: 88,750 → `"8.875"`, 200,000 → `"20"`.
pub fn percent(rate_ppm: u32) -> String {
    let whole = rate_ppm / (PPM / 100);
    let fraction = rate_ppm % (PPM / 100);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:04}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl Rounding {
    /// The rule's name as events and answers write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
        }
    }
}

/// Shares `total` over `weights` in proportion to them, by largest remainder: the shares
/// add up to `total` exactly, and a tie in remainders goes to the earlier weight. A weight
/// of zero gets nothing; when every weight is zero, nothing is shared and `None` answers.
/// `total` and the weights are non-negative minor units of one currency.
pub fn share(total: i64, weights: &[i64]) -> Option<Vec<i64>> {
    let sum: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    if sum == 0 {
        return (total == 0).then(|| vec![0; weights.len()]);
    }
    let total = i128::from(total.max(0));
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = total * i128::from(w.max(0));
        shares.push(exact / sum);
        remainders.push((exact % sum, i));
    }
    let given: i128 = shares.iter().sum();
    // Largest remainder first; among equals, the earlier line.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take((total - given) as usize) {
        shares[i] += 1;
    }
    shares.into_iter().map(|s| i64::try_from(s).ok()).collect()
}

/// Where a rate applies: a country (ISO 3166-1 alpha-2) and, optionally, one of its
/// regions (the subdivision part of ISO 3166-2: `NY` of `US-NY`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct TaxZone {
    pub country: String,
    pub region: Option<String>,
}

impl TaxZone {
    /// The zone as the table keys it: upper case, a region checked like a country.
    pub fn new(country: &str, region: Option<&str>) -> Result<TaxZone, TaxError> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(TaxError::Invalid {
                field: "country",
                message: "an ISO 3166-1 alpha-2 code, such as US".into(),
            });
        }
        let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => {
                let r = r.to_ascii_uppercase();
                if r.len() > 3 || !r.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(TaxError::Invalid {
                        field: "region",
                        message: "1 to 3 letters or digits, the subdivision part of an \
                                  ISO 3166-2 code (NY of US-NY)"
                            .into(),
                    });
                }
                Some(r)
            }
        };
        Ok(TaxZone { country, region })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaxRate {
    pub zone: TaxZone,
    pub rate_ppm: u32,
    pub name: String,
}

pub struct TaxTable;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxCommand {
    /// Sets the rate of a zone, replacing the one it had.
    SetRate {
        zone: TaxZone,
        rate_ppm: u32,
        name: String,
    },
    RemoveRate {
        zone: TaxZone,
    },
    /// Whether the store's prices include tax.
    SetPricesIncludeTax {
        include: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum TaxEvent {
    TaxRateSet {
        zone: TaxZone,
        rate_ppm: u32,
        name: String,
    },
    TaxRateRemoved {
        zone: TaxZone,
    },
    TaxModeSet {
        prices_include_tax: bool,
    },
}

crate::domain_event!(TaxEvent {
    TaxRateSet,
    TaxRateRemoved,
    TaxModeSet,
});
impl Upcast for TaxEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxState {
    pub rates: BTreeMap<TaxZone, TaxRate>,
    pub prices_include_tax: bool,
}

/// The rate an address is taxed at, and the rate it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applicable<'a> {
    pub rate_ppm: u32,
    /// `None` when no rate applies (tax 0).
    pub from: Option<&'a TaxRate>,
}

impl TaxState {
    /// The rate of the address's region, else of its country, else none (0).
    pub fn rate_for(&self, address: &Address) -> Applicable<'_> {
        let country = address.country.to_ascii_uppercase();
        let region = address
            .region
            .as_deref()
            .map(|r| r.trim().to_ascii_uppercase());
        let exact = region.and_then(|r| {
            self.rates.get(&TaxZone {
                country: country.clone(),
                region: Some(r),
            })
        });
        let found = exact.or_else(|| {
            self.rates.get(&TaxZone {
                country,
                region: None,
            })
        });
        Applicable {
            rate_ppm: found.map_or(0, |r| r.rate_ppm),
            from: found,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no rate is set for {0:?}")]
    UnknownZone(TaxZone),
    #[error("the table holds at most {MAX_RATES} rates")]
    TooManyRates,
}

impl Aggregate for TaxTable {
    const CATEGORY: &'static str = "tax";
    type State = TaxState;
    type Command = TaxCommand;
    type Event = TaxEvent;
    type Error = TaxError;

    fn decide(s: &TaxState, cmd: &TaxCommand) -> Result<Vec<TaxEvent>, TaxError> {
        Ok(match cmd {
            TaxCommand::SetRate {
                zone,
                rate_ppm,
                name,
            } => {
                let zone = TaxZone::new(&zone.country, zone.region.as_deref())?;
                if *rate_ppm > MAX_RATE_PPM {
                    return Err(TaxError::Invalid {
                        field: "rate_ppm",
                        message: "a rate is 0% to 100%".into(),
                    });
                }
                let name = line("name", name, MAX_RATE_NAME).map_err(|e| TaxError::Invalid {
                    field: "name",
                    message: e.message,
                })?;
                if name.is_empty() {
                    return Err(TaxError::Invalid {
                        field: "name",
                        message: format!("must be 1 to {MAX_RATE_NAME} characters"),
                    });
                }
                let rate = TaxRate {
                    zone: zone.clone(),
                    rate_ppm: *rate_ppm,
                    name: name.clone(),
                };
                match s.rates.get(&zone) {
                    Some(same) if *same == rate => vec![],
                    None if s.rates.len() >= MAX_RATES => return Err(TaxError::TooManyRates),
                    _ => vec![TaxEvent::TaxRateSet {
                        zone,
                        rate_ppm: *rate_ppm,
                        name,
                    }],
                }
            }
            TaxCommand::RemoveRate { zone } => {
                let zone = TaxZone::new(&zone.country, zone.region.as_deref())?;
                if !s.rates.contains_key(&zone) {
                    return Err(TaxError::UnknownZone(zone));
                }
                vec![TaxEvent::TaxRateRemoved { zone }]
            }
            TaxCommand::SetPricesIncludeTax { include } => {
                if s.prices_include_tax == *include {
                    vec![]
                } else {
                    vec![TaxEvent::TaxModeSet {
                        prices_include_tax: *include,
                    }]
                }
            }
        })
    }

    fn evolve(mut s: TaxState, event: &TaxEvent) -> TaxState {
        match event {
            TaxEvent::TaxRateSet {
                zone,
                rate_ppm,
                name,
            } => {
                s.rates.insert(
                    zone.clone(),
                    TaxRate {
                        zone: zone.clone(),
                        rate_ppm: *rate_ppm,
                        name: name.clone(),
                    },
                );
            }
            TaxEvent::TaxRateRemoved { zone } => {
                s.rates.remove(zone);
            }
            TaxEvent::TaxModeSet { prices_include_tax } => {
                s.prices_include_tax = *prices_include_tax;
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::USD)
    }

    #[test]
    fn exclusive_tax_is_rounded_half_up_once_on_the_line() {
        // 8.875% of 19.99 is 1.7741125: 1.77.
        assert_eq!(
            line_tax(usd(1999), 88_750, false, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(177)
        );
        // Exactly half a cent rounds up: 10% of 0.05 is 0.005.
        assert_eq!(
            line_tax(usd(5), 100_000, false, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(1)
        );
        assert_eq!(
            line_tax(usd(4), 100_000, false, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(0)
        );
        assert_eq!(
            line_tax(usd(0), 200_000, false, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(0)
        );
    }

    #[test]
    fn many_cheap_units_are_taxed_on_the_line_not_per_unit() {
        // Saleor #12348 / #6720: 1,000 units at 0.01 and 7% are 0.70 of tax; rounded per
        // unit (0.0007 → 0) they would be 0.00.
        let line = usd(1).checked_mul(1_000).unwrap();
        assert_eq!(
            line_tax(line, 70_000, false, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(70)
        );
    }

    #[test]
    fn an_inclusive_price_holds_its_tax() {
        // 12.00 including 20% VAT holds 2.00 of it.
        let t = line_tax(usd(1200), 200_000, true, Rounding::HalfUp).unwrap();
        assert_eq!(t.amount, usd(200));
        assert_eq!(t.added(), usd(0));
        // 9.99 including 19%: 9.99 × 0.19 / 1.19 = 1.595…: 1.60.
        assert_eq!(
            line_tax(usd(999), 190_000, true, Rounding::HalfUp)
                .unwrap()
                .amount,
            usd(160)
        );
    }

    #[test]
    fn a_negative_taxable_amount_is_refused() {
        assert_eq!(
            line_tax(usd(-1), 1, false, Rounding::HalfUp),
            Err(MoneyError::Negative)
        );
    }

    #[test]
    fn shares_add_up_and_ties_go_to_the_earlier_line() {
        assert_eq!(share(100, &[1, 1, 1]), Some(vec![34, 33, 33]));
        assert_eq!(share(10, &[300, 0, 700]), Some(vec![3, 0, 7]));
        assert_eq!(share(0, &[5, 5]), Some(vec![0, 0]));
        assert_eq!(share(0, &[0, 0]), Some(vec![0, 0]));
        assert_eq!(share(1, &[0, 0]), None);
        // The largest remainder wins the odd cent, whatever the order of the lines.
        assert_eq!(share(1, &[1, 2]), Some(vec![0, 1]));
        assert_eq!(share(1, &[2, 1]), Some(vec![1, 0]));
    }

    fn zone(country: &str, region: Option<&str>) -> TaxZone {
        TaxZone::new(country, region).unwrap()
    }

    fn address(country: &str, region: Option<&str>) -> Address {
        Address {
            name: None,
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            region: region.map(Into::into),
            postal_code: "12345".into(),
            country: country.into(),
        }
    }

    fn table(events: &[TaxEvent]) -> TaxState {
        events.iter().fold(TaxState::default(), TaxTable::evolve)
    }

    #[test]
    fn an_address_takes_its_regions_rate_then_its_countrys_then_none() {
        let s = table(&[
            TaxEvent::TaxRateSet {
                zone: zone("US", None),
                rate_ppm: 0,
                name: "none".into(),
            },
            TaxEvent::TaxRateSet {
                zone: zone("US", Some("ny")),
                rate_ppm: 88_750,
                name: "NY".into(),
            },
            TaxEvent::TaxRateSet {
                zone: zone("de", None),
                rate_ppm: 190_000,
                name: "MwSt".into(),
            },
        ]);
        assert_eq!(s.rate_for(&address("US", Some("NY"))).rate_ppm, 88_750);
        assert_eq!(s.rate_for(&address("us", Some(" ny "))).rate_ppm, 88_750);
        assert_eq!(s.rate_for(&address("US", Some("CA"))).rate_ppm, 0);
        assert_eq!(s.rate_for(&address("DE", Some("BY"))).rate_ppm, 190_000);
        let none = s.rate_for(&address("FR", None));
        assert_eq!((none.rate_ppm, none.from), (0, None));
    }

    #[test]
    fn the_table_refuses_bad_zones_and_rates_and_repeats_nothing() {
        let s = TaxState::default();
        let set = |country: &str, region: Option<&str>, rate_ppm, name: &str| TaxCommand::SetRate {
            zone: TaxZone {
                country: country.into(),
                region: region.map(Into::into),
            },
            rate_ppm,
            name: name.into(),
        };
        assert!(matches!(
            TaxTable::decide(&s, &set("USA", None, 1, "x")),
            Err(TaxError::Invalid {
                field: "country",
                ..
            })
        ));
        assert!(matches!(
            TaxTable::decide(&s, &set("US", Some("N-Y"), 1, "x")),
            Err(TaxError::Invalid {
                field: "region",
                ..
            })
        ));
        assert!(matches!(
            TaxTable::decide(&s, &set("US", None, PPM + 1, "x")),
            Err(TaxError::Invalid {
                field: "rate_ppm",
                ..
            })
        ));
        assert!(matches!(
            TaxTable::decide(&s, &set("US", None, 1, " ")),
            Err(TaxError::Invalid { field: "name", .. })
        ));
        let events = TaxTable::decide(&s, &set("us", Some("ny"), 88_750, "NY")).unwrap();
        assert_eq!(
            events,
            vec![TaxEvent::TaxRateSet {
                zone: zone("US", Some("NY")),
                rate_ppm: 88_750,
                name: "NY".into()
            }]
        );
        let s = table(&events);
        assert_eq!(
            TaxTable::decide(&s, &set("US", Some("NY"), 88_750, "NY")),
            Ok(vec![])
        );
        assert!(matches!(
            TaxTable::decide(
                &s,
                &TaxCommand::RemoveRate {
                    zone: zone("US", None)
                }
            ),
            Err(TaxError::UnknownZone(_))
        ));
        assert_eq!(
            TaxTable::decide(&s, &TaxCommand::SetPricesIncludeTax { include: false }),
            Ok(vec![])
        );
    }
}
