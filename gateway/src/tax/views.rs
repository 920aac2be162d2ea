//! The tax table's views and bodies, and a zone as a path names it (`US`, `US-NY`).

use domain::tax::{TaxRate, TaxState, TaxZone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A zone's path segment: ISO 3166-1 alpha-2, or ISO 3166-2 (`US-NY`). `None` when it is
/// neither; the rules of `TaxZone::new` then say what is wrong.
pub fn parse_zone(raw: &str) -> Result<TaxZone, domain::tax::TaxError> {
    match raw.split_once('-') {
        Some((country, region)) if !region.is_empty() => TaxZone::new(country, Some(region)),
        Some((country, _)) => TaxZone::new(country, Some("-")),
        None => TaxZone::new(raw, None),
    }
}

/// The zone as a path names it.
pub fn zone_code(zone: &TaxZone) -> String {
    match &zone.region {
        Some(region) => format!("{}-{region}", zone.country),
        None => zone.country.clone(),
    }
}

/// Parts per million as a percentage, exactly: 88,750 → `"8.875"`.
pub fn percent(rate_ppm: u32) -> String {
    domain::tax::percent(rate_ppm)
}

/// One zone's rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateView {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub name: String,
    /// The rate as a percentage, exactly (`"8.875"`).
    pub rate_percent: String,
    /// The rate in parts per million (88,750 = 8.875%).
    pub rate_ppm: u32,
    /// The subdivision part of ISO 3166-2 (`NY`); null for the whole country.
    pub region: Option<String>,
    /// The zone as its path names it: `US` or `US-NY`.
    pub zone: String,
}

impl From<&TaxRate> for TaxRateView {
    fn from(r: &TaxRate) -> Self {
        TaxRateView {
            country: r.zone.country.clone(),
            name: r.name.clone(),
            rate_percent: percent(r.rate_ppm),
            rate_ppm: r.rate_ppm,
            region: r.zone.region.clone(),
            zone: zone_code(&r.zone),
        }
    }
}

/// A zone's new rate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateBody {
    /// What invoices call it ("VAT", "NY sales tax"), 1 to 100 characters.
    pub name: String,
    /// Parts per million, 0 to 1,000,000 (100%): 8.875% is 88,750.
    pub rate_ppm: u32,
}

/// How the store's prices are taxed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxSettingsView {
    /// Whether catalog prices include tax (the tax is the part of the price that is tax)
    /// or exclude it (the tax is added at checkout).
    pub prices_include_tax: bool,
}

impl From<&TaxState> for TaxSettingsView {
    fn from(s: &TaxState) -> Self {
        TaxSettingsView {
            prices_include_tax: s.prices_include_tax,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_exact_percentages() {
        assert_eq!(percent(88_750), "8.875");
        assert_eq!(percent(200_000), "20");
        assert_eq!(percent(1), "0.0001");
        assert_eq!(percent(0), "0");
        assert_eq!(percent(1_000_000), "100");
    }

    #[test]
    fn zones_are_named_as_iso_3166_names_them() {
        let ny = parse_zone("us-ny").unwrap();
        assert_eq!(zone_code(&ny), "US-NY");
        assert_eq!(zone_code(&parse_zone("DE").unwrap()), "DE");
        assert!(parse_zone("USA").is_err());
        assert!(parse_zone("US-").is_err());
        assert!(parse_zone("US-NYCX").is_err());
    }
}
