//! Shipping methods and rates: the store's zones (countries and regions), the methods each
//! zone offers, and what a method charges for a parcel, by weight or by order value, with
//! a free-shipping threshold.
//!
//! Like the tax table, the rates are one aggregate in one stream ([`SHIPPING_RATES_ID`]):
//! a few zones, changed rarely by staff, and every quote and checkout reads all of them to
//! find the zone of an address. Staff replace a zone whole (its areas and methods), so an
//! event holds a zone as it stands and a fold needs no merging rules. The zone of an
//! address is the one naming its region, else the one naming its country; no two zones
//! name the same area, so an address has at most one zone and a quote is never ambiguous.
//!
//! A method's code (`standard`, `express`) is unique within its zone; zones may reuse it,
//! each with its own rates, so checkout names "standard" and the address picks the zone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::money::{Currency, Money, MAX_TOTAL};
use crate::tax::TaxZone;
use crate::value::{line, Address};

/// The id of the one rates stream (`shipping_rates-<id>`).
pub const SHIPPING_RATES_ID: Uuid = Uuid::from_u128(0x5b1_0000_0000_0000_0000_0000_0000_0001);

/// The most zones the store has.
pub const MAX_ZONES: usize = 200;
/// The most areas (countries or regions) one zone names.
pub const MAX_AREAS: usize = 300;
/// The most methods one zone offers.
pub const MAX_METHODS: usize = 20;
/// The most brackets one method's rate table has.
pub const MAX_BRACKETS: usize = 50;
/// The longest code of a zone or method.
pub const MAX_CODE_LEN: usize = 32;
/// The longest name of a zone or method, carrier or service level.
const MAX_NAME: usize = 64;

/// What a method's rate table is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateBasis {
    /// The parcel's weight in grams (each product's `weight_grams` attribute).
    Weight,
    /// The order's value in minor units (its lines after price rules, before a coupon).
    OrderValue,
}

/// One step of a rate table: a parcel measuring at most `up_to` (grams or minor units)
/// costs `fee`; `None` is the last step, without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateBracket {
    pub up_to: Option<i64>,
    pub fee: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingMethod {
    /// Unique within its zone: `standard`, `express`.
    pub code: String,
    pub name: String,
    /// The carrier a shipment by this method travels with, and its service level.
    pub carrier: String,
    pub service_level: String,
    pub basis: RateBasis,
    /// Ascending by `up_to`; the first step the parcel fits in is its fee.
    pub rates: Vec<RateBracket>,
    /// An order worth at least this ships free.
    pub free_over: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingZone {
    /// `eu`, `us-west`: lower-case letters, digits, `-` and `_`.
    pub code: String,
    pub name: String,
    /// The countries (a region of `None`) and regions the zone ships to.
    pub areas: Vec<TaxZone>,
    pub methods: Vec<ShippingMethod>,
}

pub struct ShippingRates;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatesCommand {
    /// Sets a zone whole, replacing the one of the same code.
    SetZone(Box<ShippingZone>),
    RemoveZone {
        code: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RatesEvent {
    ShippingZoneSet { zone: ShippingZone },
    ShippingZoneRemoved { code: String },
}

crate::domain_event!(RatesEvent {
    ShippingZoneSet,
    ShippingZoneRemoved,
});
impl Upcast for RatesEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatesState {
    pub zones: BTreeMap<String, ShippingZone>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatesError {
    /// A field the rules refuse, named by its path (`methods[1].rates[0].fee`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("no shipping zone is named {0:?}")]
    UnknownZone(String),
    #[error("the store has at most {MAX_ZONES} shipping zones")]
    TooManyZones,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> RatesError {
    RatesError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A zone's or method's code.
pub fn check_code(field: &str, raw: &str) -> Result<String, RatesError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_CODE_LEN
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        return Err(invalid(
            field,
            format!("1 to {MAX_CODE_LEN} lower-case letters, digits, - or _"),
        ));
    }
    Ok(raw.to_owned())
}

fn name(field: String, raw: &str) -> Result<String, RatesError> {
    let s = line("name", raw, MAX_NAME).map_err(|e| invalid(field.clone(), e.message))?;
    if s.is_empty() {
        return Err(invalid(
            field,
            format!("must be 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(s)
}

fn fee(field: String, m: Money, currency: Currency) -> Result<Money, RatesError> {
    if m.currency != currency {
        return Err(invalid(
            field,
            format!("every amount of a zone is in one currency ({currency})"),
        ));
    }
    Money::price(m.amount, m.currency).map_err(|e| invalid(field, e.to_string()))
}

fn checked_method(
    at: &str,
    m: &ShippingMethod,
    currency: Currency,
) -> Result<ShippingMethod, RatesError> {
    let code = check_code(&format!("{at}.code"), &m.code)?;
    if m.rates.is_empty() || m.rates.len() > MAX_BRACKETS {
        return Err(invalid(
            format!("{at}.rates"),
            format!("1 to {MAX_BRACKETS} brackets"),
        ));
    }
    let bound = match m.basis {
        RateBasis::Weight => 1_000_000_000,
        RateBasis::OrderValue => MAX_TOTAL,
    };
    let mut rates = Vec::with_capacity(m.rates.len());
    let mut last: i64 = 0;
    for (i, b) in m.rates.iter().enumerate() {
        let field = format!("{at}.rates[{i}]");
        match b.up_to {
            Some(up_to) if up_to <= last || up_to > bound => {
                return Err(invalid(
                    format!("{field}.up_to"),
                    format!("above the bracket before it ({last}) and at most {bound}"),
                ))
            }
            Some(up_to) => last = up_to,
            None if i + 1 != m.rates.len() => {
                return Err(invalid(
                    format!("{field}.up_to"),
                    "only the last bracket goes without bound",
                ))
            }
            None => {}
        }
        rates.push(RateBracket {
            up_to: b.up_to,
            fee: fee(format!("{field}.fee"), b.fee, currency)?,
        });
    }
    let free_over = match m.free_over {
        None => None,
        Some(f) => Some(
            fee(format!("{at}.free_over"), f, currency)?
                .at_most(MAX_TOTAL)
                .map_err(|e| invalid(format!("{at}.free_over"), e.to_string()))?,
        ),
    };
    Ok(ShippingMethod {
        code,
        name: name(format!("{at}.name"), &m.name)?,
        carrier: name(format!("{at}.carrier"), &m.carrier)?,
        service_level: name(format!("{at}.service_level"), &m.service_level)?,
        basis: m.basis,
        rates,
        free_over,
    })
}

/// The zone as the rules accept it: codes and names checked, areas normalised, brackets
/// ascending, every amount in one currency.
pub fn checked_zone(z: &ShippingZone) -> Result<ShippingZone, RatesError> {
    let code = check_code("code", &z.code)?;
    let zone_name = name("name".into(), &z.name)?;
    if z.areas.is_empty() || z.areas.len() > MAX_AREAS {
        return Err(invalid("areas", format!("1 to {MAX_AREAS} areas")));
    }
    let mut areas: Vec<TaxZone> = Vec::with_capacity(z.areas.len());
    for (i, a) in z.areas.iter().enumerate() {
        let area = TaxZone::new(&a.country, a.region.as_deref()).map_err(|e| match e {
            crate::tax::TaxError::Invalid { field, message } => {
                invalid(format!("areas[{i}].{field}"), message)
            }
            other => invalid(format!("areas[{i}]"), other.to_string()),
        })?;
        if areas.contains(&area) {
            return Err(invalid(format!("areas[{i}]"), "named twice"));
        }
        areas.push(area);
    }
    if z.methods.is_empty() || z.methods.len() > MAX_METHODS {
        return Err(invalid("methods", format!("1 to {MAX_METHODS} methods")));
    }
    let currency = z.methods[0]
        .rates
        .first()
        .map_or(Currency::USD, |b| b.fee.currency);
    let mut methods: Vec<ShippingMethod> = Vec::with_capacity(z.methods.len());
    for (i, m) in z.methods.iter().enumerate() {
        let m = checked_method(&format!("methods[{i}]"), m, currency)?;
        if methods.iter().any(|o| o.code == m.code) {
            return Err(invalid(
                format!("methods[{i}].code"),
                format!("{} appears twice in the zone", m.code),
            ));
        }
        methods.push(m);
    }
    Ok(ShippingZone {
        code,
        name: zone_name,
        areas,
        methods,
    })
}

/// What an order weighs and is worth: what a rate table measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consignment {
    pub weight_grams: i64,
    /// The order's value: its lines after price rules, before a coupon.
    pub value: Money,
}

/// What one method charges for one parcel to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub zone: String,
    pub method: ShippingMethod,
    pub fee: Money,
    /// The free-shipping threshold was reached.
    pub free: bool,
}

/// Why an address or a parcel gets no quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("no shipping method is named {0:?}")]
    UnknownMethod(String),
    #[error("{method} does not ship this order to this address: {reason}")]
    MethodUnavailable { method: String, reason: String },
    #[error("no shipping method serves this address")]
    NotServed,
}

impl ShippingMethod {
    /// The fee for `parcel`, or why this method cannot carry it.
    pub fn fee_for(&self, parcel: &Consignment) -> Result<(Money, bool), String> {
        let currency = self.rates.first().map(|b| b.fee.currency);
        if currency != Some(parcel.value.currency) {
            return Err(format!(
                "its rates are in {}, the order is in {}",
                currency.map_or("-".into(), |c| c.to_string()),
                parcel.value.currency
            ));
        }
        let measure = match self.basis {
            RateBasis::Weight => parcel.weight_grams,
            RateBasis::OrderValue => parcel.value.amount,
        };
        // The brackets bound what the method carries, free or not.
        let bracket = self
            .rates
            .iter()
            .find(|b| b.up_to.is_none_or(|up_to| measure <= up_to))
            .ok_or_else(|| match self.basis {
                RateBasis::Weight => format!("the parcel weighs {measure} g, above its rates"),
                RateBasis::OrderValue => "the order's value is above its rates".to_owned(),
            })?;
        match self.free_over {
            Some(free) if parcel.value.amount >= free.amount => {
                Ok((Money::zero(free.currency), true))
            }
            _ => Ok((bracket.fee, false)),
        }
    }
}

/// Where an order goes, as the rates see it: a country and maybe a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// The subdivision part of ISO 3166-2 (`CA` of `US-CA`).
    pub region: Option<String>,
}

impl From<&Address> for Destination {
    fn from(a: &Address) -> Self {
        Destination {
            country: a.country.clone(),
            region: a.region.clone(),
        }
    }
}

impl RatesState {
    /// The zone of `to`: the one naming its region, else its country.
    pub fn zone_for(&self, to: &Destination) -> Option<&ShippingZone> {
        let country = to.country.trim().to_ascii_uppercase();
        let region = to
            .region
            .as_deref()
            .map(|r| r.trim().to_ascii_uppercase())
            .filter(|r| !r.is_empty());
        let names = |area: &TaxZone| self.zones.values().find(|z| z.areas.contains(area));
        region
            .and_then(|r| {
                names(&TaxZone {
                    country: country.clone(),
                    region: Some(r),
                })
            })
            .or_else(|| {
                names(&TaxZone {
                    country,
                    region: None,
                })
            })
    }

    fn known_method(&self, code: &str) -> bool {
        self.zones
            .values()
            .any(|z| z.methods.iter().any(|m| m.code == code))
    }

    /// Every method that ships `parcel` to `address`, cheapest first (then by code).
    pub fn quotes(&self, to: &Destination, parcel: &Consignment) -> Vec<Quote> {
        let Some(zone) = self.zone_for(to) else {
            return vec![];
        };
        let mut quotes: Vec<Quote> = zone
            .methods
            .iter()
            .filter_map(|m| {
                m.fee_for(parcel).ok().map(|(fee, free)| Quote {
                    zone: zone.code.clone(),
                    method: m.clone(),
                    fee,
                    free,
                })
            })
            .collect();
        quotes.sort_by(|a, b| {
            a.fee
                .amount
                .cmp(&b.fee.amount)
                .then(a.method.code.cmp(&b.method.code))
        });
        quotes
    }

    /// The quote of the method named `code` for `parcel` to `address`.
    pub fn quote(
        &self,
        to: &Destination,
        parcel: &Consignment,
        code: &str,
    ) -> Result<Quote, QuoteError> {
        if !self.known_method(code) {
            return Err(QuoteError::UnknownMethod(code.to_owned()));
        }
        let unavailable = |reason: String| QuoteError::MethodUnavailable {
            method: code.to_owned(),
            reason,
        };
        let zone = self
            .zone_for(to)
            .ok_or_else(|| unavailable("no shipping zone covers the address".into()))?;
        let method = zone
            .methods
            .iter()
            .find(|m| m.code == code)
            .ok_or_else(|| unavailable(format!("the zone {} does not offer it", zone.code)))?;
        let (fee, free) = method.fee_for(parcel).map_err(unavailable)?;
        Ok(Quote {
            zone: zone.code.clone(),
            method: method.clone(),
            fee,
            free,
        })
    }

    /// What checkout charges: the method named, else the cheapest that serves the
    /// address. A store without zones charges nothing (it has not set up rates: orders
    /// ship as they did before there were any); once it has zones, an address none of
    /// them serves is refused.
    pub fn charge(
        &self,
        to: &Destination,
        parcel: &Consignment,
        method: Option<&str>,
    ) -> Result<Option<Quote>, QuoteError> {
        match method {
            Some(code) => self.quote(to, parcel, code).map(Some),
            None if self.zones.is_empty() => Ok(None),
            None => self
                .quotes(to, parcel)
                .into_iter()
                .next()
                .map(Some)
                .ok_or(QuoteError::NotServed),
        }
    }
}

impl Aggregate for ShippingRates {
    const CATEGORY: &'static str = "shipping_rates";
    type State = RatesState;
    type Command = RatesCommand;
    type Event = RatesEvent;
    type Error = RatesError;

    fn decide(s: &RatesState, cmd: &RatesCommand) -> Result<Vec<RatesEvent>, RatesError> {
        match cmd {
            RatesCommand::SetZone(z) => {
                let zone = checked_zone(z)?;
                if s.zones.get(&zone.code) == Some(&zone) {
                    return Ok(vec![]);
                }
                if !s.zones.contains_key(&zone.code) && s.zones.len() >= MAX_ZONES {
                    return Err(RatesError::TooManyZones);
                }
                for (i, area) in zone.areas.iter().enumerate() {
                    if let Some(other) = s
                        .zones
                        .values()
                        .find(|o| o.code != zone.code && o.areas.contains(area))
                    {
                        return Err(invalid(
                            format!("areas[{i}]"),
                            format!("already in the zone {}", other.code),
                        ));
                    }
                }
                Ok(vec![RatesEvent::ShippingZoneSet { zone }])
            }
            RatesCommand::RemoveZone { code } => {
                if !s.zones.contains_key(code) {
                    return Err(RatesError::UnknownZone(code.clone()));
                }
                Ok(vec![RatesEvent::ShippingZoneRemoved { code: code.clone() }])
            }
        }
    }

    fn evolve(mut s: RatesState, event: &RatesEvent) -> RatesState {
        match event {
            RatesEvent::ShippingZoneSet { zone } => {
                s.zones.insert(zone.code.clone(), zone.clone());
            }
            RatesEvent::ShippingZoneRemoved { code } => {
                s.zones.remove(code);
            }
        }
        s
    }
}
