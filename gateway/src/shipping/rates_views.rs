//! The shipping zones' bodies and answers, the quote's answer, and how a refused quote
//! reads over HTTP.

use commands::cart::CartQuote;
use commands::shipping::RatesUseError;
use domain::money::{Currency, Money as DomainMoney};
use domain::shipping::{Quote, QuoteError, RateBasis, RateBracket, ShippingMethod, ShippingZone};
use domain::tax::TaxZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::tax::views::{parse_zone, zone_code};
use crate::views::Money;

impl From<QuoteError> for ApiError {
    fn from(e: QuoteError) -> Self {
        let code = match e {
            QuoteError::UnknownMethod(_) => "unknown_shipping_method",
            QuoteError::MethodUnavailable { .. } => "shipping_method_unavailable",
            QuoteError::NotServed => "shipping_unavailable",
        };
        let field = match e {
            QuoteError::NotServed => "shipping_address",
            _ => "shipping_method",
        };
        ApiError::UnprocessableEntity {
            code,
            detail: e.to_string(),
            errors: vec![FieldError::new(field, e.to_string())],
        }
    }
}

impl From<RatesUseError> for ApiError {
    fn from(e: RatesUseError) -> Self {
        match e {
            RatesUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ RatesUseError::UnknownZone => ApiError::NotFound(e.to_string()),
            RatesUseError::Full(message) => ApiError::invalid_field("code", message),
            RatesUseError::Quote(e) => e.into(),
            RatesUseError::Store(e) => e.into(),
            RatesUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

/// One step of a rate table.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BracketBody {
    /// The most the step takes (grams, or minor units of the order's value); null on the
    /// last step: no bound.
    pub up_to: Option<i64>,
    /// The fee in minor units of the zone's currency.
    pub fee: i64,
}

/// A method a zone offers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodBody {
    /// Unique in the zone: 1 to 32 of `a-z`, `0-9`, `-`, `_` (`standard`).
    pub code: String,
    pub name: String,
    /// The carrier a shipment by this method travels with (`test`) and its service level.
    pub carrier: String,
    pub service_level: String,
    /// `weight` (grams, from each product's `weight_grams` attribute) or `order_value`
    /// (minor units: the lines after price rules, before a coupon).
    pub basis: String,
    /// 1 to 50 steps, ascending by `up_to`; the first the order fits in is its fee.
    pub rates: Vec<BracketBody>,
    /// An order worth at least this (minor units) ships free; null: never.
    pub free_over: Option<i64>,
}

/// A zone as staff set it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneBody {
    pub name: String,
    /// ISO 4217: the currency of every fee and threshold of the zone.
    pub currency: String,
    /// 1 to 300 countries (`DE`) or regions (`US-CA`); none already in another zone.
    pub areas: Vec<String>,
    /// 1 to 20 methods.
    pub methods: Vec<MethodBody>,
}

fn basis_of(field: String, raw: &str) -> Result<RateBasis, ApiError> {
    match raw {
        "weight" => Ok(RateBasis::Weight),
        "order_value" => Ok(RateBasis::OrderValue),
        _ => Err(ApiError::invalid_field(field, "weight or order_value")),
    }
}

impl ZoneBody {
    /// The zone the body describes, its shapes parsed (the rules check the rest).
    pub fn zone(self, code: String) -> Result<ShippingZone, ApiError> {
        let currency = Currency::parse(self.currency.trim())
            .map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
        let areas = self
            .areas
            .iter()
            .enumerate()
            .map(|(i, a)| {
                parse_zone(a.trim())
                    .map_err(|e| ApiError::invalid_field(format!("areas[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<TaxZone>, _>>()?;
        let methods = self
            .methods
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(ShippingMethod {
                    basis: basis_of(format!("methods[{i}].basis"), &m.basis)?,
                    code: m.code,
                    name: m.name,
                    carrier: m.carrier,
                    service_level: m.service_level,
                    rates: m
                        .rates
                        .iter()
                        .map(|b| RateBracket {
                            up_to: b.up_to,
                            fee: DomainMoney::new(b.fee, currency),
                        })
                        .collect(),
                    free_over: m.free_over.map(|f| DomainMoney::new(f, currency)),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(ShippingZone {
            code,
            name: self.name,
            areas,
            methods,
        })
    }
}

/// A shipping zone: where it ships and by which methods.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneView {
    /// Countries (`DE`) and regions (`US-CA`).
    pub areas: Vec<String>,
    pub code: String,
    pub currency: String,
    pub methods: Vec<MethodBody>,
    pub name: String,
}

impl From<&ShippingZone> for ZoneView {
    fn from(z: &ShippingZone) -> Self {
        let currency = z
            .methods
            .first()
            .and_then(|m| m.rates.first())
            .map_or(Currency::USD, |b| b.fee.currency);
        ZoneView {
            areas: z.areas.iter().map(zone_code).collect(),
            code: z.code.clone(),
            currency: currency.as_str().to_owned(),
            methods: z
                .methods
                .iter()
                .map(|m| MethodBody {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    carrier: m.carrier.clone(),
                    service_level: m.service_level.clone(),
                    basis: match m.basis {
                        RateBasis::Weight => "weight",
                        RateBasis::OrderValue => "order_value",
                    }
                    .to_owned(),
                    rates: m
                        .rates
                        .iter()
                        .map(|b| BracketBody {
                            up_to: b.up_to,
                            fee: b.fee.amount,
                        })
                        .collect(),
                    free_over: m.free_over.map(|f| f.amount),
                })
                .collect(),
            name: z.name.clone(),
        }
    }
}

/// What one method charges for the cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    pub carrier: String,
    pub fee: Money,
    /// The free-shipping threshold was reached.
    pub free: bool,
    /// The method's code: checkout's `shipping_method`.
    pub method: String,
    pub name: String,
    pub service_level: String,
    /// The zone that serves the destination.
    pub zone: String,
}

impl From<&Quote> for QuoteView {
    fn from(q: &Quote) -> Self {
        QuoteView {
            carrier: q.method.carrier.clone(),
            fee: q.fee.into(),
            free: q.free,
            method: q.method.code.clone(),
            name: q.method.name.clone(),
            service_level: q.method.service_level.clone(),
            zone: q.zone.clone(),
        }
    }
}

/// The methods a cart can leave by to a destination, cheapest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteList {
    /// Empty when no zone serves the destination (or none of its methods takes the cart).
    pub methods: Vec<QuoteView>,
    /// What the cart is worth to the rates: its lines at the prices they show.
    pub value: Money,
    /// What the cart weighs, in grams (each product's `weight_grams`).
    pub weight_grams: i64,
}

impl From<&CartQuote> for QuoteList {
    fn from(q: &CartQuote) -> Self {
        QuoteList {
            methods: q.quotes.iter().map(QuoteView::from).collect(),
            value: q.value.into(),
            weight_grams: q.weight_grams,
        }
    }
}
